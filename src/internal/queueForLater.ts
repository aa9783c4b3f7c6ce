import * as PersistedQueue from "@effect/experimental/PersistedQueue"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import { type InvalidOptions, isRejected, isTransient } from "../Errors.js"
import type * as Api from "../QueueForLater.js"
import * as options from "./options.js"
import * as deadLetterStore from "./queueForLater/deadLetterStore.js"
import { DeadLetterNotFound, QueueStoreError } from "./queueForLater/errors.js"
import * as memoryQueueStore from "./queueForLater/memoryQueueStore.js"
import * as retention from "./queueForLater/retention.js"
import * as storeOutage from "./storeOutage.js"

/** @internal */
export const TypeId: Api.TypeId = Symbol.for("effect-resilience/QueueForLater") as Api.TypeId

/** @internal */
export const metrics = {
  items: Metric.counter("resilience_queue_items_total", {
    description: "Items of a queue for later, by event (queued, delivered, retried, dead-lettered, replayed)",
    incremental: true
  })
}

/** @internal */
export const defaults = {
  queueOn: (error: unknown): boolean => isTransient(error) || isRejected(error),
  maxAttempts: 10,
  retryDelay: Duration.seconds(1),
  maxRetryDelay: Duration.minutes(5),
  concurrency: 1,
  rememberIds: retention.defaultRememberIds
} as const

/** @internal */
export const done = <B>(value: B): Api.Done<B> => ({ _tag: "Done", value })

/** @internal */
export const pending = (id: string, idempotencyKey: string): Api.Pending => ({ _tag: "Pending", id, idempotencyKey })

// The queue holds the encoded value and the worker decodes it: an item the schema no longer reads (it
// changed between deploys) is dead-lettered for a person instead of failing to decode for ever.
const Item = Schema.Struct({ idempotencyKey: Schema.String, value: Schema.Unknown })
type Item = typeof Item.Type

// The queue store's own give-up (drop the item in memory, a failed list on Redis) must never run: it
// cannot be listed or replayed. The worker dead-letters by itself.
const queueNeverGivesUp = { maxAttempts: Number.MAX_SAFE_INTEGER } as const

/** The worker hands an item back to the queue (to be retried) by failing with this. */
class HandBack {
  readonly _tag = "HandBack"
}

const describe = (cause: Cause.Cause<unknown>): string =>
  Option.match(Cause.failureOption(cause), {
    onNone: () => Cause.pretty(cause),
    onSome: (e) => {
      const tag = Predicate.hasProperty(e, "_tag") ? `${String(e._tag)}: ` : ""
      return Predicate.hasProperty(e, "message") && typeof e.message === "string" ? `${tag}${e.message}` : String(e)
    }
  })

const storeError = (queue: string, operation: string) => (cause: unknown) =>
  new QueueStoreError({
    queue,
    operation,
    detail: Predicate.hasProperty(cause, "message") ? String(cause.message) : String(cause)
  })

