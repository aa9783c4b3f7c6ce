import { describe, expect, it } from "@effect/vitest"
import {
  Clock,
  Deferred,
  Duration,
  Effect,
  Either,
  Exit,
  Fiber,
  FastCheck,
  Layer,
  Logger,
  LogLevel,
  Metric,
  Option,
  Ref,
  Schema,
  Scope,
  TestClock
} from "effect"
import { InvalidOptions, RateLimited } from "../src/Errors.js"
import * as HttpProvider from "../src/HttpProvider.js"
import { currentDeadline } from "../src/internal/deadline.js"
import * as model from "../src/internal/rateLimit/adaptiveModel.js"
import { readQuota } from "../src/internal/rateLimitHeaders.js"
import * as metrics from "../src/internal/rateLimitMetrics.js"
import * as RateLimit from "../src/RateLimit.js"
import * as RateLimitRedis from "../src/RateLimitRedis.js"
import * as ScriptedHttpClient from "../src/testing/ScriptedHttpClient.js"
import { captureLogs } from "./support/logs.js"
import { deleteKeys, redisClient, redisUnavailable, redisUrl, uniquePrefix } from "./support/redis.js"

const throttled = (retryAfter?: Duration.DurationInput) =>
  new RateLimited(
    retryAfter === undefined
      ? { provider: "api", reason: "provider" }
      : { provider: "api", reason: "provider", retryAfter: Duration.decode(retryAfter) }
  )

/** Records the TestClock time at which each call started. */
const recorder = Effect.map(Ref.make<Array<number>>([]), (starts) => ({
  starts: Ref.get(starts),
  mark: Effect.flatMap(Clock.currentTimeMillis, (now) => Ref.update(starts, (s) => [...s, now]))
}))

/** A call that reports `headers` with status 200, as HttpProvider would. */
const answering = (headers: Record<string, string>, status = 200) => RateLimit.observe({ status, headers })

/** Teaches `limiter` a rate by one call answering with `headers`, then lets the bucket settle. */
const teach = (limiter: RateLimit.Adaptive, headers: Record<string, string>) =>
  Effect.zipRight(answering(headers).pipe(limiter.protect), TestClock.adjust("10 seconds"))

/** `n` calls at once through `limiter`, each recording its start; returns the start times, relative to now. */
const burst = (limiter: RateLimit.Adaptive, n: number, until: Duration.DurationInput) =>
  Effect.gen(function*() {
    const { mark, starts } = yield* recorder
    const t0 = yield* Clock.currentTimeMillis
    const fiber = yield* Effect.fork(
      Effect.all(Array.from({ length: n }, () => mark.pipe(limiter.protect)), { concurrency: "unbounded" })
    )
    yield* TestClock.adjust(until)
    yield* Fiber.join(fiber)
    return (yield* starts).map((t) => t - t0)
  })

const spaced = (n: number, step: number, from = 0) => Array.from({ length: n }, (_, i) => from + i * step)

/** The limiter's default constants, for tests of the pure model. */
const constants: model.Constants = {
  beta: 0.7,
  scale: 0.005,
  minRate: 0.5,
  maxRate: 1000,
  initialConcurrency: 4,
  maxConcurrency: 50,
  maxClosedMillis: 60_000
}

