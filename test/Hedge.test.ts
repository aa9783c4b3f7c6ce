import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, Exit, Fiber, Metric, Ref, TestClock } from "effect"
import { InvalidOptions, Unavailable } from "../src/Errors.js"
import * as Hedge from "../src/Hedge.js"
import * as Retry from "../src/Retry.js"

const failure = (reason: "dns" | "connection-reset") => new Unavailable({ provider: "p", reason })

/**
 * A scripted call: attempt n (from 0) runs `outcomes[n]` (the last repeats). `started` counts attempts,
 * `interrupted` lists the attempts that were interrupted.
 */
const scripted = <A, E>(...outcomes: ReadonlyArray<Effect.Effect<A, E>>) =>
  Effect.gen(function*() {
    const started = yield* Ref.make(0)
    const interrupted = yield* Ref.make<ReadonlyArray<number>>([])
    const call = Effect.flatMap(Ref.getAndUpdate(started, (n) => n + 1), (n) =>
      outcomes[Math.min(n, outcomes.length - 1)]!.pipe(
        Effect.onInterrupt(() => Ref.update(interrupted, (list) => [...list, n]))
      ))
    return { call, started: Ref.get(started), interrupted: Ref.get(interrupted) }
  })

const after = <A>(millis: number, value: A) => Effect.as(Effect.sleep(Duration.millis(millis)), value)
const failAfter = <E>(millis: number, error: E) => Effect.zipRight(Effect.sleep(Duration.millis(millis)), Effect.fail(error))

/** Moves the TestClock by `millis`, then lets the woken fibers run. */
const advance = (millis: number) => Effect.zipRight(TestClock.adjust(Duration.millis(millis)), Effect.yieldNow({ priority: 0 }))