const build = <A, I, B, E, R>(module: string, input: Api.QueueForLater.Options<A, I, B, E, R>) =>
  Effect.gen(function*() {
    const o = yield* options.validated(() => ({
      name: options.nonEmptyString({ module, option: "name" }, input.name),
      write: options.fn({ module, option: "write" }, input.write),
      queueOn: options.orDefault(input.queueOn, defaults.queueOn, (f) => options.fn({ module, option: "queueOn" }, f)),
      maxAttempts: options.orDefault(
        input.maxAttempts,
        defaults.maxAttempts,
        (n) => options.integerAtLeast({ module, option: "maxAttempts" }, n, 1)
      ),
      retryDelay: options.orDefault(
        input.retryDelay,
        defaults.retryDelay,
        (d) => options.nonNegativeDuration({ module, option: "retryDelay" }, d)
      ),
      maxRetryDelay: options.orDefault(
        input.maxRetryDelay,
        defaults.maxRetryDelay,
        (d) => options.nonNegativeDuration({ module, option: "maxRetryDelay" }, d)
      ),
      concurrency: options.orDefault(
        input.concurrency,
        defaults.concurrency,
        (n) => options.integerAtLeast({ module, option: "concurrency" }, n, 1)
      ),
      // Never slept on, so longer than the 24 days a timer may wait.
      rememberIds: options.orDefault(
        input.rememberIds,
        defaults.rememberIds,
        (d) => options.positiveDuration({ module, option: "rememberIds" }, d, Duration.infinity)
      )
    }))
    const { name } = o
    const count = (event: "queued" | "delivered" | "retried" | "dead-lettered" | "replayed") =>
      Metric.increment(Metric.tagged(Metric.tagged(metrics.items, "queue", name), "event", event))
    const queueStore = Option.getOrElse(
      yield* Effect.serviceOption(PersistedQueue.PersistedQueueStore),
      memoryQueueStore.make
    )
    const ids = retention.retentionOf(queueStore)
    if (Option.isSome(ids)) ids.value.rememberIds(name, o.rememberIds)
    const queue = yield* PersistedQueue.make({ name, schema: Item }).pipe(
      Effect.provide(PersistedQueue.layer),
      Effect.provideService(PersistedQueue.PersistedQueueStore, queueStore)
    )
    const dead = Option.getOrElse(yield* Effect.serviceOption(deadLetterStore.DeadLetterStore), deadLetterStore.memory)
    const encode = Schema.encode(input.schema)
    const decode = Schema.decodeUnknown(input.schema)

    const offer = (item: Item, id: string) =>
      queue.offer(item, { id }).pipe(Effect.mapError(storeError(name, "enqueue")), Effect.as(pending(id, item.idempotencyKey)))

    // A key with a dead letter is a duplicate until replayed, however long ago its item finished
    // (the store may have forgotten its id): queued again it would be delivered twice.
    const enqueue = (value: A, idempotencyKey: string) =>
      encode(value).pipe(
        Effect.orDie,
        Effect.flatMap((encoded) =>
          Effect.flatMap(
            dead.get(name, idempotencyKey),
            Option.match({
              onNone: () => offer({ idempotencyKey, value: encoded }, idempotencyKey),
              onSome: () => Effect.succeed(pending(idempotencyKey, idempotencyKey))
            })
          )
        ),
        Effect.tap(() => count("queued"))
      )

    // Whether the provider answered the last write (the caller's or the worker's), and a signal for
    // the next one that does: items waiting out a retry delay go as soon as the provider is back, so a
    // queue drains at once after an outage instead of a retry delay per item and worker.
    let answering = true
    let answered = Deferred.unsafeMake<void>(FiberId.none)
    const noteAnswer = Effect.suspend(() => {
      answering = true
      const signal = answered
      answered = Deferred.unsafeMake<void>(FiberId.none)
      return Deferred.succeed(signal, undefined)
    })
    const noteNoAnswer = Effect.sync(() => {
      answering = false
    })

    const submit = (value: A, idempotencyKey: string): Effect.Effect<Api.Result<B>, E, R> =>
      Effect.matchEffect(o.write(value, idempotencyKey), {
        onSuccess: (b) => Effect.as(noteAnswer, done(b)),
        onFailure: (error) =>
          o.queueOn(error)
            // Not accepted unless it is on the queue: with the queue down the caller gets the write's error.
            ? Effect.zipRight(noteNoAnswer, enqueue(value, idempotencyKey)).pipe(
              Effect.catchAll((queueDown) =>
                Effect.zipRight(
                  Effect.logWarning(`queue ${name} cannot take a failed write; its error goes to the caller`).pipe(
                    Effect.annotateLogs({ queue: name, error: queueDown.message })
                  ),
                  Effect.fail(error)
                )
              )
            )
            : Effect.fail(error)
      })

    const retryDelayFor = (attempts: number) =>
      Duration.min(Duration.times(o.retryDelay, 2 ** Math.min(attempts - 1, 52)), o.maxRetryDelay)

    const workerStopped =
      "no attempt left when taken: an attempt whose worker stopped before finishing it (its lease ran out) counts as one"

    const deadLetter = (id: string, item: Item, attempts: number, error: string) =>
      Effect.flatMap(Clock.currentTimeMillis, (failedAt) =>
        dead.add(name, { id, idempotencyKey: item.idempotencyKey, value: item.value, attempts, error, failedAt }).pipe(
          Effect.zipRight(count("dead-lettered")),
          Effect.zipRight(
            Effect.logWarning(`queue ${name} dead-lettered an item after ${attempts} attempt(s)`).pipe(
              Effect.annotateLogs({ queue: name, id, error })
            )
          )
        ))

    // One item, taken: wait out its retry delay (unless the provider answers meanwhile), write it, and
    // say what becomes of it. Success and a
    // dead letter complete it; a failure to retry, a dead-letter store that is down, and an
    // interruption hand it back to the queue (interruption without counting an attempt).
    const handle = (item: Item, meta: { readonly id: string; readonly attempts: number }) =>
      Effect.gen(function*() {
        // Taken with no attempt left: a failed write that spends the last one dead-letters the item itself,
        // so the last ended with its worker (a process that died mid-write, whose lease ran out). The item
        // goes to the dead letters instead of killing one more worker.
        if (meta.attempts >= o.maxAttempts) {
          return yield* deadLetter(meta.id, item, meta.attempts, workerStopped)
        }
        if (meta.attempts > 0 && !answering) {
          yield* Effect.raceFirst(Effect.sleep(retryDelayFor(meta.attempts)), Deferred.await(answered))
        }
        const attempts = meta.attempts + 1
        const decoded = yield* Effect.either(decode(item.value))
        if (Either.isLeft(decoded)) {
          return yield* deadLetter(meta.id, item, attempts, `the schema cannot read the item: ${decoded.left.message}`)
        }
        // A worker interrupted mid-write never gets here (the item goes back uncounted, by the store); a
        // write that ends interrupted on its own (it joined a fiber someone interrupted) is an outcome
        // like a defect: the item is dead-lettered and the worker goes on.
        const exit = yield* Effect.exit(o.write(decoded.right, item.idempotencyKey))
        if (Exit.isSuccess(exit)) return yield* Effect.zipRight(noteAnswer, count("delivered"))
        const failure = Cause.failureOption(exit.cause)
        if (Option.isSome(failure) && o.queueOn(failure.value)) {
          yield* noteNoAnswer
          if (attempts < o.maxAttempts) return yield* Effect.zipRight(count("retried"), Effect.fail(new HandBack()))
        }
        yield* deadLetter(meta.id, item, attempts, describe(exit.cause))
      })

    const outage = storeOutage.make(`queue ${name}`, "its worker tries again every second", { queue: name })
    const takeOne = queue.take(handle, queueNeverGivesUp).pipe(
      Effect.catchIf((error): error is HandBack => error instanceof HandBack, () => Effect.void),
      outage.call,
      Effect.flatMap(Option.match({ onNone: () => Effect.sleep(Duration.seconds(1)), onSome: () => Effect.void }))
    )
    const worker: Effect.Effect<never, never, R> = Effect.forEach(
      Array.from({ length: o.concurrency }),
      () => Effect.forever(takeOne),
      { concurrency: "unbounded", discard: true }
    ).pipe(Effect.zipRight(Effect.never))

    const toDeadLetter = (letter: Api.DeadLetter.Encoded): Effect.Effect<Api.DeadLetter<A>> =>
      Effect.map(Effect.option(decode(letter.value)), (value) => ({ ...letter, value, encoded: letter.value }))

    // Our stores forget the dead letter's id so it is queued again under it: one key, one item. A
    // new id when the id cannot be released: a store of your own may remember ids for ever, and ours
    // keep an id whose item is still taken (its worker has not let go of it yet).
    const replayId = (letter: Api.DeadLetter.Encoded) =>
      Option.match(ids, {
        onSome: (r) => Effect.mapError(r.forget(name, letter.id), storeError(name, "replay")),
        onNone: () => Effect.succeed(false)
      }).pipe(
        Effect.flatMap((released) =>
          released
            ? Effect.succeed(letter.id)
            : Effect.map(Clock.currentTimeMillis, (now) => `${letter.idempotencyKey}#replay-${now}`)
        )
      )

    const replay = (id: string): Effect.Effect<Api.Pending, Api.QueueStoreError | Api.DeadLetterNotFound> =>
      dead.get(name, id).pipe(
        Effect.flatMap(Option.match({
          onNone: (): Effect.Effect<Api.Pending, Api.QueueStoreError | Api.DeadLetterNotFound> =>
            Effect.fail(new DeadLetterNotFound({ queue: name, id })),
          onSome: (letter) =>
            replayId(letter).pipe(
              Effect.flatMap((queueId) => offer({ idempotencyKey: letter.idempotencyKey, value: letter.value }, queueId)),
              Effect.tap(() => Effect.zipRight(dead.remove(name, id), count("replayed")))
            )
        }))
      )

    const self: Api.QueueForLater<A, B, E, R> = {
      [TypeId]: TypeId,
      name,
      submit,
      enqueue,
      worker,
      deadLetters: Effect.flatMap(dead.list(name), Effect.forEach(toDeadLetter)),
      replay
    }
    return self
  })

