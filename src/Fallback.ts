/**
 * Typed fallbacks: what a call answers when its provider cannot.
 *
 * Three shapes, from the most general to the most everyday:
 *
 * - **Another provider.** "Charge via A, else via B"; "this model, else that one". Effect's own
 *   `ExecutionPlan` runs an effect with the resources of each step in turn (`Effect.withExecutionPlan`);
 *   {@link plan} builds one whose steps move on only for the errors another provider can fix. Guard each
 *   step with its own `Policy` (its breaker, limiter and retry budget), kept in a long-lived service:
 *   a plan provides a step's layer anew on every run, so state built inside that layer would not outlive
 *   the call.
 * - **A handler for every error.** {@link exhaustive} takes one handler per tag of the error channel and
 *   the compiler demands all of them: leaving one out, or naming a tag the effect cannot fail with, is a
 *   type error with no annotation (the typing of `Match.valueTags`, which it runs on).
 * - **An answer of your own.** {@link value}, {@link compute} and {@link degrade} answer with a value, a
 *   value computed from the error, or a value marked as degraded in the type ({@link Served}).
 *
 * **Which errors fall back.** By default the transient and rejected ones ({@link DefaultTag}):
 * `RateLimited`, `Unavailable`, `Timeout` (an attempt's or the whole call's), `CircuitOpen` and
 * `BulkheadFull`: the provider is down, slow or throttled, or a local guard refused to call it, and
 * another answer is better than none. Not `ClientError`, `InvalidRequest` or `InvalidResponse`: those
 * are a real answer (the card was declined) or a bug (our request or their response broke its schema),
 * and a fallback would hide them; another provider would decline the same card. Name the tags to handle
 * with `on` to choose otherwise; errors with other tags, and errors without a `_tag`, pass through.
 *
 * @since 0.1.0
 */
import type { NonEmptyReadonlyArray } from "effect/Array"
import type { Effect } from "effect/Effect"
import type * as ExecutionPlan from "effect/ExecutionPlan"
import type { Tags } from "effect/Types"
import type { Rejected, Transient } from "./Errors.js"
import * as internal from "./internal/fallback.js"

/**
 * The tags a fallback handles unless told otherwise: the {@link Transient} and {@link Rejected} errors.
 *
 * @since 0.1.0
 * @category models
 */
export type DefaultTag = Transient["_tag"] | Rejected["_tag"]

/**
 * The tags a fallback handles unless told otherwise, as a value.
 *
 * @since 0.1.0
 * @category models
 */
export const defaultTags: ReadonlyArray<DefaultTag> = internal.defaultTags

/**
 * The errors of `E` whose tag is one of `K`: what a fallback with `on: K` handles.
 *
 * @since 0.1.0
 * @category models
 */
export type Handled<E, K extends string> = Extract<E, { readonly _tag: K }>

/**
 * The errors of `E` a fallback with `on: K` leaves in the error channel.
 *
 * @since 0.1.0
 * @category models
 */
export type Unhandled<E, K extends string> = Exclude<E, { readonly _tag: K }>

/**
 * `unknown` when every tag that `on` names (`K`) is a {@link DefaultTag} or a tag of `E`; otherwise a type
 * naming the others, so that a misspelled or foreign tag is a compile error where the effect is given:
 * `Property '"on" names tags the effect cannot fail with' is missing`, with the tags in the message.
 * Default tags are always accepted, so code generic in `E` can name them.
 *
 * @since 0.1.0
 * @category models
 */
export type CheckedOn<E, K extends string> = [Exclude<K, DefaultTag>] extends [never] ? unknown
  : [Exclude<K, DefaultTag | Tags<E>>] extends [never] ? unknown
  : { readonly "\"on\" names tags the effect cannot fail with": Exclude<K, DefaultTag | Tags<E>> }

/**
 * The provider's own answer.
 *
 * @since 0.1.0
 * @category models
 */
export interface Fresh<out A> {
  readonly _tag: "Fresh"
  readonly value: A
}

/**
 * An answer given in place of the provider's: `reason` is the error it stands in for.
 *
 * @since 0.1.0
 * @category models
 */
export interface Degraded<out A, out E = unknown> {
  readonly _tag: "Degraded"
  readonly value: A
  readonly reason: E
}

