/**
 * One pipeline of guards, composed in the one order that works, with a recipe for third-party APIs.
 *
 * ```text
 * caller
 *  └─ Timeout.total       the promise made to the caller: retries and every wait included
 *     └─ Retry            backoff + Retry-After + retry budget; never sleeps past the deadline
 *        └─ Hedge          optional, idempotent reads: another attempt after a delay, first success wins
 *           └─ CircuitBreaker   counts outages (Unavailable, attempt Timeout), rejects while open
 *              └─ Gate          a provider's 429 pauses every caller of the key
 *                 └─ limiter    one permit per attempt (fixed or adaptive)
 *                    └─ Bulkhead   one slot per attempt
 *                       └─ Timeout.attempt
 *                          └─ the call
 * ```
 *
 * `Policy.make` composes any subset of these, always in this order, into one `Effect -> Effect`
 * whose error channel is exactly the input's plus what the chosen guards add (`Timeout`,
 * `CircuitOpen`, `RateLimited`, `BulkheadFull`; a retry adds nothing) and whose requirements gain
 * the tags of the guards given as tags. `Policy.provider` builds a ready policy for one provider with
 * defaults chosen for real third-party APIs (each documented with why in {@link Policy.ProviderOptions}).
 *
 * **Why this order, pair by pair** (what goes wrong when two neighbours are swapped):
 *
 * - *Timeout.total / Retry*: a total inside the retry restarts the deadline on every attempt, so the
 *   caller's budget becomes `times x total`, and the retry can no longer skip a backoff that would end
 *   after the deadline.
 * - *Retry / Hedge*: a hedge outside the retry would start a second retry loop beside the first; inside,
 *   the retry sees one outcome per hedged call, and a call whose attempts all failed is retried as one.
 * - *Hedge / CircuitBreaker*: a breaker outside the hedge would count a hedged call once, however many
 *   attempts reached the provider; inside, each attempt gets its own verdict, slot, permit and timeout.
 * - *Retry / CircuitBreaker*: a breaker outside the retry counts one failure per logical call instead
 *   of per attempt, and every retry keeps hitting a downstream the breaker already knows is down; inside,
 *   an open breaker answers the next attempt at once with `CircuitOpen`, which is never retried.
 * - *CircuitBreaker / Gate*: a gate outside the breaker makes callers wait through a `Retry-After`
 *   before learning the breaker is open (they could have been rejected at once), and queued callers pile
 *   up in front of a downstream that is down.
 * - *Gate / limiter*: a limiter outside the gate spends a permit on each caller that then waits out a
 *   closed gate, and releases the quota in a burst when it reopens.
 * - *limiter / Bulkhead*: a bulkhead outside the limiter holds a slot while waiting for a permit, so
 *   slow pacing fills the bulkhead and rejects calls that only needed to wait (`BulkheadFull`).
 * - *Bulkhead / Timeout.attempt*: an attempt timeout outside the bulkhead counts the queue wait as the
 *   provider's slowness (an attempt `Timeout` the breaker counts while the provider was fine).
 *
 * And the moves people make by hand: a bulkhead outside the retry holds its slot through every backoff
 * sleep; a limiter outside the retry charges one permit for N attempts (the provider sees N calls); a
 * breaker inside the bulkhead lets calls it would reject queue for a slot first.
 *
 * **What each guard sees.** The retry never retries `CircuitOpen` or `BulkheadFull` (a local guard said
 * no; retrying defeats it), whatever its `while` says. Each attempt takes its own limiter permit and its
 * own bulkhead slot, given back however it ends (success, failure, interruption). An attempt timeout
 * reaches the breaker as `Timeout { scope: "attempt" }` (an outage signal); the total deadline is the
 * caller's own and is not the breaker's business. Every wait below the total (the gate, the limiter,
 * the bulkhead queue, a backoff sleep) ends by the deadline.
 *
 * @since 0.1.0
 */
import type * as Context from "effect/Context"
import type { DurationInput } from "effect/Duration"
import type { Effect } from "effect/Effect"
import type { Layer } from "effect/Layer"
import type { Schedule } from "effect/Schedule"
import type { Scope } from "effect/Scope"
import type { Bulkhead } from "./Bulkhead.js"
import type { CircuitBreaker } from "./CircuitBreaker.js"
import type { BulkheadFull, CircuitOpen, InvalidOptions, RateLimited, Timeout } from "./Errors.js"
import type { Hedge } from "./Hedge.js"
import * as internal from "./internal/policy.js"
import type * as RateLimit from "./RateLimit.js"
import type { BudgetOptions, Options as RetryOptions, RetryBudget } from "./Retry.js"

