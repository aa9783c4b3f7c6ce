import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Chunk,
  Context,
  Deferred,
  Duration,
  Effect,
  Either,
  Exit,
  Fiber,
  Layer,
  Metric,
  MetricState,
  Random,
  Ref,
  Schedule,
  Scheduler,
  Scope,
  Stream,
  TestClock
} from "effect"
import * as Backoff from "../src/Backoff.js"
import * as Bulkhead from "../src/Bulkhead.js"
import * as CircuitBreaker from "../src/CircuitBreaker.js"
import { thrown } from "./support/invalidOptions.js"
import {
  BulkheadFull,
  CircuitOpen,
  ClientError,
  InvalidOptions,
  isTransient,
  RateLimited,
  Timeout,
  Unavailable
} from "../src/Errors.js"

const unavailable = new Unavailable({ provider: "p", reason: "status", status: 503 })
const failing = Effect.fail(unavailable)
const throttled = Effect.fail(new RateLimited({ provider: "p", reason: "provider", retryAfter: Duration.seconds(2) }))
const refusedLocally = Effect.fail(new RateLimited({ provider: "p", reason: "local" }))
const attemptTimeout = Effect.fail(new Timeout({ provider: "p", scope: "attempt", after: Duration.seconds(1) }))
const deadlineSpent = Effect.fail(new Timeout({ provider: "p", scope: "total", after: Duration.seconds(10) }))
const ok = Effect.succeed("ok")

/** A breaker that opens on one failure, for 1 s, then 2 s, 4 s...; optionally restored from an export. */
const oneFailureExponential = (restore?: CircuitBreaker.Exported) =>
  CircuitBreaker.make({
    policy: CircuitBreaker.consecutive(1),
    openFor: Schedule.exponential("1 second"),
    ...(restore === undefined ? {} : { restore })
  })

const attempt = <A, E>(breaker: CircuitBreaker.CircuitBreaker, effect: Effect.Effect<A, E>) =>
  Effect.either(breaker.protect(effect))

const failTimes = (breaker: CircuitBreaker.CircuitBreaker, n: number) =>
  Effect.repeatN(attempt(breaker, failing), n - 1)

const rejection = (result: Either.Either<unknown, unknown>): CircuitOpen => {
  if (Either.isLeft(result) && result.left instanceof CircuitOpen) return result.left
  throw new Error(`expected a CircuitOpen rejection, got ${JSON.stringify(result)}`)
}

/**
 * `changes` subscribes when the stream starts running: give a forked consumer a few turns of the
 * scheduler (no time passes) before the first transition.
 */
const subscribed = Effect.repeatN(Effect.yieldNow(), 10)

/** Spins until `condition` holds; the forked fibers it waits for make progress on every yield. */
const waitUntil = (condition: Effect.Effect<boolean>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 10_000; i++) {
      if (yield* condition) return
      yield* Effect.yieldNow()
    }
    throw new Error("condition never held")
  })

/**
 * A call that hangs until released: `admitted` tells whether the breaker let it run, `release` completes it
 * with the given exit, `fiber` is the caller.
 */
const hold = (breaker: CircuitBreaker.CircuitBreaker) =>
  Effect.gen(function*() {
    const started = yield* Deferred.make<void>()
    const gate = yield* Deferred.make<string, Unavailable | ClientError>()
    const fiber = yield* Effect.fork(
      attempt(breaker, Effect.zipRight(Deferred.succeed(started, undefined), Deferred.await(gate)))
    )
    const admitted = yield* Effect.raceFirst(
      Effect.as(Deferred.await(started), true),
      Effect.as(Fiber.await(fiber), false)
    )
    const release = (exit: Exit.Exit<string, Unavailable | ClientError>) =>
      Effect.zipRight(Deferred.done(gate, exit), Fiber.join(fiber))
    return { admitted, fiber, release }
  })

/**
 * A scheduler that makes the fiber yield once, at its first check after the breaker's committed state
 * is `state`: the runtime does the same on its own every 2048 operations, at any point.
 */
const yieldOnceIn = (breaker: CircuitBreaker.CircuitBreaker, state: CircuitBreaker.State) => {
  let yielded = false
  const scheduler: Scheduler.Scheduler = {
    shouldYield: () => {
      if (yielded || (breaker as any).core.state !== state) return false
      yielded = true
      return 0
    },
    scheduleTask: (task, priority) => Scheduler.defaultScheduler.scheduleTask(task, priority)
  }
  return { scheduler, yielded: () => yielded }
}

/** The break (ms) of every opening from now on. */
const collectBreaks = (breaker: CircuitBreaker.CircuitBreaker) =>
  Effect.gen(function*() {
    const seen = yield* Ref.make<Array<number>>([])
    yield* Effect.forkScoped(
      Stream.runForEach(
        breaker.changes,
        (c) => c.breakFor === undefined ? Effect.void : Ref.update(seen, (all) => [...all, Duration.toMillis(c.breakFor!)])
      )
    )
    yield* subscribed
    return Effect.zipRight(Effect.yieldNow(), Ref.get(seen))
  })

const collectChanges = (breaker: CircuitBreaker.CircuitBreaker) =>
  Effect.gen(function*() {
    const seen = yield* Ref.make<Array<string>>([])
    yield* Effect.forkScoped(
      Stream.runForEach(breaker.changes, (c) => Ref.update(seen, (all) => [...all, `${c.from}>${c.to}:${c.why}`]))
    )
    yield* subscribed
    return Effect.zipRight(Effect.yieldNow(), Ref.get(seen))
  })

interface PolicyCase {
  readonly name: string
  readonly policy: () => CircuitBreaker.Policy<any>
  /** Failures in a row (from a fresh breaker) that trip it, at one call per 100 ms. */
  readonly trips: number
}

const policyCases: ReadonlyArray<PolicyCase> = [
  { name: "consecutive(3)", policy: () => CircuitBreaker.consecutive(3), trips: 3 },
  {
    name: "failureRate over 4 calls",
    policy: () => CircuitBreaker.failureRate({ threshold: 0.5, window: { calls: 4 }, minimumThroughput: 3 }),
    trips: 3
  },
  {
    name: "failureRate over 10 seconds",
    policy: () => CircuitBreaker.failureRate({ threshold: 0.5, window: "10 seconds", minimumThroughput: 3 }),
    trips: 3
  },
  {
    name: "failureRate with slow calls",
    policy: () =>
      CircuitBreaker.failureRate({
        threshold: 1,
        window: { calls: 5 },
        minimumThroughput: 3,
        slowCall: { slowerThan: "1 second", threshold: 0.5 }
      }),
    trips: 3
  }
]

