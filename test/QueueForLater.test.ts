import * as PersistedQueue from "@effect/experimental/PersistedQueue"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Exit, Fiber, Layer, Metric, Option, Ref, Schema, TestClock } from "effect"
import { ClientError, InvalidOptions, Unavailable } from "../src/Errors.js"
import { metrics } from "../src/internal/queueForLater.js"
import * as QueueForLater from "../src/QueueForLater.js"
import { until } from "./support/until.js"

const Charge = Schema.Struct({ orderId: Schema.String, cents: Schema.Int })
type Charge = typeof Charge.Type
const down = new Unavailable({ provider: "payments", reason: "connection-refused" })
const declined = new ClientError({ provider: "payments", status: 402, body: "card declined" })

/**
 * A payments provider: fails with `failure` while it is set, else applies each idempotency key once
 * (as a provider honouring Idempotency-Key does) and records every call's time.
 */
const provider = Effect.gen(function*() {
  const failure = yield* Ref.make<Unavailable | ClientError | undefined>(undefined)
  const applied = yield* Ref.make(new Map<string, number>())
  const calls = yield* Ref.make<Array<number>>([])
  const write = (charge: Charge, idempotencyKey: string) =>
    Effect.gen(function*() {
      yield* Ref.update(calls, (times) => [...times, 0]).pipe(
        Effect.zipRight(Clock.currentTimeMillis),
        Effect.flatMap((now) => Ref.update(calls, (times) => [...times.slice(0, -1), now]))
      )
      const failing = yield* Ref.get(failure)
      if (failing !== undefined) return yield* Effect.fail(failing)
      yield* Ref.update(applied, (m) => new Map(m).set(idempotencyKey, (m.get(idempotencyKey) ?? 0) + 1))
      return `ch_${charge.orderId}`
    })
  return { failure, applied, calls, write }
})


/** Yields until the provider has applied `key` `times` times. */
const deliveredTimes = (p: Effect.Effect.Success<typeof provider>, key: string, times: number) =>
  until(Effect.map(Ref.get(p.applied), (m) => m.get(key) === times))

const order = (id: string): Charge => ({ orderId: id, cents: 1200 })
const options = { name: "charges", schema: Charge } as const

