import { RateLimiterStore } from "@effect/experimental/RateLimiter"
import * as RateLimiter from "@effect/experimental/RateLimiter"
import { describe, expect, it } from "@effect/vitest"
import {
  Clock,
  Context,
  Duration,
  Effect,
  Either,
  Exit,
  Fiber,
  Layer,
  List,
  Option,
  Random,
  Ref,
  TestClock
} from "effect"
import { InvalidOptions, RateLimited, Unavailable } from "../src/Errors.js"
import { currentDeadline } from "../src/internal/deadline.js"
import * as RateLimit from "../src/RateLimit.js"
import { captureLogs } from "./support/logs.js"

/** A scripted effect: records the TestClock time of every invocation; `fail(i)` decides the i-th outcome. */
const scripted = <E = never>(fail: (i: number) => E | undefined = () => undefined) =>
  Effect.map(Ref.make(List.empty<number>()), (times) => ({
    times: Effect.map(Ref.get(times), (l) => List.toArray(List.reverse(l))),
    call: Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.flatMap(Ref.modify(times, (l) => [List.size(l), List.prepend(l, now)]), (i) => {
        const error = fail(i)
        return error === undefined ? Effect.succeed(now) : Effect.fail(error)
      }))
  }))

const withDeadlineIn = (millis: number) => <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.locally(self, currentDeadline, Option.some(now + millis)))

const local = (retryAfter: Duration.DurationInput) =>
  new RateLimited({ provider: "api", reason: "local", retryAfter: Duration.decode(retryAfter) })

const cases = [
  // limit 2 per second. Token bucket refills one token per 500 ms; the experimental fixed window
  // lets 2 calls in, then the next ones wait for the window to turn.
  { algorithm: "token-bucket", delayedTimes: [0, 0, 500, 1000], failRetryAfter: 500 },
  { algorithm: "fixed-window", delayedTimes: [0, 0, 1000, 1000], failRetryAfter: 1000 }
] as const

