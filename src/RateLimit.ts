/**
 * Client-side rate limits, and the not-before gate that a provider's 429 closes for every caller.
 *
 * **Why a client-side limit.** A provider's quota belongs to an API key, not to a process or a
 * customer. Spending it evenly (and per tenant, so one tenant cannot spend everyone's) is cheaper
 * than finding the edge with 429s. The counting is `@effect/experimental`'s `RateLimiter` (token
 * bucket and fixed window) over a `RateLimiterStore`: `layerStoreMemory` for one process (ours, with
 * memory bounded by the keys in use), the Redis store (`effect-resilience/RateLimitRedis`) to share
 * one quota between replicas. This module
 * adds what a call site needs on top: a typed `RateLimited { reason: "local" }` instead of the
 * store's error, waits that respect the active `Timeout.total` deadline, tokens given back when a call
 * is interrupted before it ran, and a documented answer when the store is down.
 *
 * **Why a gate.** A limiter counts what this process believes; a 429 is what the provider knows. When
 * one call is told "retry after 30 s", every other caller through the same key would be told the
 * same, each paying a round trip and some providers extending the penalty. The gate closes the key
 * until then: later callers wait for it to reopen (or fail at once when their deadline or `maxWait`
 * comes first), and at reopening they are released over a short random interval (`releaseOver`)
 * rather than in the same millisecond. The gate state lives in a `GateStore`: in memory by default,
 * in Redis so replicas share it.
 *
 * **Order.** Put the gate outside the limiter: a caller waits at the gate before taking a token, so
 * no token is spent while the provider refuses everything.
 * `effect.pipe(RateLimit.protect(limiter), RateLimit.protect(gate))`.
 *
 * **Refunds.** The experimental `RateLimiter` has no refund. A token is given back by consuming `-1`
 * through the same store: the fixed-window counter (and its expiry) steps back by one, the token
 * bucket gains one (never above its limit, in the stores of this library). This happens only when the call never started (interrupted while waiting for the
 * token, or right after taking it; or refused because the wait would pass its deadline). A call that
 * started has spent its token, whatever its outcome, since the provider may have seen it.
 *
 * **Store down.** With `onStoreError: "allow"` (the default) calls go through unlimited and one
 * warning is logged per outage (fail open: a limiter should not take the service down with Redis);
 * `"reject"` refuses them with `RateLimited` (fail closed). After a store error the store is skipped
 * for one second: calls made while the first failing command is pending each wait at most the
 * store's timeout, and from then on the outage costs one bounded probe per second, not one per call.
 *
 * @since 0.1.0
 */
import type * as RateLimiter from "@effect/experimental/RateLimiter"
import type * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type { Pipeable } from "effect/Pipeable"
import type * as Scope from "effect/Scope"
import type { InvalidOptions, RateLimited } from "./Errors.js"
import * as internal from "./internal/rateLimit.js"
import * as adaptiveInternal from "./internal/rateLimit/adaptive.js"
import * as adaptiveSink from "./internal/rateLimit/adaptiveSink.js"
import * as adaptiveStore from "./internal/rateLimit/adaptiveStore.js"
import * as gateInternal from "./internal/rateLimitGate.js"
import * as memory from "./internal/rateLimitMemory.js"

/**
 * @since 0.1.0
 * @category models
 */
export const TypeId: unique symbol = internal.TypeId

/**
 * @since 0.1.0
 * @category models
 */
export type TypeId = typeof TypeId

/**
 * @since 0.1.0
 * @category models
 */
export const GateTypeId: unique symbol = gateInternal.GateTypeId

/**
 * @since 0.1.0
 * @category models
 */
export type GateTypeId = typeof GateTypeId

/**
 * The arguments a guard's key needs: none when the key is fixed (`Args = void`), one value (a tenant
 * id, a request) when the key is a function of the call.
 *
 * @since 0.1.0
 * @category models
 */
export type KeyArgs<Args> = [Args] extends [void] ? [] : [args: Args]