/**
 * A composed guard chain: pipe an effect through it. `E` is what it adds to the error channel, `R`
 * what it adds to the requirements (the tags of guards given as tags, a backoff's requirements).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Policy } from "effect-resilience"
 * import type { Transient } from "effect-resilience/Errors"
 *
 * declare const fetchRates: Effect.Effect<number, Transient>
 *
 * const policy = Policy.make({ attempt: "2 seconds", retry: { times: 3 }, total: "10 seconds" })
 * const rates = fetchRates.pipe(policy) // Effect<number, Transient>
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Policy<out E = never, out R = never> {
  <A, E1, R1>(self: Effect<A, E1, R1>): Effect<A, E1 | E, R1 | R>
}

/**
 * What fits the limiter slot: anything that takes a permit before running an effect and may refuse
 * with `RateLimited` (a `RateLimit.RateLimit` with a fixed key, an adaptive limiter, your own).
 *
 * @since 0.1.0
 * @category models
 */
export interface Limiter {
  readonly protect: <A, E, R>(self: Effect<A, E, R>) => Effect<A, E | RateLimited, R>
}

/**
 * @since 0.1.0
 */
export declare namespace Policy {
  /**
   * The guards of {@link make}. Leave a guard out to skip it; stateful guards are given as a value or
   * as the tag of one (the tag then joins the policy's requirements).
   *
   * @since 0.1.0
   * @category models
   */
  export interface Options<RB = never> {
    /**
     * The provider named in `Timeout` errors and, unless `retry.name` says otherwise, the retry's name
     * in metrics and logs. Defaults to `undefined` (Timeout messages say "the call"; the retry is `"retry"`).
     */
    readonly name?: string | undefined
    /** The deadline for the whole call, retries and waits included (`Timeout.total`). Defaults to none. */
    readonly total?: DurationInput | undefined
    /**
     * Retries, as `Retry.transient` (with a `budget` to share one). `CircuitOpen` and `BulkheadFull`
     * are never retried, whatever `while` says. Defaults to none (one attempt).
     */
    readonly retry?: RetryOptions<unknown, RB> | undefined
    /**
     * Hedged attempts (idempotent reads only), or the tag of a hedge: inside the retry, outside the
     * breaker, so each attempt goes through the breaker, limiter, bulkhead and attempt timeout. Adds no
     * error. Defaults to none.
     */
    readonly hedge?: Hedge | Context.Tag<any, Hedge> | undefined
    /** The circuit breaker, or its tag. Defaults to none. */
    readonly breaker?: CircuitBreaker | Context.Tag<any, CircuitBreaker> | undefined
    /** The 429 gate (with a fixed key), or its tag. Defaults to none. */
    readonly gate?: RateLimit.Gate | Context.Tag<any, RateLimit.Gate> | undefined
    /** The rate limiter (fixed or adaptive, with a fixed key), or its tag. Defaults to none. */
    readonly limiter?: Limiter | Context.Tag<any, Limiter> | undefined
    /** The bulkhead, or its tag. Defaults to none. */
    readonly bulkhead?: Bulkhead | Context.Tag<any, Bulkhead> | undefined
    /** The limit for one attempt (`Timeout.attempt`), shrunk to the time left. Defaults to none. */
    readonly attempt?: DurationInput | undefined
  }

