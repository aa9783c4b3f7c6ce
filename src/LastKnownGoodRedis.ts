/**
 * The Redis store of `LastKnownGood`: last good values that survive a restart and are shared by every
 * replica.
 *
 * `layerStore` is an `@effect/experimental` `Persistence.BackingPersistence` (the interface of
 * experimental's persistence layers) over a client of its own. Provide it to `LastKnownGood.make` or
 * `LastKnownGood.layer`; each cache keeps its values under `<prefix>lastKnownGood:<length of name>:<name>:<key>`
 * (JSON of the schema's encoded value and the time it was stored), each expiring on Redis a second
 * after `maxStale`, so per-key values never pile up.
 *
 * Not experimental's `Persistence/Redis` layer: its client has no error listener (with Redis down,
 * ioredis printed `[ioredis] Unhandled error event` 20 times in 10 seconds) and its commands are not
 * bounded (a `get` had not answered after 6 seconds, where this one fails within `timeout`, 500 ms by
 * default). Its `clear` uses `KEYS`, which blocks Redis; this one pages with `SCAN`.
 *
 * **Redis down.** Never a failed call, never a hang: a write that fails is logged once per outage and
 * the fresh answer is returned; a read that fails counts as "nothing stored", so the caller gets the
 * original error, as without a cache.
 *
 * This is its own entry point so that `effect-resilience` does not load `ioredis`.
 *
 * @since 0.1.0
 */
import type * as Persistence from "@effect/experimental/Persistence"
import type * as Layer from "effect/Layer"
import type { InvalidOptions } from "./Errors.js"
import type { ConnectionOptions } from "./internal/redisClient.js"
import * as internal from "./internal/lastKnownGood/redisStore.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options extends ConnectionOptions {
  /** Prefix of every key. Defaults to `"resilience:"`. */
  readonly prefix?: string | undefined
}

/**
 * A `Persistence.BackingPersistence` on Redis, for `LastKnownGood`.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { LastKnownGood } from "effect-resilience"
 * import * as LastKnownGoodRedis from "effect-resilience/LastKnownGoodRedis"
 *
 * const program = Effect.gen(function*() {
 *   const prices = yield* LastKnownGood.make({ name: "prices", schema: Schema.Number, maxStale: "10 minutes" })
 *   return yield* Effect.succeed(12.5).pipe(prices.serve("sku-1"))
 * }).pipe(Effect.scoped, Effect.provide(LastKnownGoodRedis.layerStore({ url: "redis://127.0.0.1:6379" })))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStore: (options?: Options) => Layer.Layer<Persistence.BackingPersistence, InvalidOptions> =
  internal.layerStore
