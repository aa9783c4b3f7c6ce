import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Context,
  Deferred,
  Effect,
  Either,
  Exit,
  Fiber,
  FiberId,
  Layer,
  Logger,
  Metric,
  Option,
  Random,
  Ref,
  TestClock,
  Tracer
} from "effect"
import * as Bulkhead from "../src/Bulkhead.js"
import { BulkheadFull, InvalidOptions } from "../src/Errors.js"

/** Yields until the bulkhead's stats satisfy `done`, so a forked caller is known to be running or queued. */
const until = (bulkhead: Bulkhead.Bulkhead, done: (stats: Bulkhead.Bulkhead.Stats) => boolean) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1_000; i++) {
      if (done(yield* bulkhead.stats)) return
      yield* Effect.yieldNow()
    }
    return yield* Effect.dieMessage(`stats never matched: ${JSON.stringify(yield* bulkhead.stats)}`)
  })

/** Takes one slot until the returned effect is run. */
const hold = (bulkhead: Bulkhead.Bulkhead) =>
  Effect.gen(function*() {
    const gate = yield* Deferred.make<void>()
    const before = (yield* bulkhead.stats).active
    const fiber = yield* Effect.fork(bulkhead(Deferred.await(gate)))
    yield* until(bulkhead, (s) => s.active === before + 1)
    return Effect.zipRight(Deferred.succeed(gate, void 0), Fiber.join(fiber))
  })

/** Forks a caller and waits until it is queued. */
const enqueue = <A, E>(bulkhead: Bulkhead.Bulkhead, effect: Effect.Effect<A, E>) =>
  Effect.gen(function*() {
    const before = (yield* bulkhead.stats).queued
    const fiber = yield* Effect.fork(bulkhead(effect))
    yield* until(bulkhead, (s) => s.queued === before + 1)
    return fiber
  })

const rejected = (reason: BulkheadFull["reason"], name: string) => new BulkheadFull({ bulkhead: name, reason })

