import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Option, Schema, TestClock } from "effect"
import { ClientError, RateLimited, Timeout, Unavailable } from "../src/Errors.js"
import * as HttpProvider from "../src/HttpProvider.js"
import * as ScriptedHttpClient from "../src/testing/ScriptedHttpClient.js"

// The exported status mapping and hint parser, for users who call a client of their own.

const provider = "search"

/** 2026-12-05 13:00:00 UTC, and the same instant plus 90 s as an IMF-fixdate. */
const noon = Date.UTC(2026, 11, 5, 13, 0, 0)
const ninetySecondsLater = "Sat, 05 Dec 2026 13:01:30 GMT"

describe("HttpProvider.classify", () => {
  it.effect.each([200, 201, 204, 299])("%d - undefined", (status) =>
    Effect.gen(function*() {
      expect(yield* HttpProvider.classify({ provider, status, headers: { "retry-after": "5" }, body: "{}" })).toBe(
        undefined
      )
    }))

  it.effect("408 - Timeout with scope attempt, after the elapsed time given", () =>
    Effect.gen(function*() {
      const error = yield* HttpProvider.classify({ provider, status: 408, elapsed: Duration.millis(1500) })
      expect(error).toEqual(new Timeout({ provider, scope: "attempt", after: Duration.millis(1500) }))
    }))

  it.effect("408 - without an elapsed time, after zero", () =>
    Effect.gen(function*() {
      expect(yield* HttpProvider.classify({ provider, status: 408 })).toEqual(
        new Timeout({ provider, scope: "attempt", after: Duration.zero })
      )
    }))

  it.effect("429 without Retry-After - RateLimited from the provider, no retryAfter", () =>
    Effect.gen(function*() {
      expect(yield* HttpProvider.classify({ provider, status: 429 })).toEqual(
        new RateLimited({ provider, reason: "provider" })
      )
    }))

  it.effect("429 with Retry-After in seconds - retryAfter", () =>
    Effect.gen(function*() {
      expect(yield* HttpProvider.classify({ provider, status: 429, headers: { "Retry-After": "7" } })).toEqual(
        new RateLimited({ provider, reason: "provider", retryAfter: Duration.seconds(7) })
      )
    }))

  it.effect("429 with an HTTP-date - read against the TestClock", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(noon)
      const dated = { provider, status: 429, headers: { "retry-after": ninetySecondsLater } }
      const waiting = (seconds: number) =>
        new RateLimited({ provider, reason: "provider", retryAfter: Duration.seconds(seconds) })
      expect(yield* HttpProvider.classify(dated)).toEqual(waiting(90))
      // the same date read 30 s later is 30 s nearer; a date in the past is zero
      yield* TestClock.adjust("30 seconds")
      expect(yield* HttpProvider.classify(dated)).toEqual(waiting(60))
      yield* TestClock.adjust("2 minutes")
      expect(yield* HttpProvider.classify(dated)).toEqual(waiting(0))
    }))

  it.effect("429 with a garbage Retry-After - no retryAfter; the RateLimit headers are read instead", () =>
    Effect.gen(function*() {
      expect(yield* HttpProvider.classify({ provider, status: 429, headers: { "retry-after": "soon" } })).toEqual(
        new RateLimited({ provider, reason: "provider" })
      )
      expect(yield* HttpProvider.classify({ provider, status: 429, headers: { "X-RateLimit-Reset": "3" } })).toEqual(
        new RateLimited({ provider, reason: "provider", retryAfter: Duration.seconds(3) })
      )
    }))

  it.effect.each([500, 502, 503])("%d with Retry-After - Unavailable with the status and the hint", (status) =>
    Effect.gen(function*() {
      expect(yield* HttpProvider.classify({ provider, status, headers: { "retry-after": "2" } })).toEqual(
        new Unavailable({ provider, reason: "status", status, retryAfter: Duration.seconds(2) })
      )
    }))

  it.effect("504 - Unavailable with the status", () =>
    Effect.gen(function*() {
      expect(yield* HttpProvider.classify({ provider, status: 504 })).toEqual(
        new Unavailable({ provider, reason: "status", status: 504 })
      )
    }))

  it.effect("5xx - only Retry-After is a wait; the quota headers sent with every answer are not", () =>
    Effect.gen(function*() {
      // GitHub's headers on a 502: the quota spent, its window resetting in 50 minutes
      const quota = { "x-ratelimit-limit": "5000", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "3000" }
      expect(yield* HttpProvider.classify({ provider, status: 502, headers: quota })).toEqual(
        new Unavailable({ provider, reason: "status", status: 502 })
      )
      expect(
        yield* HttpProvider.classify({ provider, status: 503, headers: { ...quota, "retry-after": "7" } })
      ).toEqual(new Unavailable({ provider, reason: "status", status: 503, retryAfter: Duration.seconds(7) }))
      // a 429 reads them: the quota is what ran out
      expect(yield* HttpProvider.classify({ provider, status: 429, headers: quota })).toEqual(
        new RateLimited({ provider, reason: "provider", retryAfter: Duration.seconds(3000) })
      )
    }))

  it.effect.each([400, 401, 403, 404, 409, 422, 425, 302, 101])("%d - ClientError with a body excerpt", (status) =>
    Effect.gen(function*() {
      expect(yield* HttpProvider.classify({ provider, status, body: "{\n  \"error\": \"nope\"\n}" })).toEqual(
        new ClientError({ provider, status, body: "{ \"error\": \"nope\" }" })
      )
    }))

  it.effect("ClientError - the excerpt is one line of at most 200 characters", () =>
    Effect.gen(function*() {
      const error = yield* HttpProvider.classify({ provider, status: 400, body: "x".repeat(500) })
      expect((error as ClientError).body).toBe(`${"x".repeat(200)}...`)
    }))

  it.effect("the same mapping as a provider client: a scripted 503 with Retry-After gives an equal error", () =>
    Effect.gen(function*() {
      const fromClient = yield* Effect.flip(
        Effect.flatMap(
          HttpProvider.make({ name: provider, baseUrl: "https://search.test", policy: (self) => self }),
          (p) => p.get("/", { response: Schema.Unknown })
        ).pipe(Effect.provide(ScriptedHttpClient.layer([ScriptedHttpClient.status(503, { retryAfter: "4 seconds" })])))
      )
      const direct = yield* HttpProvider.classify({ provider, status: 503, headers: { "retry-after": "4" } })
      expect(fromClient).toEqual(direct)
    }))
})