/**
 * A client-side rate limit. Each call through it takes one token for its key before it runs.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as RateLimit from "effect-resilience/RateLimit"
 *
 * const program = Effect.gen(function*() {
 *   const limiter = yield* RateLimit.make({ name: "geo", key: "geo-api", limit: 10, window: "1 second" })
 *   return yield* Effect.succeed("lookup").pipe(RateLimit.protect(limiter))
 * }).pipe(Effect.provide(RateLimit.layerStoreMemory))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface RateLimit<Args = void> extends Pipeable {
  readonly [TypeId]: TypeId
  readonly name: string
  readonly limit: number
  readonly window: Duration.Duration
  readonly algorithm: "token-bucket" | "fixed-window"
  readonly onExceeded: "delay" | "fail"
  /** Takes a token for the key of `args`, then runs `self`. */
  readonly protect: <A, E, R>(
    self: Effect.Effect<A, E, R>,
    ...args: KeyArgs<Args>
  ) => Effect.Effect<A, E | RateLimited, R>
}

/**
 * @since 0.1.0
 */
export declare namespace RateLimit {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Options<Args = void> {
    /**
     * Names the limiter in errors (`RateLimited.provider`), metrics (tag `limiter`) and logs; part of the
     * store key.
     */
    readonly name: string
    /**
     * The quota a call spends: a fixed string (one provider API key shared by every caller), or a
     * function of the call's arguments (one quota per tenant). Keys appear in logs: never use a secret.
     */
    readonly key: string | ((args: Args) => string)
    /** Calls allowed per `window`: an integer >= 1. */
    readonly limit: number
    /** The window `limit` applies to: a finite duration > 0. */
    readonly window: Duration.DurationInput
    /**
     * `"token-bucket"`: bursts up to `limit`, then one call per `window / limit`. `"fixed-window"`: at
     * most `limit` calls, then nothing until the window's counter expires. Defaults to `"token-bucket"`.
     */
    readonly algorithm?: "token-bucket" | "fixed-window" | undefined
    /**
     * `"delay"`: wait for the token, unless the wait is longer than `maxWait` or the time left before
     * the active `Timeout.total` deadline (then fail at once). `"fail"`: fail at once with
     * `RateLimited { reason: "local", retryAfter }`. Defaults to `"delay"` (a client-side limit in
     * front of a provider smooths traffic; use `"fail"` to shed a tenant's excess).
     */
    readonly onExceeded?: "delay" | "fail" | undefined
    /** With `"delay"`, the longest wait for a token before failing at once. Defaults to `window` (at most 24 days). */
    readonly maxWait?: Duration.DurationInput | undefined
    /**
     * When the store cannot be reached: `"allow"` runs the call unlimited and logs one warning per
     * outage (fail open); `"reject"` fails it with `RateLimited` (fail closed). Defaults to `"allow"`.
     */
    readonly onStoreError?: "allow" | "reject" | undefined
  }
}

/**
 * A not-before gate: when a call through a key fails with the provider's `retryAfter`, later calls
 * through that key wait until then instead of calling.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as RateLimit from "effect-resilience/RateLimit"
 *
 * const program = Effect.gen(function*() {
 *   const gate = yield* RateLimit.gate({ name: "crm", key: "crm-api", releaseOver: "500 millis" })
 *   yield* gate.close("2 seconds") // as a 429 with Retry-After: 2 would
 *   return yield* Effect.succeed("sent after the gate reopened").pipe(RateLimit.protect(gate))
 * }).pipe(Effect.scoped, Effect.provide(RateLimit.layerGateMemory))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Gate<Args = void> extends Pipeable {
  readonly [GateTypeId]: GateTypeId
  readonly name: string
  /**
   * Waits while the gate for the key of `args` is closed (or fails at once with `RateLimited` when
   * the reopening is past `maxWait` or the deadline), runs `self`, and closes the gate when `self`
   * fails with a signal (by default a provider `RateLimited` or an `Unavailable` carrying `retryAfter`).
   */
  readonly protect: <A, E, R>(
    self: Effect.Effect<A, E, R>,
    ...args: KeyArgs<Args>
  ) => Effect.Effect<A, E | RateLimited, R>
  /**
   * Closes the gate for the key of `args` for `duration` (capped by `maxClosed`), as a signal would. Fails
   * with `InvalidOptions` when `duration` is not a finite duration >= 0 (`"100ms"`, `-1`, NaN, `null`).
   */
  readonly close: (duration: Duration.DurationInput, ...args: KeyArgs<Args>) => Effect.Effect<void, InvalidOptions>
  /** How long the gate for the key of `args` stays closed; `None` when it is open (or the store is down). */
  readonly closedFor: (...args: KeyArgs<Args>) => Effect.Effect<Option.Option<Duration.Duration>>
}