describe("RateLimit.adaptive", () => {
  describe("first wave", () => {
    it.effect("first wave - before anything is learned, at most initialConcurrency calls run", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k", initialConcurrency: 4 })
        const running = yield* Ref.make(0)
        const peak = yield* Ref.make(0)
        const call = Effect.acquireUseRelease(
          Effect.flatMap(Ref.updateAndGet(running, (n) => n + 1), (n) => Ref.update(peak, (p) => Math.max(p, n))),
          () => Effect.sleep("1 second"),
          () => Ref.update(running, (n) => n - 1)
        )
        const fiber = yield* Effect.fork(
          Effect.all(Array.from({ length: 50 }, () => call.pipe(limiter.protect)), { concurrency: "unbounded" })
        )
        yield* TestClock.adjust("1 millis")
        expect(yield* Ref.get(running)).toBe(4)
        expect((yield* limiter.current()).waiting).toBe(46)
        yield* TestClock.adjust("1 second")
        // slow start: each success widens the window by one
        expect((yield* limiter.current()).concurrency).toBe(8)
        yield* TestClock.adjust("1 minute")
        yield* Fiber.join(fiber)
        expect(yield* Ref.get(peak)).toBeLessThanOrEqual(50)
      }).pipe(Effect.scoped))

    it.effect("first wave - once headers give a rate, the rate paces and the window opens", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k", initialConcurrency: 1 })
        yield* teach(limiter, { "ratelimit-policy": "\"p\";q=5;w=1", "ratelimit": "\"p\";r=4;t=1" })
        const snapshot = yield* limiter.current()
        expect(snapshot.rate).toEqual(Option.some(5))
        expect(snapshot.concurrency).toBe(50)
        expect(yield* burst(limiter, 5, "1 second")).toEqual(spaced(5, 200))
      }).pipe(Effect.scoped))
  })

  describe("header pacing", () => {
    const cases: ReadonlyArray<readonly [string, (now: number) => Record<string, string>, number]> = [
      ["IETF RateLimit-Policy q/w", () => ({ "ratelimit-policy": "\"p\";q=5;w=1", "ratelimit": "\"p\";r=4;t=1" }), 200],
      ["IETF draft-6 RateLimit-Remaining over Reset", () => ({ "ratelimit-remaining": "20", "ratelimit-reset": "10" }), 500],
      [
        "GitHub X-RateLimit with an epoch reset",
        (now) => ({
          "x-ratelimit-limit": "5000",
          "x-ratelimit-remaining": "10",
          "x-ratelimit-reset": String(Math.floor(now / 1000) + 5)
        }),
        500
      ],
      [
        "OpenAI requests with a Go duration",
        () => ({
          "x-ratelimit-limit-requests": "60",
          "x-ratelimit-remaining-requests": "59",
          "x-ratelimit-reset-requests": "1s"
        }),
        1000
      ],
      [
        "Anthropic requests with an RFC 3339 reset",
        (now) => ({
          "anthropic-ratelimit-requests-limit": "120",
          "anthropic-ratelimit-requests-remaining": "118",
          "anthropic-ratelimit-requests-reset": new Date(now + 1000).toISOString()
        }),
        500
      ]
    ]

    it.effect.each(cases)("header pacing - %s spaces calls by the learned rate", ([, headers, step]) =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k" })
        yield* answering(headers(yield* Clock.currentTimeMillis)).pipe(limiter.protect)
        yield* TestClock.adjust("10 seconds")
        expect(yield* burst(limiter, 4, "10 seconds")).toEqual(spaced(4, step))
      }).pipe(Effect.scoped))

    it.effect("header pacing - a one-second window with a whole-second reset: the quota paces, a backlog drains", () =>
      Effect.gen(function*() {
        // GitHub-style headers, a fixed one-second window, the reset rounded up to whole seconds (so it
        // always says 1): 20 a second, 5 during a storm from 5 s to 10 s; calls arrive at 10 a second
        const quotaAt = (now: number) => now >= 5000 && now < 10_000 ? 5 : 20
        const window = { index: -1, used: 0, throttled: 0 }
        const provider = Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const quota = quotaAt(now)
          const index = Math.floor(now / 1000)
          if (index !== window.index) Object.assign(window, { index, used: 0 })
          const headers = (remaining: number) => ({
            "x-ratelimit-limit": String(quota),
            "x-ratelimit-remaining": String(remaining),
            "x-ratelimit-reset": String(Math.ceil(((index + 1) * 1000 - now) / 1000))
          })
          if (window.used >= quota) {
            window.throttled++
            return yield* answering({ ...headers(0), "retry-after": "1" }, 429)
          }
          window.used++
          yield* Effect.sleep("20 millis")
          yield* answering(headers(quota - window.used))
        })
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k" })
        const arrivals = yield* Effect.fork(
          Effect.forever(Effect.zipRight(Effect.fork(provider.pipe(limiter.protect)), Effect.sleep("100 millis")))
        )
        const seen: Array<{ rate: number; waiting: number }> = []
        for (let second = 0; second < 16; second++) {
          yield* TestClock.adjust("1 second")
          const snapshot = yield* limiter.current()
          seen.push({ rate: Option.getOrThrow(snapshot.rate), waiting: snapshot.waiting })
        }
        yield* Fiber.interrupt(arrivals)
        // never above what the headers allow (the window that just ended), so never a 429
        expect(window.throttled).toBe(0)
        expect(seen.every(({ rate }, second) => rate <= quotaAt(second * 1000))).toBe(true)
        // room in the quota: the offered 10 a second pass without a queue
        expect(seen.slice(0, 5).map(({ waiting }) => waiting)).toEqual([0, 0, 0, 0, 0])
        // in the storm close to the quota (it was 2 a second: the quota minus what was already sent)
        expect(seen[7]!.rate).toBeGreaterThanOrEqual(4)
        // the backlog the storm left drains within 5 s (it took 25 s)
        expect(seen.slice(14).map(({ waiting }) => waiting)).toEqual([0, 0])
      }).pipe(Effect.scoped))

    it.effect("header pacing - remaining 0 holds every call until the reset", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k" })
        yield* answering({ "x-ratelimit-limit": "10", "x-ratelimit-remaining": "0", "x-ratelimit-reset-after": "3" })
          .pipe(limiter.protect)
        expect((yield* limiter.current()).closedFor).toEqual(Option.some(Duration.seconds(3)))
        const starts = yield* burst(limiter, 2, "5 seconds")
        expect(starts[0]).toBe(3000)
      }).pipe(Effect.scoped))
  })

  describe("decrease and recovery", () => {
    it.effect("decrease - a wave of 429s cuts the rate once, to decrease x the measured rate", () =>
      Effect.gen(function*() {
        const { lines, layer } = yield* captureLogs
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k", initialConcurrency: 4 })
        // four calls sent together, all answered 429
        const go = yield* Deferred.make<void>()
        const wave = yield* Effect.fork(Effect.all(
          Array.from({ length: 4 }, () =>
            Effect.either(Effect.zipRight(Deferred.await(go), Effect.fail(throttled())).pipe(limiter.protect))),
          { concurrency: "unbounded" }
        ).pipe(Effect.provide(layer)))
        yield* TestClock.adjust("1 millis")
        yield* Deferred.succeed(go, undefined)
        yield* Fiber.join(wave)
        const snapshot = yield* limiter.current()
        expect(snapshot.rate).toEqual(Option.some(0.7 * 4))
        expect(snapshot.concurrency).toBe(2)
        expect((yield* lines).filter((l) => l.includes("throttled"))).toHaveLength(1)
      }).pipe(Effect.scoped))

    it.effect("decrease - a 429 to a lone probe after a Retry-After leaves the rate alone (a throttle, not a rate)", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k", initialConcurrency: 4 })
        // four calls sent together, all answered 429 with Retry-After: 2
        const go = yield* Deferred.make<void>()
        const wave = yield* Effect.fork(Effect.all(
          Array.from({ length: 4 }, () =>
            Effect.either(Effect.zipRight(Deferred.await(go), Effect.fail(throttled("2 seconds"))).pipe(limiter.protect))),
          { concurrency: "unbounded" }
        ))
        yield* TestClock.adjust("1 millis")
        yield* Deferred.succeed(go, undefined)
        yield* Fiber.join(wave)
        expect((yield* limiter.current()).rate).toEqual(Option.some(0.7 * 4))
        // the provider is still throttled: each probe after its Retry-After gets another 429
        for (let i = 0; i < 5; i++) {
          const probe = yield* Effect.fork(Effect.either(Effect.fail(throttled("2 seconds")).pipe(limiter.protect)))
          yield* TestClock.adjust("2 seconds")
          yield* Fiber.join(probe)
        }
        expect((yield* limiter.current()).rate).toEqual(Option.some(0.7 * 4))
      }).pipe(Effect.scoped))

    it.effect("decrease - 429s at the floor log nothing more at INFO: one line per change of the rate", () =>
      Effect.gen(function*() {
        const { lines, layer } = yield* captureLogs
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k", initialConcurrency: 1, maxConcurrency: 1 })
        // six 429s one after the other: 1/s measured, cut to 0.7/s, then 0.5/s (the floor), then no change
        const waves = yield* Effect.fork(
          Effect.forEach(
            Array.from({ length: 6 }),
            () => Effect.either(Effect.fail(throttled()).pipe(limiter.protect)),
            { discard: true }
          ).pipe(Effect.provide(layer))
        )
        yield* TestClock.adjust("1 minute")
        yield* Fiber.join(waves)
        expect((yield* lines).filter((l) => l.startsWith("INFO"))).toEqual([
          "INFO adaptive rate limit api: throttled (429); now 0.70/s, concurrency 1",
          "INFO adaptive rate limit api: throttled (429); now 0.50/s, concurrency 1"
        ])
      }).pipe(Effect.scoped))

    it.effect("decrease - a 429 seen by observe counts as a throttle, and its Retry-After holds calls", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k" })
        yield* answering({ "retry-after": "2" }, 429).pipe(limiter.protect)
        const snapshot = yield* limiter.current()
        expect(Option.isSome(snapshot.rate)).toBe(true)
        expect(snapshot.closedFor).toEqual(Option.some(Duration.seconds(2)))
      }).pipe(Effect.scoped))

    it.effect("maxClosed - a Retry-After of a day holds calls for maxClosed, then one call probes and a 429 closes again", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k", maxWait: "2 minutes" })
        yield* answering({ "retry-after": "86400" }, 429).pipe(limiter.protect)
        expect((yield* limiter.current()).closedFor).toEqual(Option.some(Duration.minutes(1)))
        const { mark, starts } = yield* recorder
        const probe = yield* Effect.fork(mark.pipe(Effect.zipRight(answering({ "retry-after": "86400" }, 429)), limiter.protect))
        yield* TestClock.adjust("59 seconds")
        expect(yield* starts).toEqual([])
        yield* TestClock.adjust("1 second")
        expect(yield* starts).toEqual([60_000])
        yield* Fiber.join(probe)
        expect((yield* limiter.current()).closedFor).toEqual(Option.some(Duration.minutes(1)))
      }).pipe(Effect.scoped))

    it.effect("maxClosed - caps a quota's reset at remaining 0 too, and is an option (a duration > 0)", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k", maxClosed: "10 seconds" })
        yield* answering({ "x-ratelimit-limit": "100", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "3600" })
          .pipe(limiter.protect)
        expect((yield* limiter.current()).closedFor).toEqual(Option.some(Duration.seconds(10)))
        for (const maxClosed of [0, -1, Number.NaN, "1h" as Duration.DurationInput]) {
          const error = yield* Effect.flip(Effect.scoped(RateLimit.adaptive({ name: "api", key: "k", maxClosed })))
          expect(error).toBeInstanceOf(InvalidOptions)
          expect(error.message).toContain("maxClosed")
        }
      }).pipe(Effect.scoped))

    it.effect("maxClosed - a closing shared by a limiter that holds keys longer is held for this limiter's maxClosed", () =>
      Effect.gen(function*() {
        const patient = yield* RateLimit.adaptive({ name: "api", key: "k", maxClosed: "1 hour" })
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k" })
        // after the epoch, so what the patient one writes is newer than a fresh key's state
        yield* TestClock.adjust("1 millis")
        yield* answering({ "retry-after": "3600" }, 429).pipe(patient.protect)
        expect((yield* patient.current()).closedFor).toEqual(Option.some(Duration.hours(1)))
        // the other limiter reads the store as its call starts
        const call = yield* Effect.fork(Effect.void.pipe(limiter.protect))
        yield* TestClock.adjust("1 millis")
        const closedFor = Option.getOrThrow((yield* limiter.current()).closedFor)
        expect(Duration.toMillis(closedFor)).toBeGreaterThan(0)
        expect(Duration.lessThanOrEqualTo(closedFor, Duration.minutes(1))).toBe(true)
        expect((yield* patient.current()).closedFor).toEqual(Option.some(Duration.millis(3_600_000 - 1)))
        yield* Fiber.interrupt(call)
      }).pipe(Effect.scoped, Effect.provide(RateLimit.layerAdaptiveMemory)))

    it.effect("decrease - a 429's epoch reset is measured from the response's Date, not our (skewed) clock", () =>
      Effect.gen(function*() {
        const serverNow = Date.UTC(2026, 10, 23, 10, 0, 0)
        // our clock is 30 s behind the server's
        yield* TestClock.setTime(serverNow - 30_000)
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k" })
        yield* answering({
          "date": new Date(serverNow).toUTCString(),
          "x-ratelimit-reset": String(serverNow / 1000 + 60)
        }, 429).pipe(limiter.protect)
        expect((yield* limiter.current()).closedFor).toEqual(Option.some(Duration.seconds(60)))
      }).pipe(Effect.scoped))

    it.effect("recovery - after a cut the rate regrows along the cubic curve, back to W_max after K seconds", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k", initialConcurrency: 10, maxConcurrency: 10 })
        // 10 calls in the same second, the last one throttled: W_max = 10/s, cut to 7/s
        yield* Effect.all(Array.from({ length: 9 }, () => Effect.void.pipe(limiter.protect)))
        yield* Effect.either(Effect.fail(throttled()).pipe(limiter.protect))
        expect((yield* limiter.current()).rate).toEqual(Option.some(7))
        // keep sending at the allowed pace; the rate climbs monotonically back to 10/s after
        // K = cbrt((1 - 0.7) / 0.005) s (C relative to W_max), then past it
        const k = Math.cbrt(0.3 / 0.005)
        const rates: Array<number> = []
        const fiber = yield* Effect.fork(Effect.forever(Effect.void.pipe(limiter.protect)))
        for (let i = 0; i < 40; i++) {
          yield* TestClock.adjust("200 millis")
          rates.push(Option.getOrThrow((yield* limiter.current()).rate))
        }
        yield* Fiber.interrupt(fiber)
        expect(rates.every((r, i) => i === 0 || r >= rates[i - 1]!)).toBe(true)
        const atK = rates[Math.ceil(k / 0.2)]!
        expect(atK).toBeGreaterThanOrEqual(9.9)
        expect(rates[rates.length - 1]!).toBeGreaterThan(10)
      }).pipe(Effect.scoped))

    it.effect("decrease - a spent fixed window (429 to every call until it resets) cuts once per second, not per round trip", () =>
      Effect.gen(function*() {
        // no quota headers, no Retry-After: 100 a second, 25 in a storm from 3 s to 8 s; 20 ms answers
        const quotaAt = (now: number) => now >= 3000 && now < 8000 ? 25 : 100
        const window = { index: -1, used: 0 }
        const provider = Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const index = Math.floor(now / 1000)
          if (index !== window.index) Object.assign(window, { index, used: 0 })
          const spent = window.used >= quotaAt(now)
          if (!spent) window.used++
          yield* Effect.sleep("20 millis")
          yield* answering({}, spent ? 429 : 200)
        })
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k" })
        const arrivals = yield* Effect.fork(
          Effect.forever(Effect.zipRight(Effect.fork(Effect.either(provider.pipe(limiter.protect))), Effect.sleep("10 millis")))
        )
        const rates: Array<number> = []
        for (let second = 1; second <= 18; second++) {
          yield* TestClock.adjust("1 second")
          rates[second] = Option.getOrElse((yield* limiter.current()).rate, () => Infinity)
        }
        yield* Fiber.interrupt(arrivals)
        // the storm's first window: one cut from 100/s (a cut per 20 ms round trip left 3/s)
        expect(rates[4]).toBeCloseTo(70)
        // at the storm's end near its quota, not at the floor
        expect(rates[8]).toBeGreaterThan(15)
        // then CUBIC regrows from there: 75/s within 10 s of the storm's end (it took 17 s)
        expect(rates[18]).toBeGreaterThan(75)
      }).pipe(Effect.scoped), 60_000)

    it.effect("recovery - the concurrency window cut to 1 by 429 waves grows again, and a higher quota limit reopens it", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k" })
        const wave = Effect.all(
          Array.from({ length: 4 }, () =>
            Effect.either(Effect.zipRight(Effect.sleep("100 millis"), Effect.fail(throttled())).pipe(limiter.protect))),
          { concurrency: "unbounded" }
        )
        for (let i = 0; i < 2; i++) yield* Effect.zipRight(Effect.fork(wave), TestClock.adjust("5 seconds"))
        expect((yield* limiter.current()).concurrency).toBe(1)
        // one call at a time: a success widens the window while at least half of it is in use, the call
        // that ends included: 1 -> 2 -> 3, and then one call of 3 says nothing
        for (let i = 0; i < 3; i++) {
          yield* Effect.zipRight(Effect.fork(Effect.sleep("100 millis").pipe(limiter.protect)), TestClock.adjust("2 seconds"))
        }
        expect((yield* limiter.current()).concurrency).toBe(3)
        // a quota that grows is a new quota: the storm's cut goes with its rate
        const quota = (limit: number) => ({
          "ratelimit-limit": String(limit),
          "ratelimit-remaining": String(limit - 1),
          "ratelimit-reset": "1",
          "ratelimit-policy": `${limit};w=1`
        })
        yield* answering(quota(10)).pipe(limiter.protect)
        yield* TestClock.adjust("2 seconds")
        yield* answering(quota(100)).pipe(limiter.protect)
        expect((yield* limiter.current()).concurrency).toBe(constants.maxConcurrency)
      }).pipe(Effect.scoped))

    it("recovery - a higher quota limit forgets the throttle learned under the lower one; the same limit keeps it", () => {
      const c = constants
      const s = model.makeKeyState(model.initialLearned(c), 0)
      const quota = (limit: number, remaining: number) =>
        readQuota({
          "x-ratelimit-limit": String(limit),
          "x-ratelimit-remaining": String(remaining),
          "x-ratelimit-reset": "1"
        }, 0)
      // a storm: the quota is 5 a second, and a 429 at that pace
      model.observe(c, s, quota(5, 1), 1, 0)
      for (let i = 0; i < 5; i++) model.admit(c, s, 1, i * 200)
      expect(model.throttle(c, s, 800, 900)).toBe(true)
      const cut = model.requestRate(c, s.learned)!
      expect(cut).toBeLessThan(4.5)
      // the same limit again: the throttle still holds the rate
      model.observe(c, s, quota(5, 3), 1, 1500)
      expect(model.requestRate(c, s.learned)).toBe(cut)
      // the storm is over, the limit is 40 again: paced by the headers (it stayed near the storm's rate)
      model.observe(c, s, quota(40, 38), 1, 2500)
      expect(s.learned.cubic).toBeNull()
      expect(model.requestRate(c, s.learned)).toBe(36)
    })

    it("decrease - a throttle below the last W_max aims under it (CUBIC fast convergence), one above does not", () => {
      const c = constants
      const s = model.makeKeyState(model.initialLearned(c), 0)
      const sendAt = (rate: number, from: number) => {
        for (let i = 0; i < rate; i++) model.admit(c, s, 1, from + i * 1000 / rate)
        return from + 999
      }
      // the first throttle at 10/s: W_max 10
      let now = sendAt(10, 0)
      model.throttle(c, s, now, now)
      expect(s.learned.cubic?.wMax).toBe(10)
      // a throttle at 8/s, under the last W_max: the limit is lower than 10, so W_max = 8 * (1 + 0.7) / 2
      now = sendAt(8, 60_000)
      s.learned = { ...s.learned, cubic: { ...s.learned.cubic!, rate: 8 } }
      model.throttle(c, s, now, now)
      expect(s.learned.cubic?.wMax).toBeCloseTo(6.8)
      // a throttle at 9/s, above it: W_max = 9
      now = sendAt(9, 120_000)
      s.learned = { ...s.learned, cubic: { ...s.learned.cubic!, rate: 9 } }
      model.throttle(c, s, now, now)
      expect(s.learned.cubic?.wMax).toBe(9)
    })

    it.effect("recovery - a success never lowers the rate, however long the call took", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k", initialConcurrency: 10, maxConcurrency: 10 })
        yield* Effect.all(Array.from({ length: 9 }, () => Effect.void.pipe(limiter.protect)))
        yield* Effect.either(Effect.fail(throttled()).pipe(limiter.protect))
        expect((yield* limiter.current()).rate).toEqual(Option.some(7))
        // one LLM-like call that answers after 2 s, with nothing else sent meanwhile
        const slow = yield* Effect.fork(Effect.sleep("2 seconds").pipe(limiter.protect))
        yield* TestClock.adjust("3 seconds")
        yield* Fiber.join(slow)
        expect(Option.getOrThrow((yield* limiter.current()).rate)).toBeGreaterThanOrEqual(7)
      }).pipe(Effect.scoped))
  })

  describe("weighted calls", () => {
    const tokens = {
      "x-ratelimit-limit-tokens": "6000",
      "x-ratelimit-remaining-tokens": "5900",
      "x-ratelimit-reset-tokens": "1s"
    }

    it.effect("weighted - a cost known up front is paced by the token rate", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "llm", key: "k" })
        yield* teach(limiter, tokens)
        expect((yield* limiter.current()).unitRate).toEqual(Option.some(100))
        const { mark, starts } = yield* recorder
        const fiber = yield* Effect.fork(
          Effect.all(Array.from({ length: 3 }, () => mark.pipe(RateLimit.withCost(200), limiter.protect)), {
            concurrency: "unbounded"
          })
        )
        yield* TestClock.adjust("10 seconds")
        yield* Fiber.join(fiber)
        const t = yield* starts
        expect(t.map((x) => x - t[0]!)).toEqual([0, 2000, 4000])
      }).pipe(Effect.scoped))

    it.effect("weighted - a near-zero token rate (a hostile header) holds a heavy call for maxClosed at most", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "llm", key: "k", maxWait: "2 minutes" })
        // one token spent, refilled in a day: a rate of one token a day
        yield* teach(limiter, { "x-ratelimit-limit-tokens": "1000", "x-ratelimit-remaining-tokens": "999", "x-ratelimit-reset-tokens": "24h" })
        expect(Option.getOrThrow((yield* limiter.current()).unitRate)).toBeCloseTo(1 / 86_400)
        const { mark, starts } = yield* recorder
        const heavy = mark.pipe(RateLimit.withCost(200), limiter.protect)
        const fiber = yield* Effect.fork(Effect.zipRight(heavy, heavy))
        // the first call's debt alone would hold the second for 199 days
        yield* TestClock.adjust("2 minutes")
        yield* Fiber.join(fiber)
        const t = yield* starts
        expect(t.map((x) => x - t[0]!)).toEqual([0, 60_000])
      }).pipe(Effect.scoped))

    it.effect("weighted - withCost inside protect settles the difference as the call starts", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "llm", key: "k" })
        yield* teach(limiter, tokens)
        const { mark, starts } = yield* recorder
        const fiber = yield* Effect.fork(
          Effect.all(Array.from({ length: 2 }, () => mark.pipe(RateLimit.withCost(300), limiter.protect)))
        )
        yield* TestClock.adjust("10 seconds")
        yield* Fiber.join(fiber)
        const t = yield* starts
        expect(t[1]! - t[0]!).toBe(3000)
      }).pipe(Effect.scoped))

    it.effect("weighted - reportUsage corrects the reserved cost", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "llm", key: "k" })
        yield* teach(limiter, tokens)
        const { mark, starts } = yield* recorder
        // reserved 100 tokens, actually used 400: the next call waits for the 400
        const first = mark.pipe(Effect.zipRight(RateLimit.reportUsage(400)), RateLimit.withCost(100), limiter.protect)
        const fiber = yield* Effect.fork(Effect.zipRight(first, mark.pipe(RateLimit.withCost(100), limiter.protect)))
        yield* TestClock.adjust("10 seconds")
        yield* Fiber.join(fiber)
        const t = yield* starts
        expect(t[1]! - t[0]!).toBe(4000)
      }).pipe(Effect.scoped))

    it.effect("weighted - a lower remaining-tokens header re-syncs the bucket (others drain it too)", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "llm", key: "k" })
        yield* teach(limiter, tokens)
        yield* answering({ ...tokens, "x-ratelimit-remaining-tokens": "0", "x-ratelimit-reset-tokens": "1.5s" }).pipe(
          limiter.protect
        )
        expect((yield* limiter.current()).remainingUnits).toEqual(Option.some(0))
        expect((yield* limiter.current()).closedFor).toEqual(Option.some(Duration.millis(1500)))
      }).pipe(Effect.scoped))

    it("withCost - bad units throw InvalidOptions where they are written", () => {
      expect(() => RateLimit.withCost(-1)).toThrow(InvalidOptions)
      expect(() => RateLimit.withCost(Number.NaN)).toThrow(InvalidOptions)
    })
  })

  describe("release after a gate", () => {
    it.effect("release - 50 waiters after a 2 s Retry-After are admitted at the learned rate", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k" })
        const gate = yield* RateLimit.gate({ name: "api", key: "k", releaseOver: 0 })
        yield* teach(limiter, { "ratelimit-policy": "\"p\";q=5;w=1", "ratelimit": "\"p\";r=4;t=1" })
        yield* gate.close("2 seconds")
        const { mark, starts } = yield* recorder
        const t0 = yield* Clock.currentTimeMillis
        const fiber = yield* Effect.fork(
          Effect.all(Array.from({ length: 50 }, () => mark.pipe(limiter.protect, RateLimit.protect(gate))), {
            concurrency: "unbounded"
          })
        )
        yield* TestClock.adjust("1 minute")
        yield* Fiber.join(fiber)
        expect((yield* starts).map((t) => t - t0)).toEqual(spaced(50, 200, 2000))
      }).pipe(Effect.scoped, Effect.provide(RateLimit.layerGateMemory)))

    it.effect("release - waiters held by the limiter's own Retry-After leave one by one", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k", maxWait: "1 minute" })
        yield* teach(limiter, { "ratelimit-policy": "\"p\";q=5;w=1", "ratelimit": "\"p\";r=4;t=1" })
        yield* answering({ "retry-after": "2" }, 503).pipe(limiter.protect)
        const starts = yield* burst(limiter, 10, "1 minute")
        expect(starts).toEqual(spaced(10, 200, 2000))
      }).pipe(Effect.scoped))
  })

  describe("waiting budget", () => {
    it.effect("maxWait - a wait that cannot fit fails at once with RateLimited local and retryAfter", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k", maxWait: "1 second" })
        yield* answering({ "retry-after": "5" }, 503).pipe(limiter.protect)
        const error = yield* Effect.flip(Effect.void.pipe(limiter.protect))
        expect(error).toEqual(new RateLimited({ provider: "api", reason: "local", retryAfter: Duration.seconds(5) }))
      }).pipe(Effect.scoped))

    it.effect("deadline - the active Timeout.total deadline bounds the wait", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k" })
        yield* answering({ "retry-after": "5" }, 503).pipe(limiter.protect)
        const now = yield* Clock.currentTimeMillis
        const error = yield* Effect.flip(
          Effect.locally(Effect.void.pipe(limiter.protect), currentDeadline, Option.some(now + 2000))
        )
        expect(error.reason).toBe("local")
      }).pipe(Effect.scoped))

    it.effect("deadline - a turn that leaves less than a call's usual time before the deadline passes to the next waiter", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k" })
        yield* teach(limiter, { "ratelimit-policy": "\"p\";q=1;w=1", "ratelimit": "\"p\";r=1;t=1" })
        // calls take 800 ms; this one empties the bucket, which refills 1 s after it started
        const slow = yield* Effect.fork(Effect.sleep("800 millis").pipe(limiter.protect))
        yield* TestClock.adjust("800 millis")
        yield* Fiber.join(slow)
        const t0 = yield* Clock.currentTimeMillis
        const { mark, starts } = yield* recorder
        // A's deadline ends 500 ms from now: its turn (in 200 ms) would leave it 300 ms, less than 800
        const late = yield* Effect.fork(Effect.flip(
          Effect.locally(mark.pipe(limiter.protect), currentDeadline, Option.some(t0 + 500))
        ))
        const next = yield* Effect.fork(mark.pipe(limiter.protect))
        yield* TestClock.adjust("200 millis")
        const refused = yield* Fiber.join(late)
        yield* Fiber.join(next)
        expect(refused.reason).toBe("local")
        // only B ran, on the turn A could not use
        expect((yield* starts).map((t) => t - t0)).toEqual([200])
      }).pipe(Effect.scoped))

    it.effect("deadline - earliest deadline first: a waiter with less time left goes before one queued earlier", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k" })
        yield* teach(limiter, { "ratelimit-policy": "\"p\";q=1;w=1", "ratelimit": "\"p\";r=1;t=1" })
        yield* Effect.void.pipe(limiter.protect)
        const t0 = yield* Clock.currentTimeMillis
        const order = yield* Ref.make<Array<string>>([])
        const call = (name: string, deadlineIn: number | undefined) => {
          const run = Ref.update(order, (o) => [...o, name]).pipe(limiter.protect)
          return Effect.fork(
            deadlineIn === undefined ? run : Effect.locally(run, currentDeadline, Option.some(t0 + deadlineIn))
          )
        }
        const fibers = [
          yield* call("no deadline", undefined),
          yield* call("10 s left", 10_000),
          yield* call("3 s left", 3_000),
          yield* call("also 10 s left", 10_000)
        ]
        yield* TestClock.adjust("4 seconds")
        yield* Fiber.joinAll(fibers)
        expect(yield* Ref.get(order)).toEqual(["3 s left", "10 s left", "also 10 s left", "no deadline"])
      }).pipe(Effect.scoped))

    it.effect("maxWait - a waiter admitted at the very instant its maxWait runs out leaks nothing", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k", maxWait: "1 second" })
        yield* teach(limiter, { "ratelimit-policy": "\"p\";q=1;w=1", "ratelimit": "\"p\";r=1;t=1" })
        yield* Effect.void.pipe(limiter.protect)
        // the bucket refills in exactly 1 s: the waiter's turn and its maxWait fall on the same instant
        const ran = yield* Ref.make(0)
        const waiter = yield* Effect.fork(Effect.exit(Ref.update(ran, (n) => n + 1).pipe(limiter.protect)))
        yield* TestClock.adjust("1 second")
        const exit = yield* Fiber.join(waiter)
        const snapshot = yield* limiter.current()
        expect([snapshot.inFlight, snapshot.waiting]).toEqual([0, 0])
        expect(yield* Ref.get(ran)).toBe(Exit.isSuccess(exit) ? 1 : 0)
        // whichever won, the next call gets its turn on time (1 s after the last permit actually used)
        const next = yield* Effect.fork(Effect.exit(Effect.void.pipe(limiter.protect)))
        yield* TestClock.adjust("1 second")
        expect(Exit.isSuccess(yield* Fiber.join(next))).toBe(true)
      }).pipe(Effect.scoped))

    it.effect("maxWait - a waiter whose turn does not come in time gives up and leaves the queue", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k", initialConcurrency: 1, maxWait: "1 second" })
        const blocker = yield* Effect.fork(Effect.never.pipe(limiter.protect))
        yield* TestClock.adjust("1 millis")
        const waiter = yield* Effect.fork(Effect.void.pipe(limiter.protect))
        yield* TestClock.adjust("1 second")
        const exit = yield* Fiber.await(waiter)
        expect(Exit.isFailure(exit)).toBe(true)
        expect((yield* limiter.current()).waiting).toBe(0)
        yield* Fiber.interrupt(blocker)
      }).pipe(Effect.scoped))
  })

  describe("interruption", () => {
    it.effect("interruption - a queued waiter interrupted leaves the queue; the next one takes its turn", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k", initialConcurrency: 1 })
        const release = yield* Deferred.make<void>()
        const first = yield* Effect.fork(Deferred.await(release).pipe(limiter.protect))
        yield* TestClock.adjust("1 millis")
        const second = yield* Effect.fork(Effect.succeed("second").pipe(limiter.protect))
        const third = yield* Effect.fork(Effect.succeed("third").pipe(limiter.protect))
        yield* TestClock.adjust("1 millis")
        expect((yield* limiter.current()).waiting).toBe(2)
        yield* Fiber.interrupt(second)
        expect((yield* limiter.current()).waiting).toBe(1)
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(first)
        expect(yield* Fiber.join(third)).toBe("third")
        const snapshot = yield* limiter.current()
        expect([snapshot.inFlight, snapshot.waiting]).toEqual([0, 0])
      }).pipe(Effect.scoped))

    it.effect("interruption - in-flight comes back however a call ends (success, failure, defect, interruption)", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k", initialConcurrency: 1 })
        yield* Effect.void.pipe(limiter.protect)
        yield* Effect.either(Effect.fail("boom").pipe(limiter.protect))
        yield* Effect.exit(Effect.die("defect").pipe(limiter.protect))
        const hung = yield* Effect.fork(Effect.never.pipe(limiter.protect))
        yield* TestClock.adjust("1 millis")
        expect((yield* limiter.current()).inFlight).toBe(1)
        yield* Fiber.interrupt(hung)
        expect((yield* limiter.current()).inFlight).toBe(0)
        // the window is free again: a call goes through at once
        expect(yield* Effect.succeed(1).pipe(limiter.protect)).toBe(1)
      }).pipe(Effect.scoped))

    it.effect("interruption - a waiter interrupted before its call ran never runs it and leaves the permit", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "api", key: "k" })
        yield* teach(limiter, { "ratelimit-policy": "\"p\";q=1;w=1", "ratelimit": "\"p\";r=1;t=1" })
        yield* Effect.void.pipe(limiter.protect)
        // the bucket is empty for a second: this waiter is queued, then interrupted just as its turn comes
        const ran = yield* Ref.make(false)
        const waiter = yield* Effect.fork(Ref.set(ran, true).pipe(limiter.protect))
        yield* TestClock.adjust("999 millis")
        yield* Fiber.interrupt(waiter)
        yield* TestClock.adjust("1 millis")
        expect(yield* Ref.get(ran)).toBe(false)
        // its permit was not spent: the next call starts at once
        expect(yield* burst(limiter, 1, "1 millis")).toEqual([0])
        expect((yield* limiter.current()).inFlight).toBe(0)
      }).pipe(Effect.scoped))

    it.effect("interruption - a waiter admitted, then interrupted before its call starts, gives its permit back", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({
          name: "refund",
          key: "k",
          initialConcurrency: 1,
          maxConcurrency: 1
        })
        const refunds = Metric.value(Metric.tagged(metrics.refundedTotal, "limiter", "refund"))
        const refundsBefore = (yield* refunds).count
        const ran = yield* Ref.make(false)
        const release = yield* Deferred.make<void>()
        const waiterFiber = yield* Deferred.make<Fiber.RuntimeFiber<void, RateLimited>>()
        // the blocker's end admits the waiter; in the same step, before the waiter resumes, it interrupts it
        const blocker = yield* Effect.fork(
          Deferred.await(release).pipe(
            limiter.protect,
            Effect.zipRight(Effect.flatMap(Deferred.await(waiterFiber), Fiber.interruptFork))
          )
        )
        yield* TestClock.adjust("1 millis")
        const waiter = yield* Effect.fork(Ref.set(ran, true).pipe(limiter.protect))
        yield* Deferred.succeed(waiterFiber, waiter)
        yield* TestClock.adjust("1 millis")
        expect((yield* limiter.current()).waiting).toBe(1)
        yield* Deferred.succeed(release, undefined)
        yield* Fiber.join(blocker)
        expect(Exit.isInterrupted(yield* Fiber.await(waiter))).toBe(true)
        expect(yield* Ref.get(ran)).toBe(false)
        // it had been admitted (its permit was refunded, not just its place in the queue given up)
        expect((yield* refunds).count - refundsBefore).toBe(1)
        const snapshot = yield* limiter.current()
        expect([snapshot.inFlight, snapshot.waiting]).toEqual([0, 0])
        expect(yield* Effect.succeed(1).pipe(limiter.protect)).toBe(1)
      }).pipe(Effect.scoped))

    it("interruption - a permit taken but never used is refunded in full (model)", () => {
      const c = { ...constants, scale: 0.4 }
      const s = model.makeKeyState({ ...model.initialLearned(c), ceiling: 1, unitCeiling: 10 }, 0)
      model.admit(c, s, 50, 0)
      expect(model.waitFor(c, s, 1, 0)).toBeGreaterThan(0)
      model.refund(s, 50)
      expect([s.inFlight, s.inFlightUnits, model.waitFor(c, s, 1, 0)]).toEqual([0, 0, 0])
    })
  })

  describe("HttpProvider", () => {
    it.effect("HttpProvider - a limiter around a provider call learns from the answer's headers", () =>
      Effect.gen(function*() {
        const limiter = yield* RateLimit.adaptive({ name: "payments", key: "k" })
        const provider = yield* HttpProvider.make({
          name: "payments",
          baseUrl: "https://payments.test",
          policy: (self) => self
        })
        const get = provider.get("/v1/x", { response: Schema.Struct({ id: Schema.String }) })
        yield* get.pipe(limiter.protect)
        const snapshot = yield* limiter.current()
        expect(snapshot.rate).toEqual(Option.some(9 / 4))
        expect(snapshot.remaining).toEqual(Option.some(9))
        // paced at 2.25/s: the second call waits for its turn, then is answered 429 with Retry-After: 3
        const second = yield* Effect.fork(Effect.flip(get.pipe(limiter.protect)))
        yield* TestClock.adjust("1 second")
        expect((yield* Fiber.join(second))._tag).toBe("RateLimited")
        expect(Option.isSome((yield* limiter.current()).closedFor)).toBe(true)
      }).pipe(
        Effect.scoped,
        Effect.provide(ScriptedHttpClient.layer([
          ScriptedHttpClient.ok({ id: "a" }, { headers: { "ratelimit-remaining": "9", "ratelimit-reset": "4" } }),
          ScriptedHttpClient.status(429, { retryAfter: "3 seconds" })
        ]))
      ))
  })

  describe("options", () => {
    it.effect.each([
      [{ initialConcurrency: 0 }, "initialConcurrency"],
      [{ initialConcurrency: 8, maxConcurrency: 4 }, "maxConcurrency"],
      [{ minRate: 0 }, "minRate"],
      [{ minRate: 2, maxRate: 1 }, "maxRate"],
      [{ decrease: 1 }, "decrease"],
      [{ decrease: Number.NaN }, "decrease"],
      [{ maxWait: "-1 seconds" }, "maxWait"],
      [{ name: "" }, "name"]
    ] as const)("options - %j fails with InvalidOptions naming %s", ([bad, option]) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(RateLimit.adaptive({ name: "api", key: "k", ...bad }))
        expect(error).toBeInstanceOf(InvalidOptions)
        expect(error.option).toBe(option)
      }).pipe(Effect.scoped))
  })

  describe("store", () => {
    it.effect("store - two limiters sharing a store learn together", () =>
      Effect.gen(function*() {
        const a = yield* RateLimit.adaptive({ name: "api", key: "k" })
        const b = yield* RateLimit.adaptive({ name: "api", key: "k" })
        yield* b.current()
        yield* TestClock.adjust("1 millis")
        yield* answering({ "ratelimit-policy": "\"p\";q=5;w=1", "ratelimit": "\"p\";r=4;t=1" }).pipe(a.protect)
        yield* TestClock.adjust("1 second")
        expect((yield* b.current()).rate).toEqual(Option.some(5))
      }).pipe(Effect.scoped, Effect.provide(RateLimit.layerAdaptiveMemory)))

    it.effect("store - an outage is one WARN saying calls are paced from what was learned locally, then one INFO", () =>
      Effect.gen(function*() {
        const { layer, lines } = yield* captureLogs
        const down = yield* Ref.make(true)
        const failing = <A>(ok: Effect.Effect<A>) =>
          Effect.flatMap(Ref.get(down), (isDown) =>
            isDown
              ? Effect.fail(new RateLimit.AdaptiveStoreError({ operation: "talk", cause: new Error("ECONNREFUSED") }))
              : ok)
        const store = Layer.succeed(RateLimit.AdaptiveStore, {
          get: () => failing(Effect.succeedNone),
          set: () => failing(Effect.void)
        })
        const limiter = yield* Effect.provide(RateLimit.adaptive({ name: "api", key: "k" }), store)
        const call = (remaining: number) =>
          answering({ "ratelimit-remaining": String(remaining), "ratelimit-reset": "10" }).pipe(
            limiter.protect,
            Effect.provide(layer)
          )
        for (let i = 0; i < 5; i++) {
          yield* call(50 - i)
          yield* TestClock.adjust("2 seconds")
        }
        yield* Ref.set(down, false)
        yield* call(10)
        yield* TestClock.adjust("2 seconds")
        yield* call(5)
        const logged = (yield* lines).filter((l) => l.startsWith("WARN") || l.includes("store"))
        expect(logged).toEqual([
          "WARN rate-limit adaptive limiter store for api is unreachable; pacing calls from what this limiter learned alone",
          "INFO rate-limit adaptive limiter store for api answers again"
        ])
      }).pipe(Effect.scoped, Effect.provide(Logger.minimumLogLevel(LogLevel.Debug))))

    it.effect("store - without a store, limiters keep their own memory", () =>
      Effect.gen(function*() {
        const a = yield* RateLimit.adaptive({ name: "api", key: "k" })
        const b = yield* RateLimit.adaptive({ name: "api", key: "k" })
        yield* answering({ "ratelimit-policy": "\"p\";q=5;w=1", "ratelimit": "\"p\";r=4;t=1" }).pipe(a.protect)
        yield* TestClock.adjust("1 second")
        expect((yield* b.current()).rate).toEqual(Option.none())
      }).pipe(Effect.scoped))
  })

  describe("property", () => {
    const headerValue = FastCheck.oneof(
      FastCheck.string(),
      FastCheck.integer({ min: -10, max: 1_000_000_000_000 }).map(String),
      FastCheck.double().map(String),
      FastCheck.constantFrom("0", "1s", "6m0s", "20ms", "2026-01-01T00:00:00Z", "\"p\";r=0;t=1", "\"p\";q=1;w=0")
    )
    const names = [
      "ratelimit",
      "ratelimit-policy",
      "ratelimit-remaining",
      "ratelimit-reset",
      "x-ratelimit-limit",
      "x-ratelimit-remaining",
      "x-ratelimit-reset",
      "x-ratelimit-limit-requests",
      "x-ratelimit-remaining-requests",
      "x-ratelimit-reset-requests",
      "x-ratelimit-remaining-tokens",
      "anthropic-ratelimit-requests-remaining",
      "anthropic-ratelimit-requests-reset"
    ]
    const event = FastCheck.oneof(
      FastCheck.record({ _tag: FastCheck.constant("admit" as const), cost: FastCheck.integer({ min: 0, max: 5000 }) }),
      FastCheck.record({ _tag: FastCheck.constant("throttle" as const) }),
      FastCheck.record({ _tag: FastCheck.constant("succeed" as const) }),
      FastCheck.record({ _tag: FastCheck.constant("wait" as const), millis: FastCheck.integer({ min: 0, max: 600_000 }) }),
      FastCheck.record({
        _tag: FastCheck.constant("observe" as const),
        headers: FastCheck.dictionary(FastCheck.constantFrom(...names), headerValue)
      })
    )

    it.prop(
      "the learned rate stays within [minRate, maxRate], whatever happens",
      [FastCheck.array(event, { maxLength: 200 })],
      ([events]) => {
        let now = 1_700_000_000_000
        const s = model.makeKeyState(model.initialLearned(constants), now)
        for (const e of events) {
          if (e._tag === "admit") model.admit(constants, s, e.cost, now)
          else if (e._tag === "throttle") model.throttle(constants, s, now, now)
          else if (e._tag === "succeed") model.succeed(constants, s, now)
          else if (e._tag === "wait") now += e.millis
          else model.observe(constants, s, readQuota(e.headers, now), 1, now)
          const rate = model.requestRate(constants, s.learned)
          if (rate !== undefined && !(rate >= constants.minRate && rate <= constants.maxRate)) return false
          const wait = model.waitFor(constants, s, 1, now)
          if (!(Number.isFinite(wait) && wait >= 0)) return false
          if (!(s.learned.concurrency >= 1 && s.learned.concurrency <= constants.maxConcurrency)) return false
        }
        return true
      },
      { fastCheck: { numRuns: 2000 } }
    )
  })
})

