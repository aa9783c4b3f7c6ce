import { Effect } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import type { Timeout as TimeoutError } from "../../src/Errors.js"
import * as Timeout from "../../src/Timeout.js"

class UserError {
  readonly _tag = "UserError"
}
interface Db {
  readonly _: unique symbol
}
declare const call: Effect.Effect<number, UserError, Db>

describe("Timeout", () => {
  it("attempt and total add Timeout and keep A and R, in both forms", () => {
    type Guarded = Effect.Effect<number, UserError | TimeoutError, Db>
    expectTypeOf(call.pipe(Timeout.attempt("1 second"))).toEqualTypeOf<Guarded>()
    expectTypeOf(Timeout.attempt(call, "1 second")).toEqualTypeOf<Guarded>()
    expectTypeOf(call.pipe(Timeout.total("1 second"))).toEqualTypeOf<Guarded>()
    expectTypeOf(Timeout.total(call, "1 second", { provider: "db" })).toEqualTypeOf<Guarded>()
  })

  it("catchTag over Timeout leaves the original E", () => {
    const handled = call.pipe(
      Timeout.attempt("1 second"),
      Timeout.total("5 seconds"),
      Effect.catchTags({ Timeout: (e) => Effect.succeed(e.scope === "total" ? -1 : 0) })
    )
    expectTypeOf(handled).toEqualTypeOf<Effect.Effect<number, UserError, Db>>()
  })

  it("remaining is an infallible Option of Duration", () => {
    expectTypeOf(Timeout.remaining).toMatchTypeOf<Effect.Effect<unknown, never, never>>()
  })

  it("a duration must be a DurationInput", () => {
    // @ts-expect-error: not a duration
    Timeout.attempt({ seconds: 1 })
  })
})