/**
 * @since 0.1.0
 */
export declare namespace Gate {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Options<Args = void> {
    /** Names the gate in errors (`RateLimited.provider`), metrics (tag `limiter`) and logs; part of the store key. */
    readonly name: string
    /** A fixed key (one provider API key), or a function of the call's arguments. Keys appear in logs. */
    readonly key: string | ((args: Args) => string)
    /**
     * The longest one signal closes the gate, whatever `retryAfter` says. Defaults to `"1 minute"`
     * (`Backoff.defaultMaxRetryAfter`, shared by every module).
     */
    readonly maxClosed?: Duration.DurationInput | undefined
    /**
     * The longest a caller waits for the gate to reopen before failing at once with `RateLimited`;
     * `0` never waits. The active `Timeout.total` deadline bounds it too. Defaults to no bound other than the deadline.
     */
    readonly maxWait?: Duration.DurationInput | undefined
    /**
     * At reopening each waiter is released after a random offset in [0, releaseOver) (or in the
     * shorter room its `maxWait` or deadline leaves), so they do not all call in the same
     * millisecond. `0` releases them together. Defaults to `"1 second"`.
     */
    readonly releaseOver?: Duration.DurationInput | undefined
    /**
     * Which failures close the gate, and for how long. Local refusals (`RateLimited { reason: "local" }`)
     * are this process's own accounting, not the provider's word, and do not close it by default.
     * Defaults to the `retryAfter` of a `RateLimited { reason: "provider" }` or an `Unavailable`.
     */
    readonly signal?: ((error: unknown) => Duration.Duration | undefined) | undefined
    /**
     * When the gate store cannot be reached: `"allow"` treats the gate as open and logs one warning per
     * outage; `"reject"` fails calls with `RateLimited`. Defaults to `"allow"`.
     */
    readonly onStoreError?: "allow" | "reject" | undefined
  }
}

/**
 * Where gates keep their state: millis until a key's gate reopens, and closing it. In memory
 * (`layerGateMemory`) or in Redis (`RateLimitRedis.layerGate`) so that replicas share it.
 *
 * @since 0.1.0
 * @category models
 */
export interface GateStore {
  /** Millis until the gate for `key` reopens; 0 when it is open. */
  readonly closedFor: (key: string) => Effect.Effect<number, GateStoreError>
  /** Closes the gate for `key` for `millis`, unless it is already closed for longer; true when it changed. */
  readonly close: (key: string, millis: number) => Effect.Effect<boolean, GateStoreError>
}

/**
 * The tag of the {@link GateStore} that `gate` needs.
 *
 * @since 0.1.0
 * @category models
 */
export const GateStore: Context.Tag<GateStore, GateStore> = gateInternal.GateStore

/**
 * A gate store operation failed (Redis unreachable, timed out). Gates handle it by `onStoreError`.
 *
 * @since 0.1.0
 * @category errors
 */
export const GateStoreError: new(args: { readonly operation: string; readonly cause: unknown }) => GateStoreError =
  gateInternal.GateStoreError

/**
 * @since 0.1.0
 * @category errors
 */
export interface GateStoreError {
  readonly _tag: "GateStoreError"
  readonly operation: string
  readonly cause: unknown
  readonly message: string
}