describe("Hedge", () => {
  it.effect("starts the hedge at exactly the delay, not before", () =>
    Effect.gen(function*() {
      const hedge = yield* Hedge.make({ name: "h", delay: "100 millis" })
      const { call, started } = yield* scripted(Effect.never, after(10, "hedged"))
      const fiber = yield* Effect.fork(hedge(call))
      yield* advance(99)
      expect(yield* started).toBe(1)
      yield* advance(1)
      expect(yield* started).toBe(2)
      yield* advance(10)
      expect(yield* Fiber.join(fiber)).toBe("hedged")
    }).pipe(Effect.scoped))

  it.effect("no hedge when the first attempt answers in time", () =>
    Effect.gen(function*() {
      const hedge = yield* Hedge.make({ name: "h", delay: "100 millis" })
      const { call, started } = yield* scripted(after(100 - 1, "first"))
      const fiber = yield* Effect.fork(hedge(call))
      yield* advance(500)
      expect(yield* Fiber.join(fiber)).toBe("first")
      expect(yield* started).toBe(1)
    }).pipe(Effect.scoped))

  it.effect("the first success wins and the loser is interrupted", () =>
    Effect.gen(function*() {
      const hedge = yield* Hedge.make({ name: "wins", delay: "100 millis" })
      const { call, interrupted } = yield* scripted(after(2_000, "first"), after(50, "hedged"))
      const wins = Metric.value(Hedge.metrics.wins.pipe(Metric.tagged("hedge", "wins")))
      const fiber = yield* Effect.fork(hedge(call))
      yield* advance(150)
      expect(yield* Fiber.join(fiber)).toBe("hedged")
      expect(yield* interrupted).toEqual([0])
      expect((yield* wins).count).toBe(1)
    }).pipe(Effect.scoped))

  it.effect("the loser is interrupted even when the caller runs uninterruptibly", () =>
    Effect.gen(function*() {
      const hedge = yield* Hedge.make({ name: "h", delay: "100 millis" })
      const { call, interrupted } = yield* scripted(Effect.never, after(50, "hedged"))
      const fiber = yield* Effect.fork(Effect.uninterruptible(hedge(call)))
      yield* advance(150)
      expect(yield* Fiber.join(fiber)).toBe("hedged")
      expect(yield* interrupted).toEqual([0])
    }).pipe(Effect.scoped))

  it.effect("maxHedged bounds the extra attempts, one delay apart", () =>
    Effect.gen(function*() {
      const hedge = yield* Hedge.make({ name: "h", delay: "100 millis", maxHedged: 2 })
      const { call, started } = yield* scripted(Effect.never)
      const fiber = yield* Effect.fork(hedge(call))
      yield* advance(100)
      expect(yield* started).toBe(2)
      yield* advance(100)
      expect(yield* started).toBe(3)
      yield* advance(10_000)
      expect(yield* started).toBe(3)
      yield* Fiber.interrupt(fiber)
    }).pipe(Effect.scoped))

  it.effect("an empty budget starts no hedge", () =>
    Effect.gen(function*() {
      const budget = yield* Retry.budget({ ratio: 0, minPerSecond: 0 })
      const hedge = yield* Hedge.make({ name: "broke", delay: "100 millis", budget })
      const refused = Metric.value(Hedge.metrics.refused.pipe(Metric.tagged("hedge", "broke")))
      const { call, started } = yield* scripted(after(1_000, "slow"))
      const fiber = yield* Effect.fork(hedge(call))
      yield* advance(1_000)
      expect(yield* Fiber.join(fiber)).toBe("slow")
      expect(yield* started).toBe(1)
      expect((yield* refused).count).toBe(1)
    }).pipe(Effect.scoped))

  it.effect("hedges spend the shared budget; its owner feeds it", () =>
    Effect.gen(function*() {
      const budget = yield* Retry.budget({ ratio: 0, minPerSecond: 0.2, ttl: "10 seconds" }) // two retries
      const hedge = yield* Hedge.make({ name: "h", delay: "100 millis", budget })
      const { call, started } = yield* scripted(after(200, "slow"))
      for (let i = 0; i < 3; i++) {
        const fiber = yield* Effect.fork(hedge(call))
        yield* advance(200)
        yield* Fiber.join(fiber)
      }
      // three calls, two hedges: the third found the budget empty; the hedge deposits nothing into a shared one
      expect(yield* started).toBe(5)
      expect(yield* budget.available).toBe(0)
    }).pipe(Effect.scoped))

  it.effect("a budget of its own is fed by each successful call", () =>
    Effect.gen(function*() {
      const hedge = yield* Hedge.make({ name: "h", delay: "100 millis", budget: { ratio: 1, minPerSecond: 0 } })
      const { call, started } = yield* scripted(after(200, "slow"))
      const slowCall = Effect.gen(function*() {
        const fiber = yield* Effect.fork(hedge(call))
        yield* advance(200)
        return yield* Fiber.join(fiber)
      })
      yield* slowCall
      expect(yield* started).toBe(1) // nothing deposited yet: no hedge
      yield* slowCall
      expect(yield* started).toBe(3) // the first success paid for this hedge
    }).pipe(Effect.scoped))

  it.effect("all fail: the caller gets the error of the attempt that failed last", () =>
    Effect.gen(function*() {
      const hedge = yield* Hedge.make({ name: "h", delay: "100 millis" })
      const { call } = yield* scripted(failAfter(300, failure("dns")), failAfter(50, failure("connection-reset")))
      const fiber = yield* Effect.fork(Effect.flip(hedge(call)))
      yield* advance(150) // the hedge failed first, at 150 ms; the first attempt still runs
      yield* advance(150)
      expect(yield* Fiber.join(fiber)).toEqual(failure("dns"))
    }).pipe(Effect.scoped))

  it.effect("a failure with no other attempt running ends the call at once, without a hedge", () =>
    Effect.gen(function*() {
      const hedge = yield* Hedge.make({ name: "h", delay: "100 millis" })
      const { call, started } = yield* scripted(failAfter(10, failure("dns")))
      const fiber = yield* Effect.fork(Effect.flip(hedge(call)))
      yield* advance(10)
      expect(yield* Fiber.join(fiber)).toEqual(failure("dns"))
      yield* advance(1_000)
      expect(yield* started).toBe(1)
    }).pipe(Effect.scoped))

  it.effect("interrupting the caller interrupts every attempt", () =>
    Effect.gen(function*() {
      const hedge = yield* Hedge.make({ name: "h", delay: "100 millis", maxHedged: 2 })
      const { call, interrupted, started } = yield* scripted(Effect.never)
      const fiber = yield* Effect.fork(hedge(call))
      yield* advance(200)
      expect(yield* started).toBe(3)
      yield* Fiber.interrupt(fiber)
      expect([...(yield* interrupted)].sort()).toEqual([0, 1, 2])
      yield* advance(1_000)
      expect(yield* started).toBe(3)
    }).pipe(Effect.scoped))

  it.effect("a scoped call's resource belongs to the caller's scope, not to the hedged call", () =>
    Effect.gen(function*() {
      const hedge = yield* Hedge.make({ name: "h", delay: "100 millis" })
      const log = yield* Ref.make<ReadonlyArray<string>>([])
      const note = (line: string) => Ref.update(log, (lines) => [...lines, line])
      const { call } = yield* scripted(Effect.never, after(10, "hedged"))
      // Effect<string, never, Scope>: the resource is released when the scope in context closes
      const connection = Effect.flatMap(call, (which) =>
        Effect.acquireRelease(Effect.as(note(`acquire ${which}`), which), () => note(`release ${which}`)))
      const fiber = yield* Effect.fork(Effect.scoped(Effect.gen(function*() {
        const which = yield* hedge(connection)
        yield* note(`use ${which}`)
        yield* Effect.sleep(Duration.millis(50))
        yield* note("caller scope closing")
      })))
      yield* advance(110)
      expect(yield* Ref.get(log)).toEqual(["acquire hedged", "use hedged"])
      yield* advance(50)
      yield* Fiber.join(fiber)
      expect(yield* Ref.get(log)).toEqual(["acquire hedged", "use hedged", "caller scope closing", "release hedged"])
    }).pipe(Effect.scoped))

  describe("percentile delay", () => {
    /** Runs one call per latency (each answered by its first attempt) so the hedge records them. */
    const feed = (hedge: Hedge.Hedge, latencies: ReadonlyArray<number>) =>
      Effect.forEach(latencies, (millis) =>
        Effect.gen(function*() {
          const fiber = yield* Effect.fork(hedge(after(millis, millis)))
          yield* advance(millis)
          yield* Fiber.join(fiber)
        }), { discard: true })

    it.effect("initial until minSamples, then the percentile of the window", () =>
      Effect.gen(function*() {
        const hedge = yield* Hedge.make({
          name: "p",
          delay: { percentile: 0.9, initial: "1 second", window: 20, minSamples: 10 },
          budget: { minPerSecond: 1_000 }
        })
        expect(yield* hedge.delay).toEqual(Duration.seconds(1))
        yield* feed(hedge, [10, 20, 30, 40, 50, 60, 70, 80, 90])
        expect(yield* hedge.delay).toEqual(Duration.seconds(1)) // 9 samples: not trusted yet
        yield* feed(hedge, [100])
        expect(yield* hedge.delay).toEqual(Duration.millis(90)) // nearest rank: the 9th of 10
        yield* feed(hedge, Array(10).fill(5))
        expect(yield* hedge.delay).toEqual(Duration.millis(80)) // the 18th of 20
      }).pipe(Effect.scoped))

    it.effect("the window forgets the oldest latencies", () =>
      Effect.gen(function*() {
        const hedge = yield* Hedge.make({
          name: "p",
          delay: { percentile: 0.5, initial: "1 second", window: 4, minSamples: 4 },
          budget: { minPerSecond: 1_000 }
        })
        yield* feed(hedge, [400, 400, 400, 400])
        expect(yield* hedge.delay).toEqual(Duration.millis(400))
        yield* feed(hedge, [10, 10, 10])
        expect(yield* hedge.delay).toEqual(Duration.millis(10))
      }).pipe(Effect.scoped))

    it.effect("the delay in force starts the hedge", () =>
      Effect.gen(function*() {
        const hedge = yield* Hedge.make({
          name: "p",
          delay: { percentile: 0.5, initial: "1 second", window: 2, minSamples: 2 },
          budget: { minPerSecond: 1_000 }
        })
        yield* feed(hedge, [30, 30])
        const { call, started } = yield* scripted(Effect.never, after(5, "hedged"))
        const fiber = yield* Effect.fork(hedge(call))
        yield* advance(29)
        expect(yield* started).toBe(1)
        yield* advance(1)
        expect(yield* started).toBe(2)
        yield* advance(5)
        expect(yield* Fiber.join(fiber)).toBe("hedged")
        // the winner's own latency (5 ms from its start) joins the window
        expect(yield* hedge.delay).toEqual(Duration.millis(5))
      }).pipe(Effect.scoped))
  })

  it.effect("protect and layer: a hedge behind your own tag", () =>
    Effect.gen(function*() {
      class Reads extends Context.Tag("test/Reads")<Reads, Hedge.Hedge>() {}
      const { call, started } = yield* scripted(Effect.never, after(10, "hedged"))
      const fiber = yield* Effect.fork(
        call.pipe(Hedge.protect(Reads), Effect.provide(Hedge.layer(Reads, { name: "reads", delay: "50 millis" })))
      )
      yield* advance(60)
      expect(yield* Fiber.join(fiber)).toBe("hedged")
      expect(yield* started).toBe(2)
    }))

  it.effect("bad options fail with InvalidOptions naming the option", () =>
    Effect.gen(function*() {
      const bad = (options: Hedge.Hedge.Options) => Effect.flip(Effect.scoped(Hedge.make(options)))
      const cases: ReadonlyArray<readonly [Hedge.Hedge.Options, string]> = [
        [{ name: "", delay: "1 second" }, "name"],
        [{ name: "h", delay: 0 }, "delay"],
        [{ name: "h", delay: "1 second", maxHedged: 0 }, "maxHedged"],
        [{ name: "h", delay: { percentile: 0, initial: "1 second" } }, "delay.percentile"],
        [{ name: "h", delay: { percentile: 1.5, initial: "1 second" } }, "delay.percentile"],
        [{ name: "h", delay: { percentile: 0.9, initial: -1 } }, "delay.initial"],
        [{ name: "h", delay: { percentile: 0.9, initial: "1 second", window: 10, minSamples: 11 } }, "delay.minSamples"],
        [{ name: "h", delay: "1 second", budget: { ratio: 2 } }, "ratio"],
        [{ name: "h", delay: "1 second", budget: 3 as any }, "budget"]
      ]
      for (const [options, option] of cases) {
        const error = yield* bad(options)
        expect(error).toBeInstanceOf(InvalidOptions)
        expect(error.option).toBe(option)
      }
      expect(Exit.isSuccess(yield* Effect.exit(Effect.scoped(Hedge.make({ name: "h", delay: "1 second" }))))).toBe(true)
    }))
})