/** @internal */
export const make = <A, I, B, E, R>(
  input: Api.QueueForLater.Options<A, I, B, E, R>
): Effect.Effect<Api.QueueForLater<A, B, E, R>, InvalidOptions> => build("QueueForLater.make", input)

/** @internal */
export const layer = <Id, A, I, B, E, R>(
  tag: Context.Tag<Id, Api.QueueForLater<A, B, E, R>>,
  input: Api.QueueForLater.Options<A, I, B, E, R>
): Layer.Layer<Id, InvalidOptions> => Layer.effect(tag, build("QueueForLater.layer", input))

/** @internal */
export const layerWorker = <Id, A, B, E, R>(
  tag: Context.Tag<Id, Api.QueueForLater<A, B, E, R>>
): Layer.Layer<never, never, Id | R> => Layer.scopedDiscard(Effect.flatMap(tag, (queue) => Effect.forkScoped(queue.worker)))

/** @internal */
export const layerStoreMemory: Layer.Layer<PersistedQueue.PersistedQueueStore | Api.DeadLetterStore> = Layer.sync(
  PersistedQueue.PersistedQueueStore,
  memoryQueueStore.make
).pipe(Layer.merge(Layer.sync(deadLetterStore.DeadLetterStore, deadLetterStore.memory)))

/** @internal */
export const isQueueForLater = (u: unknown): u is Api.QueueForLater<unknown, unknown, unknown, unknown> =>
  Predicate.hasProperty(u, TypeId)