describe.skipIf(redisUnavailable !== undefined)("RateLimit.adaptive on Redis (real Redis)", () => {
  /** One "process": its own Redis client, built in the test's scope. */
  const instance = (prefix: string) =>
    Effect.flatMap(
      Scope.Scope,
      (scope) => Layer.buildWithScope(RateLimitRedis.layerAdaptive({ url: redisUrl, prefix }), scope)
    )

  it.effect.each([
    ["a zero unit rate", { unitCeiling: 0 }],
    ["a closing in the year 5000", { notBefore: Date.UTC(5000, 0, 1) }]
  ] as const)("store - a stored entry with %s is not believed", ([, bad]) =>
    Effect.gen(function*() {
      const prefix = yield* Effect.acquireRelease(
        Effect.sync(() => uniquePrefix("adaptive")),
        (p) => Effect.promise(() => deleteKeys(p))
      )
      const client = yield* redisClient
      const stored = {
        ceiling: null,
        unitCeiling: null,
        cubic: null,
        notBefore: 0,
        concurrency: 4,
        learned: true,
        decreasedAt: null,
        updatedAt: 1,
        ...bad
      }
      yield* Effect.promise(() => client.set(`${prefix}adaptive:3:llm:org-1`, JSON.stringify(stored)))
      const limiter = yield* Effect.provide(
        RateLimit.adaptive({ name: "llm", key: "org-1", maxWait: "10 seconds" }),
        yield* instance(prefix)
      )
      yield* TestClock.adjust("1 millis")
      const call = Effect.either(Effect.succeed("ok").pipe(RateLimit.withCost(10), limiter.protect))
      const calls = yield* Effect.fork(Effect.zip(call, call))
      yield* TestClock.adjust("10 seconds")
      expect(yield* Fiber.join(calls)).toEqual([Either.right("ok"), Either.right("ok")])
      const snapshot = yield* limiter.current()
      expect(Option.getOrElse(snapshot.rate, () => 1)).toBeGreaterThanOrEqual(0.5)
      expect(snapshot.closedFor).toEqual(Option.none())
    }).pipe(Effect.scoped))

  it.effect("store - two processes' limiters share what they learned", () =>
    Effect.gen(function*() {
      const prefix = yield* Effect.acquireRelease(
        Effect.sync(() => uniquePrefix("adaptive")),
        (p) => Effect.promise(() => deleteKeys(p))
      )
      const options = { name: "llm", key: "org-1" } as const
      const a = yield* Effect.provide(RateLimit.adaptive(options), yield* instance(prefix))
      const b = yield* Effect.provide(RateLimit.adaptive(options), yield* instance(prefix))
      yield* TestClock.adjust("1 millis")
      // a learns the rate from headers, then a 429 with Retry-After
      yield* answering({ "ratelimit-policy": "\"p\";q=5;w=1", "ratelimit": "\"p\";r=4;t=1" }).pipe(a.protect)
      yield* TestClock.adjust("1 second")
      yield* answering({ "retry-after": "30" }, 429).pipe(a.protect)
      // b re-reads the store at most once a second
      yield* TestClock.adjust("1 second")
      const seen = yield* b.current()
      expect(seen.rate).toEqual((yield* a.current()).rate)
      expect(Option.isSome(seen.rate)).toBe(true)
      expect(Option.map(seen.closedFor, Duration.toMillis)).toEqual(Option.some(29_000))
      // and b's own calls wait for the reopening a learned
      const error = yield* Effect.flip(Effect.void.pipe(b.protect, Effect.locally(currentDeadline, Option.some(0))))
      expect(error.reason).toBe("local")
    }).pipe(Effect.scoped))
})
