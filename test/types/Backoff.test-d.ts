import type { Duration } from "effect"
import { Context, Effect, Schedule } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import * as Backoff from "../../src/Backoff.js"
import type { CircuitOpen, ClientError, RateLimited, Timeout, Unavailable } from "../../src/Errors.js"

declare const effectFailingWith: <E>() => Effect.Effect<string, E>

class Jitter extends Context.Tag("test/Jitter")<Jitter, { readonly spread: number }>() {}
declare const needsJitter: Backoff.Backoff<unknown, Jitter>

const exp = Backoff.exponential({ base: "100 millis", factor: 2, cap: "10 seconds" })

describe("Backoff", () => {
  it("constructors are Schedules of Durations that read nothing and need nothing", () => {
    expectTypeOf(exp).toEqualTypeOf<Backoff.Backoff>()
    expectTypeOf(exp).toExtend<Schedule.Schedule<Duration.Duration, unknown, never>>()
    expectTypeOf(Backoff.constant(0)).toEqualTypeOf<Backoff.Backoff<unknown, never>>()
    expectTypeOf(Backoff.linear({ base: 100 })).toEqualTypeOf<Backoff.Backoff>()
    expectTypeOf(Backoff.decorrelatedJitter({ base: 1, cap: 2 })).toEqualTypeOf<Backoff.Backoff>()
    // Effect's own delay schedules are Backoffs too.
    expectTypeOf(Schedule.exponential("1 second")).toExtend<Backoff.Backoff>()
  })

  it("options - optional fields take undefined under exactOptionalPropertyTypes; required ones are required", () => {
    Backoff.exponential({ base: "1 second", factor: undefined, cap: undefined })
    Backoff.linear({ base: "1 second", step: undefined, cap: undefined })
    Backoff.honorRetryAfter({ maxHint: undefined })
    // @ts-expect-error base is required
    Backoff.exponential({ cap: "1 second" })
    // @ts-expect-error decorrelated jitter needs a cap
    Backoff.decorrelatedJitter({ base: "1 second" })
    // @ts-expect-error "100ms" is not a duration string
    Backoff.constant("100ms")
  })

  it("jitter keeps In and R", () => {
    expectTypeOf(exp.pipe(Backoff.fullJitter)).toEqualTypeOf<Backoff.Backoff>()
    expectTypeOf(Backoff.equalJitter(needsJitter)).toEqualTypeOf<Backoff.Backoff<unknown, Jitter>>()
    const reads = Backoff.honorRetryAfter(needsJitter)
    expectTypeOf(Backoff.fullJitter(reads)).toEqualTypeOf<Backoff.Backoff<Backoff.RetryAfterInput, Jitter>>()
  })

  it("honorRetryAfter - the input says it reads retryAfter; data-first and data-last agree; R is kept", () => {
    const honoured = exp.pipe(Backoff.honorRetryAfter())
    expectTypeOf(honoured).toEqualTypeOf<Backoff.Backoff<Backoff.RetryAfterInput, never>>()
    expectTypeOf(Backoff.honorRetryAfter(exp, { maxHint: "30 seconds" })).toEqualTypeOf(honoured)
    expectTypeOf(needsJitter.pipe(Backoff.honorRetryAfter({ maxHint: 5 }))).toEqualTypeOf<
      Backoff.Backoff<Backoff.RetryAfterInput, Jitter>
    >()
  })

  it("honorRetryAfter - Effect.retry accepts unions with and without hints and keeps E", () => {
    const backoff = Backoff.exponential({ base: "100 millis" }).pipe(Backoff.honorRetryAfter())
    const piped = effectFailingWith<RateLimited | Unavailable | ClientError>().pipe(Effect.retry(backoff))
    expectTypeOf(piped).toEqualTypeOf<Effect.Effect<string, RateLimited | Unavailable | ClientError>>()
    const direct = Effect.retry(effectFailingWith<RateLimited | Unavailable | ClientError>(), backoff)
    expectTypeOf(direct).toEqualTypeOf<Effect.Effect<string, RateLimited | Unavailable | ClientError>>()
    const options = Effect.retry(effectFailingWith<Timeout | CircuitOpen>(), { schedule: backoff, times: 3 })
    expectTypeOf(options).toEqualTypeOf<Effect.Effect<string, Timeout | CircuitOpen>>()
    expectTypeOf(Effect.retry(effectFailingWith<string>(), backoff)).toEqualTypeOf<Effect.Effect<string, string>>()
    expectTypeOf(Effect.retry(effectFailingWith<Error>(), backoff)).toEqualTypeOf<Effect.Effect<string, Error>>()
    expectTypeOf(Effect.retry(effectFailingWith<{ readonly retryAfter?: Duration.Duration }>(), backoff))
      .toEqualTypeOf<Effect.Effect<string, { readonly retryAfter?: Duration.Duration }>>()
  })

  it("honorRetryAfter - a retryAfter that is not a Duration is a type error, not a silently ignored hint", () => {
    const backoff = exp.pipe(Backoff.honorRetryAfter())
    // @ts-expect-error retryAfter in seconds would never be read
    Effect.retry(effectFailingWith<{ readonly retryAfter: number }>(), backoff)
    // @ts-expect-error a raw Retry-After header would never be read
    effectFailingWith<Unavailable | { readonly retryAfter: string }>().pipe(Effect.retry(backoff))
  })

  it("honorRetryAfter - an unchanged backoff (no hint read) still retries anything", () => {
    expectTypeOf(Effect.retry(effectFailingWith<{ readonly retryAfter: number }>(), exp)).toEqualTypeOf<
      Effect.Effect<string, { readonly retryAfter: number }>
    >()
  })
})