  /**
   * Overrides of {@link provider}'s defaults: leave a field out to keep the default, pass options to
   * tune it, a built guard to replace it, or `false` to turn it off. Options are merged over the
   * defaults, and one given as `undefined` keeps its default (`retry: { times: config.retries }` with no
   * `retries` configured still retries 5 times).
   *
   * @since 0.1.0
   * @category models
   */
  export interface ProviderOptions {
    /**
     * The limit for one attempt. A healthy REST API answers within a second or two; past ten seconds an
     * answer is unlikely and a retry (or the caller's fallback) is the better use of the deadline. Raise
     * it for slow endpoints (LLM completions, reports). Defaults to `"10 seconds"`.
     */
    readonly attempt?: DurationInput | false | undefined
    /**
     * The deadline for the whole call. Room for a slow attempt, a `Retry-After` of a few seconds and a
     * second attempt, and the wait for a provider's rate limit to let a queue of callers through; short
     * enough that a caller (a web request) still gets an answer it can act on. Defaults to `"30 seconds"`.
     */
    readonly total?: DurationInput | false | undefined
    /**
     * The retry, merged over the defaults: `times: 5` (the deadline is the real bound; `times` keeps one
     * call from spending the whole budget); the backoff of `Retry.transient` (exponential from 100 ms,
     * doubling, capped at 10 s, full jitter, so callers that failed together do not retry together),
     * never earlier than a `Retry-After` up to the library's one cap; a retry that would end after the
     * deadline is not started. Defaults to `{ times: 5, name }`.
     */
    readonly retry?: RetryOptions<unknown> | false | undefined
    /**
     * The retry budget, shared by every call through the policy: when the provider fails for real,
     * successes stop, the budget empties and retries stop adding load (see `Retry`). Tuned with
     * `Retry.BudgetOptions`, replaced with a `Retry.RetryBudget`. Defaults to `Retry.budget`'s
     * `{ ratio: 0.2, minPerSecond: 10, ttl: "10 seconds" }`.
     */
    readonly budget?: BudgetOptions | RetryBudget | false | undefined
    /**
     * The breaker, merged over the defaults: `failureRate({ threshold: 0.5, window: "30 seconds",
     * minimumThroughput: 10 })`, not `consecutive`. A rate over a time window judges the share of calls
     * that fail, so it opens on a real outage at any traffic and ignores a few failures among many
     * successes, where `consecutive(n)` opens on n spaced failures at low traffic and needs luck at high
     * traffic. Ten calls before judging keeps two unlucky calls from opening it. `openFor` grows
     * exponentially from 5 s to 1 minute (a short first break; a provider still down is asked less and
     * less often), lengthened by a `Retry-After` as the breaker does; one probe, given until the total
     * deadline (`halfOpen.maxWait`: the probe is admitted before it waits for the gate, the limiter and
     * the bulkhead, which the breaker's own default, the break, did not cover). It counts what the
     * breaker counts by default: outages (`Unavailable`, an attempt `Timeout`), not 429s (the gate and
     * the limiter own those) nor the caller's own total deadline. Defaults to those options, named after
     * the provider.
     */
    readonly breaker?: CircuitBreaker.Options | CircuitBreaker | false | undefined
    /**
     * The 429 gate, merged over `{ name, key: name }` and the gate's own defaults (closed for at most a
     * minute per signal; waiters released over one second; waits bounded by the deadline). One gate per
     * provider: a 429 pauses every caller. Its state lives in the `RateLimit.GateStore` in context if
     * there is one (a Redis store makes replicas share it), else in memory. Defaults to those options.
     */
    readonly gate?: Partial<RateLimit.Gate.Options> | RateLimit.Gate | false | undefined
    /**
     * The rate limiter: one permit per attempt, from `RateLimit.adaptive` with its defaults, keyed by
     * the provider. Nobody knows a provider's rate up front, so none is configured: it learns it from
     * the quota headers every answer carries and from 429s, paces before the limit rather than after,
     * and bounds the first wave (4 calls at once) until it knows. What it learns is kept in the
     * `RateLimit.AdaptiveStore` in context if there is one (shared by replicas), else in memory. Waits
     * end by the total deadline. Defaults to `{ name, key: name }`.
     */
    readonly limiter?: Partial<RateLimit.Adaptive.Options> | Limiter | false | undefined
    /**
     * The bulkhead: `maxConcurrent: 50` (a slow provider holds at most this many fibers and sockets; it
     * matches `HttpProvider`'s default `maxConnections`, so the client's own pool never queues behind it),
     * `maxQueued: 100` (a burst waits rather than fails; past that the excess is shed at once), no
     * `queueTimeout` (the total deadline bounds the wait). Defaults to those options, named after the
     * provider.
     */
    readonly bulkhead?: Partial<Bulkhead.Options> | Bulkhead | false | undefined
  }
}

/**
 * The tags among the guards of `G`, which a policy made from them needs.
 *
 * @since 0.1.0
 * @category models
 */
export type TagsOf<G> = { [K in keyof G]: TagOf<G[K]> }[keyof G]

type TagOf<T> = T extends Context.Tag<infer I, any> ? I : never

type Has<G, K extends PropertyKey> = K extends keyof G ? [Exclude<G[K], undefined | false>] extends [never] ? false
  : true
  : false

/**
 * The errors a policy made from the guards `G` adds: `Timeout` for a total or attempt timeout,
 * `CircuitOpen` for a breaker, `RateLimited` for a gate or limiter, `BulkheadFull` for a bulkhead.
 *
 * @since 0.1.0
 * @category models
 */
export type ErrorsOf<G> =
  | (Has<G, "total"> extends true ? Timeout : Has<G, "attempt"> extends true ? Timeout : never)
  | (Has<G, "breaker"> extends true ? CircuitOpen : never)
  | (Has<G, "gate"> extends true ? RateLimited : Has<G, "limiter"> extends true ? RateLimited : never)
  | (Has<G, "bulkhead"> extends true ? BulkheadFull : never)

/**
 * What a policy made from the guards `G` needs: the tags among them and the retry backoff's requirements.
 *
 * @since 0.1.0
 * @category models
 */
