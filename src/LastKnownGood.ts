/**
 * Last-known-good: remember the last success per key and serve it, marked stale with its age, when a
 * later call fails transiently or is rejected by a guard.
 *
 * Why: for a read (a price list, a user's plan, feature flags) an answer a few minutes old is usually
 * better than an error while a provider is down. What makes it safe is that the caller can tell:
 * `serve` turns `Effect<A, E, R>` into `Effect<Result<A>, E, R>`, where a `Result` is
 * `Fresh { value }` or `Stale { value, age }`, so code that must not act on old data (charging,
 * authorising) sees the difference in the type, not in a log.
 *
 * How it behaves:
 * - A success is stored under its key (encoded with the `schema`, with the time on `Clock`) and
 *   returned as `Fresh`.
 * - A failure that `serveOn` accepts (by default `Transient | Rejected`: `RateLimited`, `Unavailable`,
 *   `Timeout`, `CircuitOpen`, `BulkheadFull`) is answered with the stored value as `Stale` when one is
 *   at most `maxStale` old. Past `maxStale`, with nothing stored, or for any other error (a
 *   `ClientError` is the provider's real answer and is never hidden) the original error comes
 *   through, typed: `E` is unchanged.
 * - Bounded: in memory at most `maxKeys` keys, least recently used first out, and nothing outlives
 *   `maxStale`; on Redis every key expires after `maxStale`.
 * - The store never fails a call: a store that cannot be read or written (Redis down) is logged once
 *   per outage; meanwhile fresh answers are served and failures pass through as if nothing was stored.
 *
 * Storage: in memory by default. `make` uses the `@effect/experimental` `Persistence.BackingPersistence`
 * in context when there is one: `LastKnownGoodRedis.layerStore` (a Redis backing with bounded
 * commands), or any of experimental's own backings (`KeyValueStore`, LMDB). Each cache stores under
 * `lastKnownGood:<length of name>:<name>`.
 *
 * Where it goes in a policy: outside of it, like any fallback: `call.pipe(policy, cache.serve(key))`,
 * so that the retries have run before a stale value is served.
 *
 * Observability: the counter `resilience_lastknowngood_answers_total`, tagged `cache` and `result`
 * (`fresh`, `stale`, `failed`); one warning when the store becomes unreachable, one info line when it
 * answers again.
 *
 * @since 0.1.0
 */
import type * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type { Effect } from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type * as Schema from "effect/Schema"
import type { Scope } from "effect/Scope"
import type { InvalidOptions } from "./Errors.js"
import type * as Fallback from "./Fallback.js"
import * as internal from "./internal/lastKnownGood.js"

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
 * The call answered: its own value, now remembered. The same shape as `Fallback.Fresh`, so one
 * `Match.valueTags` or `_tag` check reads both.
 *
 * @since 0.1.0
 * @category models
 */
export type Fresh<A> = Fallback.Fresh<A>

/**
 * The call failed and the last good value was served instead; `age` is how long ago it was stored.
 *
 * @since 0.1.0
 * @category models
 */
export interface Stale<A> {
  readonly _tag: "Stale"
  readonly value: A
  readonly age: Duration.Duration
}

/**
 * What `serve` returns: a fresh answer or a stale one, told apart by `_tag`.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import type { LastKnownGood } from "effect-resilience"
 *
 * const describe = (result: LastKnownGood.Result<number>): string =>
 *   result._tag === "Fresh"
 *     ? `price ${result.value}`
 *     : `price ${result.value} (as of ${Duration.format(result.age)} ago)`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Result<A> = Fresh<A> | Stale<A>

/**
 * A last-known-good cache for values of type `A`.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Errors, LastKnownGood } from "effect-resilience"
 *
 * const fetchPrice = (sku: string): Effect.Effect<number, Errors.Unavailable> => Effect.succeed(sku.length)
 *
 * const program = Effect.gen(function*() {
 *   const prices = yield* LastKnownGood.make({ name: "prices", schema: Schema.Number, maxStale: "10 minutes" })
 *   // Effect<LastKnownGood.Result<number>, Errors.Unavailable>
 *   return yield* fetchPrice("sku-1").pipe(prices.serve("sku-1"))
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface LastKnownGood<A> {
  readonly [TypeId]: TypeId
  readonly name: string
  readonly maxStale: Duration.Duration
  /** Runs the effect, remembers a success under `key`, and serves the stored value on a failure `serveOn` accepts; dual. */
  readonly serve: {
    (key: string): <E, R>(self: Effect<A, E, R>) => Effect<Result<A>, E, R>
    <E, R>(self: Effect<A, E, R>, key: string): Effect<Result<A>, E, R>
  }
  /** The value stored under `key`, if one is at most `maxStale` old (a store error reads as none). */
  readonly get: (key: string) => Effect<Option.Option<Stale<A>>>
  /** Stores `value` under `key` now, as a success would (to warm the cache; a store error is logged). */
  readonly remember: (key: string, value: A) => Effect<void>
}

