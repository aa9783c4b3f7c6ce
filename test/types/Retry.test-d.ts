import { Context, Effect, Schedule } from "effect"
import type { Duration, Layer } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import * as Backoff from "../../src/Backoff.js"
import type { InvalidOptions, RateLimited, Timeout as TimeoutError, Transient, Unavailable } from "../../src/Errors.js"
import * as Retry from "../../src/Retry.js"
import * as Timeout from "../../src/Timeout.js"

class UserError {
  readonly _tag = "UserError"
}
interface Db {
  readonly _: unique symbol
}
interface Clocky {
  readonly _: unique symbol
}
declare const call: Effect.Effect<number, Transient | UserError, Db>
declare const backoffWithR: Schedule.Schedule<Duration.Duration, unknown, Clocky>
declare const rateLimitedOnly: Schedule.Schedule<Duration.Duration, RateLimited, never>

describe("Retry", () => {
  it("transient keeps E and R, in every form", () => {
    type Same = Effect.Effect<number, Transient | UserError, Db>
    expectTypeOf(call.pipe(Retry.transient())).toEqualTypeOf<Same>()
    expectTypeOf(call.pipe(Retry.transient({ times: 2, name: "db" }))).toEqualTypeOf<Same>()
    expectTypeOf(Retry.transient(call)).toEqualTypeOf<Same>()
    expectTypeOf(Retry.transient(call, { while: (e) => e._tag !== "UserError" })).toEqualTypeOf<Same>()
    expectTypeOf(call.pipe(Retry.transient({ while: (e) => e._tag === "UserError" }))).toEqualTypeOf<Same>()
    const policy = Retry.transient({ times: 1 })
    expectTypeOf(policy(call)).toEqualTypeOf<Same>()
  })

  it("transient takes a while that may be undefined (exactOptionalPropertyTypes), keeping E and R", () => {
    type Same = Effect.Effect<number, Transient | UserError, Db>
    const maybe = undefined as ((error: Transient | UserError) => boolean) | undefined
    expectTypeOf(call.pipe(Retry.transient({ while: maybe }))).toEqualTypeOf<Same>()
    expectTypeOf(call.pipe(Retry.transient({ times: 2, while: maybe }))).toEqualTypeOf<Same>()
    expectTypeOf(Retry.transient(call, { while: maybe })).toEqualTypeOf<Same>()
    const narrower = undefined as ((error: Date) => boolean) | undefined
    // @ts-expect-error: the predicate, when there is one, must accept every error of the call
    call.pipe(Retry.transient({ while: narrower }))
  })

  it("transient takes an options object built ahead, if it reads every error of the call", () => {
    type Same = Effect.Effect<number, Transient | UserError, Db>
    const any: Retry.Options = { times: 2 }
    const all: Retry.Options<Transient | UserError> = { while: Retry.isRetryable }
    expectTypeOf(call.pipe(Retry.transient(any))).toEqualTypeOf<Same>()
    expectTypeOf(call.pipe(Retry.transient(all))).toEqualTypeOf<Same>()
    expectTypeOf(Retry.transient(call, any)).toEqualTypeOf<Same>()
    const transientOnly: Retry.Options<Transient> = { while: Retry.isRetryable }
    // @ts-expect-error: these options read Transient errors only, the call also fails with UserError
    call.pipe(Retry.transient(transientOnly))
  })

  it("transient adds the backoff's requirements to R", () => {
    expectTypeOf(call.pipe(Retry.transient({ backoff: backoffWithR }))).toEqualTypeOf<
      Effect.Effect<number, Transient | UserError, Db | Clocky>
    >()
    const backoff = Backoff.exponential({ base: "100 millis" }).pipe(Backoff.fullJitter)
    expectTypeOf(call.pipe(Retry.transient({ backoff }))).toEqualTypeOf<
      Effect.Effect<number, Transient | UserError, Db>
    >()
  })

  it("a backoff or predicate that reads other errors than E is a type error", () => {
    // @ts-expect-error: the backoff reads RateLimited only, the call also fails with Unavailable and UserError
    call.pipe(Retry.transient({ backoff: rateLimitedOnly }))
    // @ts-expect-error: the predicate expects an error the call cannot fail with
    call.pipe(Retry.transient({ while: (e: Date) => e.getTime() > 0 }))
  })

  it("catchTags over every tag Timeout and Retry can add leaves the original E", () => {
    const handled = call.pipe(
      Timeout.attempt("1 second"),
      Retry.transient({ times: 3 }),
      Timeout.total("5 seconds"),
      Effect.catchTags({
        Timeout: (e: TimeoutError) => Effect.succeed(e.scope === "total" ? -1 : 0),
        RateLimited: () => Effect.succeed(-2),
        Unavailable: (e: Unavailable) => Effect.succeed(e.status ?? -3)
      })
    )
    expectTypeOf(handled).toEqualTypeOf<Effect.Effect<number, UserError, Db>>()
  })

  it("budget and layerBudget say they can fail with InvalidOptions", () => {
    class CrmBudget extends Context.Tag("test/CrmBudget")<CrmBudget, Retry.RetryBudget>() {}
    expectTypeOf(Retry.budget()).toEqualTypeOf<Effect.Effect<Retry.RetryBudget, InvalidOptions>>()
    expectTypeOf(Retry.layerBudget(CrmBudget, { ratio: 0.1 })).toMatchTypeOf<
      Layer.Layer<CrmBudget, InvalidOptions>
    >()
  })

  it("schedules that are not delays are rejected", () => {
    // @ts-expect-error: the output of a backoff is the delay, not a count
    call.pipe(Retry.transient({ backoff: Schedule.recurs(3) }))
  })
})