describe("RateLimit", () => {
  describe.each(cases)("$algorithm", ({ algorithm, delayedTimes, failRetryAfter }) => {
    it.effect("delay - calls beyond the limit wait for their token, at exact times", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.make({ name: "api", key: "k", limit: 2, window: "1 second", algorithm })
        const { call, times } = yield* scripted()
        const fiber = yield* Effect.fork(Effect.all(Array.from({ length: 4 }, () => call.pipe(limiter.protect))))
        yield* TestClock.adjust("999 millis")
        expect(yield* times).toEqual(delayedTimes.filter((t) => t < 999))
        yield* TestClock.adjust("1 millis")
        expect(yield* Fiber.join(fiber)).toEqual(delayedTimes)
      }).pipe(Effect.provide(RateLimit.layerStoreMemory)))

    it.effect("fail - the call beyond the limit fails at once with RateLimited local and retryAfter", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.make({
          name: "api",
          key: "k",
          limit: 2,
          window: "1 second",
          algorithm,
          onExceeded: "fail"
        })
        const { call, times } = yield* scripted()
        yield* call.pipe(RateLimit.protect(limiter))
        yield* call.pipe(RateLimit.protect(limiter))
        const refused = yield* Effect.either(call.pipe(RateLimit.protect(limiter)))
        expect(refused).toEqual(Either.left(local(Duration.millis(failRetryAfter))))
        expect(yield* times).toEqual([0, 0])
        yield* TestClock.adjust(Duration.millis(failRetryAfter))
        expect(yield* call.pipe(RateLimit.protect(limiter))).toBe(failRetryAfter)
      }).pipe(Effect.provide(RateLimit.layerStoreMemory)))

    it.effect("delay - a wait past maxWait fails at once and gives the token back", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.make({
          name: "api",
          key: "k",
          limit: 2,
          window: "1 second",
          algorithm,
          maxWait: "200 millis"
        })
        const { call, times } = yield* scripted()
        yield* call.pipe(limiter.protect)
        yield* call.pipe(limiter.protect)
        const refused = yield* Effect.either(call.pipe(limiter.protect))
        expect(refused).toEqual(Either.left(local(Duration.millis(delayedTimes[2]))))
        expect(yield* Clock.currentTimeMillis).toBe(0)
        // the refused call gave its token back: the next one waits as long as it would have
        const again = yield* Effect.either(call.pipe(limiter.protect))
        expect(again).toEqual(refused)
        expect(yield* times).toEqual([0, 0])
      }).pipe(Effect.provide(RateLimit.layerStoreMemory)))
  })

  it.effect("delay - a wait that would pass the active deadline fails at once", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimit.make({ name: "api", key: "k", limit: 1, window: "1 second" })
      const { call, times } = yield* scripted()
      yield* call.pipe(limiter.protect)
      const refused = yield* Effect.either(call.pipe(limiter.protect, withDeadlineIn(999)))
      expect(refused).toEqual(Either.left(local("1 second")))
      expect(yield* Clock.currentTimeMillis).toBe(0)
      // a deadline that leaves room lets it wait
      const fiber = yield* Effect.fork(call.pipe(limiter.protect, withDeadlineIn(1000)))
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(fiber)).toBe(1000)
      expect(yield* times).toEqual([0, 1000])
    }).pipe(Effect.provide(RateLimit.layerStoreMemory)))

  it.effect("keys - each tenant has its own quota", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimit.make({
        name: "api",
        key: (tenant: string) => `tenant-${tenant}`,
        limit: 3,
        window: "1 minute",
        onExceeded: "fail"
      })
      const run = (tenant: string) => Effect.either(Effect.succeed(tenant).pipe(RateLimit.protect(limiter, tenant)))
      for (let i = 0; i < 3; i++) expect(yield* run("a")).toEqual(Either.right("a"))
      const refused = yield* run("a")
      expect(Either.isLeft(refused) && refused.left._tag === "RateLimited").toBe(true)
      for (let i = 0; i < 3; i++) expect(yield* run("b")).toEqual(Either.right("b"))
    }).pipe(Effect.provide(RateLimit.layerStoreMemory)))

  it.effect("keys - two limiters with the same key and store do not share a quota (the name is part of the key)", () =>
    Effect.gen(function*() {
      const one = yield* RateLimit.make({ name: "one", key: "k", limit: 1, window: "1 minute", onExceeded: "fail" })
      const two = yield* RateLimit.make({ name: "two", key: "k", limit: 1, window: "1 minute", onExceeded: "fail" })
      yield* Effect.void.pipe(one.protect)
      yield* Effect.void.pipe(two.protect)
      const refused = yield* Effect.flip(Effect.void.pipe(one.protect))
      expect(refused.provider).toBe("one")
    }).pipe(Effect.provide(RateLimit.layerStoreMemory)))

  it.effect("refund - a call interrupted while waiting for its token gives it back and never runs", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimit.make({
        name: "api",
        key: "k",
        limit: 1,
        window: "1 second",
        maxWait: "3 seconds"
      })
      const { call, times } = yield* scripted()
      yield* call.pipe(limiter.protect) // t=0, bucket empty
      const waiting = yield* Effect.fork(call.pipe(limiter.protect)) // would run at 1000
      yield* TestClock.adjust("100 millis")
      yield* Fiber.interrupt(waiting)
      // with the token back, the next caller is first in line again: it waits 1 s, not 2 s
      const next = yield* Effect.fork(call.pipe(limiter.protect))
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(next)).toBe(1100)
      expect(yield* times).toEqual([0, 1100])
    }).pipe(Effect.provide(RateLimit.layerStoreMemory)))

  it.effect("refund - a call interrupted after taking its token, before it started, gives it back", () =>
    Effect.gen(function*() {
      // a store that answers after 10 ms, like a network round trip; taking is uninterruptible
      const slowStore = Layer.effect(
        RateLimiterStore,
        Effect.map(RateLimiterStore, (store) =>
          RateLimiterStore.of({
            fixedWindow: (o) => Effect.delay(store.fixedWindow(o), "10 millis"),
            tokenBucket: (o) => Effect.delay(store.tokenBucket(o), "10 millis")
          }))
      ).pipe(Layer.provide(RateLimit.layerStoreMemory))
      yield* Effect.gen(function*() {
        const limiter = yield* RateLimit.make({ name: "api", key: "k", limit: 1, window: "1 hour", onExceeded: "fail" })
        const { call, times } = yield* scripted()
        const fiber = yield* Effect.fork(call.pipe(limiter.protect))
        yield* TestClock.adjust("5 millis")
        // the interruption waits for the store's answer (t=10), then for the refund (t=20)
        const interrupted = yield* Effect.fork(Fiber.interrupt(fiber))
        yield* TestClock.adjust("15 millis")
        expect(Exit.isInterrupted(yield* Fiber.join(interrupted))).toBe(true)
        expect(yield* times).toEqual([])
        // the one token of the hour is available again
        const next = yield* Effect.fork(call.pipe(limiter.protect))
        yield* TestClock.adjust("10 millis")
        expect(yield* Fiber.join(next)).toBe(30)
      }).pipe(Effect.provide(slowStore))
    }))

  describe("store down", () => {
    const brokenStore = (calls: Ref.Ref<number>) => {
      const down = Effect.zipRight(
        Ref.update(calls, (n) => n + 1),
        Effect.fail(new RateLimiter.RateLimitStoreError({ message: "down" }))
      )
      return Layer.succeed(RateLimiterStore, RateLimiterStore.of({ fixedWindow: () => down, tokenBucket: () => down }))
    }

    it.effect("allow (default) - calls go through, one warning per outage, the store is skipped for a second", () =>
      Effect.gen(function*() {
        const calls = yield* Ref.make(0)
        const logs = yield* captureLogs
        yield* Effect.gen(function*() {
          const limiter = yield* RateLimit.make({ name: "api", key: "k", limit: 1, window: "1 minute" })
          for (let i = 0; i < 5; i++) expect(yield* Effect.succeed(i).pipe(limiter.protect)).toBe(i)
          expect(yield* Ref.get(calls)).toBe(1)
          yield* TestClock.adjust("1 second")
          yield* Effect.void.pipe(limiter.protect)
          expect(yield* Ref.get(calls)).toBe(2)
        }).pipe(Effect.provide(Layer.merge(brokenStore(calls), logs.layer)))
        const warnings = (yield* logs.lines).filter((l) => l.startsWith("WARN"))
        expect(warnings).toEqual([
          "WARN rate-limit limiter store for api is unreachable; letting calls through unlimited (fail open)"
        ])
      }))

    it.effect("reject - calls fail with RateLimited local and the effect does not run", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.make({
          name: "api",
          key: "k",
          limit: 1,
          window: "1 minute",
          onStoreError: "reject"
        })
        const { call, times } = yield* scripted()
        const refused = yield* Effect.flip(call.pipe(limiter.protect))
        expect(refused).toEqual(new RateLimited({ provider: "api", reason: "local" }))
        expect(yield* times).toEqual([])
      }).pipe(Effect.provide(Layer.unwrapEffect(Effect.map(Ref.make(0), brokenStore)))))
  })

  describe("options", () => {
    const base = { name: "api", key: "k", limit: 1, window: "1 second" } as const
    const bad: ReadonlyArray<[string, Partial<RateLimit.RateLimit.Options<void>>]> = [
      ["name", { name: "" }],
      ["key", { key: "" }],
      ["limit", { limit: 0 }],
      ["limit", { limit: -1 }],
      ["limit", { limit: 1.5 }],
      ["limit", { limit: NaN }],
      ["window", { window: 0 }],
      ["window", { window: "-1 seconds" }],
      ["window", { window: NaN }],
      ["window", { window: "soon" as Duration.DurationInput }],
      ["maxWait", { maxWait: -1 }],
      ["maxWait", { maxWait: "25 days" }],
      ["algorithm", { algorithm: "sliding" as "token-bucket" }],
      ["onExceeded", { onExceeded: "drop" as "fail" }],
      ["onStoreError", { onStoreError: "ignore" as "allow" }]
    ]
    it.effect.each(bad)("make - rejects a bad %s", ([option, patch]) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(RateLimit.make({ ...base, ...patch }))
        expect(error).toBeInstanceOf(InvalidOptions)
        expect(error.option).toBe(option)
        expect(error.module).toBe("RateLimit.make")
      }).pipe(Effect.provide(RateLimit.layerStoreMemory)))

    it.effect("make - limiter \"a\" with key \"b:c\" and limiter \"a:b\" with key \"c\" count apart", () =>
      Effect.gen(function*() {
        const first = yield* RateLimit.make({ ...base, name: "a", key: "b:c", onExceeded: "fail" })
        const second = yield* RateLimit.make({ ...base, name: "a:b", key: "c", onExceeded: "fail" })
        yield* Effect.void.pipe(first.protect)
        expect(Either.isRight(yield* Effect.either(Effect.void.pipe(second.protect)))).toBe(true)
      }).pipe(Effect.provide(RateLimit.layerStoreMemory)))

    it.effect("make - a window of a month is a quota, not a timer: accepted, and a waiter waits at most 24 days", () =>
      Effect.gen(function*() {
        const monthly = yield* RateLimit.make({ ...base, limit: 1, window: "30 days" })
        yield* Effect.void.pipe(monthly.protect)
        const refused = yield* Effect.flip(Effect.void.pipe(monthly.protect))
        // the wait for the next token (30 days) is past the default maxWait (24 days): fails at once
        expect(refused.reason).toBe("local")
        expect(Duration.toDays(refused.retryAfter!)).toBe(30)
      }).pipe(Effect.provide(RateLimit.layerStoreMemory)))

    const badGate: ReadonlyArray<[string, Partial<RateLimit.Gate.Options<void>>]> = [
      ["name", { name: "" }],
      ["key", { key: "" }],
      ["maxClosed", { maxClosed: 0 }],
      ["maxClosed", { maxClosed: NaN }],
      ["maxClosed", { maxClosed: "30 days" }],
      ["maxWait", { maxWait: -5 }],
      ["releaseOver", { releaseOver: "-1 millis" }],
      ["onStoreError", { onStoreError: "maybe" as "allow" }],
      ["signal", { signal: "retry-after" as unknown as () => undefined }],
      ["key", { key: 5 as unknown as string }]
    ]
    it.scoped.each(badGate)("gate - rejects a bad %s", ([option, patch]) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(RateLimit.gate({ name: "api", key: "k", ...patch }))
        expect(error).toBeInstanceOf(InvalidOptions)
        expect(error.option).toBe(option)
        expect(error.module).toBe("RateLimit.gate")
      }).pipe(Effect.provide(RateLimit.layerGateMemory)))

    it.effect("layer - a bad option fails the layer with InvalidOptions naming RateLimit.layer", () =>
      Effect.gen(function*() {
        class Limit extends Context.Tag("test/Limit")<Limit, RateLimit.RateLimit>() {}
        const error = yield* Effect.flip(
          Effect.provide(
            Limit,
            RateLimit.layer(Limit, { ...base, limit: 0 }).pipe(Layer.provide(RateLimit.layerStoreMemory))
          )
        )
        expect(error.message).toBe("RateLimit.layer: option limit must be an integer >= 1, got 0")
      }))

    it.effect("layerGate - a bad option fails the layer with InvalidOptions naming RateLimit.layerGate", () =>
      Effect.gen(function*() {
        class Gate extends Context.Tag("test/Gate")<Gate, RateLimit.Gate>() {}
        const error = yield* Effect.flip(
          Effect.provide(
            Gate,
            RateLimit.layerGate(Gate, { name: "", key: "k" }).pipe(Layer.provide(RateLimit.layerGateMemory))
          )
        )
        expect([error.module, error.option]).toEqual(["RateLimit.layerGate", "name"])
      }))
  })
})

