import { Effect } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import type {
  BulkheadFull,
  CircuitOpen,
  ClientError,
  InvalidOptions,
  RateLimited,
  Rejected,
  ResilienceError,
  Timeout,
  Transient,
  Unavailable
} from "../../src/Errors.js"
import { isRejected, isResilienceError, isTransient } from "../../src/Errors.js"

class UserError {
  readonly _tag = "UserError"
}

declare const call: Effect.Effect<string, Transient | Rejected | Error>

describe("Errors", () => {
  it("the unions are exactly their members", () => {
    expectTypeOf<Transient>().toEqualTypeOf<RateLimited | Unavailable | Timeout>()
    expectTypeOf<Rejected>().toEqualTypeOf<CircuitOpen | BulkheadFull>()
  })

  it("catchTags over the transient and rejected tags leaves the user's own error", () => {
    const handled = call.pipe(
      Effect.catchTags({
        RateLimited: () => Effect.succeed("later"),
        Unavailable: () => Effect.succeed("down"),
        Timeout: (e) => Effect.succeed(e.scope),
        CircuitOpen: () => Effect.succeed("open"),
        BulkheadFull: () => Effect.succeed("full")
      })
    )
    expectTypeOf(handled).toEqualTypeOf<Effect.Effect<string, Error>>()
  })

  it("the guards narrow", () => {
    const u: unknown = null
    if (isTransient(u)) expectTypeOf(u).toEqualTypeOf<Transient>()
    if (isRejected(u)) expectTypeOf(u).toEqualTypeOf<Rejected>()
    if (isResilienceError(u)) expectTypeOf(u).toEqualTypeOf<ResilienceError | InvalidOptions>()
  })

  it("isResilienceError narrows a caught error to the library's tags, leaving the user's own error", () => {
    const e = null as unknown as Transient | ClientError | UserError
    if (isResilienceError(e)) expectTypeOf(e).toEqualTypeOf<Transient | ClientError>()
    else expectTypeOf(e).toEqualTypeOf<UserError>()
  })
})
