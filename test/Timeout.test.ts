import { describe, expect, it } from "@effect/vitest"
import {
  Chunk,
  Clock,
  Context,
  Deferred,
  Duration,
  Effect,
  Exit,
  Fiber,
  FiberRef,
  Option,
  Ref,
  RuntimeFlags,
  RuntimeFlagsPatch,
  TestClock
} from "effect"
import { InvalidOptions, Timeout as TimeoutError } from "../src/Errors.js"
import * as Timeout from "../src/Timeout.js"

/** Milliseconds left on the active deadline, or -1 without one. */
const leftMillis = Effect.map(Timeout.remaining, Option.match({ onNone: () => -1, onSome: Duration.toMillis }))

describe("Timeout", () => {
  describe("attempt", () => {
    it.effect("attempt - fails with Timeout { scope: attempt } at d and interrupts the work", () =>
      Effect.gen(function*() {
        const interrupted = yield* Ref.make(false)
        const work = Effect.never.pipe(Effect.onInterrupt(() => Ref.set(interrupted, true)))
        const fiber = yield* work.pipe(Timeout.attempt("2 seconds", { provider: "auth" }), Effect.flip, Effect.fork)
        yield* TestClock.adjust("1999 millis")
        expect(fiber.unsafePoll()).toBeNull()
        yield* TestClock.adjust("1 millis")
        const error = yield* Fiber.join(fiber)
        expect(error).toEqual(new TimeoutError({ scope: "attempt", after: Duration.seconds(2), provider: "auth" }))
        expect(error.message).toBe("auth did not answer within 2s (attempt timeout)")
        yield* Effect.yieldNow()
        expect(yield* Ref.get(interrupted)).toBe(true)
      }))

    it.effect("attempt - a result before the limit passes through, as does the work's own error", () =>
      Effect.gen(function*() {
        const ok = yield* Effect.fork(Effect.as(Effect.sleep("1 second"), "ok").pipe(Timeout.attempt("2 seconds")))
        yield* TestClock.adjust("1 second")
        expect(yield* Fiber.join(ok)).toBe("ok")
        const failed = yield* Effect.fail("boom").pipe(Timeout.attempt("2 seconds"), Effect.flip)
        expect(failed).toBe("boom")
      }))

    it.effect("attempt - an uninterruptible body still times out at d; its finalizer runs when it really ends", () =>
      Effect.gen(function*() {
        const released = yield* Ref.make<number | undefined>(undefined)
        const body = Effect.acquireRelease(
          Effect.void,
          () => Effect.flatMap(TestClock.currentTimeMillis, (now) => Ref.set(released, now))
        ).pipe(Effect.zipRight(Effect.sleep("5 seconds")), Effect.scoped, Effect.uninterruptible)
        const fiber = yield* body.pipe(Timeout.attempt("1 second"), Effect.exit, Effect.fork)
        yield* TestClock.adjust("1 second")
        const exit = yield* Fiber.join(fiber)
        expect(exit).toEqual(Exit.fail(new TimeoutError({ scope: "attempt", after: Duration.seconds(1) })))
        expect(yield* Ref.get(released)).toBeUndefined()
        yield* TestClock.adjust("4 seconds")
        yield* Effect.yieldNow()
        expect(yield* Ref.get(released)).toBe(5000)
      }))

    it.effect("attempt - interrupting the caller interrupts the work", () =>
      Effect.gen(function*() {
        const started = yield* Deferred.make<void>()
        const interrupted = yield* Ref.make(false)
        const work = Deferred.succeed(started, undefined).pipe(
          Effect.zipRight(Effect.never),
          Effect.onInterrupt(() => Ref.set(interrupted, true))
        )
        const fiber = yield* Effect.fork(Timeout.attempt(work, "10 seconds"))
        yield* Deferred.await(started)
        yield* Fiber.interrupt(fiber)
        yield* Effect.yieldNow()
        expect(yield* Ref.get(interrupted)).toBe(true)
      }))

    it.effect.each([
      ["attempt", Timeout.attempt("1 hour")],
      ["total", Timeout.total("1 hour")]
    ] as const)("%s - a caller interrupted while it yields, wherever that falls, interrupts the work", ([, timeout]) =>
      Effect.gen(function*() {
        // Effect's run loop yields every 2048 steps: n steps before the call put that yield at each step
        // around it, and the caller is interrupted while it yields.
        const busy = (n: number) =>
          Array.from({ length: n }).reduce<Effect.Effect<void>>((effect) => Effect.flatMap(effect, () => Effect.void), Effect.void)
        const leaked: Array<number> = []
        for (let n = 960; n < 1060; n++) {
          const state = { started: false, interrupted: false }
          const work = Effect.sync(() => void (state.started = true)).pipe(
            Effect.zipRight(Effect.never),
            Effect.onInterrupt(() => Effect.sync(() => void (state.interrupted = true)))
          )
          const caller = yield* Effect.fork(Effect.zipRight(busy(n), timeout(work)))
          yield* Effect.yieldNow()
          yield* Fiber.interrupt(caller)
          for (let i = 0; i < 3; i++) yield* Effect.yieldNow()
          if (state.started && !state.interrupted) leaked.push(n)
        }
        expect(leaked).toEqual([])
      }))

    it("attempt - invalid durations throw InvalidOptions when the combinator is built", () => {
      const invalid = (option: string) => expect.objectContaining({ _tag: "InvalidOptions", option })
      expect(() => Timeout.attempt(-1)).toThrow(
        "Timeout.attempt: option duration must be a finite duration > 0, got -1"
      )
      expect(() => Timeout.attempt(NaN)).toThrow(InvalidOptions)
      expect(() => Timeout.attempt(0)).toThrow(invalid("duration"))
      expect(() => Timeout.attempt(Effect.void, "100ms" as Duration.DurationInput)).toThrow(invalid("duration"))
      expect(() => Timeout.total(Duration.infinity)).toThrow(expect.objectContaining({ module: "Timeout.total" }))
      expect(() => Timeout.attempt("1 second", { provider: "" })).toThrow(invalid("provider"))
    })
  })

  describe("total", () => {
    it.effect("total - fails with Timeout { scope: total, after: its duration } at the deadline", () =>
      Effect.gen(function*() {
        const fiber = yield* Effect.never.pipe(Timeout.total("3 seconds"), Effect.flip, Effect.fork)
        yield* TestClock.adjust("3 seconds")
        expect(yield* Fiber.join(fiber)).toEqual(new TimeoutError({ scope: "total", after: Duration.seconds(3) }))
      }))

    it.effect("total - remaining reads the time left, and none outside a total", () =>
      Effect.gen(function*() {
        expect(yield* leftMillis).toBe(-1)
        const fiber = yield* Effect.fork(
          Effect.zipRight(Effect.sleep("400 millis"), leftMillis).pipe(Timeout.total("1 second"))
        )
        yield* TestClock.adjust("400 millis")
        expect(yield* Fiber.join(fiber)).toBe(600)
        expect(yield* leftMillis).toBe(-1)
      }))

    it.effect("total - an attempt inside shrinks to the time left and fails as the total", () =>
      Effect.gen(function*() {
        const attempts = yield* Ref.make(0)
        const slowCall = Ref.update(attempts, (n) => n + 1).pipe(Effect.zipRight(Effect.never))
        const program = Effect.sleep("700 millis").pipe(
          Effect.zipRight(slowCall.pipe(Timeout.attempt("5 seconds"))),
          Timeout.total("1 second"),
          Effect.flip
        )
        const fiber = yield* Effect.fork(program)
        yield* TestClock.adjust("1 second")
        expect(yield* Fiber.join(fiber)).toEqual(new TimeoutError({ scope: "total", after: Duration.seconds(1) }))
        expect(yield* Ref.get(attempts)).toBe(1)
      }))

    it.effect("total - an attempt whose limit ends exactly at the deadline fails as the total, not retryable", () =>
      Effect.gen(function*() {
        // the second attempt starts with exactly its own limit left
        const program = Effect.never.pipe(
          Timeout.attempt("1 second"),
          Effect.catchTag("Timeout", (error) => error.scope === "attempt" ? Effect.never.pipe(Timeout.attempt("1 second")) : Effect.fail(error)),
          Timeout.total("2 seconds"),
          Effect.flip
        )
        const fiber = yield* Effect.fork(program)
        yield* TestClock.adjust("2 seconds")
        expect(yield* Fiber.join(fiber)).toEqual(new TimeoutError({ scope: "total", after: Duration.seconds(2) }))
      }))

    it.effect("attempt - a duration past the timer limit (24 days) is refused: it would never fire", () =>
      Effect.sync(() => {
        expect(() => Timeout.attempt("25 days")).toThrow(InvalidOptions)
        expect(() => Timeout.total("30 days")).toThrow(/at most 24 days/)
        expect(() => Timeout.attempt("24 days")).not.toThrow()
      }))

    it.effect("total - an attempt started with no time left fails at once without running the work", () =>
      Effect.gen(function*() {
        const attempts = yield* Ref.make(0)
        const call = Ref.update(attempts, (n) => n + 1)
        // A daemon child outlives the total that set its deadline, then makes a guarded call.
        const late = Effect.zipRight(Effect.sleep("2 seconds"), call.pipe(Timeout.attempt("1 second"), Effect.flip))
        const parent = yield* Effect.fork(Effect.forkDaemon(late).pipe(Timeout.total("1 second")))
        const child = yield* Fiber.join(parent)
        yield* TestClock.adjust("2 seconds")
        expect(yield* Fiber.join(child)).toEqual(new TimeoutError({ scope: "total", after: Duration.seconds(1) }))
        expect(yield* Ref.get(attempts)).toBe(0)
      }))

    it.effect("total - a nested total keeps the earlier deadline", () =>
      Effect.gen(function*() {
        const shorterOutside = yield* Effect.fork(
          leftMillis.pipe(Timeout.total("5 seconds"), Timeout.total("1 second"))
        )
        expect(yield* Fiber.join(shorterOutside)).toBe(1000)
        const shorterInside = yield* Effect.fork(leftMillis.pipe(Timeout.total("1 second"), Timeout.total("5 seconds")))
        expect(yield* Fiber.join(shorterInside)).toBe(1000)
        // the longer inner total still fails at the outer deadline, with the outer's duration
        const fiber = yield* Effect.fork(
          Effect.never.pipe(Timeout.total("5 seconds"), Timeout.total("1 second"), Effect.flip)
        )
        yield* TestClock.adjust("1 second")
        expect(yield* Fiber.join(fiber)).toEqual(new TimeoutError({ scope: "total", after: Duration.seconds(1) }))
      }))

    it.effect("total - forked children inherit the deadline", () =>
      Effect.gen(function*() {
        const program = Effect.gen(function*() {
          yield* Effect.sleep("300 millis")
          const child = yield* Effect.fork(leftMillis)
          const daemon = yield* Effect.forkDaemon(leftMillis)
          return [yield* Fiber.join(child), yield* Fiber.join(daemon)]
        }).pipe(Timeout.total("1 second"))
        const fiber = yield* Effect.fork(program)
        yield* TestClock.adjust("300 millis")
        expect(yield* Fiber.join(fiber)).toEqual([700, 700])
      }))

    it.effect("total - a daemon child's attempt is bounded by the inherited deadline", () =>
      Effect.gen(function*() {
        const daemon = yield* Effect.fork(
          Effect.forkDaemon(Effect.never.pipe(Timeout.attempt("1 minute"), Effect.flip)).pipe(
            Timeout.total("2 seconds")
          )
        )
        const child = yield* Fiber.join(daemon)
        yield* TestClock.adjust("2 seconds")
        expect(yield* Fiber.join(child)).toEqual(new TimeoutError({ scope: "total", after: Duration.seconds(2) }))
      }))

    it.effect("total - an uninterruptible body still fails at the deadline", () =>
      Effect.gen(function*() {
        const ended = yield* Ref.make(false)
        const body = Effect.sleep("10 seconds").pipe(Effect.ensuring(Ref.set(ended, true)), Effect.uninterruptible)
        const fiber = yield* body.pipe(Timeout.total("1 second"), Effect.flip, Effect.fork)
        yield* TestClock.adjust("1 second")
        expect((yield* Fiber.join(fiber)).scope).toBe("total")
        expect(yield* Ref.get(ended)).toBe(false)
        yield* TestClock.adjust("9 seconds")
        yield* Effect.yieldNow()
        expect(yield* Ref.get(ended)).toBe(true)
      }))
  })

  // Effect's live clock gets a plain timer (no fiber to sleep in); these run on real time, briefly,
  // because that path is the one TestClock cannot reach.
  describe("on the live clock", () => {
    const pendingTimers = () => process.getActiveResourcesInfo().filter((name) => name === "Timeout").length

    it.live("the limit wins over work that ignores interruption, which ends later in the background", () =>
      Effect.gen(function*() {
        const ended = yield* Deferred.make<void>()
        const work = Effect.sleep("300 millis").pipe(Effect.zipRight(Deferred.succeed(ended, undefined)), Effect.uninterruptible)
        const error = yield* work.pipe(Timeout.attempt("20 millis"), Effect.flip)
        expect(error).toEqual(new TimeoutError({ scope: "attempt", after: Duration.millis(20) }))
        expect(yield* Deferred.isDone(ended)).toBe(false)
        yield* Deferred.await(ended)
      }))

    it.live("work that ends first stops its timers: none is left pending", () =>
      Effect.gen(function*() {
        const before = pendingTimers()
        const call = Effect.sleep("1 millis").pipe(Effect.as(1), Timeout.attempt("1 minute"), Timeout.total("2 minutes"))
        const values = yield* Effect.forEach(Array.from({ length: 20 }), () => call)
        expect(values).toEqual(Array.from({ length: 20 }, () => 1))
        // 40 timers would be left if none were stopped; a few may be other tests' (Redis clients, servers)
        expect(pendingTimers() - before).toBeLessThan(10)
      }))
  })

  describe("the work's fiber", () => {
    it.effect("a work that ends at once starts no timer, and hands its fiber refs back on success, as Effect.timeout does", () =>
      Effect.gen(function*() {
        const ref = FiberRef.unsafeMake("before")
        const value = yield* FiberRef.set(ref, "set by the work").pipe(Effect.as(1), Timeout.attempt("2 seconds"))
        expect(value).toBe(1)
        expect(yield* FiberRef.get(ref)).toBe("set by the work")
        // no timer was left registered with the clock
        expect(yield* TestClock.sleeps()).toEqual(Chunk.empty())
        const asyncWork = FiberRef.set(ref, "after a sleep").pipe(Effect.delay("1 second"), Timeout.total("2 seconds"))
        const fiber = yield* Effect.fork(Effect.zipRight(asyncWork, FiberRef.get(ref)))
        yield* TestClock.adjust("1 second")
        expect(yield* Fiber.join(fiber)).toBe("after a sleep")
      }))

    it.effect("the work's refs come back from every kind of caller fiber, and a ref it set and restored changes nothing", () =>
      Effect.gen(function*() {
        const ref = FiberRef.unsafeMake("before")
        // each fiber of a concurrent forEach holds refs that every fork resets (Effect's fork scope override)
        const seen = yield* Effect.forEach(
          ["a", "b"],
          (name) =>
            FiberRef.set(ref, name).pipe(Timeout.attempt("2 seconds"), Timeout.total("5 seconds"), Effect.zipRight(FiberRef.get(ref))),
          { concurrency: 2 }
        )
        expect(seen).toEqual(["a", "b"])
        const other = FiberRef.unsafeMake("before")
        const restored = yield* Effect.locally(Effect.void, other, "inside").pipe(
          Timeout.attempt("2 seconds"),
          Effect.zipRight(FiberRef.get(other))
        )
        expect(restored).toBe("before")
      }))

    it.effect("runtime flags the work changes come back on success, as Fiber.join hands them back", () =>
      Effect.gen(function*() {
        const noYielding = Effect.patchRuntimeFlags(RuntimeFlagsPatch.disable(RuntimeFlags.CooperativeYielding))
        const yielding = Effect.map(Effect.getRuntimeFlags, RuntimeFlags.cooperativeYielding)
        expect(yield* yielding).toBe(true)
        // ends at once
        expect(yield* noYielding.pipe(Timeout.attempt("2 seconds"), Effect.zipRight(yielding))).toBe(false)
        // ends after its first asynchronous step, inside a total
        const later = Effect.zipRight(Effect.sleep("1 second"), noYielding).pipe(
          Timeout.attempt("2 seconds"),
          Timeout.total("5 seconds"),
          Effect.zipRight(yielding)
        )
        const fiber = yield* Effect.fork(later)
        yield* TestClock.adjust("1 second")
        expect(yield* Fiber.join(fiber)).toBe(false)
      }))

    it.effect("a total's deadline ends with it: the caller has none afterwards, whether the work succeeded or failed", () =>
      Effect.gen(function*() {
        expect(yield* Effect.void.pipe(Timeout.total("5 seconds"), Effect.zipRight(leftMillis))).toBe(-1)
        expect(yield* Effect.fail("boom").pipe(Timeout.total("5 seconds"), Effect.ignore, Effect.zipRight(leftMillis))).toBe(-1)
        const inner = Effect.void.pipe(Timeout.total("1 second"), Effect.zipRight(leftMillis))
        expect(yield* inner.pipe(Timeout.total("5 seconds"))).toBe(5000)
      }))

    it.effect("the work runs with the caller's context and is interrupted, not awaited, when the caller is", () =>
      Effect.gen(function*() {
        class Name extends Context.Tag("test/Name")<Name, string>() {}
        expect(yield* Effect.provideService(Name.pipe(Timeout.attempt("1 second")), Name, "acme")).toBe("acme")
        const started = yield* Deferred.make<void>()
        const interrupted = yield* Deferred.make<void>()
        const work = Deferred.succeed(started, undefined).pipe(
          Effect.zipRight(Effect.never),
          Effect.onInterrupt(() => Deferred.succeed(interrupted, undefined))
        )
        const fiber = yield* work.pipe(Timeout.attempt("1 minute"), Timeout.total("2 minutes"), Effect.fork)
        yield* Deferred.await(started)
        yield* Fiber.interrupt(fiber)
        yield* Deferred.await(interrupted)
        expect(Exit.isInterrupted(yield* Fiber.await(fiber))).toBe(true)
      }))

    it.effect("the timer stops when the work ends first, even for a caller in an uninterruptible region", () =>
      Effect.gen(function*() {
        const timerStopped = yield* Deferred.make<void>()
        // a Clock whose sleeps never end and report their interruption
        const clock: Clock.Clock = {
          [Clock.ClockTypeId]: Clock.ClockTypeId,
          unsafeCurrentTimeMillis: () => 0,
          unsafeCurrentTimeNanos: () => BigInt(0),
          currentTimeMillis: Effect.succeed(0),
          currentTimeNanos: Effect.succeed(BigInt(0)),
          sleep: () => Effect.onInterrupt(Effect.never, () => Deferred.succeed(timerStopped, undefined))
        }
        const work = Effect.as(Effect.yieldNow(), "done")
        const result = yield* work.pipe(Timeout.attempt("1 minute"), Effect.uninterruptible, Effect.withClock(clock))
        expect(result).toBe("done")
        yield* Deferred.await(timerStopped)
      }))
  })
})