describe("HttpProvider.retryAfter", () => {
  it.effect("Retry-After in seconds, header names in any case", () =>
    Effect.gen(function*() {
      for (const name of ["retry-after", "Retry-After", "RETRY-AFTER"]) {
        expect(yield* HttpProvider.retryAfter({ [name]: "5" })).toEqual(Option.some(Duration.seconds(5)))
      }
    }))

  it.effect("an HTTP-date is read against the TestClock, in a forked fiber too", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(noon)
      const fiber = yield* Effect.fork(
        Effect.zipRight(Effect.sleep("10 seconds"), HttpProvider.retryAfter({ "Retry-After": ninetySecondsLater }))
      )
      yield* TestClock.adjust("10 seconds")
      expect(yield* Fiber.join(fiber)).toEqual(Option.some(Duration.seconds(80)))
    }))

  it.effect("no hint, garbage, a negative number or more than a day - None", () =>
    Effect.gen(function*() {
      for (const value of [undefined, "soon", "-5", "86401", ""]) {
        expect(yield* HttpProvider.retryAfter(value === undefined ? {} : { "retry-after": value })).toEqual(
          Option.none()
        )
      }
    }))

  it.effect("arrays of values - one value is read; a repeated Retry-After is not one hint", () =>
    Effect.gen(function*() {
      expect(yield* HttpProvider.retryAfter({ "retry-after": ["5"] })).toEqual(Option.some(Duration.seconds(5)))
      expect(yield* HttpProvider.retryAfter({ "retry-after": ["5", "10"] })).toEqual(Option.none())
    }))

  it.effect("the same field under two spellings is one repeated field", () =>
    Effect.gen(function*() {
      expect(yield* HttpProvider.retryAfter({ "Retry-After": "5", "retry-after": "10" })).toEqual(Option.none())
    }))

  it.effect("fetch's Headers and name-value pairs", () =>
    Effect.gen(function*() {
      expect(yield* HttpProvider.retryAfter(new Headers({ "Retry-After": "3" }))).toEqual(
        Option.some(Duration.seconds(3))
      )
      expect(yield* HttpProvider.retryAfter([["X-RateLimit-Reset", "4"]])).toEqual(Option.some(Duration.seconds(4)))
    }))

  it.effect("RateLimit-Reset / X-RateLimit-Reset - a wait only when the matching Remaining is 0 or absent", () =>
    Effect.gen(function*() {
      for (const prefix of ["ratelimit", "x-ratelimit"]) {
        const reset = { [`${prefix}-reset`]: "3000" }
        expect(yield* HttpProvider.retryAfter({ ...reset, [`${prefix}-remaining`]: "4999" })).toEqual(Option.none())
        expect(yield* HttpProvider.retryAfter({ ...reset, [`${prefix}-remaining`]: "0" })).toEqual(
          Option.some(Duration.seconds(3000))
        )
        expect(yield* HttpProvider.retryAfter(reset)).toEqual(Option.some(Duration.seconds(3000)))
      }
    }))

  it.effect("RateLimit (IETF draft) - the longest wait of an exhausted policy", () =>
    Effect.gen(function*() {
      expect(yield* HttpProvider.retryAfter({ RateLimit: "\"minute\";r=0;t=30, \"hour\";r=10;t=600" })).toEqual(
        Option.some(Duration.seconds(30))
      )
    }))
})
