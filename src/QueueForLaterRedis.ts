/**
 * The Redis store of `QueueForLater`: queued writes that survive a restart and a worker killed
 * mid-write, and dead letters every replica can list and replay.
 *
 * `layerStore` provides a `PersistedQueue.PersistedQueueStore` (the interface of `@effect/experimental`'s
 * `PersistedQueue`, whose `PersistedQueue` runs on top of it; keys under `<prefix>queue:<length of name>:<name>`) and
 * a `QueueForLater.DeadLetterStore` (one hash per queue, `<prefix>dead:<name>`). A taken item is
 * leased to its worker for `lockExpiration`, a lease the worker renews every `lockRefreshInterval`
 * while it writes; if the worker's process dies, the lease runs out on Redis's clock and the next take
 * by any worker puts the item back first. So a killed worker's item is delivered again after at most
 * `lockExpiration` plus `pollInterval`, with its idempotency key, and that lease counts as an attempt:
 * an item whose write kills every worker is dead-lettered after `maxAttempts`. A worker that lost its lease (paused
 * longer than `lockExpiration`) cannot remove or duplicate the item when it finishes. The ids that make
 * a key one item are a sorted set on Redis's clock: kept while their item is queued or taken, then for
 * the queue's `rememberIds`, and pruned by the script that offers.
 *
 * Not experimental's `PersistedQueue/Redis` store: its lock recovery iterates `HGETALL` as if it
 * returned pairs (Lua gets a flat list), so on every refresh it puts each taken item back on the
 * queue, locked or not, and pushes the bare id as an element; the next take of that element fails to
 * decode it in Lua and loses the batch it popped. In two runs with one worker killed mid-write, the
 * queue still held 5 and 3 elements after the item was delivered (copies of it and its bare id). Its give-up script is
 * declared with two keys and called with three, so an item that exhausts its attempts stays locked
 * instead of moving to its failed list. docs/QueueForLater.md has the details.
 *
 * **Redis down.** Every command is bounded by `timeout`. `submit` then answers with the write's own
 * error (nothing is accepted that is not stored); a worker logs and tries again a second later; an
 * item it cannot settle is delivered again when its lease runs out.
 *
 * This is its own entry point so that `effect-resilience` does not load `ioredis`.
 *
 * @since 0.1.0
 */
import type * as PersistedQueue from "@effect/experimental/PersistedQueue"
import type * as Duration from "effect/Duration"
import type * as Layer from "effect/Layer"
import type { InvalidOptions } from "./Errors.js"
import type { ConnectionOptions } from "./internal/redisClient.js"
import * as internal from "./internal/queueForLater/redis.js"
import type * as QueueForLater from "./QueueForLater.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options extends ConnectionOptions {
  /** Prefix of every key. Defaults to `"resilience:"`. */
  readonly prefix?: string | undefined
  /** How often an idle worker asks Redis for items. Defaults to `"1 seconds"`. */
  readonly pollInterval?: Duration.DurationInput | undefined
  /** How long a taken item stays locked to a worker that stopped renewing it. Defaults to `"30 seconds"`. */
  readonly lockExpiration?: Duration.DurationInput | undefined
  /** How often a worker renews its locks (and looks for expired ones). Defaults to a third of `lockExpiration`. */
  readonly lockRefreshInterval?: Duration.DurationInput | undefined
}

/**
 * A Redis queue and Redis dead letters for `QueueForLater`.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { QueueForLater } from "effect-resilience"
 * import * as QueueForLaterRedis from "effect-resilience/QueueForLaterRedis"
 *
 * const program = Effect.gen(function*() {
 *   const webhooks = yield* QueueForLater.make({
 *     name: "webhooks",
 *     schema: Schema.String,
 *     write: (url, _idempotencyKey) => Effect.succeed(url)
 *   })
 *   yield* Effect.forkScoped(webhooks.worker)
 *   return yield* webhooks.submit("https://example.com/hook", "evt-1")
 * }).pipe(Effect.scoped, Effect.provide(QueueForLaterRedis.layerStore({ url: "redis://127.0.0.1:6379" })))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStore: (
  options?: Options
) => Layer.Layer<PersistedQueue.PersistedQueueStore | QueueForLater.DeadLetterStore, InvalidOptions> =
  internal.layerStore
