/**
 * Redis stores for `RateLimit`: one quota and one not-before gate shared by every replica.
 *
 * A provider's quota belongs to its API key, so replicas that count alone each believe they have
 * the whole quota. `layerStore` is a `RateLimiterStore` (the interface of `@effect/experimental`'s
 * `RateLimiter`) whose fixed window and token bucket are Lua scripts that count exactly as the
 * in-memory store does, on the callers' clock (`Clock`, so keep replicas on NTP: a skew of d ms moves
 * a refill by at most d ms); each key expires on Redis's clock a minute after it comes to rest on
 * the callers', so per-tenant keys do not pile up (clocks more than a minute apart from Redis's could
 * see a key expire early, and count it afresh). `layerGate` keeps each closed gate as a Redis key whose TTL is the time left, read on
 * Redis's clock, so replicas with skewed clocks agree on when it reopens.
 *
 * Not the experimental Redis store: its client cannot be closed while Redis is down (it goes on
 * reconnecting for ever), prints ioredis's "Unhandled error event" on every failed reconnection,
 * rounds a refill rate to whole milliseconds (a limit above the window in milliseconds counted a
 * window twice or more too long) and never expires a token bucket.
 *
 * **Redis down.** Never a crash, never a hang: every command (queued ones too) is bounded by
 * `timeout`, connecting by `connectTimeout`, and a command fails at the first failed reconnection
 * instead of after ioredis's default 20. Reconnection goes on in the background. What a limiter or a
 * gate then does is its `onStoreError` option: `"allow"` (the default) lets calls through with one
 * warning per outage, `"reject"` refuses them.
 *
 * This is its own entry point so that `effect-resilience/RateLimit` does not load `ioredis`.
 *
 * @since 0.1.0
 */
import type * as RateLimiter from "@effect/experimental/RateLimiter"
import type * as Layer from "effect/Layer"
import type { InvalidOptions } from "./Errors.js"
import type { ConnectionOptions } from "./internal/redisClient.js"
import * as adaptiveRedis from "./internal/rateLimit/adaptiveRedis.js"
import * as internal from "./internal/rateLimitRedis.js"
import type * as RateLimit from "./RateLimit.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options extends ConnectionOptions {
  /**
   * Prefix of every key; limiter and gate names follow it, so apps sharing a Redis need different
   * prefixes only when they reuse names. Defaults to `"resilience:ratelimit:"`.
   */
  readonly prefix?: string | undefined
}

/**
 * The shared quota store: a Redis `RateLimiterStore` with bounded commands, one connection, closed
 * with the layer's scope whatever state Redis is in.
 * Fails with `InvalidOptions` for a bad URL or timeout.
 *
 * The connection lives as long as the layer: provide it where the limiter is used, not only where it is
 * built (`RateLimit.make(...).pipe(Effect.provide(layerStore(...)))` closes the connection as soon as
 * the limiter exists, and every call then meets a closed store).
 *
 * @example
 * ```ts
 * import { Context, Effect, Layer, Redacted } from "effect"
 * import * as RateLimit from "effect-resilience/RateLimit"
 * import * as RateLimitRedis from "effect-resilience/RateLimitRedis"
 *
 * class StripeQuota extends Context.Tag("app/StripeQuota")<StripeQuota, RateLimit.RateLimit>() {}
 *
 * const StripeQuotaLive = RateLimit.layer(StripeQuota, { name: "stripe", key: "acct_1", limit: 100, window: "1 second" }).pipe(
 *   Layer.provide(RateLimitRedis.layerStore({ url: Redacted.make("redis://:secret@redis:6379/0") }))
 * )
 *
 * declare const charge: Effect.Effect<string>
 * const program = charge.pipe(RateLimit.protect(StripeQuota), Effect.provide(StripeQuotaLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStore: (options?: Options) => Layer.Layer<RateLimiter.RateLimiterStore, InvalidOptions> =
  internal.layerStore

/**
 * The shared gate store: a closed gate is a Redis key with a TTL.
 *
 * @example
 * ```ts
 * import { Context, Effect, Layer } from "effect"
 * import * as RateLimit from "effect-resilience/RateLimit"
 * import * as RateLimitRedis from "effect-resilience/RateLimitRedis"
 *
 * class StripeGate extends Context.Tag("app/StripeGate")<StripeGate, RateLimit.Gate>() {}
 *
 * // the gate and its connection live as long as this layer
 * const StripeGateLive = RateLimit.layerGate(StripeGate, { name: "stripe", key: "acct_1" }).pipe(
 *   Layer.provide(RateLimitRedis.layerGate({ url: "redis://127.0.0.1:6379" }))
 * )
 *
 * declare const charge: Effect.Effect<string>
 * const program = charge.pipe(RateLimit.protect(StripeGate), Effect.provide(StripeGateLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerGate: (options?: Options) => Layer.Layer<RateLimit.GateStore, InvalidOptions> = internal.layerGate

/**
 * Both stores, over one connection.
 *
 * @example
 * ```ts
 * import * as RateLimitRedis from "effect-resilience/RateLimitRedis"
 *
 * const stores = RateLimitRedis.layer({ url: "redis://127.0.0.1:6379", prefix: "app:" })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (
  options?: Options
) => Layer.Layer<RateLimiter.RateLimiterStore | RateLimit.GateStore, InvalidOptions> = internal.layer

/**
 * The adaptive limiters' store in Redis: limiters of several processes built with it share what they
 * learned per key (rates, the CUBIC state, reopening times); each keeps its own concurrency window.
 * An entry is written only when newer than the stored one, and expires an hour after its last write.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as RateLimit from "effect-resilience/RateLimit"
 * import * as RateLimitRedis from "effect-resilience/RateLimitRedis"
 *
 * declare const complete: Effect.Effect<string>
 *
 * // the limiter is built and used inside the store's layer, so its connection stays open
 * const program = Effect.gen(function*() {
 *   const limiter = yield* RateLimit.adaptive({ name: "llm", key: "org-1" })
 *   return yield* complete.pipe(limiter.protect)
 * }).pipe(Effect.scoped, Effect.provide(RateLimitRedis.layerAdaptive({ url: "redis://127.0.0.1:6379" })))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerAdaptive: (options?: Options) => Layer.Layer<RateLimit.AdaptiveStore, InvalidOptions> =
  adaptiveRedis.layerAdaptive
