/**
 * Queue for later: a write to a provider that is down (a payment, a webhook, an order) goes on a
 * durable queue with its idempotency key, the caller gets "accepted, pending", and a worker delivers
 * it when the provider is back.
 *
 * Why: for many writes "not now" is an acceptable answer and "lost" is not. The caller's
 * `Effect<B, E, R>` becomes `Effect<Result<B>, E, R>`, where a `Result` is `Done { value }` (the
 * write went through) or `Pending { id, idempotencyKey }` (it is on the queue), so code that must know
 * (showing "payment confirmed") sees the difference in the type.
 *
 * How it behaves:
 * - `submit(value, idempotencyKey)` runs `write(value, idempotencyKey)`. A success is `Done`. A failure
 *   `queueOn` accepts (by default `Transient | Rejected`) puts the item on the queue, Schema-encoded,
 *   and answers `Pending`. Any other error (a `ClientError` is the provider's real answer) and a
 *   queue that is down give the caller the write's own error: `E` is unchanged, and nothing is
 *   "accepted" that is not on the queue.
 * - The queue's id is the idempotency key: the same key enqueued twice is one item, one delivery.
 *   A key stays a duplicate while its item is queued, being written or a dead letter, and for
 *   `rememberIds` (default 7 days) after it is delivered; after that it is a new item. The worker
 *   passes the key to `write`, so a provider that honours idempotency keys (see `HttpProvider`'s
 *   `idempotencyKey`) applies a write once even when it is delivered twice.
 * - `worker` takes items (`concurrency` at a time) and writes them through `write` (put your
 *   `Policy` inside it). An item that fails with an error `queueOn` accepts goes back on the queue and
 *   is tried again after `retryDelay`, doubling up to `maxRetryDelay`, or as soon as any write (the
 *   worker's or a caller's) gets an answer, so the queue drains at once when the provider is back;
 *   after `maxAttempts` attempts, or at once for any other error, it goes to the dead letters, with
 *   its last error. A worker waits out an item's delay holding it: `concurrency` is also how many
 *   items wait at once.
 * - `deadLetters` lists them; `replay(id)` puts one back on the queue (with the same idempotency key,
 *   under the same id).
 * - Nothing is lost when a worker is interrupted (the item goes back on the queue, the attempt is
 *   not counted) or its process dies while writing: on Redis the item stays locked to its worker
 *   until the lock expires, then another worker takes it, counting that attempt (so a write that
 *   kills its process every time goes to the dead letters after `maxAttempts`). Delivery is at least
 *   once; the idempotency key makes it once at the provider.
 *
 * Storage: built on `@effect/experimental`'s `PersistedQueue` (its `make`, `offer`, `take` and
 * `PersistedQueueStore` interface), in memory by default; `make` uses the `PersistedQueueStore` and
 * `DeadLetterStore` in context when there are some (`QueueForLaterRedis.layerStore`, or
 * `layerStoreMemory` to share one in-memory queue). The stores are our own: experimental's memory
 * store kills every worker when two take at once, and its Redis store puts taken items back on the
 * queue while their worker still writes them. PersistedQueue has no dead letters one can list or
 * replay, so the worker never lets it give up and keeps its own (docs/QueueForLater.md has the
 * evidence).
 *
 * Observability: the counter `resilience_queue_items_total`, tagged `queue` and `event` (`queued`,
 * `delivered`, `retried`, `dead-lettered`, `replayed`); a warning per dead letter, and one when the
 * store becomes unreachable (one info line when it answers again).
 *
 * Limits: the stores remember the id of every item delivered in the last `rememberIds` (in memory,
 * or a Redis sorted set), so that bound is also what the queue costs when idle: a key queued again
 * after it is a second delivery, which the provider dedupes only if it still remembers the key. A store
 * of your own in context keeps ids as it does. The in-memory store lives in its process: a process
 * that dies takes its queue with it.
 *
 * @since 0.1.0
 */
import type * as PersistedQueue from "@effect/experimental/PersistedQueue"
import type * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type { Effect } from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Option from "effect/Option"
import type * as Schema from "effect/Schema"
import type { InvalidOptions } from "./Errors.js"
import * as internal from "./internal/queueForLater.js"
import * as deadLetterStore from "./internal/queueForLater/deadLetterStore.js"
import * as errors from "./internal/queueForLater/errors.js"

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
 * The write went through now.
 *
 * @since 0.1.0
 * @category models
 */