describe("RateLimit.gate", () => {
  const tooMany = (seconds: number) =>
    new RateLimited({ provider: "crm", reason: "provider", retryAfter: Duration.seconds(seconds) })

  it.scoped("gate - a closing extended by more 429s is one WARN; the next closing after it reopened is another", () =>
    Effect.gen(function*() {
      const logs = yield* captureLogs
      yield* Effect.gen(function*() {
        const gate = yield* RateLimit.gate({ name: "crm", key: "crm" })
        // a 429 closes the gate; two more signals 100 ms apart extend the closing
        yield* Effect.either(Effect.fail(tooMany(1)).pipe(gate.protect))
        for (let i = 0; i < 2; i++) {
          yield* TestClock.adjust("100 millis")
          yield* gate.close("1 second")
        }
        yield* TestClock.adjust("2 seconds")
        yield* Effect.either(Effect.fail(tooMany(1)).pipe(gate.protect))
        yield* TestClock.adjust("2 seconds")
      }).pipe(Effect.provide(logs.layer))
      const warnings = (yield* logs.lines).filter((l) => l.startsWith("WARN"))
      expect(warnings).toEqual([
        "WARN rate-limit gate crm closed for 1s: callers wait instead of calling",
        "WARN rate-limit gate crm closed for 1s: callers wait instead of calling"
      ])
    }).pipe(Effect.provide(RateLimit.layerGateMemory)))

  it.scoped("gate - the first 429 closes it; the other 99 callers send nothing until it reopens, then staggered", () =>
    Effect.gen(function*() {
      const gate = yield* RateLimit.gate({ name: "crm", key: "crm", releaseOver: "1 second" })
      const { call, times } = yield* scripted((i) => (i === 0 ? tooMany(10) : undefined))
      const all = yield* Effect.fork(
        Effect.forEach(Array.from({ length: 100 }), () => Effect.either(call.pipe(gate.protect)), {
          concurrency: "unbounded"
        })
      )
      yield* TestClock.adjust("9999 millis")
      expect(yield* times).toEqual([0])
      expect(yield* gate.closedFor()).toEqual(Option.some(Duration.millis(1)))
      yield* TestClock.adjust("1001 millis")
      const results = yield* Fiber.join(all)
      expect(results.filter(Either.isLeft)).toEqual([Either.left(tooMany(10))])
      const released = (yield* times).slice(1)
      expect(released).toHaveLength(99)
      expect(released.every((t) => t >= 10_000 && t < 11_000)).toBe(true)
      expect(new Set(released).size).toBeGreaterThan(50)
    }).pipe(Effect.provide(RateLimit.layerGateMemory), Effect.withRandom(Random.make("gate-stagger"))))

  it.scoped("gate - waiters whose maxWait ends inside the release interval are spread over what is left", () =>
    Effect.gen(function*() {
      const gate = yield* RateLimit.gate({ name: "crm", key: "crm", releaseOver: "2 seconds", maxWait: "6 seconds" })
      const { call, times } = yield* scripted()
      yield* gate.close("5 seconds")
      const all = yield* Effect.fork(
        Effect.forEach(Array.from({ length: 100 }), () => Effect.either(gate.protect(call)), { concurrency: "unbounded" })
      )
      yield* TestClock.adjust("10 seconds")
      expect((yield* Fiber.join(all)).every(Either.isRight)).toBe(true)
      const released = yield* times
      expect(released.every((t) => t >= 5_000 && t < 6_000)).toBe(true)
      // not a crowd at the budget's edge: no millisecond holds more than a few of the 100
      const perMillis = new Map<number, number>()
      for (const t of released) perMillis.set(t, (perMillis.get(t) ?? 0) + 1)
      expect(Math.max(...perMillis.values())).toBeLessThanOrEqual(3)
    }).pipe(Effect.provide(RateLimit.layerGateMemory), Effect.withRandom(Random.make("gate-budget"))))

  it.scoped("gate - callers arriving while it is closed wait for it, then check it again", () =>
    Effect.gen(function*() {
      const gate = yield* RateLimit.gate({ name: "crm", key: "crm", releaseOver: 0 })
      const { call, times } = yield* scripted((i) => (i === 0 ? tooMany(2) : undefined))
      yield* Effect.either(call.pipe(gate.protect))
      const waiter = yield* Effect.fork(call.pipe(gate.protect))
      yield* TestClock.adjust("1 second")
      yield* gate.close("3 seconds") // another signal extends the closing to t=4s
      yield* TestClock.adjust("2 seconds")
      expect(yield* times).toEqual([0])
      yield* TestClock.adjust("1 second")
      expect(yield* Fiber.join(waiter)).toBe(4000)
    }).pipe(Effect.provide(RateLimit.layerGateMemory)))

  it.scoped("gate - a waiter whose deadline or maxWait comes before the reopening fails at once", () =>
    Effect.gen(function*() {
      const gate = yield* RateLimit.gate({ name: "crm", key: "crm", maxWait: "5 seconds" })
      const { call, times } = yield* scripted((i) => (i === 0 ? tooMany(8) : undefined))
      yield* Effect.either(call.pipe(gate.protect))
      const byMaxWait = yield* Effect.flip(call.pipe(gate.protect))
      expect(byMaxWait).toEqual(new RateLimited({ provider: "crm", reason: "local", retryAfter: Duration.seconds(8) }))
      yield* TestClock.adjust("4 seconds")
      const byDeadline = yield* Effect.flip(call.pipe(gate.protect, withDeadlineIn(3_999)))
      expect(byDeadline.retryAfter).toEqual(Duration.seconds(4))
      expect(yield* Clock.currentTimeMillis).toBe(4000)
      expect(yield* times).toEqual([0])
    }).pipe(Effect.provide(RateLimit.layerGateMemory)))

  it.scoped("gate - maxClosed caps a long Retry-After; an Unavailable with retryAfter closes it too", () =>
    Effect.gen(function*() {
      const gate = yield* RateLimit.gate({ name: "crm", key: "crm", maxClosed: "30 seconds" })
      yield* Effect.either(Effect.fail(tooMany(3600)).pipe(gate.protect))
      expect(yield* gate.closedFor()).toEqual(Option.some(Duration.seconds(30)))
      yield* TestClock.adjust("30 seconds")
      expect(yield* gate.closedFor()).toEqual(Option.none())
      const unavailable = new Unavailable({
        provider: "crm",
        reason: "status",
        status: 503,
        retryAfter: Duration.seconds(5)
      })
      yield* Effect.either(Effect.fail(unavailable).pipe(gate.protect))
      expect(yield* gate.closedFor()).toEqual(Option.some(Duration.seconds(5)))
    }).pipe(Effect.provide(RateLimit.layerGateMemory)))

  it.scoped("gate - close refuses what is not a duration >= 0 with InvalidOptions, and leaves the gate open", () =>
    Effect.gen(function*() {
      const gate = yield* RateLimit.gate({ name: "crm", key: "crm" })
      for (const bad of ["100ms", null, {}, -1, Number.NaN, "-5 seconds", Duration.infinity]) {
        const error = yield* Effect.flip(gate.close(bad as Duration.DurationInput))
        expect(error).toBeInstanceOf(InvalidOptions)
        expect([error.module, error.option]).toEqual(["RateLimit.Gate.close", "duration"])
      }
      expect((yield* Effect.flip(gate.close("100ms" as Duration.DurationInput))).message).toBe(
        "RateLimit.Gate.close: option duration must be a finite duration >= 0 " +
          "(e.g. \"100 millis\", \"2 seconds\"), got \"100ms\""
      )
      expect(yield* gate.closedFor()).toEqual(Option.none())
      // longer than maxClosed is a valid duration: capped, as a signal's would be
      yield* gate.close("30 days")
      expect(yield* gate.closedFor()).toEqual(Option.some(Duration.minutes(1)))
    }).pipe(Effect.provide(RateLimit.layerGateMemory)))

  it.scoped("gate - local refusals, failures without retryAfter and other errors leave it open", () =>
    Effect.gen(function*() {
      const gate = yield* RateLimit.gate({ name: "crm", key: "crm" })
      yield* Effect.either(Effect.fail(local("10 seconds")).pipe(gate.protect))
      yield* Effect.either(Effect.fail(new RateLimited({ provider: "crm", reason: "provider" })).pipe(gate.protect))
      yield* Effect.either(Effect.fail(new Error("boom")).pipe(gate.protect))
      expect(yield* gate.closedFor()).toEqual(Option.none())
    }).pipe(Effect.provide(RateLimit.layerGateMemory)))

  it.scoped("gate - keys are independent", () =>
    Effect.gen(function*() {
      const gate = yield* RateLimit.gate({ name: "crm", key: (tenant: string) => tenant, maxWait: 0 })
      yield* Effect.either(Effect.fail(tooMany(10)).pipe(RateLimit.protect(gate, "a")))
      expect(yield* Effect.either(Effect.succeed(1).pipe(RateLimit.protect(gate, "a")))).toEqual(
        Either.left(new RateLimited({ provider: "crm", reason: "local", retryAfter: Duration.seconds(10) }))
      )
      expect(yield* Effect.succeed(1).pipe(RateLimit.protect(gate, "b"))).toBe(1)
    }).pipe(Effect.provide(RateLimit.layerGateMemory)))

  it.scoped("gate - a waiter interrupted while the gate is closed leaves nothing behind", () =>
    Effect.gen(function*() {
      const gate = yield* RateLimit.gate({ name: "crm", key: "crm", releaseOver: 0 })
      const { call, times } = yield* scripted((i) => (i === 0 ? tooMany(2) : undefined))
      yield* Effect.either(call.pipe(gate.protect))
      const waiter = yield* Effect.fork(call.pipe(gate.protect))
      yield* TestClock.adjust("1 second")
      yield* Fiber.interrupt(waiter)
      yield* TestClock.adjust("2 seconds")
      expect(yield* times).toEqual([0])
      expect(yield* call.pipe(gate.protect)).toBe(3000)
    }).pipe(Effect.provide(RateLimit.layerGateMemory)))

  it.scoped("gate - logs once when it closes and once when it reopens", () =>
    Effect.gen(function*() {
      const logs = yield* captureLogs
      yield* Effect.gen(function*() {
        const gate = yield* RateLimit.gate({ name: "crm", key: "crm" })
        yield* Effect.either(Effect.fail(tooMany(2)).pipe(gate.protect))
        yield* Effect.either(Effect.fail(tooMany(1)).pipe(gate.protect, Effect.timeout("0 millis"), Effect.ignore))
        yield* TestClock.adjust("2 seconds")
      }).pipe(Effect.provide(logs.layer))
      expect(yield* logs.lines).toEqual([
        "WARN rate-limit gate crm closed for 2s: callers wait instead of calling",
        "INFO rate-limit gate crm reopened"
      ])
    }).pipe(Effect.provide(RateLimit.layerGateMemory)))

  it.scoped("gate and limiter - the gate outside the limiter spends no token while closed", () =>
    Effect.gen(function*() {
      const limiter = yield* RateLimit.make({
        name: "crm",
        key: "crm",
        limit: 1,
        window: "1 minute",
        onExceeded: "fail"
      })
      const gate = yield* RateLimit.gate({ name: "crm", key: "crm", maxWait: 0 })
      yield* gate.close("5 seconds")
      const refused = yield* Effect.flip(Effect.void.pipe(RateLimit.protect(limiter), RateLimit.protect(gate)))
      expect(refused.retryAfter).toEqual(Duration.seconds(5))
      yield* TestClock.adjust("5 seconds")
      yield* Effect.void.pipe(RateLimit.protect(limiter), RateLimit.protect(gate)) // the token was still there
    }).pipe(Effect.provide(RateLimit.layerMemory)))

  it.scoped("protect - accepts the tag of a limiter or a gate", () =>
    Effect.gen(function*() {
      class CrmGate extends Context.Tag("test/CrmGate")<CrmGate, RateLimit.Gate>() {}
      class CrmLimit extends Context.Tag("test/CrmLimit")<CrmLimit, RateLimit.RateLimit<string>>() {}
      const layer = Layer.merge(
        RateLimit.layerGate(CrmGate, { name: "crm", key: "crm" }),
        RateLimit.layer(CrmLimit, { name: "crm", key: (t) => t, limit: 1, window: "1 minute", onExceeded: "fail" })
      ).pipe(Layer.provide(RateLimit.layerMemory))
      const once = Effect.succeed("ok").pipe(RateLimit.protect(CrmLimit, "a"), RateLimit.protect(CrmGate))
      const twice = Effect.zip(once, Effect.either(RateLimit.protect(Effect.succeed(1), CrmLimit, "a")))
      expect(yield* Effect.provide(twice, layer)).toEqual([
        "ok",
        Either.left(new RateLimited({ provider: "crm", reason: "local", retryAfter: Duration.minutes(1) }))
      ])
    }))
})