/**
 * Builds a limiter. Fails with `InvalidOptions` naming the option when the options cannot work
 * (`limit` not an integer >= 1, `window` not > 0, NaN, an empty `name`). Needs the experimental
 * `RateLimiterStore`: `layerStoreMemory`, or `RateLimitRedis.layerStore` to share the quota.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as RateLimit from "effect-resilience/RateLimit"
 *
 * // one quota per tenant, excess refused at once
 * const perTenant = RateLimit.make({
 *   name: "api",
 *   key: (tenant: string) => tenant,
 *   limit: 1000,
 *   window: "1 minute",
 *   onExceeded: "fail"
 * })
 * const program = Effect.flatMap(perTenant, (limiter) =>
 *   Effect.succeed("ok").pipe(RateLimit.protect(limiter, "tenant-a"))
 * ).pipe(Effect.provide(RateLimit.layerStoreMemory))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: <Args = void>(
  options: RateLimit.Options<Args>
) => Effect.Effect<RateLimit<Args>, InvalidOptions, RateLimiter.RateLimiterStore> = internal.make

/**
 * A limiter as the service of the user's own tag.
 *
 * @example
 * ```ts
 * import { Context, Layer } from "effect"
 * import * as RateLimit from "effect-resilience/RateLimit"
 *
 * class StripeLimit extends Context.Tag("app/StripeLimit")<StripeLimit, RateLimit.RateLimit>() {}
 * const StripeLimitLive = RateLimit.layer(StripeLimit, {
 *   name: "stripe",
 *   key: "acct_1",
 *   limit: 100,
 *   window: "1 second"
 * }).pipe(Layer.provide(RateLimit.layerStoreMemory))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: <I, Args = void>(
  tag: Context.Tag<I, RateLimit<Args>>,
  options: RateLimit.Options<NoInfer<Args>>
) => Layer.Layer<I, InvalidOptions, RateLimiter.RateLimiterStore> = internal.layer

/**
 * Builds a gate. Fails with `InvalidOptions` for an empty `name`, a bad duration or a `signal` that is
 * not a function. Its reopening watchers live in the `Scope`; it needs a {@link GateStore}
 * (`layerGateMemory` or `RateLimitRedis.layerGate`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as RateLimit from "effect-resilience/RateLimit"
 *
 * const gate = RateLimit.gate({ name: "partner", key: "partner-key", maxWait: "5 seconds" })
 * const program = Effect.scoped(Effect.flatMap(gate, (g) => Effect.succeed(1).pipe(RateLimit.protect(g))))
 *   .pipe(Effect.provide(RateLimit.layerGateMemory))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const gate: <Args = void>(
  options: Gate.Options<Args>
) => Effect.Effect<Gate<Args>, InvalidOptions, GateStore | Scope.Scope> = gateInternal.make

/**
 * A gate as the service of the user's own tag.
 *
 * @example
 * ```ts
 * import { Context, Layer } from "effect"
 * import * as RateLimit from "effect-resilience/RateLimit"
 *
 * class CrmGate extends Context.Tag("app/CrmGate")<CrmGate, RateLimit.Gate>() {}
 * const CrmGateLive = RateLimit.layerGate(CrmGate, { name: "crm", key: "crm" }).pipe(
 *   Layer.provide(RateLimit.layerGateMemory)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerGate: <I, Args = void>(
  tag: Context.Tag<I, Gate<Args>>,
  options: Gate.Options<NoInfer<Args>>
) => Layer.Layer<I, InvalidOptions, GateStore> = gateInternal.layer

/**
 * The in-memory `RateLimiterStore`: quotas of one process, on `Clock` (so `TestClock` drives them).
 * It counts as `@effect/experimental`'s in-memory store does, but forgets a key once its entry has
 * been at rest for a minute (a fixed window that has passed, a token bucket that has refilled): each
 * operation examines a few entries and deletes those, so a limiter keyed by tenant holds the tenants
 * of the last window and minute, not every tenant ever seen. No fiber: it works however long the
 * layer that built it lives. In the token bucket, a full bucket has no refill phase, a refund never
 * lifts it above its limit, and a bucket belongs to a key and its limit and window.
 *
 * @example
 * ```ts
 * import * as RateLimit from "effect-resilience/RateLimit"
 *
 * const store = RateLimit.layerStoreMemory
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStoreMemory: Layer.Layer<RateLimiter.RateLimiterStore> = memory.layerStoreMemory

/**
 * Gate state of one process, on `Clock`; a gate reopened a minute ago is deleted as operations go by.
 *
 * @example
 * ```ts
 * import * as RateLimit from "effect-resilience/RateLimit"
 *
 * const store = RateLimit.layerGateMemory
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerGateMemory: Layer.Layer<GateStore> = memory.layerGateMemory

/**
 * Both in-memory stores: what limiters and gates of one process need.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as RateLimit from "effect-resilience/RateLimit"
 *
 * const program = Effect.scoped(RateLimit.gate({ name: "x", key: "x" })).pipe(Effect.provide(RateLimit.layerMemory))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerMemory: Layer.Layer<RateLimiter.RateLimiterStore | GateStore> = memory.layerMemory

/**
 * Runs an effect through a limiter, an adaptive limiter or a gate (or the tag of one, which then joins `R`). `E` gains
 * `RateLimited`. Pass the call's key arguments when the guard's key is a function.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as RateLimit from "effect-resilience/RateLimit"
 *
 * declare const limiter: RateLimit.RateLimit<string>
 * declare const gate: RateLimit.Gate
 * const call = Effect.succeed("charge").pipe(
 *   RateLimit.protect(limiter, "tenant-a"), // one token from tenant-a's quota
 *   RateLimit.protect(gate) // outside: wait at the gate before taking a token
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const protect: {
  <Args>(
    guard: RateLimit<Args> | Gate<Args> | Adaptive<Args>,
    ...args: KeyArgs<Args>
  ): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | RateLimited, R>
  <I, Args>(
    tag: Context.Tag<I, RateLimit<Args>> | Context.Tag<I, Gate<Args>> | Context.Tag<I, Adaptive<Args>>,
    ...args: KeyArgs<Args>
  ): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | RateLimited, R | I>
  <A, E, R, Args>(
    self: Effect.Effect<A, E, R>,
    guard: RateLimit<Args> | Gate<Args> | Adaptive<Args>,
    ...args: KeyArgs<Args>
  ): Effect.Effect<A, E | RateLimited, R>
  <A, E, R, I, Args>(
    self: Effect.Effect<A, E, R>,
    tag: Context.Tag<I, RateLimit<Args>> | Context.Tag<I, Gate<Args>> | Context.Tag<I, Adaptive<Args>>,
    ...args: KeyArgs<Args>
  ): Effect.Effect<A, E | RateLimited, R | I>
} = internal.protect

/**
 * Whether `u` is a limiter built by {@link make}.
 *
 * @example
 * ```ts
 * import * as RateLimit from "effect-resilience/RateLimit"
 *
 * RateLimit.isRateLimit({}) // false
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isRateLimit: (u: unknown) => u is RateLimit<unknown> = internal.isRateLimit

/**
 * Whether `u` is a gate built by {@link gate}.
 *
 * @example
 * ```ts
 * import * as RateLimit from "effect-resilience/RateLimit"
 *
 * RateLimit.isGate({}) // false
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isGate: (u: unknown) => u is Gate<unknown> = gateInternal.isGate

/**
 * @since 0.1.0
 * @category models
 */
