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
 * Runs an effect through a limiter or a gate (or the tag of one, which then joins `R`). `E` gains
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
    guard: RateLimit<Args> | Gate<Args>,
    ...args: KeyArgs<Args>
  ): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | RateLimited, R>
  <I, Args>(
    tag: Context.Tag<I, RateLimit<Args>> | Context.Tag<I, Gate<Args>>,
    ...args: KeyArgs<Args>
  ): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | RateLimited, R | I>
  <A, E, R, Args>(
    self: Effect.Effect<A, E, R>,
    guard: RateLimit<Args> | Gate<Args>,
    ...args: KeyArgs<Args>
  ): Effect.Effect<A, E | RateLimited, R>
  <A, E, R, I, Args>(
    self: Effect.Effect<A, E, R>,
    tag: Context.Tag<I, RateLimit<Args>> | Context.Tag<I, Gate<Args>>,
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