export interface Done<B> {
  readonly _tag: "Done"
  readonly value: B
}

/**
 * The write failed and is on the queue: accepted, pending. `id` names it in the queue and in the dead
 * letters; it is the idempotency key, for a replayed dead letter too. A replay gets a new id,
 * `<key>#replay-<time>`, only on a store of your own (which may remember ids for ever), or when it comes
 * before the worker that dead-lettered the item has let go of it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Pending {
  readonly _tag: "Pending"
  readonly id: string
  readonly idempotencyKey: string
}

/**
 * What `submit` returns, told apart by `_tag`.
 *
 * @example
 * ```ts
 * import type { QueueForLater } from "effect-resilience"
 *
 * const answer = (result: QueueForLater.Result<{ readonly chargeId: string }>): string =>
 *   result._tag === "Done" ? `charged: ${result.value.chargeId}` : `accepted, pending (${result.idempotencyKey})`
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export type Result<B> = Done<B> | Pending

/**
 * An item that exhausted its attempts, or failed with an error that is not retried. `value` is the
 * item decoded by the queue's schema (`None` if the schema no longer reads it), `encoded` as stored.
 *
 * @since 0.1.0
 * @category models
 */
export interface DeadLetter<A> {
  readonly id: string
  readonly idempotencyKey: string
  readonly value: Option.Option<A>
  readonly encoded: unknown
  readonly attempts: number
  /** The last failure, as its tag and message. */
  readonly error: string
  /** When it was dead-lettered, epoch milliseconds on `Clock`. */
  readonly failedAt: number
}

/**
 * @since 0.1.0
 */
export declare namespace DeadLetter {
  /**
   * A dead letter as stored.
   *
   * @since 0.1.0
   * @category models
   */
  export interface Encoded {
    readonly id: string
    readonly idempotencyKey: string
    readonly value: unknown
    readonly attempts: number
    readonly error: string
    readonly failedAt: number
  }
}

/**
 * Where dead letters are kept, per queue name, as stored. `make` uses the one in context (Redis, from
 * `QueueForLaterRedis.layerStore`), else memory.
 *
 * @since 0.1.0
 * @category models
 */
export interface DeadLetterStore {
  readonly add: (queue: string, letter: DeadLetter.Encoded) => Effect<void, QueueStoreError>
  readonly list: (queue: string) => Effect<ReadonlyArray<DeadLetter.Encoded>, QueueStoreError>
  readonly get: (queue: string, id: string) => Effect<Option.Option<DeadLetter.Encoded>, QueueStoreError>
  readonly remove: (queue: string, id: string) => Effect<void, QueueStoreError>
}

/**
 * The tag of the dead-letter store.
 *
 * @since 0.1.0
 * @category models
 */
export const DeadLetterStore: Context.Tag<DeadLetterStore, DeadLetterStore> = deadLetterStore.DeadLetterStore

/**
 * The queue's store (Redis) could not be reached.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { QueueForLater } from "effect-resilience"
 *
 * declare const queue: QueueForLater.QueueForLater<string, string, never, never>
 * const stuck = queue.deadLetters.pipe(
 *   Effect.catchTag("QueueStoreError", (e) => Effect.as(Effect.logWarning(e.message), []))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const QueueStoreError: typeof errors.QueueStoreError = errors.QueueStoreError

/**
 * @since 0.1.0
 * @category errors
 */
export type QueueStoreError = errors.QueueStoreError

/**
 * `replay` was given an id that is not among the dead letters.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { QueueForLater } from "effect-resilience"
 *
 * declare const queue: QueueForLater.QueueForLater<string, string, never, never>
 * const replayed = queue.replay("order-o-1").pipe(
 *   Effect.catchTag("DeadLetterNotFound", () => Effect.succeed("already replayed"))
 * )
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const DeadLetterNotFound: typeof errors.DeadLetterNotFound = errors.DeadLetterNotFound

/**
 * @since 0.1.0
 * @category errors
 */
export type DeadLetterNotFound = errors.DeadLetterNotFound