export const AdaptiveTypeId: unique symbol = adaptiveInternal.AdaptiveTypeId

/**
 * @since 0.1.0
 * @category models
 */
export type AdaptiveTypeId = typeof AdaptiveTypeId

/**
 * A limiter that learns the provider's limits instead of being tuned by hand.
 *
 * **How it learns.** Every answer a call reports with {@link observe} (`HttpProvider` reports each
 * one) teaches it:
 * - quota headers set the pace *before* any 429: `RateLimit` / `RateLimit-Policy` (IETF drafts),
 *   `X-RateLimit-Limit/Remaining/Reset` (GitHub, X, Discord), OpenAI's
 *   `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` and Anthropic's
 *   `anthropic-ratelimit-{requests,tokens}-*`. A fixed window's `remaining` is spread over the time
 *   left until its reset (in the window's last second, where a whole-second reset cannot tell how much
 *   is left, 90% of the limit over the longest reset seen); a token bucket's refill rate is
 *   `(limit - remaining) / reset`; a policy's `q` per `w` is preferred when sent. `remaining: 0` holds
 *   every call until the reset.
 * - a throttle (a 429, or a `RateLimited { reason: "provider" }` failure) cuts the rate to `decrease`
 *   times what was being sent, then regrows it along a CUBIC curve scaled to the rate (back to the old
 *   rate after about 4 s at any rate, then probing above it, never above twice the measured rate nor
 *   above what headers allow). A throttle below the last one's rate aims halfway under it (fast
 *   convergence). A higher quota `limit` in the headers forgets the throttle (the storm is over). A wave
 *   of 429s from calls sent together, or within a second of a cut, counts as one throttle; a 429 to a
 *   lone probe after a `Retry-After` holds calls without cutting the rate. A `Retry-After` holds every
 *   call until then.
 * - before anything is learned, at most `initialConcurrency` calls run at once, one more per success
 *   (slow start), so 50 callers do not all reach a provider that allows 5. Once headers give a rate,
 *   the rate paces and the window opens to `maxConcurrency`.
 *
 * Waiters queue earliest deadline first and leave one by one at the learned rate, never in a burst (also after a
 * gate or a `Retry-After` reopens). A call's weight (LLM tokens) is given with {@link withCost} and
 * corrected with {@link reportUsage}; OpenAI's and Anthropic's token headers pace those units.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as RateLimit from "effect-resilience/RateLimit"
 *
 * const program = Effect.gen(function*() {
 *   const limiter = yield* RateLimit.adaptive({ name: "llm", key: "org-1" })
 *   return yield* Effect.gen(function*() {
 *     yield* RateLimit.observe({ status: 200, headers: { "x-ratelimit-remaining-requests": "59" } })
 *     return "answer"
 *   }).pipe(RateLimit.withCost(1500), RateLimit.protect(limiter))
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Adaptive<Args = void> extends Pipeable {
  readonly [AdaptiveTypeId]: AdaptiveTypeId
  readonly name: string
  /** Waits for room (rate and concurrency) for the key of `args`, runs `self`, learns from how it ended. */
  readonly protect: <A, E, R>(
    self: Effect.Effect<A, E, R>,
    ...args: KeyArgs<Args>
  ) => Effect.Effect<A, E | RateLimited, R>
  /** What has been learned for the key of `args`. */
  readonly current: (...args: KeyArgs<Args>) => Effect.Effect<Adaptive.Snapshot>
}

