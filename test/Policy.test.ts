import { describe, expect, it } from "@effect/vitest"
import { Clock, Context, Deferred, Duration, Effect, Either, Fiber, Ref, TestClock } from "effect"
import * as Backoff from "../src/Backoff.js"
import * as Bulkhead from "../src/Bulkhead.js"
import * as CircuitBreaker from "../src/CircuitBreaker.js"
import { InvalidOptions, RateLimited, Timeout, Unavailable } from "../src/Errors.js"
import * as Hedge from "../src/Hedge.js"
import * as Policy from "../src/Policy.js"
import * as RateLimit from "../src/RateLimit.js"
import { captureLogs } from "./support/logs.js"
import { until } from "./support/until.js"

const down = new Unavailable({ provider: "p", reason: "connection-refused" })
const throttled = (seconds: number) =>
  new RateLimited({ provider: "p", reason: "provider", retryAfter: Duration.seconds(seconds) })

/** A scripted inner call: the n-th attempt runs `outcomes[n]` (the last one repeats); `attempts` counts them. */
const scripted = <A, E>(...outcomes: ReadonlyArray<Effect.Effect<A, E>>) =>
  Effect.map(Ref.make(0), (attempts) => ({
    attempts: Ref.get(attempts),
    call: Effect.flatMap(
      Ref.getAndUpdate(attempts, (n) => n + 1),
      (n) => outcomes[Math.min(n, outcomes.length - 1)]!
    )
  }))

/** A limiter that only counts the permits it hands out. */
const countingLimiter = Effect.map(Ref.make(0), (permits) => ({
  permits: Ref.get(permits),
  protect: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.zipRight(Ref.update(permits, (n) => n + 1), self)
}))

const quickRetry = (times: number) => ({ times, backoff: Backoff.constant("1 second") })

/** How many of `n` calls through `policy` run at once before any ends; all `n` then succeed. */
const runningAtOnce = (policy: Policy.Policy<any>, n: number, expected: number) =>
  Effect.gen(function*() {
    const running = yield* Ref.make(0)
    const release = yield* Deferred.make<void>()
    const call = Effect.zipRight(Ref.update(running, (k) => k + 1), Deferred.await(release))
    const fibers = yield* Effect.forkAll(Array.from({ length: n }, () => call.pipe(policy)))
    yield* until(Effect.map(Ref.get(running), (k) => k === expected))
    for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
    const atOnce = yield* Ref.get(running)
    yield* Deferred.succeed(release, void 0)
    yield* Fiber.join(fibers)
    expect(yield* Ref.get(running)).toBe(n)
    return atOnce
  })


/** Runs `self` in a fiber while the TestClock moves by `adjust`: its outcome and when it ended. */
const elapsed = <A, E, R>(self: Effect.Effect<A, E, R>, adjust: Duration.DurationInput) =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const fiber = yield* Effect.fork(Effect.zip(Effect.either(self), Clock.currentTimeMillis))
    yield* TestClock.adjust(adjust)
    const [result, end] = yield* Fiber.join(fiber)
    return { result, millis: end - start }
  })

/** A limiter whose queue holds each call for `queued` (0 at first, so an outage can open the breaker). */
const queuedLimiter = Effect.map(Ref.make(Duration.zero), (queued) => ({
  queued,
  limiter: {
    protect: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.zipRight(Effect.flatMap(Ref.get(queued), Effect.sleep), self)
  }
}))