/**
 * A queue for later of values `A`, delivered by a write that answers `B` or fails with `E`.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Errors, QueueForLater } from "effect-resilience"
 *
 * const Charge = Schema.Struct({ orderId: Schema.String, cents: Schema.Int })
 * const charge = (c: typeof Charge.Type, idempotencyKey: string): Effect.Effect<string, Errors.Unavailable> =>
 *   Effect.succeed(`ch_${c.orderId}_${idempotencyKey}`)
 *
 * const program = Effect.gen(function*() {
 *   const charges = yield* QueueForLater.make({ name: "charges", schema: Charge, write: charge })
 *   yield* Effect.forkScoped(charges.worker)
 *   // Effect<QueueForLater.Result<string>, Errors.Unavailable>
 *   return yield* charges.submit({ orderId: "o-1", cents: 1200 }, "order-o-1")
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface QueueForLater<A, B, E, R> {
  readonly [TypeId]: TypeId
  readonly name: string
  /** Writes now, or queues the write when it fails with an error `queueOn` accepts. */
  readonly submit: (value: A, idempotencyKey: string) => Effect<Result<B>, E, R>
  /** Queues a write without trying it first (the breaker is known to be open, say). */
  readonly enqueue: (value: A, idempotencyKey: string) => Effect<Pending, QueueStoreError>
  /** Delivers queued items until interrupted; fork it in a scope, or use `layerWorker`. */
  readonly worker: Effect<never, never, R>
  /** The dead letters, for a person to inspect. */
  readonly deadLetters: Effect<ReadonlyArray<DeadLetter<A>>, QueueStoreError>
  /** Puts a dead letter back on the queue, with its idempotency key, under its id (see `Pending`). */
  readonly replay: (id: string) => Effect<Pending, QueueStoreError | DeadLetterNotFound>
}

/**
 * @since 0.1.0
 */
export declare namespace QueueForLater {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Options<A, I, B, E, R> {
    /** Names the queue in the store, in logs and in errors. */
    readonly name: string
    /** Encodes an item for the queue and decodes it for the worker. */
    readonly schema: Schema.Schema<A, I>
    /** The write, given the item and its idempotency key; put your `Policy` inside it. */
    readonly write: (value: A, idempotencyKey: string) => Effect<B, E, R>
    /**
     * Which failures queue the write (in `submit`) and are retried (by the worker). Defaults to
     * `Errors.isTransient` or `Errors.isRejected`.
     */
    readonly queueOn?: ((error: unknown) => boolean) | undefined
    /** Attempts by the worker before an item is dead-lettered. Defaults to `10`. */
    readonly maxAttempts?: number | undefined
    /** Wait before the worker's second attempt; it doubles with each attempt. Defaults to `"1 seconds"`. */
    readonly retryDelay?: Duration.DurationInput | undefined
    /** Longest wait between attempts. Defaults to `"5 minutes"`. */
    readonly maxRetryDelay?: Duration.DurationInput | undefined
    /** Items the worker writes at once. Defaults to `1`. */
    readonly concurrency?: number | undefined
    /**
     * How long an idempotency key is still a duplicate after its item is delivered: the same key
     * enqueued within it is dropped (the answer is still `Pending`), after it is a new item. A key is a duplicate for as long as its item is queued, being
     * written or waiting out a retry delay, and while it is a dead letter (until replayed). Timed by
     * the store (`Clock` in memory, Redis's `TIME` on Redis); give every instance of a queue the same
     * value. Defaults to `"7 days"`: longer than Stripe keeps idempotency keys (24 hours), so the
     * queue forgets a key no sooner than such a provider does, and long enough for a weekend incident
     * and its replays, at the cost of one id per item delivered in the last week (600,000 at one a
     * second). Set it to your provider's key retention (`"30 days"`) when that is longer.
     */
    readonly rememberIds?: Duration.DurationInput | undefined
  }
}