/**
 * What a call that may degrade answers: {@link Fresh} from the provider, or {@link Degraded} in its
 * place with the reason. The caller cannot read the value without seeing which it is in the type, and
 * `Match.valueTags` / `Match.tagsExhaustive` match it as any tagged union.
 *
 * @example
 * ```ts
 * import { Effect, Match } from "effect"
 * import { Fallback } from "effect-resilience"
 * import type { Transient } from "effect-resilience/Errors"
 *
 * declare const recommendations: Effect.Effect<ReadonlyArray<string>, Transient>
 *
 * const page = recommendations.pipe(
 *   Fallback.degrade(() => ["bestsellers"]),
 *   Effect.map(Match.valueTags({
 *     Fresh: ({ value }) => ({ items: value, banner: false }),
 *     Degraded: ({ value }) => ({ items: value, banner: true })
 *   }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Served<A, E = unknown> = Fresh<A> | Degraded<A, E>

/**
 * @since 0.1.0
 */
export declare namespace Fallback {
  /**
   * Which errors a fallback handles.
   *
   * @since 0.1.0
   * @category models
   */
  export interface Options<K extends string> {
    /**
     * The tags of the errors to handle; others stay in the error channel. Defaults to the
     * {@link DefaultTag}s: `["RateLimited", "Unavailable", "Timeout", "CircuitOpen", "BulkheadFull"]`.
     */
    readonly on?: ReadonlyArray<K> | undefined
  }

  /**
   * One handler per tag of `E`, each given the error of its tag.
   *
   * @since 0.1.0
   * @category models
   */
  export type Cases<E> = {
    readonly [K in Tags<E>]: (error: Extract<E, { readonly _tag: K }>) => Effect<any, any, any>
  }

  /**
   * {@link Cases} with no other key: what {@link exhaustive} accepts.
   *
   * @since 0.1.0
   * @category models
   */
  export type ExactCases<E, C> = Cases<E> & { readonly [K in Exclude<keyof C, Tags<E>>]: never }
}

type CaseSuccess<C> = { [K in keyof C]: C[K] extends (error: any) => Effect<infer A, any, any> ? A : never }[keyof C]
type CaseError<C> = { [K in keyof C]: C[K] extends (error: any) => Effect<any, infer E, any> ? E : never }[keyof C]
type CaseContext<C> = { [K in keyof C]: C[K] extends (error: any) => Effect<any, any, infer R> ? R : never }[keyof C]
type Untagged<E> = Exclude<E, { readonly _tag: string }>

/**
 * Makes a {@link Fresh} answer.
 *
 * @since 0.1.0
 * @category constructors
 */
export const fresh: <A>(value: A) => Fresh<A> = internal.fresh

/**
 * Makes a {@link Degraded} answer standing in for `reason`.
 *
 * @since 0.1.0
 * @category constructors
 */
export const degraded: <A, E>(value: A, reason: E) => Degraded<A, E> = internal.degraded

/**
 * Whether an answer is the provider's own.
 *
 * @since 0.1.0
 * @category guards
 */
export const isFresh: <A, E>(served: Served<A, E>) => served is Fresh<A> = internal.isFresh

/**
 * Whether an answer was given in place of the provider's.
 *
 * @since 0.1.0
 * @category guards
 */
export const isDegraded: <A, E>(served: Served<A, E>) => served is Degraded<A, E> = internal.isDegraded