describe.each(policyCases)("CircuitBreaker with $name", ({ policy, trips }) => {
  const make = (options: Partial<CircuitBreaker.CircuitBreaker.Options> = {}) =>
    CircuitBreaker.make({ name: "b", policy: policy(), openFor: "1 second", ...options })

  /** Trips the breaker with one failure every 100 ms; the last one lands at the current time. */
  const trip = (breaker: CircuitBreaker.CircuitBreaker) =>
    Effect.zipRight(
      attempt(breaker, failing),
      Effect.replicateEffect(Effect.zipRight(TestClock.adjust("100 millis"), attempt(breaker, failing)), trips - 1)
    )

  it.scoped("closed - stays closed one failure short of the policy, opens on the next", () =>
    Effect.gen(function*() {
      const breaker = yield* make()
      if (trips > 1) {
        yield* Effect.repeatN(Effect.zipRight(attempt(breaker, failing), TestClock.adjust("100 millis")), trips - 2)
      }
      expect(yield* breaker.state).toBe("closed")
      yield* attempt(breaker, failing)
      expect(yield* breaker.state).toBe("open")
    }))

  it.scoped("open - rejects without running the effect, with the time left as retryAfter", () =>
    Effect.gen(function*() {
      const breaker = yield* make()
      yield* trip(breaker)
      const runs = yield* Ref.make(0)
      const error = rejection(yield* attempt(breaker, Ref.update(runs, (n) => n + 1)))
      expect(error.reason).toBe("open")
      expect(error.breaker).toBe("b")
      expect(error.retryAfter).toEqual(Duration.seconds(1))
      expect(yield* Ref.get(runs)).toBe(0)
    }))

  it.scoped("open - rejected at openFor - 1 ms, probe admitted at openFor", () =>
    Effect.gen(function*() {
      const breaker = yield* make()
      yield* trip(breaker)
      yield* TestClock.adjust("999 millis")
      const error = rejection(yield* attempt(breaker, ok))
      expect(error.retryAfter).toEqual(Duration.millis(1))
      expect(yield* breaker.state).toBe("open")
      yield* TestClock.adjust("1 millis")
      expect(yield* breaker.state).toBe("half-open")
      expect(yield* attempt(breaker, ok)).toEqual(Either.right("ok"))
      expect(yield* breaker.state).toBe("closed")
    }))

  it.scoped("half-open - a failed probe reopens for a full break", () =>
    Effect.gen(function*() {
      const breaker = yield* make()
      yield* trip(breaker)
      yield* TestClock.adjust("1 second")
      expect(yield* attempt(breaker, failing)).toEqual(Either.left(unavailable))
      expect(yield* breaker.state).toBe("open")
      expect(rejection(yield* attempt(breaker, ok)).retryAfter).toEqual(Duration.seconds(1))
    }))

  it.scoped("closed - counts start afresh after the breaker closes", () =>
    Effect.gen(function*() {
      const breaker = yield* make()
      yield* trip(breaker)
      yield* TestClock.adjust("1 second")
      yield* attempt(breaker, ok)
      expect(yield* breaker.state).toBe("closed")
      expect((yield* breaker.snapshot).calls).toBe(0)
      if (trips > 1) yield* failTimes(breaker, trips - 1)
      expect(yield* breaker.state).toBe("closed")
    }))

  it.scoped("late outcomes - a failure that lands after the breaker opened changes nothing", () =>
    Effect.gen(function*() {
      const breaker = yield* make()
      const late = yield* hold(breaker)
      expect(late.admitted).toBe(true)
      yield* trip(breaker)
      const before = yield* breaker.exportState
      yield* late.release(Exit.fail(unavailable))
      expect(yield* breaker.exportState).toEqual(before)
    }))

  it.scoped("late outcomes - a success from before the breaker opened does not close it", () =>
    Effect.gen(function*() {
      const breaker = yield* make()
      const late = yield* hold(breaker)
      yield* trip(breaker)
      yield* TestClock.adjust("1 second")
      expect(yield* breaker.state).toBe("half-open")
      yield* late.release(Exit.succeed("late"))
      expect(yield* breaker.state).toBe("half-open")
      expect((yield* breaker.snapshot).probesSucceeded).toBe(0)
    }))

  it.scoped("export / restore - a fresh breaker adopts an open state and its remaining break", () =>
    Effect.gen(function*() {
      const first = yield* make()
      yield* trip(first)
      yield* TestClock.adjust("400 millis")
      const exported = yield* first.exportState
      const json = JSON.parse(JSON.stringify(exported))
      const second = yield* make({ restore: json })
      expect(yield* second.state).toBe("open")
      expect(rejection(yield* attempt(second, ok)).retryAfter).toEqual(Duration.millis(600))
      yield* TestClock.adjust("600 millis")
      expect(yield* attempt(second, ok)).toEqual(Either.right("ok"))
    }))
})