/**
 * @since 0.1.0
 */
export declare namespace Adaptive {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Options<Args = void> {
    /** Names the limiter in errors (`RateLimited.provider`), metrics (tag `limiter`) and logs; part of the store key. */
    readonly name: string
    /**
     * Whose quota a call spends: a fixed string, or a function of the call's arguments. Key by the
     * provider's scope (organisation, model family, GitHub `resource`), not by the API key object:
     * two keys of one organisation share one quota. Keys appear in logs: never use a secret.
     */
    readonly key: string | ((args: Args) => string)
    /**
     * Calls at once before anything is learned (slow start then adds one per success). Palantir and
     * NVIDIA found that starting high crashes through the limit and climbs back slowly, and Anthropic
     * throttles sharp ramps; 4 keeps a first wave of 50 callers to 4 calls while costing one round trip
     * at most against a generous provider. Defaults to `4`.
     */
    readonly initialConcurrency?: number | undefined
    /**
     * The widest the concurrency window grows. More concurrent calls than `HttpProvider`'s default
     * connection pool (50) would only queue in the pool. Defaults to `50`.
     */
    readonly maxConcurrency?: number | undefined
    /**
     * The lowest request rate (per second) a throttle can cut to, so a burst of 429s never stops a
     * key for good. AWS SDK v3 adaptive mode uses the same floor. Lower it for quotas of a few calls
     * per minute. Defaults to `0.5`.
     */
    readonly minRate?: number | undefined
    /**
     * The highest request rate (per second) the limiter paces at, whatever headers or CUBIC growth
     * say: a guard against a lying header. Defaults to `1000`.
     */
    readonly maxRate?: number | undefined
    /**
     * The factor a throttle multiplies the rate (and the concurrency window) by: CUBIC's beta as in
     * AWS SDK v3 and TCP CUBIC, a gentler cut than halving, since CUBIC regrows toward the old rate.
     * A number in (0, 1). Defaults to `0.7`.
     */
    readonly decrease?: number | undefined
    /**
     * The longest a caller waits for room; the active `Timeout.total` deadline bounds it too. A wait
     * that cannot fit fails at once with `RateLimited { reason: "local", retryAfter }`. One minute
     * is the gate's longest closing, so the two agree on what "too long" is. Defaults to `"1 minute"`.
     */
    readonly maxWait?: Duration.DurationInput | undefined
    /**
     * The longest a `Retry-After`, a quota header's reset at `remaining: 0`, or the token debt of a heavy
     * call (at a learned token rate) holds the key's calls. A longer hold is capped: when it runs out one
     * call goes through as a probe, and a 429 closes the key again. So a hostile or broken header (a
     * day's `Retry-After`, a token a day) cannot stop a key for days, as the gate's `maxClosed` and the
     * breaker's `maxRetryAfter` ensure. A duration > 0. Defaults to `"1 minute"`
     * (`Backoff.defaultMaxRetryAfter`).
     */
    readonly maxClosed?: Duration.DurationInput | undefined
  }

