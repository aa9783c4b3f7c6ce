import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Option, Ref, TestClock } from "effect"
import * as Backoff from "../src/Backoff.js"
import * as CircuitBreaker from "../src/CircuitBreaker.js"
import { RateLimited, Unavailable } from "../src/Errors.js"
import * as RateLimit from "../src/RateLimit.js"
import * as Retry from "../src/Retry.js"

// DESIGN.md: "One default for the longest Retry-After waited for, shared by every module."

const longest = Duration.toMillis(Backoff.defaultMaxRetryAfter)
const rateLimited = (millis: number) =>
  new RateLimited({ provider: "p", reason: "provider", retryAfter: Duration.millis(millis) })
const unavailable = (millis: number) =>
  new Unavailable({ provider: "p", reason: "status", status: 503, retryAfter: Duration.millis(millis) })

/** How many attempts `retry` makes of a call whose first attempt fails with a hint of `millis`. */
const attempts = (
  millis: number,
  retry: (call: Effect.Effect<void, RateLimited>) => Effect.Effect<void, RateLimited>
) =>
  Effect.gen(function*() {
    const count = yield* Ref.make(0)
    const call = Effect.flatMap(Ref.getAndUpdate(count, (n) => n + 1), (n) =>
      n === 0 ? Effect.fail(rateLimited(millis)) : Effect.void)
    const fiber = yield* Effect.fork(Effect.exit(retry(call)))
    yield* TestClock.adjust("5 minutes")
    yield* Fiber.join(fiber)
    return yield* Ref.get(count)
  })

describe("defaultMaxRetryAfter", () => {
  it("is one minute", () => {
    expect(Backoff.defaultMaxRetryAfter).toEqual(Duration.minutes(1))
  })

  it.effect("Retry.transient - a hint of exactly the default is waited for; a longer one is returned", () =>
    Effect.gen(function*() {
      const retry = Retry.transient()
      expect(yield* attempts(longest, retry)).toBe(2)
      expect(yield* attempts(longest + 1, retry)).toBe(1)
    }))

  it.effect("Backoff.honorRetryAfter - a hint of exactly the default is waited for; a longer one ends it", () =>
    Effect.gen(function*() {
      const schedule = Backoff.constant(0).pipe(Backoff.honorRetryAfter())
      const retry = (call: Effect.Effect<void, RateLimited>) => Effect.retry(call, { schedule, times: 1 })
      expect(yield* attempts(longest, retry)).toBe(2)
      expect(yield* attempts(longest + 1, retry)).toBe(1)
    }))

  it.scoped("RateLimit.gate - a long hint closes the gate for the default maxClosed", () =>
    Effect.gen(function*() {
      const gate = yield* RateLimit.gate({ name: "p", key: "p" })
      yield* Effect.either(Effect.fail(rateLimited(3_600_000)).pipe(gate.protect))
      expect(yield* gate.closedFor()).toEqual(Option.some(Backoff.defaultMaxRetryAfter))
    }).pipe(Effect.provide(RateLimit.layerGateMemory)))

  it.scoped("CircuitBreaker - a long hint lengthens the break up to the default maxRetryAfter", () =>
    Effect.gen(function*() {
      const breaker = yield* CircuitBreaker.make({ policy: CircuitBreaker.consecutive(1), openFor: "1 second" })
      yield* Effect.either(breaker.protect(Effect.fail(unavailable(3_600_000))))
      const rejected = yield* Effect.flip(breaker.protect(Effect.void))
      expect(rejected.retryAfter).toEqual(Backoff.defaultMaxRetryAfter)
    }))
})