describe("QueueForLater", () => {
  it.effect("submit - a success is Done and nothing is queued", () =>
    Effect.gen(function*() {
      const p = yield* provider
      const queue = yield* QueueForLater.make({ ...options, write: p.write })
      expect(yield* queue.submit(order("o-1"), "k-1")).toEqual(QueueForLater.done("ch_o-1"))
      expect((yield* Ref.get(p.applied)).get("k-1")).toBe(1)
    }))

  it.effect("submit - a transient failure is Pending; the worker delivers it once the provider is back", () =>
    Effect.gen(function*() {
      const p = yield* provider
      yield* Ref.set(p.failure, down)
      const queue = yield* QueueForLater.make({ ...options, write: p.write })
      expect(yield* queue.submit(order("o-1"), "k-1")).toEqual(QueueForLater.pending("k-1", "k-1"))
      yield* Ref.set(p.failure, undefined)
      yield* Effect.forkScoped(queue.worker)
      yield* until(Effect.map(Ref.get(p.applied), (m) => m.get("k-1") === 1))
    }).pipe(Effect.scoped))

  it.effect("submit - the same idempotency key enqueued twice is one delivery", () =>
    Effect.gen(function*() {
      const p = yield* provider
      yield* Ref.set(p.failure, down)
      const queue = yield* QueueForLater.make({ ...options, write: p.write })
      yield* queue.submit(order("o-1"), "k-1")
      yield* queue.submit(order("o-1"), "k-1")
      yield* queue.enqueue(order("o-1"), "k-1")
      yield* Ref.set(p.failure, undefined)
      yield* Ref.set(p.calls, [])
      yield* Effect.forkScoped(queue.worker)
      yield* until(Effect.map(Ref.get(p.applied), (m) => m.get("k-1") === 1))
      yield* TestClock.adjust("1 hour")
      expect(yield* Ref.get(p.calls)).toHaveLength(1)
    }).pipe(Effect.scoped))

  it.effect("submit - a ClientError is the provider's answer: the caller gets it and nothing is queued", () =>
    Effect.gen(function*() {
      const p = yield* provider
      yield* Ref.set(p.failure, declined)
      const queue = yield* QueueForLater.make({ ...options, write: p.write })
      expect(yield* Effect.flip(queue.submit(order("o-1"), "k-1"))).toBe(declined)
      yield* Ref.set(p.failure, undefined)
      yield* Effect.forkScoped(queue.worker)
      yield* TestClock.adjust("1 hour")
      expect(yield* Ref.get(p.calls)).toHaveLength(1)
    }).pipe(Effect.scoped))

  it.effect("submit - with the queue down the caller gets the write's own error, not Pending", () =>
    Effect.gen(function*() {
      const p = yield* provider
      yield* Ref.set(p.failure, down)
      const broken = Layer.succeed(PersistedQueue.PersistedQueueStore, {
        offer: () => Effect.fail(new PersistedQueue.PersistedQueueError({ message: "Redis is down" })),
        take: () => Effect.never
      })
      const queue = yield* QueueForLater.make({ ...options, write: p.write }).pipe(Effect.provide(broken))
      expect(yield* Effect.flip(queue.submit(order("o-1"), "k-1"))).toBe(down)
    }))

  it.effect("worker - retries with a doubling delay: attempts at 0, 1 s, 3 s, 7 s", () =>
    Effect.gen(function*() {
      const p = yield* provider
      yield* Ref.set(p.failure, down)
      const queue = yield* QueueForLater.make({ ...options, write: p.write, retryDelay: "1 seconds" })
      yield* queue.enqueue(order("o-1"), "k-1")
      yield* Effect.forkScoped(queue.worker)
      const attempts = (n: number) => until(Effect.map(Ref.get(p.calls), (c) => c.length === n))
      yield* attempts(1)
      yield* TestClock.adjust("999 millis")
      yield* Effect.repeatN(Effect.yieldNow(), 20)
      expect(yield* Ref.get(p.calls)).toHaveLength(1)
      yield* TestClock.adjust("1 millis")
      yield* attempts(2)
      yield* TestClock.adjust("2 seconds")
      yield* attempts(3)
      yield* TestClock.adjust("4 seconds")
      yield* attempts(4)
      expect(yield* Ref.get(p.calls)).toEqual([0, 1_000, 3_000, 7_000])
    }).pipe(Effect.scoped))

  it.effect("worker - an item waiting out its retry delay goes as soon as another write gets an answer", () =>
    Effect.gen(function*() {
      const p = yield* provider
      yield* Ref.set(p.failure, down)
      const queue = yield* QueueForLater.make({ ...options, write: p.write, retryDelay: "1 minutes" })
      yield* queue.enqueue(order("o-1"), "k-1")
      yield* Effect.forkScoped(queue.worker)
      yield* until(Effect.map(Ref.get(p.calls), (c) => c.length === 1))
      yield* TestClock.adjust("10 seconds")
      yield* Ref.set(p.failure, undefined)
      expect(yield* queue.submit(order("o-2"), "k-2")).toEqual(QueueForLater.done("ch_o-2"))
      yield* until(Effect.map(Ref.get(p.applied), (m) => m.get("k-1") === 1))
      expect(yield* Ref.get(p.calls)).toEqual([0, 10_000, 10_000])
    }).pipe(Effect.scoped))

  it.effect("worker - after maxAttempts the item is a dead letter with its last error; replay delivers it", () =>
    Effect.gen(function*() {
      const p = yield* provider
      yield* Ref.set(p.failure, down)
      const queue = yield* QueueForLater.make({ ...options, write: p.write, maxAttempts: 3, retryDelay: "1 seconds" })
      yield* queue.enqueue(order("o-1"), "k-1")
      yield* Effect.forkScoped(queue.worker)
      yield* until(Effect.map(Ref.get(p.calls), (c) => c.length === 1))
      yield* TestClock.adjust("1 seconds")
      yield* until(Effect.map(Ref.get(p.calls), (c) => c.length === 2))
      yield* TestClock.adjust("2 seconds")
      yield* until(Effect.map(queue.deadLetters.pipe(Effect.orDie), (d) => d.length === 1))
      const [letter] = yield* queue.deadLetters
      expect(letter).toMatchObject({ id: "k-1", idempotencyKey: "k-1", attempts: 3, failedAt: 3_000 })
      expect(letter!.value).toEqual(Option.some(order("o-1")))
      expect(letter!.error).toContain("Unavailable")
      yield* TestClock.adjust("1 hour")
      expect(yield* Ref.get(p.calls)).toHaveLength(3)

      yield* Ref.set(p.failure, undefined)
      const replayed = yield* queue.replay("k-1")
      expect(replayed).toMatchObject({ _tag: "Pending", idempotencyKey: "k-1" })
      yield* until(Effect.map(Ref.get(p.applied), (m) => m.get("k-1") === 1))
      expect(yield* queue.deadLetters).toEqual([])
      expect(yield* Effect.flip(queue.replay("k-1"))).toBeInstanceOf(QueueForLater.DeadLetterNotFound)
    }).pipe(Effect.scoped))

  it.effect("worker - four workers at once deliver twenty items, each once", () =>
    Effect.gen(function*() {
      const p = yield* provider
      const queue = yield* QueueForLater.make({ ...options, write: p.write, concurrency: 4 })
      yield* Effect.forkScoped(queue.worker)
      for (let i = 0; i < 20; i++) yield* queue.enqueue(order(`o-${i}`), `k-${i}`)
      yield* until(Effect.map(Ref.get(p.applied), (m) => m.size === 20))
      yield* TestClock.adjust("1 hour")
      expect(yield* Ref.get(p.calls)).toHaveLength(20)
      expect(Array.from((yield* Ref.get(p.applied)).values()).every((n) => n === 1)).toBe(true)
    }).pipe(Effect.scoped))

  it.effect("layerStoreMemory - a producer and a worker built apart share the queue and its dead letters", () =>
    Effect.gen(function*() {
      const p = yield* provider
      yield* Ref.set(p.failure, declined)
      const producer = yield* QueueForLater.make({ ...options, write: p.write })
      const consumer = yield* QueueForLater.make({ ...options, write: p.write })
      yield* producer.enqueue(order("o-1"), "k-1")
      yield* Effect.forkScoped(consumer.worker)
      yield* until(Effect.map(producer.deadLetters.pipe(Effect.orDie), (d) => d.length === 1))
    }).pipe(Effect.scoped, Effect.provide(QueueForLater.layerStoreMemory)))

  it.effect("worker - an error queueOn does not accept is dead-lettered at once", () =>
    Effect.gen(function*() {
      const p = yield* provider
      yield* Ref.set(p.failure, declined)
      const queue = yield* QueueForLater.make({ ...options, write: p.write })
      yield* queue.enqueue(order("o-1"), "k-1")
      yield* Effect.forkScoped(queue.worker)
      yield* until(Effect.map(queue.deadLetters.pipe(Effect.orDie), (d) => d.length === 1))
      expect((yield* queue.deadLetters)[0]).toMatchObject({ attempts: 1 })
      expect(yield* Ref.get(p.calls)).toHaveLength(1)
    }).pipe(Effect.scoped))

  it.effect("worker - interrupted mid-write, the item goes back uncounted and the next worker delivers it", () =>
    Effect.gen(function*() {
      const p = yield* provider
      const started = yield* Ref.make(0)
      const slowWrite = (charge: Charge, key: string) =>
        Ref.update(started, (n) => n + 1).pipe(Effect.zipRight(Effect.sleep("10 seconds")), Effect.zipRight(p.write(charge, key)))
      const queue = yield* QueueForLater.make({ ...options, write: slowWrite })
      yield* queue.enqueue(order("o-1"), "k-1")
      const first = yield* Effect.fork(queue.worker)
      yield* until(Effect.map(Ref.get(started), (n) => n === 1))
      yield* TestClock.adjust("5 seconds")
      expect(Exit.isInterrupted(yield* Fiber.interrupt(first))).toBe(true)
      expect((yield* Ref.get(p.applied)).size).toBe(0)

      yield* Effect.forkScoped(queue.worker)
      yield* until(Effect.map(Ref.get(started), (n) => n === 2))
      // No retry delay: the interrupted attempt was not counted.
      yield* TestClock.adjust("10 seconds")
      yield* until(Effect.map(Ref.get(p.applied), (m) => m.get("k-1") === 1))
      expect(yield* queue.deadLetters).toEqual([])
    }).pipe(Effect.scoped))

  it.effect("worker - a write that ends interrupted on its own is dead-lettered; the workers go on", () =>
    Effect.gen(function*() {
      const p = yield* provider
      // the first write joins a fiber that was interrupted: its exit is an interruption, the worker's is not
      const selfInterrupting = (charge: Charge, key: string) =>
        key === "k-1" ? Effect.flatMap(Effect.fork(Effect.never), (f) => Effect.zipRight(Fiber.interrupt(f), Fiber.join(f))) : p.write(charge, key)
      const queue = yield* QueueForLater.make({ ...options, write: selfInterrupting })
      yield* queue.enqueue(order("o-1"), "k-1")
      yield* queue.enqueue(order("o-2"), "k-2")
      const worker = yield* Effect.forkScoped(queue.worker)
      yield* until(Effect.map(Ref.get(p.applied), (m) => m.get("k-2") === 1))
      const [letter] = yield* queue.deadLetters
      expect(letter).toMatchObject({ idempotencyKey: "k-1", attempts: 1 })
      expect(letter?.error).toContain("interrupted")
      expect(worker.unsafePoll()).toBeNull()
    }).pipe(Effect.scoped))

  it.effect("worker - interrupted while waiting out a retry delay, nothing is lost", () =>
    Effect.gen(function*() {
      const p = yield* provider
      yield* Ref.set(p.failure, down)
      const queue = yield* QueueForLater.make({ ...options, write: p.write, retryDelay: "1 minutes" })
      yield* queue.enqueue(order("o-1"), "k-1")
      const first = yield* Effect.fork(queue.worker)
      yield* until(Effect.map(Ref.get(p.calls), (c) => c.length === 1))
      yield* TestClock.adjust("30 seconds")
      yield* Fiber.interrupt(first)
      yield* Ref.set(p.failure, undefined)
      yield* Effect.forkScoped(queue.worker)
      yield* TestClock.adjust("1 minutes")
      yield* until(Effect.map(Ref.get(p.applied), (m) => m.get("k-1") === 1))
    }).pipe(Effect.scoped))

  it.effect("worker - an item the schema no longer reads is dead-lettered, kept as stored", () =>
    Effect.gen(function*() {
      const p = yield* provider
      const old = yield* QueueForLater.make({ name: "charges", schema: Schema.String, write: () => Effect.void })
      yield* old.enqueue("legacy", "k-1")
      const queue = yield* QueueForLater.make({ ...options, write: p.write })
      yield* Effect.forkScoped(queue.worker)
      yield* until(Effect.map(queue.deadLetters.pipe(Effect.orDie), (d) => d.length === 1))
      const [letter] = yield* queue.deadLetters
      expect(letter).toMatchObject({ value: Option.none(), encoded: "legacy" })
      expect(yield* Ref.get(p.calls)).toHaveLength(0)
    }).pipe(Effect.scoped, Effect.provide(QueueForLater.layerStoreMemory)))

  it.effect("metrics - items counted by queue and event", () =>
    Effect.gen(function*() {
      const p = yield* provider
      yield* Ref.set(p.failure, down)
      const queue = yield* QueueForLater.make({ ...options, name: "metrics-charges", write: p.write, maxAttempts: 2 })
      yield* queue.submit(order("o-1"), "k-1")
      yield* Effect.forkScoped(queue.worker)
      yield* until(Effect.map(Ref.get(p.calls), (c) => c.length === 2))
      yield* TestClock.adjust("1 seconds")
      yield* until(Effect.map(queue.deadLetters.pipe(Effect.orDie), (d) => d.length === 1))
      yield* Ref.set(p.failure, undefined)
      yield* queue.replay("k-1")
      yield* until(Effect.map(Ref.get(p.applied), (m) => m.get("k-1") === 1))
      const count = (event: string) =>
        Metric.value(
          metrics.items.pipe(
            Metric.tagged("queue", "metrics-charges"),
            Metric.tagged("event", event)
          )
        ).pipe(Effect.map((state) => state.count))
      expect({
        queued: yield* count("queued"),
        retried: yield* count("retried"),
        deadLettered: yield* count("dead-lettered"),
        replayed: yield* count("replayed"),
        delivered: yield* count("delivered")
      }).toEqual({ queued: 1, retried: 1, deadLettered: 1, replayed: 1, delivered: 1 })
    }).pipe(Effect.scoped))

  it.effect("rememberIds - a delivered key is a duplicate within the bound and a new item after it", () =>
    Effect.gen(function*() {
      const p = yield* provider
      const queue = yield* QueueForLater.make({ ...options, write: p.write, rememberIds: "1 hours" })
      yield* Effect.forkScoped(queue.worker)
      yield* queue.enqueue(order("o-1"), "k-1")
      yield* deliveredTimes(p, "k-1", 1)
      yield* TestClock.adjust("59 minutes")
      expect(yield* queue.enqueue(order("o-1"), "k-1")).toEqual(QueueForLater.pending("k-1", "k-1"))
      // First in, first out: once k-2 is delivered, a second k-1 would have been too.
      yield* queue.enqueue(order("o-2"), "k-2")
      yield* deliveredTimes(p, "k-2", 1)
      expect((yield* Ref.get(p.applied)).get("k-1")).toBe(1)
      yield* TestClock.adjust("2 minutes")
      yield* queue.enqueue(order("o-1"), "k-1")
      yield* deliveredTimes(p, "k-1", 2)
    }).pipe(Effect.scoped))

  it.effect("rememberIds - an id whose time is up is forgotten even when more ids are due than one offer prunes", () =>
    Effect.gen(function*() {
      const p = yield* provider
      const queue = yield* QueueForLater.make({ ...options, write: p.write, rememberIds: "1 hours" })
      yield* Effect.forkScoped(queue.worker)
      for (let i = 0; i < 250; i++) yield* queue.enqueue(order(`o-${i}`), `k-${i}`)
      yield* until(Effect.map(Ref.get(p.applied), (m) => m.size === 250))
      yield* TestClock.adjust("2 hours")
      yield* queue.enqueue(order("o-249"), "k-249")
      yield* deliveredTimes(p, "k-249", 2)
    }).pipe(Effect.scoped))

  it.effect("rememberIds - a key queued or being written never ages out, however long it waits", () =>
    Effect.gen(function*() {
      const p = yield* provider
      const started = yield* Ref.make(0)
      const slowWrite = (charge: Charge, key: string) =>
        Ref.update(started, (n) => n + 1).pipe(Effect.zipRight(Effect.sleep("2 hours")), Effect.zipRight(p.write(charge, key)))
      const queue = yield* QueueForLater.make({ ...options, write: slowWrite, rememberIds: "1 hours" })
      yield* queue.enqueue(order("o-1"), "k-1")
      yield* TestClock.adjust("2 hours")
      yield* queue.enqueue(order("o-1"), "k-1") // queued for 2 hours: still a duplicate
      yield* Effect.forkScoped(queue.worker)
      yield* until(Effect.map(Ref.get(started), (n) => n === 1)) // the worker has it
      yield* TestClock.adjust("90 minutes")
      yield* queue.enqueue(order("o-1"), "k-1") // being written for 90 minutes: still a duplicate
      yield* TestClock.adjust("30 minutes")
      yield* deliveredTimes(p, "k-1", 1)
      yield* queue.enqueue(order("o-2"), "k-2")
      yield* TestClock.adjust("2 hours")
      yield* deliveredTimes(p, "k-2", 1)
      expect((yield* Ref.get(p.applied)).get("k-1")).toBe(1)
    }).pipe(Effect.scoped))

  it.effect("rememberIds - a key with a dead letter stays a duplicate past the bound; replay queues it under its own id", () =>
    Effect.gen(function*() {
      const p = yield* provider
      yield* Ref.set(p.failure, declined)
      const queue = yield* QueueForLater.make({ ...options, write: p.write, rememberIds: "1 hours" })
      yield* Effect.forkScoped(queue.worker)
      yield* queue.enqueue(order("o-1"), "k-1")
      yield* until(Effect.map(queue.deadLetters.pipe(Effect.orDie), (d) => d.length === 1))
      yield* Ref.set(p.failure, undefined)
      yield* TestClock.adjust("2 hours")
      expect(yield* queue.enqueue(order("o-1"), "k-1")).toEqual(QueueForLater.pending("k-1", "k-1"))
      yield* queue.enqueue(order("o-2"), "k-2")
      yield* deliveredTimes(p, "k-2", 1)
      expect((yield* Ref.get(p.applied)).get("k-1")).toBeUndefined()
      expect(yield* queue.replay("k-1")).toEqual(QueueForLater.pending("k-1", "k-1"))
      yield* deliveredTimes(p, "k-1", 1)
      expect(yield* queue.deadLetters).toEqual([])
    }).pipe(Effect.scoped))

  it.effect("bad options fail with InvalidOptions", () =>
    Effect.gen(function*() {
      const write = () => Effect.void
      for (
        const bad of [
          { ...options, write, name: "" },
          { ...options, write, maxAttempts: 0 },
          { ...options, write, concurrency: 1.5 },
          { ...options, write, retryDelay: -1 },
          { ...options, write, rememberIds: 0 },
          { ...options, write, rememberIds: "-1 days" as Duration.DurationInput },
          { ...options, write, rememberIds: "a week" as Duration.DurationInput }
        ]
      ) {
        expect(yield* Effect.flip(QueueForLater.make(bad))).toBeInstanceOf(InvalidOptions)
      }
      // Never slept on, so it may be longer than the 24 days a timer may wait.
      expect(QueueForLater.isQueueForLater(yield* QueueForLater.make({ ...options, write, rememberIds: "30 days" })))
        .toBe(true)
    }))
})