/**
 * Whether an error is one another provider (or a fallback answer) can stand in for: a {@link Transient}
 * or {@link Rejected} error. The default `while` of the steps of {@link plan}.
 *
 * @example
 * ```ts
 * import { Fallback } from "effect-resilience"
 * import { ClientError, Unavailable } from "effect-resilience/Errors"
 *
 * Fallback.isRecoverable(new Unavailable({ provider: "a", reason: "dns" })) // true
 * Fallback.isRecoverable(new ClientError({ provider: "a", status: 402, body: "card declined" })) // false
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isRecoverable: (u: unknown) => u is Transient | Rejected = internal.isRecoverable

/**
 * Answers with `value` when the effect fails with a handled error (by default the {@link DefaultTag}s;
 * see `on`). The handled errors leave the error channel; the others stay.
 *
 * `value` is the answer as it is, whatever it is: `Fallback.value(Option.none())` answers `None`, and an
 * effect given as `value` is answered, not run. To fall back to another effect, use {@link exhaustive} or
 * `Effect.catchTags`.
 *
 * @example
 * ```ts
 * import { Effect, Option } from "effect"
 * import { Fallback } from "effect-resilience"
 * import type { ClientError, Transient } from "effect-resilience/Errors"
 *
 * declare const rate: Effect.Effect<number, Transient | ClientError>
 * declare const nickname: Effect.Effect<Option.Option<string>, Transient>
 *
 * const withDefault = rate.pipe(Fallback.value(1)) // Effect<number, ClientError>
 * const onlyOutages = rate.pipe(Fallback.value(1, { on: ["Unavailable"] })) // Effect<number, RateLimited | Timeout | ClientError>
 * const orNone = nickname.pipe(Fallback.value(Option.none<string>())) // Effect<Option<string>, never>
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const value: {
  <B, const K extends string = DefaultTag>(
    value: B,
    options?: Fallback.Options<K>
  ): <A, E, R>(self: Effect<A, E, R> & CheckedOn<E, K>) => Effect<A | B, Unhandled<E, K>, R>
  <A, E, R, B, const K extends string = DefaultTag>(
    self: Effect<A, E, R> & CheckedOn<E, K>,
    value: B,
    options?: Fallback.Options<K>
  ): Effect<A | B, Unhandled<E, K>, R>
} = internal.value

/**
 * Answers with a value computed from the handled error (by default the {@link DefaultTag}s; see `on`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Fallback } from "effect-resilience"
 * import type { Transient } from "effect-resilience/Errors"
 *
 * declare const quote: Effect.Effect<string, Transient>
 *
 * // Effect<string, never>
 * const answered = quote.pipe(Fallback.compute((error) => `no quote right now (${error._tag})`))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const compute: {
  <E, B, const K extends string = DefaultTag>(
    f: (error: Handled<E, K>) => B,
    options?: Fallback.Options<K>
  ): <A, R>(self: Effect<A, E, R> & CheckedOn<E, K>) => Effect<A | B, Unhandled<E, K>, R>
  <A, E, R, B, const K extends string = DefaultTag>(
    self: Effect<A, E, R> & CheckedOn<E, K>,
    f: (error: Handled<E, K>) => B,
    options?: Fallback.Options<K>
  ): Effect<A | B, Unhandled<E, K>, R>
} = internal.compute

/**
 * Answers {@link Served}: {@link Fresh} with the effect's value, or {@link Degraded} with `f(error)` and
 * the error as its `reason` when the effect fails with a handled error (by default the
 * {@link DefaultTag}s; see `on`). The caller sees in the type that an answer may be degraded.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Fallback } from "effect-resilience"
 * import type { Rejected, Transient } from "effect-resilience/Errors"
 *
 * declare const balance: Effect.Effect<number, Transient | Rejected>
 *
 * // Effect<Fallback.Served<number, Transient | Rejected>, never>
 * const shown = balance.pipe(Fallback.degrade(() => 0))
 * const text = Effect.map(shown, (s) => Fallback.isDegraded(s) ? "balance unavailable" : `${s.value}`)
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const degrade: {
  <E, B, const K extends string = DefaultTag>(
    f: (error: Handled<E, K>) => B,
    options?: Fallback.Options<K>
  ): <A, R>(self: Effect<A, E, R> & CheckedOn<E, K>) => Effect<Served<A | B, Handled<E, K>>, Unhandled<E, K>, R>
  <A, E, R, B, const K extends string = DefaultTag>(
    self: Effect<A, E, R> & CheckedOn<E, K>,
    f: (error: Handled<E, K>) => B,
    options?: Fallback.Options<K>
  ): Effect<Served<A | B, Handled<E, K>>, Unhandled<E, K>, R>
} = internal.degrade

/**
 * Handles every tagged error of the effect, one handler per tag, and the compiler checks the set: a
 * missing tag is a type error ("Property 'Timeout' is missing"), and so is a tag the effect cannot fail
 * with; no annotation needed. Errors without a `_tag` pass through. Each handler returns an effect,
 * whose success, error and requirements join the result's.
 *
 * The typing is `Match.valueTags`' (which runs the handlers) lifted to the error channel; compare
 * `Effect.catchTags`, whose handlers are all optional.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Fallback } from "effect-resilience"
 * import type { CircuitOpen, ClientError, Transient } from "effect-resilience/Errors"
 *
 * declare const charge: Effect.Effect<string, Transient | CircuitOpen | ClientError>
 * declare const queueForLater: Effect.Effect<string>
 *
 * // Effect<string, ClientError>; leaving out any of the five handlers does not compile
 * const charged = charge.pipe(
 *   Fallback.exhaustive({
 *     RateLimited: () => queueForLater,
 *     Unavailable: () => queueForLater,
 *     Timeout: () => queueForLater,
 *     CircuitOpen: () => queueForLater,
 *     ClientError: (e) => Effect.fail(e)
 *   })
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const exhaustive: {
  <E, const C extends Fallback.ExactCases<E, C>>(
    cases: C
  ): <A, R>(self: Effect<A, E, R>) => Effect<A | CaseSuccess<C>, Untagged<E> | CaseError<C>, R | CaseContext<C>>
  <A, E, R, const C extends Fallback.ExactCases<E, C>>(
    self: Effect<A, E, R>,
    cases: C
  ): Effect<A | CaseSuccess<C>, Untagged<E> | CaseError<C>, R | CaseContext<C>>
} = internal.exhaustive

/**
 * `ExecutionPlan.make` for falling back across providers: a step that has no `while` of its own moves on
 * only for {@link isRecoverable} errors (transient or rejected), so a `ClientError` from the first
 * provider (a declined card, a bad request) is returned as is rather than sent to the next one. Use it
 * with `Effect.withExecutionPlan`; `while`, `attempts` and `schedule` work as in `ExecutionPlan`.
 *
 * Each step provides a service (your `Payments` tag) whose calls go through that provider's own
 * `Policy`. The plan builds a step's layer on every run, so keep the policy in a long-lived service (as
 * below) or give the step a built `Context`: a policy built inside the step's layer would get a fresh
 * breaker on every call.
 *
 * @example
 * ```ts
 * import { Context, Effect, Layer } from "effect"
 * import { Fallback, Policy } from "effect-resilience"
 * import type { ClientError, Transient } from "effect-resilience/Errors"
 *
 * interface Gateway {
 *   readonly charge: (cents: number) => Effect.Effect<string, Transient | ClientError | Policy.ProviderError>
 * }
 * class Payments extends Context.Tag("app/Payments")<Payments, Gateway>() {}
 * class StripePolicy extends Context.Tag("app/StripePolicy")<StripePolicy, Policy.Policy<Policy.ProviderError>>() {}
 * class AdyenPolicy extends Context.Tag("app/AdyenPolicy")<AdyenPolicy, Policy.Policy<Policy.ProviderError>>() {}
 * declare const stripeCharge: (cents: number) => Effect.Effect<string, Transient | ClientError>
 * declare const adyenCharge: (cents: number) => Effect.Effect<string, Transient | ClientError>
 *
 * const viaStripe = Layer.effect(Payments, Effect.map(StripePolicy, (policy) => ({ charge: (cents: number) => stripeCharge(cents).pipe(policy) })))
 * const viaAdyen = Layer.effect(Payments, Effect.map(AdyenPolicy, (policy) => ({ charge: (cents: number) => adyenCharge(cents).pipe(policy) })))
 *
 * const plan = Fallback.plan({ provide: viaStripe }, { provide: viaAdyen })
 * const charge = (cents: number) =>
 *   Effect.flatMap(Payments, (payments) => payments.charge(cents)).pipe(Effect.withExecutionPlan(plan))
 *
 * const program = charge(1_000).pipe(
 *   Effect.provide(Layer.merge(Policy.layerProvider(StripePolicy, "stripe"), Policy.layerProvider(AdyenPolicy, "adyen")))
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const plan: <const Steps extends NonEmptyReadonlyArray<ExecutionPlan.make.Step>>(
  ...steps: Steps & { [K in keyof Steps]: ExecutionPlan.make.Step }
) => ReturnType<typeof ExecutionPlan.make<Steps>> = internal.plan as any