describe("CircuitBreaker", () => {
  it.scoped("half-open - 1000 concurrent callers and probes = 3 run the effect exactly 3 times", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({
        policy: CircuitBreaker.consecutive(1),
        openFor: "1 second",
        halfOpen: { probes: 3 }
      })
      yield* attempt(breaker, failing)
      yield* TestClock.adjust("1 second")
      const runs = yield* Ref.make(0)
      const gate = yield* Deferred.make<void>()
      const results = yield* Effect.fork(
        Effect.forEach(
          Array.from({ length: 1000 }),
          () => attempt(breaker, Effect.zipRight(Ref.update(runs, (n) => n + 1), Deferred.await(gate))),
          { concurrency: "unbounded" }
        )
      )
      yield* waitUntil(Effect.map(breaker.snapshot, (s) => s.rejected === 997 && s.probesInFlight === 3))
      expect(yield* Ref.get(runs)).toBe(3)
      yield* Deferred.succeed(gate, undefined)
      const all = yield* Fiber.join(results)
      expect(yield* Ref.get(runs)).toBe(3)
      const rejected = all.filter(Either.isLeft).map((r) => rejection(r))
      expect(rejected.length).toBe(997)
      expect(new Set(rejected.map((e) => e.reason))).toEqual(new Set(["half-open-full"]))
      expect(yield* breaker.state).toBe("closed")
    }))

  it.scoped("half-open - all probes must succeed to close; a rejected caller learns when a slot frees at the latest", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({
        policy: CircuitBreaker.consecutive(1),
        openFor: "1 second",
        halfOpen: { probes: 2, maxWait: "5 seconds" }
      })
      yield* attempt(breaker, failing)
      yield* TestClock.adjust("1 second")
      expect(yield* attempt(breaker, ok)).toEqual(Either.right("ok"))
      expect(yield* breaker.state).toBe("half-open")
      const probe = yield* hold(breaker)
      expect(probe.admitted).toBe(true)
      yield* TestClock.adjust("2 seconds")
      const full = rejection(yield* attempt(breaker, ok))
      expect(full.reason).toBe("half-open-full")
      expect(full.retryAfter).toEqual(Duration.seconds(3))
      yield* probe.release(Exit.succeed("ok"))
      expect(yield* breaker.state).toBe("closed")
    }))

  it.scoped("half-open - an interrupted probe gives its slot back", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1), openFor: "1 second" })
      yield* attempt(breaker, failing)
      yield* TestClock.adjust("1 second")
      const probe = yield* hold(breaker)
      expect(probe.admitted).toBe(true)
      expect(rejection(yield* attempt(breaker, ok)).reason).toBe("half-open-full")
      yield* Fiber.interrupt(probe.fiber)
      expect((yield* breaker.snapshot).probesInFlight).toBe(0)
      expect(yield* breaker.state).toBe("half-open")
      expect(yield* attempt(breaker, ok)).toEqual(Either.right("ok"))
      expect(yield* breaker.state).toBe("closed")
    }))

  it.scoped("half-open - a probe that proves nothing (an inner guard's rejection, a defect) gives its slot back", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1), openFor: "1 second" })
      yield* attempt(breaker, failing)
      yield* TestClock.adjust("1 second")
      yield* attempt(breaker, Effect.fail(new BulkheadFull({ bulkhead: "x", reason: "queue-full" })))
      expect(yield* breaker.state).toBe("half-open")
      yield* Effect.exit(breaker.protect(Effect.die("bug")))
      expect(yield* breaker.state).toBe("half-open")
      expect((yield* breaker.snapshot).probesInFlight).toBe(0)
      expect(yield* attempt(breaker, ok)).toEqual(Either.right("ok"))
      expect(yield* breaker.state).toBe("closed")
    }))

  it.scoped("half-open - a probe hung past maxWait reopens the breaker lazily; its late success is ignored", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({
        policy: CircuitBreaker.consecutive(1),
        openFor: "1 second",
        halfOpen: { maxWait: "3 seconds" }
      })
      const changes = yield* collectChanges(breaker)
      yield* attempt(breaker, failing)
      yield* TestClock.adjust("1 second")
      const probe = yield* hold(breaker)
      yield* TestClock.adjust("2999 millis")
      expect(yield* breaker.state).toBe("half-open")
      yield* TestClock.adjust("1 millis")
      expect(yield* breaker.state).toBe("open")
      yield* probe.release(Exit.succeed("late"))
      expect(yield* breaker.state).toBe("open")
      expect(yield* changes).toEqual([
        "closed>open:failures",
        "open>half-open:break-elapsed",
        "half-open>open:probe-hung"
      ])
      yield* TestClock.adjust("1 second")
      expect(yield* attempt(breaker, ok)).toEqual(Either.right("ok"))
      expect(yield* breaker.state).toBe("closed")
    }))

  it.scoped("half-open - maxWait defaults to the current break duration", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1), openFor: "2 seconds" })
      yield* attempt(breaker, failing)
      yield* TestClock.adjust("2 seconds")
      yield* hold(breaker)
      yield* TestClock.adjust("1999 millis")
      expect(yield* breaker.state).toBe("half-open")
      yield* TestClock.adjust("1 millis")
      expect(yield* breaker.state).toBe("open")
    }))

  it.scoped("openFor - a schedule gives growing breaks, restarted when the breaker closes", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({
        policy: CircuitBreaker.consecutive(1),
        openFor: Schedule.exponential("1 second")
      })
      const breakNow = Effect.map(attempt(breaker, ok), (r) => rejection(r).retryAfter)
      yield* attempt(breaker, failing)
      expect(yield* breakNow).toEqual(Duration.seconds(1))
      yield* TestClock.adjust("1 second")
      yield* attempt(breaker, failing)
      expect(yield* breakNow).toEqual(Duration.seconds(2))
      yield* TestClock.adjust("2 seconds")
      yield* attempt(breaker, failing)
      expect(yield* breakNow).toEqual(Duration.seconds(4))
      yield* TestClock.adjust("4 seconds")
      yield* attempt(breaker, ok)
      expect(yield* breaker.state).toBe("closed")
      yield* attempt(breaker, failing)
      expect(yield* breakNow).toEqual(Duration.seconds(1))
    }))

  it.scoped("openFor - a finite schedule repeats its last delay once it is done, after a restore too", () =>
    Effect.gen(function*() {
      const make = (restore?: CircuitBreaker.Exported) =>
        CircuitBreaker.make({
          policy: CircuitBreaker.consecutive(1),
          openFor: Schedule.fromDelays("1 second", "2 seconds"),
          ...(restore === undefined ? {} : { restore })
        })
      const breaker = yield* make()
      const breaks = yield* collectBreaks(breaker)
      yield* attempt(breaker, failing)
      for (const millis of [1000, 2000, 2000]) {
        yield* TestClock.adjust(Duration.millis(millis))
        yield* attempt(breaker, failing)
      }
      expect(yield* breaks).toEqual([1000, 2000, 2000, 2000])
      const restored = yield* make(yield* breaker.exportState)
      yield* TestClock.adjust("2 seconds")
      yield* attempt(restored, failing)
      expect(rejection(yield* attempt(restored, ok)).retryAfter).toEqual(Duration.seconds(2))
    }))

  it.scoped("openFor - a schedule's break is cut to 24 days, the longest timer, and never fails a call", () =>
    Effect.gen(function*() {
      const endless = yield* CircuitBreaker.make({
        policy: CircuitBreaker.consecutive(1),
        openFor: Schedule.map(Schedule.forever, () => Duration.infinity)
      })
      yield* attempt(endless, failing)
      expect(rejection(yield* attempt(endless, ok)).retryAfter).toEqual(Duration.days(24))
      expect((yield* endless.snapshot).retryAfter).toEqual(Duration.days(24))
      yield* TestClock.adjust("24 days")
      expect(yield* attempt(endless, ok)).toEqual(Either.right("ok"))
      // an output that is not a duration (an untyped caller's schedule) repeats the last break
      const garbled = yield* CircuitBreaker.make({
        policy: CircuitBreaker.consecutive(1),
        openFor: Schedule.map(Schedule.forever, (n) => n === 0 ? Duration.seconds(1) : ("soon" as any as Duration.Duration))
      })
      const breaks = yield* collectBreaks(garbled)
      yield* attempt(garbled, failing)
      yield* TestClock.adjust("1 second")
      expect(yield* attempt(garbled, failing)).toEqual(Either.left(unavailable))
      expect(yield* breaks).toEqual([1000, 1000])
    }))

  it.scoped("openFor - a Backoff works, and a hung probe also steps it", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({
        policy: CircuitBreaker.consecutive(1),
        openFor: Backoff.exponential({ base: "1 second", cap: "3 seconds" }),
        halfOpen: { maxWait: "10 seconds" }
      })
      const breakNow = Effect.map(attempt(breaker, ok), (r) => rejection(r).retryAfter)
      yield* attempt(breaker, failing)
      expect(yield* breakNow).toEqual(Duration.seconds(1))
      yield* TestClock.adjust("1 second")
      yield* hold(breaker)
      yield* TestClock.adjust("10 seconds")
      expect(yield* breakNow).toEqual(Duration.seconds(2))
      yield* TestClock.adjust("2 seconds")
      yield* attempt(breaker, failing)
      expect(yield* breakNow).toEqual(Duration.seconds(3))
    }))

  it.scoped("openFor - a jittered schedule draws from the fiber's Random", () =>
    Effect.gen(function*() {
      const run = Effect.suspend(() => Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({
          policy: CircuitBreaker.consecutive(1),
          openFor: Backoff.exponential({ base: "1 second" }).pipe(Backoff.fullJitter)
        })
        yield* attempt(breaker, failing)
        return rejection(yield* attempt(breaker, ok)).retryAfter
      }).pipe(Effect.withRandom(Random.make(42))))
      const first = yield* run
      expect(yield* run).toEqual(first)
    }))

  it.scoped("retryAfter - a failure's hint lengthens the break, capped by maxRetryAfter", () =>
    Effect.gen(function*() {
      const make = CircuitBreaker.make({
        policy: CircuitBreaker.consecutive(1),
        openFor: "1 second",
        maxRetryAfter: "1 minute"
      })
      // a 503 with Retry-After: RateLimited carries hints too, but is not counted by default
      const limited = (seconds: number) =>
        Effect.fail(new Unavailable({ provider: "p", reason: "status", status: 503, retryAfter: Duration.seconds(seconds) }))
      const shortHint = yield* make
      yield* attempt(shortHint, limited(0.5))
      expect(rejection(yield* attempt(shortHint, ok)).retryAfter).toEqual(Duration.seconds(1))
      const longHint = yield* make
      yield* attempt(longHint, limited(30))
      expect(rejection(yield* attempt(longHint, ok)).retryAfter).toEqual(Duration.seconds(30))
      const hugeHint = yield* make
      yield* attempt(hugeHint, limited(3600))
      expect(rejection(yield* attempt(hugeHint, ok)).retryAfter).toEqual(Duration.minutes(1))
    }))

  it.scoped("isolate / reset - isolated rejects everything without retryAfter until reset", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ name: "ops" })
      const changes = yield* collectChanges(breaker)
      yield* breaker.isolate
      yield* breaker.isolate
      const error = rejection(yield* attempt(breaker, ok))
      expect(error.reason).toBe("isolated")
      expect(error.retryAfter).toBeUndefined()
      yield* TestClock.adjust("1 day")
      expect(yield* breaker.state).toBe("isolated")
      yield* breaker.reset
      expect(yield* attempt(breaker, ok)).toEqual(Either.right("ok"))
      expect(yield* changes).toEqual(["closed>isolated:isolated", "isolated>closed:reset"])
    }))

  it.scoped("reset - forgets counts and calls in flight", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(2) })
      const inFlight = yield* hold(breaker)
      yield* attempt(breaker, failing)
      yield* breaker.reset
      yield* inFlight.release(Exit.fail(unavailable))
      expect((yield* breaker.snapshot).failures).toBe(0)
      yield* attempt(breaker, failing)
      expect(yield* breaker.state).toBe("closed")
    }))

  it.scoped("changes - each transition exactly once, in order, though many fibers notice it at the same time", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1), openFor: "1 second" })
      const changes = yield* collectChanges(breaker)
      const whens = yield* Ref.make<Array<number>>([])
      yield* Effect.forkScoped(
        Stream.runForEach(breaker.changes, (c) => Ref.update(whens, (all) => [...all, c.when.epochMillis]))
      )
      yield* subscribed
      yield* attempt(breaker, failing)
      yield* TestClock.adjust("1 second")
      yield* Effect.all(Array.from({ length: 100 }, () => breaker.state), { concurrency: "unbounded" })
      yield* attempt(breaker, ok)
      expect(yield* changes).toEqual([
        "closed>open:failures",
        "open>half-open:break-elapsed",
        "half-open>closed:probes-succeeded"
      ])
      expect(yield* Ref.get(whens)).toEqual([0, 1000, 1000])
    }))

  it.scoped("changes - an opening carries its break duration", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ name: "x", policy: CircuitBreaker.consecutive(1), openFor: "7 seconds" })
      const first = yield* Effect.fork(Stream.runHead(breaker.changes))
      yield* subscribed
      yield* attempt(breaker, failing)
      const change = yield* Fiber.join(first)
      expect(change._tag === "Some" && change.value.breakFor).toEqual(Duration.seconds(7))
      expect(change._tag === "Some" && change.value.breaker).toBe("x")
    }))

  it.scoped("what counts - outages by default; other errors count as successes", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(2) })
      yield* attempt(breaker, failing)
      yield* attempt(breaker, Effect.fail(new ClientError({ provider: "p", status: 404, body: "" })))
      yield* attempt(breaker, failing)
      expect(yield* breaker.state).toBe("closed")
      yield* attempt(breaker, Effect.fail(new BulkheadFull({ bulkhead: "x", reason: "queue-full" })))
      yield* Effect.exit(breaker.protect(Effect.die("bug")))
      yield* attempt(breaker, failing)
      expect(yield* breaker.state).toBe("open")
    }))

  it.scoped("what counts - by default a provider's RateLimited and a total Timeout do not open the breaker", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(2) })
      yield* Effect.repeatN(attempt(breaker, throttled), 4)
      yield* Effect.repeatN(attempt(breaker, deadlineSpent), 4)
      expect(yield* breaker.state).toBe("closed")
      expect((yield* breaker.snapshot).failures).toBe(0)
      yield* attempt(breaker, failing)
      yield* attempt(breaker, attemptTimeout)
      expect(yield* breaker.state).toBe("open")
    }))

  it.scoped("what counts - isFailure: Errors.isTransient brings back counting every transient error", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(2), isFailure: isTransient })
      yield* attempt(breaker, throttled)
      yield* attempt(breaker, deadlineSpent)
      expect(yield* breaker.state).toBe("open")
    }))

  it("isOutage - Unavailable and an attempt's Timeout; not RateLimited, a total Timeout or other errors", () => {
    expect(CircuitBreaker.isOutage(unavailable)).toBe(true)
    expect(CircuitBreaker.isOutage(new Timeout({ scope: "attempt", after: Duration.seconds(1) }))).toBe(true)
    expect(CircuitBreaker.isOutage(new Timeout({ scope: "total", after: Duration.seconds(1) }))).toBe(false)
    expect(CircuitBreaker.isOutage(new RateLimited({ provider: "p", reason: "provider" }))).toBe(false)
    expect(CircuitBreaker.isOutage(new ClientError({ provider: "p", status: 404, body: "" }))).toBe(false)
    expect(CircuitBreaker.isOutage("Unavailable")).toBe(false)
    expect(CircuitBreaker.isOutage(null)).toBe(false)
  })

  it.scoped("half-open - a probe answered with RateLimited or a total Timeout closes the breaker; an outage reopens it", () =>
    Effect.gen(function*() {
      const probes: Array<[Effect.Effect<never, RateLimited | Timeout | Unavailable>, CircuitBreaker.State]> = [
        [throttled, "closed"],
        [deadlineSpent, "closed"],
        [failing, "open"],
        [attemptTimeout, "open"]
      ]
      for (const [answer, after] of probes) {
        const breaker = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1), openFor: "1 second" })
        yield* attempt(breaker, failing)
        yield* TestClock.adjust("1 second")
        expect(yield* breaker.state).toBe("half-open")
        yield* attempt(breaker, answer)
        expect(yield* breaker.state).toBe(after)
      }
    }))

  it.scoped("half-open - a probe refused by an inner rate limit (RateLimited local) gives its slot back", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1), openFor: "1 second" })
      yield* Effect.repeatN(attempt(breaker, refusedLocally), 4)
      expect(yield* breaker.state).toBe("closed")
      yield* attempt(breaker, failing)
      yield* TestClock.adjust("1 second")
      yield* attempt(breaker, refusedLocally)
      expect(yield* breaker.state).toBe("half-open")
      expect((yield* breaker.snapshot).probesInFlight).toBe(0)
      expect(yield* attempt(breaker, ok)).toEqual(Either.right("ok"))
      expect(yield* breaker.state).toBe("closed")
    }))

  it.scoped("what counts - isFailure overrides, and an interrupted call counts as nothing", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({
        policy: CircuitBreaker.consecutive(2),
        isFailure: (e) => e === "boom"
      })
      yield* attempt(breaker, Effect.fail("boom"))
      const interrupted = yield* hold(breaker)
      yield* Fiber.interrupt(interrupted.fiber)
      expect((yield* breaker.snapshot).failures).toBe(1)
      yield* attempt(breaker, failing)
      expect((yield* breaker.snapshot).failures).toBe(0)
      yield* attempt(breaker, Effect.fail("boom"))
      yield* attempt(breaker, Effect.fail("boom"))
      expect(yield* breaker.state).toBe("open")
    }))

  it.scoped("slow calls - a slow-call rate at the threshold opens the breaker; a slow probe fails", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({
        policy: CircuitBreaker.failureRate({
          threshold: 1,
          window: { calls: 4 },
          minimumThroughput: 4,
          slowCall: { slowerThan: "1 second", threshold: 0.5 }
        }),
        openFor: "10 seconds"
      })
      const slow = Effect.as(Effect.sleep("1001 millis"), "slow")
      const timed = (effect: Effect.Effect<string>) =>
        Effect.gen(function*() {
          const fiber = yield* Effect.fork(attempt(breaker, effect))
          yield* TestClock.adjust("1001 millis")
          return yield* Fiber.join(fiber)
        })
      yield* attempt(breaker, ok)
      yield* timed(slow)
      yield* attempt(breaker, ok)
      expect(yield* breaker.state).toBe("closed")
      expect((yield* breaker.snapshot).slowRate).toBeCloseTo(1 / 3)
      yield* timed(slow)
      expect(yield* breaker.state).toBe("open")
      yield* TestClock.adjust("10 seconds")
      yield* timed(slow)
      expect(yield* breaker.state).toBe("open")
    }))

  it.scoped("snapshot - counts, rates and rejections for a health endpoint", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({
        name: "storage",
        policy: CircuitBreaker.failureRate({ threshold: 0.75, window: { calls: 4 } }),
        openFor: "5 seconds"
      })
      yield* attempt(breaker, ok)
      yield* attempt(breaker, failing)
      const closed = yield* breaker.snapshot
      expect(closed).toMatchObject({ breaker: "storage", state: "closed", calls: 2, failures: 1, failureRate: 0.5 })
      yield* failTimes(breaker, 2)
      yield* attempt(breaker, ok)
      yield* TestClock.adjust("2 seconds")
      const open = yield* breaker.snapshot
      expect(open).toMatchObject({ state: "open", rejected: 1, opens: 1, retryAfter: Duration.seconds(3) })
    }))

  it.scoped("snapshot - opens counts every opening in the breaker's life, across closes, resets and a restore", () =>
    Effect.gen(function*() {
      const breaker = yield* oneFailureExponential()
      const opens = Effect.map(breaker.snapshot, (s) => s.opens)
      yield* attempt(breaker, failing)
      yield* TestClock.adjust("1 second")
      yield* attempt(breaker, failing)
      expect(yield* opens).toBe(2)
      yield* TestClock.adjust("2 seconds")
      yield* attempt(breaker, ok)
      expect(yield* breaker.state).toBe("closed")
      expect(yield* opens).toBe(2)
      yield* breaker.reset
      expect(yield* opens).toBe(2)
      // the schedule restarts when the breaker closes, whatever the lifetime count
      yield* attempt(breaker, failing)
      expect(rejection(yield* attempt(breaker, ok)).retryAfter).toEqual(Duration.seconds(1))
      expect(yield* opens).toBe(3)
      const restored = yield* oneFailureExponential(yield* breaker.exportState)
      expect((yield* restored.snapshot).opens).toBe(3)
      yield* TestClock.adjust("1 second")
      yield* attempt(restored, failing)
      expect(rejection(yield* attempt(restored, ok)).retryAfter).toEqual(Duration.seconds(2))
      expect((yield* restored.snapshot).opens).toBe(4)
    }))

  it.scoped("metrics - calls by outcome and transitions, tagged with the breaker", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ name: "metered", policy: CircuitBreaker.consecutive(1) })
      yield* attempt(breaker, ok)
      yield* attempt(breaker, failing)
      yield* attempt(breaker, ok)
      const pairs = yield* Metric.snapshot
      const valueOf = (name: string, tags: Record<string, string>) => {
        const all = { breaker: "metered", ...tags }
        const pair = pairs.find((p) =>
          p.metricKey.name === name &&
          Object.entries(all).every(([k, v]) => p.metricKey.tags.some((t) => t.key === k && t.value === v))
        )
        if (pair === undefined) return undefined
        const state = pair.metricState
        return MetricState.isCounterState(state) ? state.count : MetricState.isGaugeState(state) ? state.value : undefined
      }
      expect(valueOf("resilience_breaker_calls_total", { outcome: "success" })).toBe(1)
      expect(valueOf("resilience_breaker_calls_total", { outcome: "failure" })).toBe(1)
      expect(valueOf("resilience_breaker_calls_total", { outcome: "rejected" })).toBe(1)
      expect(valueOf("resilience_breaker_transitions_total", { from: "closed", to: "open" })).toBe(1)
      expect(valueOf("resilience_breaker_state", { state: "open" })).toBe(1)
      const gauge = (state: string) => Effect.succeed(valueOf("resilience_breaker_state", { state }))
      expect(yield* gauge("closed")).toBe(0)
    }))

  it.scoped("metrics - calls carry the caller's ambient tags (Effect.tagMetrics)", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ name: "metered-ambient", policy: CircuitBreaker.consecutive(1) })
      yield* attempt(breaker, ok).pipe(Effect.tagMetrics("team", "checkout"))
      yield* attempt(breaker, failing).pipe(Effect.tagMetrics("team", "checkout"))
      const pairs = yield* Metric.snapshot
      const count = (outcome: string) => {
        const tags = { breaker: "metered-ambient", outcome, team: "checkout" }
        const pair = pairs.find((p) =>
          p.metricKey.name === "resilience_breaker_calls_total" &&
          Object.entries(tags).every(([k, v]) => p.metricKey.tags.some((t) => t.key === k && t.value === v))
        )
        return pair !== undefined && MetricState.isCounterState(pair.metricState) ? pair.metricState.count : undefined
      }
      expect(count("success")).toBe(1)
      expect(count("failure")).toBe(1)
    }))

  it.scoped("restore - a state from another policy, or not a state at all, fails with InvalidOptions", () =>
    Effect.gen(function*() {
      const first = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(3) })
      const exported = yield* first.exportState
      const second = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(4) })
      const error = yield* Effect.flip(second.restore(exported))
      expect(error.option).toBe("restore.policy")
      expect(error.message).toContain("consecutive(4)")
      const bad = yield* Effect.flip(CircuitBreaker.make({ restore: { nope: 1 } as any }))
      expect(bad.option).toBe("restore")
      const books = yield* Effect.flip(second.restore({ ...exported, policy: "consecutive(4)", books: -1 }))
      expect(books.option).toBe("restore.books")
    }))

  it.scoped("restore - a state exported before streak existed restores, its opens read as the streak", () =>
    Effect.gen(function*() {
      const breaker = yield* oneFailureExponential()
      yield* attempt(breaker, failing)
      yield* TestClock.adjust("1 second")
      yield* attempt(breaker, failing)
      // the earlier format: no streak, and opens counted the openings since the breaker last closed
      const { streak: _, ...saved } = yield* breaker.exportState
      const restored = yield* oneFailureExponential(saved as CircuitBreaker.Exported)
      expect((yield* restored.snapshot).opens).toBe(2)
      yield* breaker.restore(saved as CircuitBreaker.Exported)
      yield* TestClock.adjust("2 seconds")
      yield* attempt(restored, failing)
      expect(rejection(yield* attempt(restored, ok)).retryAfter).toEqual(Duration.seconds(4))
    }))

  it.scoped("restore - a count window restores its counts", () =>
    Effect.gen(function*() {
      const policy = () => CircuitBreaker.failureRate({ threshold: 0.5, window: { calls: 4 }, minimumThroughput: 4 })
      const first = yield* CircuitBreaker.make({ policy: policy() })
      yield* attempt(first, ok)
      yield* failTimes(first, 2)
      const second = yield* CircuitBreaker.make({ policy: policy(), restore: yield* first.exportState })
      expect(yield* second.snapshot).toMatchObject({ calls: 3, failures: 2 })
      yield* attempt(second, ok)
      expect(yield* second.state).toBe("open")
    }))

  it.effect("layer - protect with a tag adds the tag to R and CircuitOpen to E", () => {
    class PaymentsBreaker extends Context.Tag("app/PaymentsBreaker")<PaymentsBreaker, CircuitBreaker.CircuitBreaker>() {}
    const live = CircuitBreaker.layer(PaymentsBreaker, { policy: CircuitBreaker.consecutive(1) })
    return Effect.gen(function*() {
      yield* Effect.either(failing.pipe(CircuitBreaker.protect(PaymentsBreaker)))
      const error = yield* Effect.flip(CircuitBreaker.protect(ok, PaymentsBreaker))
      expect(error).toBeInstanceOf(CircuitOpen)
      expect((error as CircuitOpen).breaker).toBe("app/PaymentsBreaker")
    }).pipe(Effect.provide(live))
  })

  it.effect("layer - bad options fail the layer with InvalidOptions", () => {
    class B extends Context.Tag("B")<B, CircuitBreaker.CircuitBreaker>() {}
    return Effect.gen(function*() {
      const error = yield* Effect.flip(Layer.build(CircuitBreaker.layer(B, { halfOpen: { probes: 0 } })).pipe(Effect.scoped))
      expect(error).toBeInstanceOf(InvalidOptions)
      expect(error.message).toBe("CircuitBreaker.layer: option halfOpen.probes must be an integer >= 1, got 0")
    })
  })

  describe("edge cases", () => {
    /** The breaker's state gauge of `name`, per state. */
    const gauges = (name: string) =>
      Effect.map(Metric.snapshot, (pairs) => {
        const values: Record<string, number> = {}
        for (const pair of pairs) {
          const tag = (key: string) => pair.metricKey.tags.find((t) => t.key === key)?.value
          if (pair.metricKey.name === "resilience_breaker_state" && tag("breaker") === name) {
            const state = pair.metricState
            if (MetricState.isGaugeState(state)) values[tag("state")!] = state.value as number
          }
        }
        return values
      })

    it.scoped("openFor 0 - a successful probe closes the breaker (it is not called hung at once)", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1), openFor: 0 })
        yield* attempt(breaker, failing)
        yield* TestClock.adjust("1 millis")
        expect(yield* attempt(breaker, ok)).toEqual(Either.right("ok"))
        expect(yield* breaker.state).toBe("closed")
      }))

    it.scoped("openFor 0 - a hung probe still reopens the breaker after a second", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1), openFor: 0 })
        yield* attempt(breaker, failing)
        yield* hold(breaker)
        yield* TestClock.adjust("999 millis")
        expect(yield* breaker.state).toBe("half-open")
        yield* TestClock.adjust("1 millis")
        expect(yield* breaker.state).toBe("open") // the hung probe reopened it, for a zero break
        yield* TestClock.adjust("1 millis")
        expect(yield* attempt(breaker, ok)).toEqual(Either.right("ok"))
        expect(yield* breaker.state).toBe("closed")
      }))

    it.scoped("restore - a half-open state saved with more successes than this breaker's probes still admits one", () =>
      Effect.gen(function*() {
        const policy = CircuitBreaker.consecutive(1)
        const before = yield* CircuitBreaker.make({ policy, openFor: "1 second", halfOpen: { probes: 3 } })
        yield* attempt(before, failing)
        yield* TestClock.adjust("1 second")
        yield* attempt(before, ok)
        yield* attempt(before, ok)
        const saved = yield* before.exportState
        expect(saved).toMatchObject({ state: "half-open", succeeded: 2 })
        const after = yield* CircuitBreaker.make({ policy, openFor: "1 second", restore: saved })
        expect(yield* attempt(after, ok)).toEqual(Either.right("ok"))
        expect(yield* after.state).toBe("closed")
      }))

    it.scoped("a state read interrupted inside the transition still publishes it and keeps the gauges whole", () =>
      Effect.gen(function*() {
        const name = "interrupted-read"
        const breaker = yield* CircuitBreaker.make({ name, policy: CircuitBreaker.consecutive(1), openFor: "1 second" })
        const seen = yield* Ref.make<Array<string>>([])
        yield* Effect.forkScoped(
          Stream.runForEach(breaker.changes, (c) => Ref.update(seen, (all) => [...all, `${c.from}>${c.to}`]))
        )
        yield* subscribed
        yield* attempt(breaker, failing)
        yield* TestClock.adjust("1 second")
        // the reader is interrupted right after it has committed open -> half-open
        const forced = yieldOnceIn(breaker, "half-open")
        const reader = yield* Effect.fork(Effect.withScheduler(breaker.state, forced.scheduler))
        yield* waitUntil(Effect.sync(forced.yielded))
        yield* Fiber.interrupt(reader)
        yield* attempt(breaker, ok)
        yield* subscribed
        expect(yield* Ref.get(seen)).toEqual(["closed>open", "open>half-open", "half-open>closed"])
        expect(yield* gauges(name)).toEqual({ closed: 1, open: 0, "half-open": 0 })
      }))

    it.effect("the scope closing between a transition's commit and its publication leaves the gauges at zero", () =>
      Effect.gen(function*() {
        const name = "retire-race"
        const scope = yield* Scope.make()
        const breaker = yield* Scope.extend(
          CircuitBreaker.make({ name, policy: CircuitBreaker.consecutive(1), openFor: "1 second" }),
          scope
        )
        // the scope closes right after closed -> open is committed
        const forced = yieldOnceIn(breaker, "open")
        const caller = yield* Effect.fork(Effect.withScheduler(attempt(breaker, failing), forced.scheduler))
        yield* waitUntil(Effect.sync(forced.yielded))
        yield* Scope.close(scope, Exit.void)
        yield* Fiber.join(caller)
        const left = yield* gauges(name)
        expect(left.closed).toBe(0)
        expect(Object.values(left).every((value) => value === 0)).toBe(true)
      }))

    it.scoped("an isFailure that throws: the probe's slot comes back and the throw is the call's defect", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({
          policy: CircuitBreaker.consecutive(1),
          openFor: "1 second",
          isFailure: (error) => {
            if (error === "odd") throw new Error("isFailure bug")
            return true
          }
        })
        yield* attempt(breaker, failing)
        yield* TestClock.adjust("1 second")
        const exit = yield* Effect.exit(breaker.protect(Effect.fail("odd")))
        expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
        expect(yield* breaker.state).toBe("half-open")
        expect(yield* attempt(breaker, ok)).toEqual(Either.right("ok"))
        expect(yield* breaker.state).toBe("closed")
      }))

    it.effect("a probe still running when the breaker's scope closes keeps its own result", () =>
      Effect.gen(function*() {
        const name = "closing"
        const scope = yield* Scope.make()
        const breaker = yield* Scope.extend(
          CircuitBreaker.make({ name, policy: CircuitBreaker.consecutive(1), openFor: "1 second" }),
          scope
        )
        yield* attempt(breaker, failing)
        yield* TestClock.adjust("1 second")
        const probe = yield* hold(breaker)
        yield* Scope.close(scope, Exit.void)
        expect(yield* Effect.exit(probe.release(Exit.succeed("late")))).toEqual(Exit.succeed(Either.right("late")))
        expect(yield* gauges(name)).toEqual({ closed: 0, open: 0, "half-open": 0 })
      }))
  })

  describe("bad options", () => {
    /** The `InvalidOptions` a constructor fails with; a build that succeeds fails the test plainly. */
    const invalid = (build: () => Effect.Effect<unknown, InvalidOptions, any>) =>
      Effect.flip(Effect.scoped(Effect.flatMap(Effect.suspend(build), () => Effect.die("expected InvalidOptions"))))

    it.effect("make - names the option and the value", () =>
      Effect.gen(function*() {
        const cases: Array<[CircuitBreaker.CircuitBreaker.Options, string, string]> = [
          [{ halfOpen: { probes: 0 } }, "halfOpen.probes", "0"],
          [{ halfOpen: { probes: 1.5 } }, "halfOpen.probes", "1.5"],
          [{ halfOpen: { maxWait: 0 } }, "halfOpen.maxWait", "0"],
          [{ openFor: "-1 seconds" }, "openFor", "\"-1 seconds\""],
          [{ openFor: NaN }, "openFor", "NaN"],
          [{ maxRetryAfter: "soon" as any }, "maxRetryAfter", "\"soon\""],
          [{ name: "" }, "name", "\"\""],
          [{ policy: 5 as any }, "policy", "5"],
          [{ policy: {} as any }, "policy.name", "undefined"],
          [{ policy: { ...CircuitBreaker.consecutive(5), healthy: undefined } as any }, "policy.healthy", "undefined"],
          [{ policy: { ...CircuitBreaker.consecutive(5), stats: 1 } as any }, "policy.stats", "1"],
          [{ policy: { ...CircuitBreaker.consecutive(5), schema: undefined } as any }, "policy.schema", "undefined"],
          [{ policy: { ...CircuitBreaker.consecutive(5), name: 7 } as any }, "policy.name", "7"],
          [{ isFailure: "transient" as any }, "isFailure", "\"transient\""],
          [{ openFor: {} as any }, "openFor", "[object Object]"],
          [{ openFor: null as any }, "openFor", "null"],
          [{ openFor: Schedule.spaced as any }, "openFor", "a function"]
        ]
        for (const [options, option, value] of cases) {
          const error = yield* invalid(() => CircuitBreaker.make(options))
          expect([error.module, error.option, error.value]).toEqual(["CircuitBreaker.make", option, value])
        }
      }))

    it.effect("options that are no object (JavaScript, parsed configuration) fail with InvalidOptions, not a TypeError", () =>
      Effect.gen(function*() {
        const options = (error: InvalidOptions) => [error.module, error.option, error.value]
        expect(options(yield* invalid(() => CircuitBreaker.make(null as any)))).toEqual(["CircuitBreaker.make", "options", "null"])
        expect(options(yield* invalid(() => CircuitBreaker.keyed(null as any)))).toEqual(["CircuitBreaker.keyed", "options", "null"])
        expect(options(yield* invalid(() => Bulkhead.make(null as any)))).toEqual(["Bulkhead.make", "options", "null"])
        expect(() => CircuitBreaker.failureRate(undefined as any)).toThrow(
          "CircuitBreaker.failureRate: option options must be an options object, got undefined"
        )
        expect(() => CircuitBreaker.failureRate({ threshold: 0.5, window: { calls: 10 }, slowCall: null as any })).toThrow(
          "CircuitBreaker.failureRate: option slowCall must be an options object, got null"
        )
      }))

    it.effect("keyed - idleTimeToLive and restore are checked", () =>
      Effect.gen(function*() {
        const ttl = yield* invalid(() => CircuitBreaker.keyed({ idleTimeToLive: 0 }))
        expect([ttl.module, ttl.option]).toEqual(["CircuitBreaker.keyed", "idleTimeToLive"])
        const probes = yield* invalid(() => CircuitBreaker.keyed({ idleTimeToLive: "1 minute", halfOpen: { probes: -1 } }))
        expect(probes.option).toBe("halfOpen.probes")
        const nameOf = yield* invalid(() => CircuitBreaker.keyed({ idleTimeToLive: "1 minute", nameOf: "tenant" as any }))
        expect([nameOf.option, nameOf.value]).toEqual(["nameOf", "\"tenant\""])
      }))

    it.effect("layerKeyed - InvalidOptions name CircuitBreaker.layerKeyed, the function called", () =>
      Effect.gen(function*() {
        class Tenants extends Context.Tag("test/Tenants")<Tenants, CircuitBreaker.Keyed<string>>() {}
        const error = yield* Effect.flip(
          Effect.scoped(Layer.build(CircuitBreaker.layerKeyed(Tenants, { idleTimeToLive: 0 })))
        )
        expect([error.module, error.option]).toEqual(["CircuitBreaker.layerKeyed", "idleTimeToLive"])
      }))

    it.effect("policy - a policy without healthy is refused, not left to kill its first probe", () =>
      Effect.gen(function*() {
        const { healthy: _, ...withoutHealthy } = CircuitBreaker.consecutive(1)
        const error = yield* invalid(() => CircuitBreaker.make({ policy: withoutHealthy as any }))
        expect(error.message).toBe(
          "CircuitBreaker.make: option policy.healthy must be a function, got undefined"
        )
      }))

    it.effect("openFor - neither a duration nor a Schedule says which forms are accepted", () =>
      Effect.gen(function*() {
        const error = yield* invalid(() => CircuitBreaker.make({ openFor: { seconds: 30 } as any }))
        expect(error.option).toBe("openFor")
        expect(error.expected).toContain("Schedule")
      }))

    it("policies - thresholds outside (0, 1], windows <= 0, bad minimumThroughput are thrown when built", () => {
      const rate = (options: CircuitBreaker.CircuitBreaker.FailureRateOptions) => () =>
        CircuitBreaker.failureRate(options)
      const cases: Array<[() => unknown, string, string]> = [
        [() => CircuitBreaker.consecutive(0), "failures", "0"],
        [rate({ threshold: 0, window: { calls: 10 } }), "threshold", "0"],
        [rate({ threshold: 1.5, window: { calls: 10 } }), "threshold", "1.5"],
        [rate({ threshold: NaN, window: { calls: 10 } }), "threshold", "NaN"],
        [rate({ threshold: 0.5, window: { calls: 0 } }), "window.calls", "0"],
        [rate({ threshold: 0.5, window: { calls: 2.5 } }), "window.calls", "2.5"],
        [rate({ threshold: 0.5, window: {} as any }), "window", "[object Object]"],
        [rate({ threshold: 0.5, window: "0 seconds" }), "window", "\"0 seconds\""],
        [rate({ threshold: 0.5, window: { calls: 10 }, minimumThroughput: 0 }), "minimumThroughput", "0"],
        [rate({ threshold: 0.5, window: { calls: 10 }, minimumThroughput: 11 }), "minimumThroughput", "11"],
        [rate({ threshold: 0.5, window: { calls: 10 }, buckets: 2 }), "buckets", "2"],
        [rate({ threshold: 0.5, window: "1 second", buckets: 0 }), "buckets", "0"],
        [rate({ threshold: 0.5, window: "10 millis", buckets: 20 }), "buckets", "20"],
        [rate({ threshold: 0.5, window: { calls: 10 }, slowCall: { slowerThan: "1 second", threshold: 2 } }), "slowCall.threshold", "2"],
        [rate({ threshold: 0.5, window: { calls: 10 }, slowCall: { slowerThan: -1, threshold: 1 } }), "slowCall.slowerThan", "-1"]
      ]
      for (const [build, option, value] of cases) {
        const error = thrown(build)
        expect([error.option, error.value]).toEqual([option, value])
      }
      expect(thrown(rate({ threshold: 0.5, window: { calls: 10 }, minimumThroughput: 11 })).message).toBe(
        "CircuitBreaker.failureRate: option minimumThroughput must be an integer in [1, window.calls = 10], got 11"
      )
    })

    it("failureRate - a bare number window is refused: it names the two forms", () => {
      const error = thrown(() => CircuitBreaker.failureRate({ threshold: 0.5, window: 30000 as any }))
      expect(error.message).toBe(
          "CircuitBreaker.failureRate: option window must be { calls: n } for the last n calls or a duration " +
            "(\"30 seconds\", a Duration) for a time window, got 30000"
      )
    })
  })

  describe("keyed", () => {
    it.scoped("one breaker per key: a failing key does not open another", () =>
      Effect.gen(function*() {
        const perHost = yield* CircuitBreaker.keyed<string>({
          name: "hosts",
          policy: CircuitBreaker.consecutive(1),
          idleTimeToLive: "1 minute"
        })
        yield* Effect.either(perHost.protect(failing, "a"))
        const error = yield* Effect.flip(perHost.protect(ok, "a"))
        expect(error).toMatchObject({ _tag: "CircuitOpen", breaker: "hosts/a" })
        expect(yield* ok.pipe(perHost.protect("b"))).toBe("ok")
      }))

    it.scoped("idle keys are evicted after idleTimeToLive; a use keeps a key alive", () =>
      Effect.gen(function*() {
        const perTenant = yield* CircuitBreaker.keyed<string>({
          policy: CircuitBreaker.consecutive(1),
          idleTimeToLive: "1 minute"
        })
        yield* Effect.either(perTenant.protect(failing, "t1"))
        yield* Effect.either(perTenant.protect(ok, "t2"))
        yield* TestClock.adjust("30 seconds")
        yield* Effect.either(perTenant.protect(ok, "t2"))
        yield* TestClock.adjust("30 seconds")
        expect(yield* perTenant.keys).toEqual(["t2"])
        yield* TestClock.adjust("30 seconds")
        expect(yield* perTenant.keys).toEqual([])
        // t1 was open when it was evicted: a new breaker starts closed
        expect(yield* perTenant.protect(ok, "t1")).toBe("ok")
      }))

    it.scoped("an idle key whose breaker is open is kept until its break is over; an isolated one until reset", () =>
      Effect.gen(function*() {
        const perTenant = yield* CircuitBreaker.keyed<string>({
          policy: CircuitBreaker.consecutive(1),
          openFor: "5 minutes",
          idleTimeToLive: "1 minute"
        })
        yield* Effect.either(perTenant.protect(failing, "open"))
        yield* Effect.scoped(Effect.flatMap(perTenant.get("isolated"), (breaker) => breaker.isolate))
        yield* TestClock.adjust("2 minutes")
        // idle past their time to live, yet their calls are still refused: the provider is not called
        let called = false
        const call = Effect.sync(() => called = true)
        expect(yield* Effect.flip(perTenant.protect(call, "open"))).toMatchObject({ reason: "open" })
        expect(yield* Effect.flip(perTenant.protect(call, "isolated"))).toMatchObject({ reason: "isolated" })
        expect(called).toBe(false)
        // the break is over: the open key goes a time to live later; the isolated one stays
        yield* TestClock.adjust("6 minutes")
        expect(yield* perTenant.keys).toEqual(["isolated"])
      }))

    it.scoped("changes - one stream for every key, named per key", () =>
      Effect.gen(function*() {
        const perModel = yield* CircuitBreaker.keyed<string>({
          name: "models",
          policy: CircuitBreaker.consecutive(1),
          idleTimeToLive: "1 minute"
        })
        const first = yield* Effect.fork(Stream.runCollect(Stream.take(perModel.changes, 2)))
        yield* subscribed
        yield* Effect.either(perModel.protect(failing, "m1"))
        yield* Effect.either(perModel.protect(failing, "m2"))
        const changes = Chunk.toArray(yield* Fiber.join(first))
        expect(changes.map((c) => c.breaker)).toEqual(["models/m1", "models/m2"])
        const m1 = yield* Effect.scoped(perModel.get("m1"))
        expect(yield* m1.state).toBe("open")
      }))
  })
})