describe("Policy", () => {
  describe("make - order", () => {
    it.effect("retry never retries CircuitOpen, whatever its while says", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({ name: "b", policy: CircuitBreaker.consecutive(2) })
        const { attempts, call } = yield* scripted(Effect.fail(down))
        const policy = Policy.make({ retry: { ...quickRetry(5), while: () => true }, breaker })
        const { result } = yield* elapsed(call.pipe(policy), "10 seconds")
        expect(result._tag === "Left" && result.left._tag).toBe("CircuitOpen")
        // two failures opened the breaker; the third attempt was rejected and not retried
        expect(yield* attempts).toBe(2)
      }).pipe(Effect.scoped))

    it.effect("retry never retries BulkheadFull, whatever its while says", () =>
      Effect.gen(function*() {
        const bulkhead = yield* Bulkhead.make({ name: "slots", maxConcurrent: 1 })
        const release = yield* Deferred.make<void>()
        const holder = yield* Effect.fork(bulkhead(Deferred.await(release)))
        yield* until(Effect.map(bulkhead.stats, (s) => s.active === 1))
        const { attempts, call } = yield* scripted(Effect.succeed("ok"))
        const limiter = yield* countingLimiter
        const policy = Policy.make({ retry: { ...quickRetry(5), while: () => true }, limiter, bulkhead })
        const error = yield* Effect.flip(call.pipe(policy))
        expect(error._tag).toBe("BulkheadFull")
        expect(yield* attempts).toBe(0)
        expect(yield* limiter.permits).toBe(1)
        yield* Deferred.succeed(release, void 0)
        yield* Fiber.join(holder)
      }).pipe(Effect.scoped))

    it.effect("each attempt takes its own limiter permit and bulkhead slot", () =>
      Effect.gen(function*() {
        const bulkhead = yield* Bulkhead.make({ name: "slots", maxConcurrent: 1 })
        const limiter = yield* countingLimiter
        const activeDuringAttempts = yield* Ref.make<Array<number>>([])
        const { attempts, call } = yield* scripted(Effect.fail(down), Effect.fail(down), Effect.succeed("ok"))
        const observed = Effect.zipRight(
          Effect.flatMap(bulkhead.stats, (s) => Ref.update(activeDuringAttempts, (all) => [...all, s.active])),
          call
        )
        const policy = Policy.make({ retry: quickRetry(3), limiter, bulkhead })
        const { result } = yield* elapsed(observed.pipe(policy), "10 seconds")
        expect(result._tag === "Right" && result.right).toBe("ok")
        expect(yield* attempts).toBe(3)
        expect(yield* limiter.permits).toBe(3)
        // every attempt ran in a slot, and no slot was held through a backoff sleep
        expect(yield* Ref.get(activeDuringAttempts)).toEqual([1, 1, 1])
        expect((yield* bulkhead.stats).active).toBe(0)
      }).pipe(Effect.scoped))

    it.effect("a bulkhead slot is free during the backoff sleep", () =>
      Effect.gen(function*() {
        const bulkhead = yield* Bulkhead.make({ name: "slots", maxConcurrent: 1 })
        const { call } = yield* scripted(Effect.fail(down), Effect.succeed("ok"))
        const fiber = yield* Effect.fork(call.pipe(Policy.make({ retry: quickRetry(1), bulkhead })))
        yield* TestClock.adjust("500 millis")
        // mid-backoff: another caller gets the only slot at once
        expect(yield* bulkhead(Effect.succeed("other"))).toBe("other")
        yield* TestClock.adjust("500 millis")
        expect(yield* Fiber.join(fiber)).toBe("ok")
      }).pipe(Effect.scoped))

    it.effect("an attempt timeout counts for the breaker", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({ name: "b", policy: CircuitBreaker.consecutive(1) })
        const { result } = yield* elapsed(Effect.never.pipe(Policy.make({ breaker, attempt: "1 second" })), "1 second")
        expect(result._tag === "Left" && result.left).toMatchObject({ _tag: "Timeout", scope: "attempt" })
        expect(yield* breaker.state).toBe("open")
      }).pipe(Effect.scoped))

    it.effect("a total timeout does not count for the breaker", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({ name: "b", policy: CircuitBreaker.consecutive(1) })
        // the attempt shrinks to the time left and fails with the total's Timeout
        const shrunk = Policy.make({ total: "1 second", breaker, attempt: "5 seconds" })
        const { result: first } = yield* elapsed(Effect.never.pipe(shrunk), "1 second")
        expect(first._tag === "Left" && first.left).toMatchObject({ _tag: "Timeout", scope: "total" })
        // without an attempt timeout, the deadline interrupts the attempt
        const bare = Policy.make({ total: "1 second", breaker })
        const { result: second } = yield* elapsed(Effect.never.pipe(bare), "1 second")
        expect(second._tag === "Left" && second.left).toMatchObject({ _tag: "Timeout", scope: "total" })
        expect(yield* breaker.state).toBe("closed")
      }).pipe(Effect.scoped))
  })

  describe("make - the total deadline bounds every wait", () => {
    it.effect("retries and backoff sleeps stop before the deadline", () =>
      Effect.gen(function*() {
        const { attempts, call } = yield* scripted(Effect.fail(down))
        const policy = Policy.make({ total: "3500 millis", retry: quickRetry(100) })
        const { millis, result } = yield* elapsed(call.pipe(policy), "10 seconds")
        // attempts at 0, 1, 2 and 3 s; the next backoff would end after the deadline: the last error, at once
        expect(result._tag === "Left" && result.left).toBe(down)
        expect(yield* attempts).toBe(4)
        expect(millis).toBe(3000)
      }))

    it.effect("a gate closed past the deadline fails at once; one that reopens before it is waited for", () =>
      Effect.gen(function*() {
        const gate = yield* RateLimit.gate({ name: "g", key: "g", releaseOver: 0 })
        const { attempts, call } = yield* scripted(Effect.succeed("ok"))
        const policy = Policy.make({ total: "5 seconds", retry: quickRetry(3), gate })
        yield* gate.close("60 seconds")
        const refused = yield* Effect.either(call.pipe(policy))
        expect(refused._tag === "Left" && refused.left).toMatchObject({ _tag: "RateLimited", reason: "local" })
        expect(yield* attempts).toBe(0)
        yield* TestClock.adjust("60 seconds")
        yield* gate.close("2 seconds")
        const waited = yield* elapsed(call.pipe(policy), "2 seconds")
        expect(waited).toEqual({ result: Either.right("ok"), millis: 2000 })
      }).pipe(Effect.scoped, Effect.provide(RateLimit.layerGateMemory)))

    it.effect("a limiter wait past the deadline fails at once", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.make({ name: "l", key: "l", limit: 1, window: "1 minute" })
        const { attempts, call } = yield* scripted(Effect.succeed("ok"))
        const policy = Policy.make({ total: "5 seconds", retry: quickRetry(3), limiter })
        expect(yield* call.pipe(policy)).toBe("ok")
        const refused = yield* Effect.either(call.pipe(policy))
        expect(refused._tag === "Left" && refused.left).toMatchObject({ _tag: "RateLimited", reason: "local" })
        expect(yield* attempts).toBe(1)
      }).pipe(Effect.provide(RateLimit.layerStoreMemory)))

    it.effect("a bulkhead queue wait ends at the deadline and leaves the queue", () =>
      Effect.gen(function*() {
        const bulkhead = yield* Bulkhead.make({ name: "slots", maxConcurrent: 1, maxQueued: 5 })
        const release = yield* Deferred.make<void>()
        const holder = yield* Effect.fork(bulkhead(Deferred.await(release)))
        yield* until(Effect.map(bulkhead.stats, (s) => s.active === 1))
        const policy = Policy.make({ total: "5 seconds", bulkhead })
        const fiber = yield* Effect.fork(Effect.either(Effect.succeed("ok").pipe(policy)))
        yield* until(Effect.map(bulkhead.stats, (s) => s.queued === 1))
        yield* TestClock.adjust("5 seconds")
        const result = yield* Fiber.join(fiber)
        expect(result._tag === "Left" && result.left).toBeInstanceOf(Timeout)
        expect(yield* bulkhead.stats).toMatchObject({ active: 1, queued: 0 })
        yield* Deferred.succeed(release, void 0)
        yield* Fiber.join(holder)
      }).pipe(Effect.scoped))
  })

  describe("make - interruption", () => {
    it.effect("interrupting the call returns the bulkhead slots and the breaker's probe slot", () =>
      Effect.gen(function*() {
        const bulkhead = yield* Bulkhead.make({ name: "slots", maxConcurrent: 1, maxQueued: 1 })
        const breaker = yield* CircuitBreaker.make({
          name: "b",
          policy: CircuitBreaker.consecutive(1),
          openFor: "1 second"
        })
        const policy = Policy.make({ total: "1 minute", retry: quickRetry(3), breaker, bulkhead })
        yield* Effect.either(Effect.fail(down).pipe(Policy.make({ breaker })))
        expect(yield* breaker.state).toBe("open")
        yield* TestClock.adjust("1 second")
        // a probe runs and hangs, a second call queues behind it in the bulkhead
        const probe = yield* Effect.fork(Effect.never.pipe(policy))
        yield* until(Effect.map(bulkhead.stats, (s) => s.active === 1))
        const queued = yield* Effect.fork(Effect.never.pipe(Policy.make({ bulkhead })))
        yield* until(Effect.map(bulkhead.stats, (s) => s.queued === 1))
        yield* Fiber.interrupt(probe)
        yield* Fiber.interrupt(queued)
        expect(yield* bulkhead.stats).toMatchObject({ active: 0, queued: 0 })
        // the probe slot came back: the next call is admitted as the probe, and closes the breaker
        expect(yield* Effect.succeed("ok").pipe(policy)).toBe("ok")
        expect(yield* breaker.state).toBe("closed")
      }).pipe(Effect.scoped))
  })

  describe("make - interruption of a wait", () => {
    it.effect("interrupting a call that waits for a limiter permit gives the permit back", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.make({ name: "l", key: "l", limit: 1, window: "10 seconds" })
        const policy = Policy.make({ total: "1 minute", retry: quickRetry(3), limiter })
        expect(yield* Effect.succeed("first").pipe(policy)).toBe("first")
        const waiting = yield* Effect.fork(Effect.succeed("second").pipe(policy))
        yield* TestClock.adjust("1 second")
        yield* Fiber.interrupt(waiting)
        // the refund put the token back: the third waits one refill (10 s), not two (19 s, to t = 20 s)
        const third = yield* elapsed(Effect.succeed("third").pipe(policy), "20 seconds")
        expect(third).toEqual({ result: Either.right("third"), millis: 10_000 })
      }).pipe(Effect.provide(RateLimit.layerStoreMemory)))
  })

  describe("make - guards as tags", () => {
    it.effect("a tag is looked up at each attempt", () =>
      Effect.gen(function*() {
        class Slots extends Context.Tag("test/Slots")<Slots, Bulkhead.Bulkhead>() {}
        const bulkhead = yield* Bulkhead.make({ name: "slots", maxConcurrent: 1 })
        const policy = Policy.make({ bulkhead: Slots })
        const result = yield* Effect.succeed("ok").pipe(policy, Effect.provideService(Slots, bulkhead))
        expect(result).toBe("ok")
      }).pipe(Effect.scoped))
  })

  describe("make - options", () => {
    it("bad options throw InvalidOptions naming the option", () => {
      expect(() => Policy.make({ total: "-1 seconds" })).toThrow(InvalidOptions)
      expect(() => Policy.make({ attempt: Number.NaN })).toThrow(InvalidOptions)
      expect(() => Policy.make({ name: "" })).toThrow(/Policy.make: option name/)
      expect(() => Policy.make({ retry: { times: -1 } })).toThrow(/option times/)
      expect(() => Policy.make({ breaker: {} as any })).toThrow(/Policy.make: option breaker must be a CircuitBreaker/)
      expect(() => Policy.make({ bulkhead: 3 as any })).toThrow(/option bulkhead/)
    })

    it("options that are not an object throw InvalidOptions naming the option", () => {
      for (const retry of [null, 5, "fast"]) {
        expect(() => Policy.make({ retry: retry as any })).toThrow(InvalidOptions)
        expect(() => Policy.make({ retry: retry as any })).toThrow(
          /^Policy.make: option retry must be an options object/
        )
      }
      expect(() => Policy.make(null as any)).toThrow(/^Policy.make: option guards must be an options object, got null/)
    })
  })

  describe("provider", () => {
    it.effect("defaults - retries a 503 and a 429 (after its Retry-After) and succeeds", () =>
      Effect.gen(function*() {
        const policy = yield* Policy.provider("psp")
        const { attempts, call } = yield* scripted<string, Unavailable | RateLimited>(
          Effect.fail(down),
          Effect.fail(throttled(2)),
          Effect.succeed("ok")
        )
        const { result } = yield* elapsed(call.pipe(policy), "30 seconds")
        expect(result).toEqual(Either.right("ok"))
        expect(yield* attempts).toBe(3)
      }).pipe(Effect.scoped))

    // the same with both given as undefined: an override given as undefined keeps the default
    it.effect.each([{}, { attempt: undefined, total: undefined }])(
      "defaults - the total deadline is 30 seconds and an attempt 10 seconds (overrides %o)",
      (given) =>
        Effect.gen(function*() {
          const policy = yield* Policy.provider("psp", { retry: false, ...given })
          const attempt = yield* elapsed(Effect.never.pipe(policy), "10 seconds")
          expect(attempt.millis).toBe(10_000)
          expect(attempt.result._tag === "Left" && attempt.result.left).toMatchObject({ scope: "attempt" })
          const noAttemptLimit = yield* Policy.provider("psp", { retry: false, ...given, attempt: false })
          const total = yield* elapsed(Effect.never.pipe(noAttemptLimit), "30 seconds")
          expect(total.millis).toBe(30_000)
          expect(total.result._tag === "Left" && total.result.left).toMatchObject({ scope: "total" })
        }).pipe(Effect.scoped)
    )

    it.effect("defaults - the adaptive limiter bounds the first wave to 4 calls at once", () =>
      Effect.gen(function*() {
        const policy = yield* Policy.provider("psp")
        expect(yield* runningAtOnce(policy, 10, 4)).toBe(4)
      }).pipe(Effect.scoped))

    it.effect("a 429 closes the provider's gate for every caller", () =>
      Effect.gen(function*() {
        const policy = yield* Policy.provider("psp", { retry: false, gate: { releaseOver: 0 } })
        yield* Effect.either(Effect.fail(throttled(3)).pipe(policy))
        const next = yield* elapsed(Effect.succeed("ok").pipe(policy), "3 seconds")
        expect(next).toEqual({ result: Either.right("ok"), millis: 3000 })
      }).pipe(Effect.scoped))

    it.effect("a GateStore in context is used, so two policies of one provider share the gate", () =>
      Effect.gen(function*() {
        const a = yield* Policy.provider("psp", { retry: false, gate: { releaseOver: 0 } })
        const b = yield* Policy.provider("psp", { retry: false, gate: { releaseOver: 0 } })
        yield* Effect.either(Effect.fail(throttled(3)).pipe(a))
        const next = yield* elapsed(Effect.succeed("ok").pipe(b), "3 seconds")
        expect(next).toEqual({ result: Either.right("ok"), millis: 3000 })
      }).pipe(Effect.scoped, Effect.provide(RateLimit.layerGateMemory)))

    it.effect("without a store in context each policy has its own", () =>
      Effect.gen(function*() {
        const a = yield* Policy.provider("psp", { retry: false })
        const b = yield* Policy.provider("psp", { retry: false })
        yield* Effect.either(Effect.fail(throttled(3)).pipe(a))
        const next = yield* elapsed(Effect.succeed("ok").pipe(b), "0 millis")
        expect(next).toEqual({ result: Either.right("ok"), millis: 0 })
      }).pipe(Effect.scoped))

    it.effect("the breaker does not open on a provider's 429s", () =>
      Effect.gen(function*() {
        const policy = yield* Policy.provider("psp", { retry: false, gate: false, limiter: false })
        for (let i = 0; i < 20; i++) yield* Effect.either(Effect.fail(throttled(1)).pipe(policy))
        const { attempts, call } = yield* scripted(Effect.succeed("ok"))
        expect(yield* call.pipe(policy)).toBe("ok")
        expect(yield* attempts).toBe(1)
      }).pipe(Effect.scoped))

    it.effect("the breaker opens on an outage: ten failures, half of the calls", () =>
      Effect.gen(function*() {
        const policy = yield* Policy.provider("psp", { retry: false })
        const { attempts, call } = yield* scripted(Effect.fail(down))
        for (let i = 0; i < 12; i++) yield* Effect.either(call.pipe(policy))
        expect(yield* attempts).toBe(10)
        const error = yield* Effect.flip(call.pipe(policy))
        expect(error._tag).toBe("CircuitOpen")
      }).pipe(Effect.scoped))

    it.effect("a half-open probe queued behind the limiter longer than the break is not called hung", () =>
      Effect.gen(function*() {
        const { limiter, queued } = yield* queuedLimiter
        const policy = yield* Policy.provider("psp", { retry: false, limiter })
        for (let i = 0; i < 10; i++) yield* Effect.either(Effect.fail(down).pipe(policy))
        expect((yield* Effect.flip(Effect.succeed("ok").pipe(policy)))._tag).toBe("CircuitOpen")
        // after the first break (5 s) the provider is healthy; the probe waits 8 s in the limiter's queue
        yield* TestClock.adjust("5 seconds")
        yield* Ref.set(queued, Duration.seconds(8))
        const probe = yield* elapsed(Effect.succeed("ok").pipe(policy), "8 seconds")
        expect(probe).toEqual({ result: Either.right("ok"), millis: 8000 })
        // its success closed the breaker: the next call goes through
        yield* Ref.set(queued, Duration.zero)
        expect(yield* Effect.either(Effect.succeed("ok").pipe(policy))).toEqual(Either.right("ok"))
      }).pipe(Effect.scoped))

    it.effect("overrides - a guard replaced, tuned or turned off", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({ name: "mine", policy: CircuitBreaker.consecutive(1) })
        const policy = yield* Policy.provider("psp", { breaker, retry: quickRetry(1) })
        const { attempts, call } = yield* scripted(Effect.fail(down))
        const { result } = yield* elapsed(call.pipe(policy), "5 seconds")
        // the replaced breaker opened after one failure: the retry's attempt was rejected
        expect(result._tag === "Left" && result.left).toMatchObject({ _tag: "CircuitOpen", breaker: "mine" })
        expect(yield* attempts).toBe(1)
        const bare = yield* Policy.provider("bare", {
          attempt: false,
          total: false,
          retry: false,
          breaker: false,
          gate: false,
          limiter: false,
          bulkhead: false
        })
        expect(yield* Effect.flip(Effect.fail(down).pipe(bare))).toBe(down)
      }).pipe(Effect.scoped))

    it.effect("bad overrides fail with InvalidOptions", () =>
      Effect.gen(function*() {
        const errors = yield* Effect.all([
          Effect.flip(Policy.provider("")),
          Effect.flip(Policy.provider("p", { attempt: "-1 seconds" })),
          Effect.flip(Policy.provider("p", { bulkhead: { maxConcurrent: 0 } })),
          Effect.flip(Policy.provider("p", { budget: { ratio: 2 } })),
          Effect.flip(Policy.provider("p", { retry: { times: 1.5 } }))
        ])
        for (const error of errors) expect(error).toBeInstanceOf(InvalidOptions)
        expect(errors.map((e) => e.option)).toEqual(["name", "attempt", "maxConcurrent", "ratio", "times"])
      }).pipe(Effect.scoped))

    it.effect("overrides that are not an object fail with InvalidOptions naming the option", () =>
      Effect.gen(function*() {
        const cases: ReadonlyArray<readonly [option: string, overrides: unknown]> = [
          ["overrides", null],
          ["overrides", 5],
          ["retry", { retry: null }],
          ["retry", { retry: 5 }],
          ["retry", { retry: "fast" }],
          ["budget", { budget: 1 }],
          ["breaker", { breaker: "fast" }],
          ["breaker", { breaker: true }],
          ["breaker.halfOpen", { breaker: { halfOpen: 5 } }],
          ["gate", { gate: null }],
          ["limiter", { limiter: "adaptive" }],
          ["bulkhead", { bulkhead: 3 }]
        ]
        const outcomes = yield* Effect.forEach(cases, ([, overrides]) =>
          Policy.provider("p", overrides as Policy.Policy.ProviderOptions).pipe(
            Effect.match({ onFailure: (e) => `${e._tag} ${e.module}: ${e.option}`, onSuccess: () => "built" }),
            Effect.catchAllDefect((defect) => Effect.succeed(`defect ${String(defect)}`))
          ))
        expect(outcomes).toEqual(cases.map(([option]) => `InvalidOptions Policy.provider: ${option}`))
      }).pipe(Effect.scoped))

    it.effect("layerProvider - provides the policy under the user's tag", () =>
      Effect.gen(function*() {
        class Psp extends Context.Tag("test/Psp")<Psp, Policy.Policy<Policy.ProviderError>>() {}
        const result = yield* Effect.flatMap(Psp, (policy) => Effect.succeed("ok").pipe(policy)).pipe(
          Effect.provide(Policy.layerProvider(Psp, "psp"))
        )
        expect(result).toBe("ok")
      }))
  })

  // Config-driven code passes `undefined` for what it does not set (`retry: { times: cfg.retries }`).
  describe("provider - an override given as undefined keeps the default", () => {
    const onlyRetry = { breaker: false, gate: false, limiter: false } as const
    const noRetry = { retry: false, gate: false, limiter: false } as const
    // The guards' own options require `name`, `key` and `maxConcurrent`, so under exactOptionalPropertyTypes
    // `Partial` of them refuses `undefined`; without that flag (TypeScript's default) or from JavaScript it
    // is accepted.
    const loosely = (options: object): never => options as never

    it.effect("retry.times - five retries, six attempts", () =>
      Effect.gen(function*() {
        const policy = yield* Policy.provider("psp", { ...onlyRetry, retry: { times: undefined } })
        const { attempts, call } = yield* scripted(Effect.fail(down))
        yield* elapsed(call.pipe(policy), "30 seconds")
        expect(yield* attempts).toBe(6)
      }).pipe(Effect.scoped))

    it.effect("retry.budget - the provider's shared budget still bounds the retries", () =>
      Effect.gen(function*() {
        // an empty budget: no retry at all while it bounds the retry
        const policy = yield* Policy.provider("psp", {
          ...onlyRetry,
          budget: { ratio: 0, minPerSecond: 0 },
          retry: { budget: undefined }
        })
        const { attempts, call } = yield* scripted(Effect.fail(down))
        yield* elapsed(call.pipe(policy), "30 seconds")
        expect(yield* attempts).toBe(1)
      }).pipe(Effect.scoped))

    it.effect("budget.name - the budget is named after the provider", () =>
      Effect.gen(function*() {
        const logs = yield* captureLogs
        const policy = yield* Policy.provider("psp", {
          ...onlyRetry,
          budget: { name: undefined, ratio: 0, minPerSecond: 0 }
        })
        yield* Effect.either(Effect.fail(down).pipe(policy)).pipe(Effect.provide(logs.layer))
        expect(yield* logs.lines).toContain("WARN retry budget psp is exhausted; failures are returned without retry")
      }).pipe(Effect.scoped))

    it.effect("breaker.policy - the failure rate judges only after ten calls", () =>
      Effect.gen(function*() {
        const policy = yield* Policy.provider("psp", { ...noRetry, breaker: { policy: undefined } })
        const { attempts, call } = yield* scripted<string, Unavailable>(
          ...Array.from({ length: 9 }, () => Effect.fail(down)),
          Effect.succeed("ok")
        )
        for (let i = 0; i < 9; i++) yield* Effect.either(call.pipe(policy))
        // consecutive(5) would have opened after the fifth failure
        expect(yield* Effect.either(call.pipe(policy))).toEqual(Either.right("ok"))
        expect(yield* attempts).toBe(10)
      }).pipe(Effect.scoped))

    it.effect("breaker.openFor - the first break is 5 seconds", () =>
      Effect.gen(function*() {
        const policy = yield* Policy.provider("psp", { ...noRetry, breaker: { openFor: undefined } })
        for (let i = 0; i < 10; i++) yield* Effect.either(Effect.fail(down).pipe(policy))
        expect((yield* Effect.flip(Effect.succeed("ok").pipe(policy)))._tag).toBe("CircuitOpen")
        yield* TestClock.adjust("5 seconds")
        expect(yield* Effect.either(Effect.succeed("ok").pipe(policy))).toEqual(Either.right("ok"))
      }).pipe(Effect.scoped))

    it.effect("breaker.name - the breaker is named after the provider", () =>
      Effect.gen(function*() {
        const policy = yield* Policy.provider("psp", { ...noRetry, breaker: { name: undefined } })
        for (let i = 0; i < 10; i++) yield* Effect.either(Effect.fail(down).pipe(policy))
        const error = yield* Effect.flip(Effect.succeed("ok").pipe(policy))
        expect(error).toMatchObject({ _tag: "CircuitOpen", breaker: "psp" })
      }).pipe(Effect.scoped))

    it.effect("breaker.halfOpen.maxWait - a probe may wait until the total deadline", () =>
      Effect.gen(function*() {
        const { limiter, queued } = yield* queuedLimiter
        const policy = yield* Policy.provider("psp", {
          retry: false,
          limiter,
          breaker: { halfOpen: { maxWait: undefined } }
        })
        for (let i = 0; i < 10; i++) yield* Effect.either(Effect.fail(down).pipe(policy))
        yield* TestClock.adjust("5 seconds")
        // the probe waits 8 s in the limiter's queue, longer than the break (the breaker's own default)
        yield* Ref.set(queued, Duration.seconds(8))
        yield* elapsed(Effect.succeed("ok").pipe(policy), "8 seconds")
        yield* Ref.set(queued, Duration.zero)
        expect(yield* Effect.either(Effect.succeed("ok").pipe(policy))).toEqual(Either.right("ok"))
      }).pipe(Effect.scoped))

    for (const [label, gate] of [["name", { name: undefined }], ["key", { key: undefined }]] as const) {
      it.effect(`gate.${label} - one gate named and keyed after the provider`, () =>
        Effect.gen(function*() {
          const policy = yield* Policy.provider("psp", { retry: false, gate: loosely({ ...gate, releaseOver: 0 }) })
          yield* Effect.either(Effect.fail(throttled(3)).pipe(policy))
          const next = yield* elapsed(Effect.succeed("ok").pipe(policy), "3 seconds")
          expect(next).toEqual({ result: Either.right("ok"), millis: 3000 })
        }).pipe(Effect.scoped))
    }

    for (const [label, limiter] of [["name", { name: undefined }], ["key", { key: undefined }]] as const) {
      it.effect(`limiter.${label} - the adaptive limiter of the provider`, () =>
        Effect.gen(function*() {
          const policy = yield* Policy.provider("psp", { limiter: loosely(limiter) })
          expect(yield* runningAtOnce(policy, 10, 4)).toBe(4)
        }).pipe(Effect.scoped))
    }

    for (
      const [label, bulkhead] of [
        ["name", { name: undefined }],
        ["maxConcurrent", { maxConcurrent: undefined }],
        ["maxQueued", { maxQueued: undefined }]
      ] as const
    ) {
      it.effect(`bulkhead.${label} - 50 at once, 100 queued, named after the provider`, () =>
        Effect.gen(function*() {
          const policy = yield* Policy.provider("psp", { ...noRetry, breaker: false, bulkhead: loosely(bulkhead) })
          const release = yield* Deferred.make<void>()
          const running = yield* Ref.make(0)
          const call = Effect.zipRight(Ref.update(running, (n) => n + 1), Deferred.await(release))
          const fibers = yield* Effect.forkAll(Array.from({ length: 150 }, () => call.pipe(policy)))
          yield* until(Effect.map(Ref.get(running), (n) => n === 50))
          for (let i = 0; i < 20; i++) yield* Effect.yieldNow()
          expect(yield* Effect.flip(call.pipe(policy))).toMatchObject({ _tag: "BulkheadFull", bulkhead: "psp" })
          yield* Deferred.succeed(release, void 0)
          yield* Fiber.join(fibers)
          expect(yield* Ref.get(running)).toBe(150)
        }).pipe(Effect.scoped))
    }
  })

  describe("make - hedge", () => {
    it.effect("each hedged attempt takes its own bulkhead slot", () =>
      Effect.gen(function*() {
        const hedge = yield* Hedge.make({ name: "h", delay: "100 millis" })
        const bulkhead = yield* Bulkhead.make({ name: "one", maxConcurrent: 1 })
        const { attempts, call } = yield* scripted(Effect.as(Effect.sleep("300 millis"), "first"))
        const { result, millis } = yield* elapsed(call.pipe(Policy.make({ hedge, bulkhead })), "1 second")
        // the hedge found the only slot taken (BulkheadFull); the first attempt still answered
        expect(result).toEqual(Either.right("first"))
        expect(millis).toBe(300)
        expect(yield* attempts).toBe(1)
        expect((yield* bulkhead.stats).rejected).toBe(1)
      }).pipe(Effect.scoped))

    it.effect("each hedged attempt has its own attempt timeout; the last to fail is returned", () =>
      Effect.gen(function*() {
        const hedge = yield* Hedge.make({ name: "h", delay: "100 millis" })
        const { attempts, call } = yield* scripted(Effect.never)
        const { result, millis } = yield* elapsed(call.pipe(Policy.make({ hedge, attempt: "1 second" })), "2 seconds")
        expect(result._tag === "Left" && result.left).toMatchObject({ _tag: "Timeout", scope: "attempt" })
        expect(millis).toBe(1_100)
        expect(yield* attempts).toBe(2)
      }).pipe(Effect.scoped))

    it.effect("the retry sees one outcome per hedged call and retries it whole", () =>
      Effect.gen(function*() {
        const hedge = yield* Hedge.make({ name: "h", delay: "100 millis" })
        const { attempts, call } = yield* scripted(
          Effect.zipRight(Effect.sleep("200 millis"), Effect.fail(down)),
          Effect.zipRight(Effect.sleep("200 millis"), Effect.fail(down)),
          Effect.as(Effect.sleep("50 millis"), "ok")
        )
        const policy = Policy.make({ hedge, retry: quickRetry(1) })
        const { result, millis } = yield* elapsed(call.pipe(policy), "5 seconds")
        // both attempts failed by 300 ms; one backoff of 1 s; the retried call answered 50 ms later
        expect(result).toEqual(Either.right("ok"))
        expect(millis).toBe(1_350)
        expect(yield* attempts).toBe(3)
      }).pipe(Effect.scoped))

    it.effect("interrupting the caller gives back the slot of every attempt", () =>
      Effect.gen(function*() {
        const hedge = yield* Hedge.make({ name: "h", delay: "100 millis" })
        const bulkhead = yield* Bulkhead.make({ name: "two", maxConcurrent: 2 })
        const { attempts, call } = yield* scripted(Effect.never)
        const fiber = yield* Effect.fork(call.pipe(Policy.make({ hedge, bulkhead })))
        yield* TestClock.adjust("100 millis")
        yield* until(Effect.map(attempts, (n) => n === 2))
        expect((yield* bulkhead.stats).active).toBe(2)
        yield* Fiber.interrupt(fiber)
        expect((yield* bulkhead.stats).active).toBe(0)
      }).pipe(Effect.scoped))

    it("a value that is not a hedge is InvalidOptions", () => {
      expect(() => Policy.make({ hedge: {} as any })).toThrow(/Policy.make: option hedge must be a Hedge or its tag/)
    })
  })
})