export type RequirementsOf<G> =
  | TagsOf<G>
  | (G extends { readonly retry?: infer O } ? BackoffRequirements<O> : never)

type BackoffRequirements<O> = O extends { readonly backoff?: infer B } ? ScheduleRequirements<B> : never

type ScheduleRequirements<B> = B extends Schedule<any, any, infer R> ? R : never

/**
 * The errors {@link provider} adds with overrides `O`: all four unless a guard is turned off.
 *
 * @since 0.1.0
 * @category models
 */
export type ProviderError<O = {}> =
  | (Off<O, "total"> extends true ? Off<O, "attempt"> extends true ? never : Timeout : Timeout)
  | (Off<O, "breaker"> extends true ? never : CircuitOpen)
  | (Off<O, "gate"> extends true ? Off<O, "limiter"> extends true ? never : RateLimited : RateLimited)
  | (Off<O, "bulkhead"> extends true ? never : BulkheadFull)

type Off<O, K extends PropertyKey> = K extends keyof O ? [O[K]] extends [false] ? true : false : false

/**
 * Composes the given guards, in the order of the module notes, into one policy. Its error channel
 * is exactly the input's plus {@link ErrorsOf} the guards; its requirements gain the guards given as
 * tags. The retry never retries `CircuitOpen` or `BulkheadFull`.
 *
 * Throws `InvalidOptions` for a bad duration, bad retry options (a `retry` that is not an options object
 * among them), or a guard that is neither the expected value nor a tag.
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import { Bulkhead, CircuitBreaker, Policy } from "effect-resilience"
 * import type { Transient } from "effect-resilience/Errors"
 *
 * class PaymentsBreaker extends Context.Tag("app/PaymentsBreaker")<PaymentsBreaker, CircuitBreaker.CircuitBreaker>() {}
 * declare const charge: Effect.Effect<string, Transient>
 * declare const bulkhead: Bulkhead.Bulkhead
 *
 * const policy = Policy.make({
 *   name: "payments",
 *   total: "10 seconds",
 *   retry: { times: 3 },
 *   breaker: PaymentsBreaker,
 *   bulkhead,
 *   attempt: "2 seconds"
 * })
 * // Effect<string, Transient | CircuitOpen | BulkheadFull, PaymentsBreaker>
 * const guarded = charge.pipe(policy)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: <const G extends Policy.Options<any>>(guards: G) => Policy<ErrorsOf<G>, RequirementsOf<G>> =
  internal.make

/**
 * A ready policy for one third-party provider: attempt timeout, total deadline, a jittered
 * exponential retry that honours `Retry-After` with a retry budget, a failure-rate breaker, the
 * provider's 429 gate, a rate limiter and a bulkhead, each with the defaults documented (with why) in
 * {@link Policy.ProviderOptions}. Every guard can be tuned, replaced or turned off (`false`).
 *
 * The guards are built here and live as long as the `Scope`; build one policy per provider and share
 * it (every call through it shares its gate, budget, breaker, limiter and bulkhead). Gate and limiter
 * state lives in the `RateLimit.GateStore` / `RateLimit.AdaptiveStore` in context when there is one
 * (provide the Redis stores to share them between replicas), else in memory. Fails with `InvalidOptions` for an
 * empty name or an override that cannot work (one that is neither `false`, a built guard nor an options object).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Policy } from "effect-resilience"
 * import type { Transient } from "effect-resilience/Errors"
 *
 * declare const listInvoices: Effect.Effect<ReadonlyArray<string>, Transient>
 *
 * const program = Effect.gen(function*() {
 *   const billing = yield* Policy.provider("billing", { attempt: "5 seconds", bulkhead: false })
 *   return yield* listInvoices.pipe(billing)
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const provider: <const O extends Policy.ProviderOptions = {}>(
  name: string,
  overrides?: O
) => Effect<Policy<ProviderError<O>>, InvalidOptions, Scope> = internal.provider

/**
 * {@link provider} as the service of your own tag, for a policy shared across a service.
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import { Policy } from "effect-resilience"
 * import type { Transient } from "effect-resilience/Errors"
 *
 * class CrmPolicy extends Context.Tag("app/CrmPolicy")<CrmPolicy, Policy.Policy<Policy.ProviderError>>() {}
 * const CrmPolicyLive = Policy.layerProvider(CrmPolicy, "crm")
 *
 * declare const getContact: Effect.Effect<string, Transient>
 * const contact = Effect.flatMap(CrmPolicy, (policy) => getContact.pipe(policy))
 * const program = contact.pipe(Effect.provide(CrmPolicyLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerProvider: <I>(
  tag: Context.Tag<I, Policy<ProviderError>>,
  name: string,
  overrides?: Policy.ProviderOptions
) => Layer<I, InvalidOptions> = internal.layerProvider