describe("Bulkhead", () => {
  describe("admission", () => {
    it.scoped("runs up to maxConcurrent calls at once", () =>
      Effect.gen(function*() {
        const bulkhead = yield* Bulkhead.make({ name: "admit", maxConcurrent: 3, maxQueued: 5 })
        const running = yield* Ref.make(0)
        const peak = yield* Ref.make(0)
        const call = Effect.gen(function*() {
          const now = yield* Ref.updateAndGet(running, (n) => n + 1)
          yield* Ref.update(peak, (p) => Math.max(p, now))
          yield* Effect.sleep("10 millis")
          yield* Ref.update(running, (n) => n - 1)
        }).pipe(bulkhead)
        const fiber = yield* Effect.fork(Effect.all(Array.from({ length: 8 }, () => call), { concurrency: "unbounded" }))
        yield* until(bulkhead, (s) => s.active === 3 && s.queued === 5)
        yield* TestClock.adjust("30 millis")
        yield* Fiber.join(fiber)
        expect(yield* Ref.get(peak)).toBe(3)
        expect(yield* bulkhead.stats).toEqual({ active: 0, queued: 0, rejected: 0, maxConcurrent: 3, maxQueued: 5 })
      }))

    it.scoped("FIFO - waiters are admitted in arrival order", () =>
      Effect.gen(function*() {
        const bulkhead = yield* Bulkhead.make({ name: "fifo", maxConcurrent: 1, maxQueued: 10 })
        const order = yield* Ref.make<Array<number>>([])
        const release = yield* hold(bulkhead)
        const fibers = []
        for (let i = 0; i < 10; i++) {
          fibers.push(yield* enqueue(bulkhead, Ref.update(order, (o) => [...o, i]).pipe(Effect.zipRight(Effect.yieldNow()))))
        }
        yield* release
        yield* Fiber.joinAll(fibers)
        expect(yield* Ref.get(order)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
      }))

    it.scoped("FIFO - a caller arriving as a slot frees cannot overtake the queue", () =>
      Effect.gen(function*() {
        const bulkhead = yield* Bulkhead.make({ name: "no-barging", maxConcurrent: 1, maxQueued: 10 })
        const order = yield* Ref.make<Array<string>>([])
        const log = (what: string) => Ref.update(order, (o) => [...o, what])
        const gate = yield* Deferred.make<void>()
        // The first caller releases its slot and calls again at once, in the same fiber run, before
        // the queued caller has resumed: the slot must already belong to the queued caller.
        const first = yield* Effect.fork(
          Effect.zipRight(bulkhead(Deferred.await(gate)), bulkhead(log("first-again")))
        )
        yield* until(bulkhead, (s) => s.active === 1)
        const queued = yield* enqueue(bulkhead, log("queued"))
        yield* Deferred.succeed(gate, void 0)
        yield* Fiber.join(first)
        yield* Fiber.join(queued)
        expect(yield* Ref.get(order)).toEqual(["queued", "first-again"])
      }))
  })

  describe("rejection", () => {
    it.scoped("queue-full - maxQueued 0 rejects at once without running the effect", () =>
      Effect.gen(function*() {
        const bulkhead = yield* Bulkhead.make({ name: "shed", maxConcurrent: 1 })
        const ran = yield* Ref.make(false)
        const release = yield* hold(bulkhead)
        const result = yield* Effect.either(bulkhead(Ref.set(ran, true)))
        expect(result).toEqual(Either.left(rejected("queue-full", "shed")))
        expect(yield* Ref.get(ran)).toBe(false)
        yield* release
        expect(yield* bulkhead.stats).toEqual({ active: 0, queued: 0, rejected: 1, maxConcurrent: 1, maxQueued: 0 })
      }))

    it.scoped("queue-full - rejects only once the queue is full", () =>
      Effect.gen(function*() {
        const bulkhead = yield* Bulkhead.make({ name: "bounded", maxConcurrent: 1, maxQueued: 2 })
        const ran = yield* Ref.make(0)
        const release = yield* hold(bulkhead)
        const a = yield* enqueue(bulkhead, Ref.update(ran, (n) => n + 1))
        const b = yield* enqueue(bulkhead, Ref.update(ran, (n) => n + 1))
        const c = yield* Effect.either(bulkhead(Ref.update(ran, (n) => n + 1)))
        expect(c).toEqual(Either.left(rejected("queue-full", "bounded")))
        yield* release
        yield* Fiber.join(a)
        yield* Fiber.join(b)
        expect(yield* Ref.get(ran)).toBe(2)
      }))

    it.scoped("queue-timeout - still queued at t - 1 ms, rejected at t", () =>
      Effect.gen(function*() {
        const bulkhead = yield* Bulkhead.make({ name: "wait", maxConcurrent: 1, maxQueued: 5, queueTimeout: "1 second" })
        const ran = yield* Ref.make(false)
        const release = yield* hold(bulkhead)
        yield* TestClock.adjust("250 millis")
        const late = yield* enqueue(bulkhead, Ref.set(ran, true))
        yield* TestClock.adjust("999 millis")
        expect(yield* Fiber.poll(late)).toEqual(Option.none())
        expect((yield* bulkhead.stats).queued).toBe(1)
        yield* TestClock.adjust("1 millis")
        expect(yield* Fiber.await(late)).toEqual(Exit.fail(rejected("queue-timeout", "wait")))
        expect(yield* Ref.get(ran)).toBe(false)
        expect(yield* bulkhead.stats).toMatchObject({ active: 1, queued: 0, rejected: 1 })
        yield* release
      }))

    it.scoped("queue-timeout - each waiter times out on its own deadline", () =>
      Effect.gen(function*() {
        const bulkhead = yield* Bulkhead.make({ name: "deadlines", maxConcurrent: 1, maxQueued: 5, queueTimeout: "100 millis" })
        const release = yield* hold(bulkhead)
        const a = yield* enqueue(bulkhead, Effect.void)
        yield* TestClock.adjust("40 millis")
        const b = yield* enqueue(bulkhead, Effect.void)
        yield* TestClock.adjust("60 millis")
        expect(Exit.isFailure(yield* Fiber.await(a))).toBe(true)
        expect(yield* Fiber.poll(b)).toEqual(Option.none())
        yield* TestClock.adjust("39 millis")
        expect(yield* Fiber.poll(b)).toEqual(Option.none())
        yield* TestClock.adjust("1 millis")
        expect(yield* Fiber.await(b)).toEqual(Exit.fail(rejected("queue-timeout", "deadlines")))
        yield* release
      }))

    it.scoped("queue-timeout - a waiter admitted before its deadline runs to the end", () =>
      Effect.gen(function*() {
        const bulkhead = yield* Bulkhead.make({ name: "in-time", maxConcurrent: 1, maxQueued: 1, queueTimeout: "1 second" })
        const release = yield* hold(bulkhead)
        const waiter = yield* enqueue(bulkhead, Effect.as(Effect.sleep("5 seconds"), "done"))
        yield* TestClock.adjust("999 millis")
        yield* release
        yield* TestClock.adjust("5 seconds")
        expect(yield* Fiber.join(waiter)).toBe("done")
        expect(yield* bulkhead.stats).toMatchObject({ active: 0, queued: 0, rejected: 0 })
      }))
  })

  describe("interruption", () => {
    const outcomes: Array<[string, Effect.Effect<never, string>]> = [
      ["failure", Effect.fail("boom")],
      ["defect", Effect.die("bug")],
      ["interruption", Effect.interrupt]
    ]
    for (const [name, outcome] of outcomes) {
      it.scoped(`a running call frees its slot on ${name}`, () =>
        Effect.gen(function*() {
          const bulkhead = yield* Bulkhead.make({ name: `frees-${name}`, maxConcurrent: 1, maxQueued: 1 })
          const gate = yield* Deferred.make<void>()
          const running = yield* Effect.fork(bulkhead(Effect.zipRight(Deferred.await(gate), outcome)))
          yield* until(bulkhead, (s) => s.active === 1)
          const next = yield* enqueue(bulkhead, Effect.succeed("next"))
          yield* Deferred.succeed(gate, void 0)
          expect(Exit.isFailure(yield* Fiber.await(running))).toBe(true)
          expect(yield* Fiber.join(next)).toBe("next")
          expect(yield* bulkhead.stats).toMatchObject({ active: 0, queued: 0 })
        }))
    }

    it.scoped("a running call frees its slot when interrupted from outside", () =>
      Effect.gen(function*() {
        const bulkhead = yield* Bulkhead.make({ name: "interrupted-running", maxConcurrent: 1 })
        const fiber = yield* Effect.fork(bulkhead(Effect.never))
        yield* until(bulkhead, (s) => s.active === 1)
        yield* Fiber.interrupt(fiber)
        expect(yield* bulkhead.stats).toMatchObject({ active: 0, queued: 0 })
        expect(yield* bulkhead(Effect.succeed(1))).toBe(1)
      }))

    it.scoped("an interrupted waiter leaves the queue and never takes a slot", () =>
      Effect.gen(function*() {
        const bulkhead = yield* Bulkhead.make({ name: "leaves", maxConcurrent: 1, maxQueued: 2 })
        const ran = yield* Ref.make<Array<string>>([])
        const release = yield* hold(bulkhead)
        const gone = yield* enqueue(bulkhead, Ref.update(ran, (r) => [...r, "gone"]))
        const stays = yield* enqueue(bulkhead, Ref.update(ran, (r) => [...r, "stays"]))
        yield* Fiber.interrupt(gone)
        expect(yield* bulkhead.stats).toMatchObject({ active: 1, queued: 1 })
        // the place it left is free again
        const third = yield* enqueue(bulkhead, Ref.update(ran, (r) => [...r, "third"]))
        yield* release
        yield* Fiber.join(stays)
        yield* Fiber.join(third)
        expect(yield* Ref.get(ran)).toEqual(["stays", "third"])
        expect(yield* bulkhead.stats).toMatchObject({ active: 0, queued: 0 })
      }))

    it.scoped("a slot handed to a waiter as it is interrupted passes to the next waiter", () =>
      Effect.gen(function*() {
        const bulkhead = yield* Bulkhead.make({ name: "handoff-race", maxConcurrent: 1, maxQueued: 2 })
        const gate = yield* Deferred.make<void>()
        const target = yield* Deferred.make<Fiber.RuntimeFiber<void, BulkheadFull>>()
        // The running call sends the interruption to the head waiter and then ends, which hands that
        // waiter its slot: the waiter's mailbox holds the interruption before the grant.
        const running = yield* Effect.fork(bulkhead(Effect.gen(function*() {
          yield* Deferred.await(gate)
          const waiter = yield* Deferred.await(target)
          waiter.unsafeInterruptAsFork(FiberId.none)
        })))
        yield* until(bulkhead, (s) => s.active === 1)
        const head = yield* enqueue(bulkhead, Effect.void)
        const next = yield* enqueue(bulkhead, Effect.succeed("next"))
        yield* Deferred.succeed(target, head)
        yield* Deferred.succeed(gate, void 0)
        yield* Fiber.join(running)
        expect(Exit.isInterrupted(yield* Fiber.await(head))).toBe(true)
        expect(yield* Fiber.join(next)).toBe("next")
        expect(yield* bulkhead.stats).toMatchObject({ active: 0, queued: 0 })
      }))

    // A call's work is a number of ticks the test hands out, one per round, instead of sleeps:
    // 10,000 TestClock sleeps would make TestClock, not the bulkhead, the subject (and the test
    // minutes long). The clock still moves 1 ms per round so that, with a queue timeout, the reaper
    // expires waiters in the middle of the storm.
    for (const queueTimeout of [undefined, "150 millis"] as const) {
      it.scoped(
        `10,000 callers with seeded random interruptions end with active = 0, queued = 0 (queueTimeout ${queueTimeout})`,
        () =>
          Effect.gen(function*() {
            const name = `storm-${queueTimeout}`
            const bulkhead = yield* Bulkhead.make({ name, maxConcurrent: 50, maxQueued: 10_000, queueTimeout })
            const rng = Random.make(`bulkhead-storm-${queueTimeout}`)
            const completed = yield* Ref.make(0)
            const tick = yield* Ref.make(yield* Deferred.make<void>())
            const nextTick = Effect.flatMap(Deferred.make<void>(), (next) =>
              Effect.flatMap(Ref.getAndSet(tick, next), (current) => Deferred.succeed(current, void 0)))
            const awaitTick = Effect.flatMap(Ref.get(tick), Deferred.await)
            const callers = 10_000
            const rounds = 300
            const plans: Array<{ readonly work: number; readonly interruptAt: number }> = []
            for (let i = 0; i < callers; i++) {
              const work = yield* rng.nextIntBetween(1, 4)
              const interruptAt = (yield* rng.nextIntBetween(0, 10)) < 3 ? yield* rng.nextIntBetween(0, rounds) : -1
              plans.push({ work, interruptAt })
            }
            const fibers = yield* Effect.forEach(plans, ({ work }) =>
              Effect.fork(
                bulkhead(Effect.zipRight(Effect.repeatN(awaitTick, work - 1), Ref.update(completed, (n) => n + 1)))
              ))
            const targeted = new Set<number>()
            let sawQueued = false
            for (let round = 0; round < rounds; round++) {
              const batch: Array<Fiber.RuntimeFiber<void, BulkheadFull>> = []
              plans.forEach((plan, i) => {
                if (plan.interruptAt === round) {
                  targeted.add(i)
                  batch.push(fibers[i]!)
                }
              })
              yield* Fiber.interruptAll(batch)
              sawQueued ||= (yield* bulkhead.stats).queued > 1_000
              yield* nextTick
              yield* TestClock.adjust("1 millis")
            }
            while (!(yield* Effect.forEach(fibers, Fiber.poll)).every(Option.isSome)) {
              yield* nextTick
              yield* TestClock.adjust("1 millis")
            }
            const exits = yield* Effect.forEach(fibers, Fiber.await)
            let succeeded = 0
            let interrupted = 0
            exits.forEach((exit, i) => {
              if (Exit.isSuccess(exit)) return void succeeded++
              if (Exit.isInterrupted(exit)) {
                interrupted++
                return expect(targeted.has(i)).toBe(true)
              }
              // only a queue timeout may refuse a caller nobody interrupted
              expect(queueTimeout).toBeDefined()
              expect(exit).toEqual(Exit.fail(rejected("queue-timeout", name)))
            })
            const stats = yield* bulkhead.stats
            expect(stats).toMatchObject({ active: 0, queued: 0 })
            expect(succeeded).toBe(yield* Ref.get(completed))
            expect(succeeded + interrupted + stats.rejected).toBe(callers)
            expect(sawQueued).toBe(true)
            expect(interrupted).toBeGreaterThan(1_000)
            if (queueTimeout === undefined) expect(stats.rejected).toBe(0)
            else expect(stats.rejected).toBeGreaterThan(0)
          }),
        { timeout: 30_000 }
      )
    }
  })

  describe("observability", () => {
    it.scoped("stats and metrics track active, queued and rejected by reason", () =>
      Effect.gen(function*() {
        const name = "metrics-bulkhead"
        const bulkhead = yield* Bulkhead.make({ name, maxConcurrent: 1, maxQueued: 1, queueTimeout: "1 second" })
        const tagged = <T, I, O>(metric: Metric.Metric<T, I, O>) => metric.pipe(Metric.tagged("bulkhead", name))
        const rejectedBy = (reason: string) =>
          Metric.value(tagged(Bulkhead.metrics.rejected).pipe(Metric.tagged("reason", reason)))
        const release = yield* hold(bulkhead)
        const waiter = yield* enqueue(bulkhead, Effect.void)
        expect((yield* Metric.value(tagged(Bulkhead.metrics.active))).value).toBe(1)
        expect((yield* Metric.value(tagged(Bulkhead.metrics.queued))).value).toBe(1)
        yield* Effect.either(bulkhead(Effect.void))
        yield* TestClock.adjust("1 second")
        yield* Fiber.await(waiter)
        expect((yield* rejectedBy("queue-full")).count).toBe(1)
        expect((yield* rejectedBy("queue-timeout")).count).toBe(1)
        expect((yield* Metric.value(tagged(Bulkhead.metrics.queued))).value).toBe(0)
        yield* release
        expect((yield* Metric.value(tagged(Bulkhead.metrics.active))).value).toBe(0)
        expect(yield* bulkhead.stats).toEqual({ active: 0, queued: 0, rejected: 2, maxConcurrent: 1, maxQueued: 1 })
      }))

    it.scoped("logs once when it starts rejecting and once when a slot frees", () =>
      Effect.gen(function*() {
        const lines: Array<string> = []
        const logger = Logger.make(({ logLevel, message }) => {
          lines.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
        })
        yield* Effect.gen(function*() {
          const bulkhead = yield* Bulkhead.make({ name: "noisy", maxConcurrent: 1 })
          const release = yield* hold(bulkhead)
          for (let i = 0; i < 5; i++) yield* Effect.either(bulkhead(Effect.void))
          yield* release
          yield* bulkhead(Effect.void)
        }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
        expect(lines).toEqual([
          "WARN bulkhead noisy is full, rejecting calls: no free slot and no room in the queue",
          "INFO bulkhead noisy has a free slot again (rejected 5 calls while full)"
        ])
      }))
  })

  describe("tracing", () => {
    it.scoped("a traced caller that waits gets a Bulkhead.wait span; an admitted one does not", () =>
      Effect.gen(function*() {
        const base = yield* Effect.tracer
        const spans: Array<string> = []
        const recording = Tracer.make({
          span: (name, ...rest) => {
            spans.push(name)
            return base.span(name, ...rest)
          },
          context: (f, fiber) => base.context(f, fiber)
        })
        const bulkhead = yield* Bulkhead.make({ name: "traced", maxConcurrent: 1, maxQueued: 1 })
        const traced = <A, E>(name: string, effect: Effect.Effect<A, E>) =>
          Effect.withSpan(bulkhead(effect), name).pipe(Effect.withTracer(recording))
        const gate = yield* Deferred.make<void>()
        const first = yield* Effect.fork(traced("first", Deferred.await(gate)))
        yield* until(bulkhead, (s) => s.active === 1)
        const second = yield* Effect.fork(traced("second", Effect.void))
        yield* until(bulkhead, (s) => s.queued === 1)
        yield* Deferred.succeed(gate, void 0)
        yield* Fiber.join(first)
        yield* Fiber.join(second)
        expect(spans).toEqual(["first", "second", "Bulkhead.wait"])
      }))
  })

  describe("layer and protect", () => {
    class Storage extends Context.Tag("test/StorageBulkhead")<Storage, Bulkhead.Bulkhead>() {}

    it.effect("protect with a tag uses the bulkhead from the layer", () =>
      Effect.gen(function*() {
        const gate = yield* Deferred.make<void>()
        const first = yield* Effect.fork(Bulkhead.protect(Deferred.await(gate), Storage))
        const bulkhead = yield* Storage
        yield* until(bulkhead, (s) => s.active === 1)
        const second = yield* Effect.either(Effect.void.pipe(Bulkhead.protect(Storage)))
        expect(second).toEqual(Either.left(rejected("queue-full", "storage")))
        yield* Deferred.succeed(gate, void 0)
        yield* Fiber.join(first)
        expect(Bulkhead.isBulkhead(bulkhead)).toBe(true)
        expect(bulkhead.name).toBe("storage")
      }).pipe(Effect.provide(Bulkhead.layer(Storage, { name: "storage", maxConcurrent: 1 }))))

    it.scoped("protect with a value, data-first and data-last", () =>
      Effect.gen(function*() {
        const bulkhead = yield* Bulkhead.make({ name: "dual", maxConcurrent: 1 })
        expect(yield* Bulkhead.protect(Effect.succeed(1), bulkhead)).toBe(1)
        expect(yield* Effect.succeed(2).pipe(Bulkhead.protect(bulkhead))).toBe(2)
        expect(Bulkhead.isBulkhead({})).toBe(false)
      }))
  })

  describe("keyed", () => {
    it.scoped("separate keys are isolated", () =>
      Effect.gen(function*() {
        const tenants = yield* Bulkhead.keyed({ name: "tenants", maxConcurrent: 1, idleTimeToLive: "1 minute" })
        const gate = yield* Deferred.make<void>()
        const busy = yield* Effect.fork(tenants.protect(Deferred.await(gate), "acme"))
        const acme = yield* Effect.scoped(tenants.get("acme"))
        yield* until(acme, (s) => s.active === 1)
        expect(yield* Effect.either(tenants.protect("acme")(Effect.void))).toEqual(
          Either.left(rejected("queue-full", "tenants/acme"))
        )
        expect(yield* tenants.protect(Effect.succeed("ok"), "globex")).toBe("ok")
        yield* Deferred.succeed(gate, void 0)
        yield* Fiber.join(busy)
        expect((yield* tenants.keys).sort()).toEqual(["acme", "globex"])
      }))

    it.scoped("idle keys are evicted after idleTimeToLive, busy ones are kept", () =>
      Effect.gen(function*() {
        const tenants = yield* Bulkhead.keyed({ name: "evict", maxConcurrent: 2, idleTimeToLive: "1 minute" })
        yield* tenants.protect(Effect.void, "idle")
        const long = yield* Effect.fork(tenants.protect(Effect.sleep("5 minutes"), "busy"))
        yield* Effect.yieldNow()
        yield* TestClock.adjust("59 seconds")
        expect((yield* tenants.keys).sort()).toEqual(["busy", "idle"])
        yield* TestClock.adjust("1 second")
        expect(yield* tenants.keys).toEqual(["busy"])
        yield* TestClock.adjust("4 minutes")
        yield* Fiber.join(long)
        yield* TestClock.adjust("1 minute")
        expect(yield* tenants.keys).toEqual([])
      }))

    it.scoped("metrics are the group's totals: one series whatever the number of keys", () =>
      Effect.gen(function*() {
        const name = "keyed-metrics"
        const tenants = yield* Bulkhead.keyed({ name, maxConcurrent: 1, maxQueued: 1, idleTimeToLive: "1 minute" })
        const gauge = (metric: Metric.Metric.Gauge<number>) =>
          Effect.map(Metric.value(metric.pipe(Metric.tagged("bulkhead", name))), (state) => state.value)
        const gates = yield* Effect.all([Deferred.make<void>(), Deferred.make<void>()])
        const running = yield* Effect.forEach(
          ["acme", "globex"] as const,
          (tenant, i) => Effect.fork(tenants.protect(Deferred.await(gates[i]!), tenant))
        )
        const acme = yield* tenants.get("acme")
        yield* until(acme, (s) => s.active === 1)
        const waiting = yield* Effect.fork(tenants.protect(Effect.void, "acme"))
        yield* until(acme, (s) => s.queued === 1)
        const globex = yield* tenants.get("globex")
        yield* until(globex, (s) => s.active === 1)
        expect([yield* gauge(Bulkhead.metrics.active), yield* gauge(Bulkhead.metrics.queued)]).toEqual([2, 1])

        yield* Effect.forEach(gates, (gate) => Deferred.succeed(gate, void 0))
        yield* Fiber.joinAll([...running, waiting])
        for (let i = 0; i < 100; i++) yield* tenants.protect(Effect.void, `tenant-${i}`)
        expect([yield* gauge(Bulkhead.metrics.active), yield* gauge(Bulkhead.metrics.queued)]).toEqual([0, 0])
        const series = (yield* Metric.snapshot).filter((pair) =>
          pair.metricKey.name === "resilience_bulkhead_active" &&
          pair.metricKey.tags.some((tag) => tag.key === "bulkhead" && tag.value === name)
        )
        expect(series.map((pair) => pair.metricKey.tags.map((tag) => `${tag.key}=${tag.value}`))).toEqual([
          [`bulkhead=${name}`]
        ])
      }))

    it.scoped("a key used again after eviction gets a fresh bulkhead", () =>
      Effect.gen(function*() {
        const tenants = yield* Bulkhead.keyed({ name: "fresh", maxConcurrent: 1, idleTimeToLive: 0 })
        yield* Effect.either(tenants.protect(Effect.fail("boom"), "a"))
        expect(yield* tenants.keys).toEqual([])
        const stats = yield* Effect.scoped(Effect.flatMap(tenants.get("a"), (b) => b.stats))
        expect(stats).toMatchObject({ active: 0, queued: 0, rejected: 0 })
      }))
  })

  describe("bad input", () => {
    const cases: Array<[Partial<Bulkhead.Bulkhead.Options> & Record<string, unknown>, string, string]> = [
      [{ maxConcurrent: 0 }, "maxConcurrent", "0"],
      [{ maxConcurrent: 1.5 }, "maxConcurrent", "1.5"],
      [{ maxConcurrent: NaN }, "maxConcurrent", "NaN"],
      [{ maxConcurrent: -1 }, "maxConcurrent", "-1"],
      [{ maxQueued: -1 }, "maxQueued", "-1"],
      [{ maxQueued: NaN }, "maxQueued", "NaN"],
      [{ maxQueued: Infinity }, "maxQueued", "Infinity"],
      [{ queueTimeout: -5 }, "queueTimeout", "-5"],
      [{ queueTimeout: NaN }, "queueTimeout", "NaN"],
      [{ queueTimeout: "-1 seconds" }, "queueTimeout", "\"-1 seconds\""],
      [{ queueTimeout: 0 }, "queueTimeout", "0"],
      [{ name: "" }, "name", "\"\""]
    ]
    for (const [patch, option, value] of cases) {
      it.scoped(`make - rejects ${option} = ${value}`, () =>
        Effect.gen(function*() {
          const error = yield* Effect.flip(Bulkhead.make({ name: "bad", maxConcurrent: 1, ...patch }))
          expect(error).toBeInstanceOf(InvalidOptions)
          expect(error).toMatchObject({ module: "Bulkhead.make", option, value })
        }))
    }

    it.effect("layer - fails to build with InvalidOptions naming Bulkhead.layer, the function called", () =>
      Effect.gen(function*() {
        class Bad extends Context.Tag("test/Bad")<Bad, Bulkhead.Bulkhead>() {}
        const exit = yield* Effect.exit(Layer.build(Bulkhead.layer(Bad, { name: "bad", maxConcurrent: 0 })).pipe(Effect.scoped))
        expect(exit).toEqual(
          Exit.fail(
            new InvalidOptions({
              module: "Bulkhead.layer",
              option: "maxConcurrent",
              value: "0",
              expected: "an integer >= 1"
            })
          )
        )
      }))

    it.scoped("keyed - rejects a negative idleTimeToLive", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Bulkhead.keyed({ name: "k", maxConcurrent: 1, idleTimeToLive: -1 }))
        expect(error).toMatchObject({ module: "Bulkhead.keyed", option: "idleTimeToLive", value: "-1" })
        expect(Cause.isCause(error)).toBe(false)
      }))
  })
})