  /**
   * What a limiter has learned for one key.
   *
   * @since 0.1.0
   * @category models
   */
  export interface Snapshot {
    /** Whether a quota header or a throttle has been seen (false: still in slow start). */
    readonly learned: boolean
    /** Requests per second calls are paced at; none while only the concurrency window bounds them. */
    readonly rate: Option.Option<number>
    /** Units (tokens) per second calls are paced at; none until a token header was seen. */
    readonly unitRate: Option.Option<number>
    /** The concurrency window. */
    readonly concurrency: number
    /** Calls admitted and still running. */
    readonly inFlight: number
    /** Callers queued. */
    readonly waiting: number
    /** Requests left, as the last quota header said. */
    readonly remaining: Option.Option<number>
    /** Units left, as the last token header said. */
    readonly remainingUnits: Option.Option<number>
    /** How long calls are held (Retry-After, `remaining: 0` until the reset); none when they are not. */
    readonly closedFor: Option.Option<Duration.Duration>
  }
}

/**
 * Builds an adaptive limiter. Fails with `InvalidOptions` naming the option when the options cannot
 * work. Its timers live in the `Scope`. What it learns is kept in the {@link AdaptiveStore} when one
 * is provided, else in memory of its own.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as RateLimit from "effect-resilience/RateLimit"
 *
 * const perModel = RateLimit.adaptive({ name: "openai", key: (model: string) => model, initialConcurrency: 2 })
 * const program = Effect.scoped(
 *   Effect.flatMap(perModel, (limiter) => Effect.succeed("ok").pipe(RateLimit.protect(limiter, "gpt-x")))
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const adaptive: <Args = void>(
  options: Adaptive.Options<Args>
) => Effect.Effect<Adaptive<Args>, InvalidOptions, Scope.Scope> = adaptiveInternal.make

/**
 * An adaptive limiter as the service of the user's own tag.
 *
 * @example
 * ```ts
 * import { Context } from "effect"
 * import * as RateLimit from "effect-resilience/RateLimit"
 *
 * class LlmLimit extends Context.Tag("app/LlmLimit")<LlmLimit, RateLimit.Adaptive>() {}
 * const LlmLimitLive = RateLimit.layerAdaptive(LlmLimit, { name: "llm", key: "org-1" })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerAdaptive: <I, Args = void>(
  tag: Context.Tag<I, Adaptive<Args>>,
  options: Adaptive.Options<NoInfer<Args>>
) => Layer.Layer<I, InvalidOptions> = adaptiveInternal.layer

/**
 * Where adaptive limiters keep what they learned per key, so limiters sharing a store (replicas,
 * with a shared implementation) pace from the same knowledge. Each limiter writes after a change and
 * re-reads a key at most once a second; the newer entry wins. The concurrency window stays each
 * process's own.
 *
 * @since 0.1.0
 * @category models
 */
export interface AdaptiveStore {
  readonly get: (key: string) => Effect.Effect<Option.Option<AdaptiveStore.Learned>, AdaptiveStoreError>
  readonly set: (key: string, learned: AdaptiveStore.Learned) => Effect.Effect<void, AdaptiveStoreError>
}

/**
 * @since 0.1.0
 */
export declare namespace AdaptiveStore {
  /**
   * What a limiter learned for a key; plain numbers, so a store can serialise it as JSON.
   *
   * @since 0.1.0
   * @category models
   */
  export interface Learned {
    /** Requests per second from quota headers. */
    readonly ceiling: number | null
    /** Units per second from quota headers. */
    readonly unitCeiling: number | null
    /** The CUBIC estimator's state since the last throttle (epoch millis, per second rates). */
    readonly cubic: {
      readonly wMax: number
      readonly k: number
      readonly since: number
      readonly rate: number
    } | null
    /** Epoch millis before which no call starts. */
    readonly notBefore: number
    readonly concurrency: number
    readonly learned: boolean
    /** Epoch millis of the last decrease. */
    readonly decreasedAt: number
    /** Epoch millis of the last change: the newer entry wins. */
    readonly updatedAt: number
  }
}