/**
 * Builds a queue. It uses the `PersistedQueue.PersistedQueueStore` (and Redis dead letters) in context
 * when there are some, else memory. Bad options fail with `InvalidOptions`.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { QueueForLater } from "effect-resilience"
 *
 * const Webhook = Schema.Struct({ url: Schema.String, body: Schema.String })
 * const program = QueueForLater.make({
 *   name: "webhooks",
 *   schema: Webhook,
 *   write: (hook, _idempotencyKey) => Effect.succeed(hook.url),
 *   maxAttempts: 20,
 *   maxRetryDelay: "15 minutes",
 *   // the provider keeps idempotency keys 30 days: so does the queue
 *   rememberIds: "30 days"
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: <A, I, B, E, R>(
  options: QueueForLater.Options<A, I, B, E, R>
) => Effect<QueueForLater<A, B, E, R>, InvalidOptions> = internal.make

/**
 * A layer for your own tag.
 *
 * @example
 * ```ts
 * import { Context, Effect, Layer, Schema } from "effect"
 * import { QueueForLater } from "effect-resilience"
 *
 * class Charges extends Context.Tag("app/Charges")<Charges, QueueForLater.QueueForLater<number, string, never, never>>() {}
 * const ChargesLive = QueueForLater.layer(Charges, {
 *   name: "charges",
 *   schema: Schema.Number,
 *   write: (cents, key) => Effect.succeed(`${key}:${cents}`)
 * })
 * // the queue and its worker, running as long as the layer
 * const ChargesWithWorker = QueueForLater.layerWorker(Charges).pipe(Layer.provideMerge(ChargesLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: <Id, A, I, B, E, R>(
  tag: Context.Tag<Id, QueueForLater<A, B, E, R>>,
  options: QueueForLater.Options<A, I, B, E, R>
) => Layer.Layer<Id, InvalidOptions> = internal.layer

/**
 * Runs the worker of the queue under `tag` for as long as the layer lives.
 *
 * @example
 * ```ts
 * import { Context, Effect, Layer, Schema } from "effect"
 * import { QueueForLater } from "effect-resilience"
 *
 * class Hooks extends Context.Tag("app/Hooks")<Hooks, QueueForLater.QueueForLater<string, string, never, never>>() {}
 * const HooksLive = QueueForLater.layer(Hooks, { name: "hooks", schema: Schema.String, write: (url) => Effect.succeed(url) })
 * // a worker process: the worker alone, on the shared queue
 * const WorkerLive = QueueForLater.layerWorker(Hooks).pipe(Layer.provide(HooksLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerWorker: <Id, A, B, E, R>(
  tag: Context.Tag<Id, QueueForLater<A, B, E, R>>
) => Layer.Layer<never, never, Id | R> = internal.layerWorker

/**
 * An in-memory queue and dead letters shared by every `make` under this layer (each `make` without a
 * store in context has its own). Like experimental's `PersistedQueue.layerStoreMemory`, except that
 * several workers can take at once (experimental's dies with "unsafeHead: empty iterable" when two
 * takers wake for one item).
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { QueueForLater } from "effect-resilience"
 *
 * const queue = QueueForLater.make({ name: "emails", schema: Schema.String, write: (to) => Effect.succeed(to) })
 * // the producer and the worker below share one queue
 * const program = Effect.gen(function*() {
 *   const producer = yield* queue
 *   const worker = yield* queue
 *   yield* Effect.forkScoped(worker.worker)
 *   return yield* producer.enqueue("ada@example.com", "welcome-ada")
 * }).pipe(Effect.scoped, Effect.provide(QueueForLater.layerStoreMemory))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStoreMemory: Layer.Layer<PersistedQueue.PersistedQueueStore | DeadLetterStore> =
  internal.layerStoreMemory

/**
 * Builds a `Done` result.
 *
 * @example
 * ```ts
 * import { QueueForLater } from "effect-resilience"
 *
 * const result: QueueForLater.Result<string> = QueueForLater.done("ch_1") // { _tag: "Done", value: "ch_1" }
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const done: <B>(value: B) => Done<B> = internal.done

/**
 * Builds a `Pending` result.
 *
 * @example
 * ```ts
 * import { QueueForLater } from "effect-resilience"
 *
 * const result: QueueForLater.Result<string> = QueueForLater.pending("order-o-1", "order-o-1")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const pending: (id: string, idempotencyKey: string) => Pending = internal.pending

/**
 * Whether a value is a `QueueForLater`.
 *
 * @example
 * ```ts
 * import { QueueForLater } from "effect-resilience"
 *
 * QueueForLater.isQueueForLater({ name: "charges" }) // false
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isQueueForLater: (u: unknown) => u is QueueForLater<unknown, unknown, unknown, unknown> =
  internal.isQueueForLater