/**
 * @since 0.1.0
 */
export declare namespace LastKnownGood {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Options<A, I> {
    /** Names the cache in logs and in the store's keys (`lastKnownGood:<length of name>:<name>`). */
    readonly name: string
    /** Encodes the value for the store and decodes it back; a stored value it cannot read counts as none. */
    readonly schema: Schema.Schema<A, I>
    /** The oldest value served; older ones are never served, and stores drop them. */
    readonly maxStale: Duration.DurationInput
    /** Keys kept by the in-memory store, least recently used out first. Defaults to `10000`. */
    readonly maxKeys?: number | undefined
    /**
     * Which failures are answered from the cache. Defaults to `Errors.isTransient` or
     * `Errors.isRejected` (`RateLimited`, `Unavailable`, `Timeout`, `CircuitOpen`, `BulkheadFull`).
     */
    readonly serveOn?: ((error: unknown) => boolean) | undefined
  }
}

/**
 * Builds a cache. It uses the `Persistence.BackingPersistence` in context if there is one, else memory.
 * Bad options fail with `InvalidOptions`.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import { LastKnownGood } from "effect-resilience"
 *
 * const Plan = Schema.Struct({ tier: Schema.String, seats: Schema.Number })
 * const program = LastKnownGood.make({ name: "plans", schema: Plan, maxStale: "1 hour", maxKeys: 50_000 })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: <A, I>(options: LastKnownGood.Options<A, I>) => Effect<LastKnownGood<A>, InvalidOptions, Scope> =
  internal.make

/**
 * A layer for your own tag, so the cache is shared by every caller that reads the tag.
 *
 * @example
 * ```ts
 * import { Context, Schema } from "effect"
 * import { LastKnownGood } from "effect-resilience"
 *
 * class Prices extends Context.Tag("app/Prices")<Prices, LastKnownGood.LastKnownGood<number>>() {}
 * const PricesLive = LastKnownGood.layer(Prices, { name: "prices", schema: Schema.Number, maxStale: "10 minutes" })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: <Id, A, I>(
  tag: Context.Tag<Id, LastKnownGood<A>>,
  options: LastKnownGood.Options<A, I>
) => Layer.Layer<Id, InvalidOptions> = internal.layer

/**
 * `cache.serve(key)` as a function of the cache; dual.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Errors, LastKnownGood } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const rates = yield* LastKnownGood.make({ name: "fx", schema: Schema.Number, maxStale: "1 hour" })
 *   const result = yield* Effect.fail(new Errors.Unavailable({ provider: "fx", reason: "connection-refused" })).pipe(
 *     Effect.as(1.08),
 *     LastKnownGood.serve(rates, "EURUSD"),
 *     Effect.either
 *   )
 *   return result // Left(Unavailable): nothing was stored yet
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const serve: {
  <A>(cache: LastKnownGood<A>, key: string): <E, R>(self: Effect<A, E, R>) => Effect<Result<A>, E, R>
  <A, E, R>(self: Effect<A, E, R>, cache: LastKnownGood<A>, key: string): Effect<Result<A>, E, R>
} = internal.serve

/**
 * Builds a `Fresh` result.
 *
 * @example
 * ```ts
 * import { LastKnownGood } from "effect-resilience"
 *
 * const result: LastKnownGood.Result<number> = LastKnownGood.fresh(42) // { _tag: "Fresh", value: 42 }
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fresh: <A>(value: A) => Fresh<A> = internal.fresh

/**
 * Builds a `Stale` result.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { LastKnownGood } from "effect-resilience"
 *
 * // a scripted answer in a test: the value as it was 90 seconds ago
 * const result: LastKnownGood.Result<number> = LastKnownGood.stale(42, Duration.seconds(90))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const stale: <A>(value: A, age: Duration.Duration) => Stale<A> = internal.stale

/**
 * Whether a result was served from the cache.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { LastKnownGood } from "effect-resilience"
 *
 * LastKnownGood.isStale(LastKnownGood.stale(42, Duration.seconds(30))) // true
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isStale: <A>(result: Result<A>) => result is Stale<A> = internal.isStale

/**
 * Whether a value is a `LastKnownGood` cache.
 *
 * @example
 * ```ts
 * import { LastKnownGood } from "effect-resilience"
 *
 * LastKnownGood.isLastKnownGood({ name: "prices" }) // false
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isLastKnownGood: (u: unknown) => u is LastKnownGood<unknown> = internal.isLastKnownGood