/**
 * The tag of the {@link AdaptiveStore}. Optional: without it, each adaptive limiter keeps its own
 * memory.
 *
 * @since 0.1.0
 * @category models
 */
export const AdaptiveStore: Context.Tag<AdaptiveStore, AdaptiveStore> = adaptiveStore.AdaptiveStore

/**
 * An adaptive store operation failed. Limiters go on with what they know locally.
 *
 * @since 0.1.0
 * @category errors
 */
export const AdaptiveStoreError: new(
  args: { readonly operation: string; readonly cause: unknown }
) => AdaptiveStoreError = adaptiveStore.AdaptiveStoreError

/**
 * @since 0.1.0
 * @category errors
 */
export interface AdaptiveStoreError {
  readonly _tag: "AdaptiveStoreError"
  readonly operation: string
  readonly cause: unknown
  readonly message: string
}

/**
 * An in-memory {@link AdaptiveStore} shared by the adaptive limiters of one process that are built
 * with it (two limiters of the same name and key then learn together). Entries untouched for an hour
 * are forgotten as writes go by.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as RateLimit from "effect-resilience/RateLimit"
 *
 * const program = Effect.scoped(RateLimit.adaptive({ name: "x", key: "x" })).pipe(
 *   Effect.provide(RateLimit.layerAdaptiveMemory)
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerAdaptiveMemory: Layer.Layer<AdaptiveStore> = adaptiveStore.layerAdaptiveMemory

/**
 * How a response's headers are passed: lower-cased names, as platform's `Headers` keeps them.
 *
 * @since 0.1.0
 * @category models
 */
export type HeaderLookup = Readonly<Record<string, string | ReadonlyArray<string> | undefined>>

/**
 * Tells the adaptive limiter around the current call what the provider answered (its status and
 * headers). Outside an adaptive limiter it does nothing. `HttpProvider` calls it for every answer;
 * call it yourself when you call a provider through another client.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as RateLimit from "effect-resilience/RateLimit"
 *
 * declare const send: Effect.Effect<{ status: number; headers: Record<string, string> }>
 * const call = Effect.tap(send, (response) => RateLimit.observe(response))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const observe: (response: { readonly status: number; readonly headers: HeaderLookup }) => Effect.Effect<void> =
  adaptiveSink.observe

/**
 * Gives a call its weight in units (LLM tokens, API points) before it takes its permit. Applied
 * outside `protect` the units are reserved up front; applied inside, the permit was taken with the
 * default (one unit) and the difference is settled as the call starts. Throws `InvalidOptions` when
 * `units` is not a finite number >= 0.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as RateLimit from "effect-resilience/RateLimit"
 *
 * declare const limiter: RateLimit.Adaptive
 * const completion = Effect.succeed("text").pipe(
 *   RateLimit.withCost(1200), // prompt tokens + max_tokens, as OpenAI counts up front
 *   RateLimit.protect(limiter)
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const withCost: {
  (units: number): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, units: number): Effect.Effect<A, E, R>
} = adaptiveSink.withCost

/**
 * Tells the adaptive limiter around the current call what the call actually cost (the `usage` an
 * LLM response reports); the difference to what was reserved is debited or given back. Outside an
 * adaptive limiter it does nothing; a value that is not a finite number >= 0 is ignored.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as RateLimit from "effect-resilience/RateLimit"
 *
 * declare const complete: Effect.Effect<{ usage: { total_tokens: number } }>
 * const call = Effect.tap(complete, (r) => RateLimit.reportUsage(r.usage.total_tokens))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const reportUsage: (units: number) => Effect.Effect<void> = adaptiveSink.reportUsage

/**
 * Whether `u` is an adaptive limiter built by {@link adaptive}.
 *
 * @example
 * ```ts
 * import * as RateLimit from "effect-resilience/RateLimit"
 *
 * RateLimit.isAdaptive({}) // false
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isAdaptive: (u: unknown) => u is Adaptive<unknown> = adaptiveInternal.isAdaptive
