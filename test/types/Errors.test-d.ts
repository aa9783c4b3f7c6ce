import { Effect } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import type { BulkheadFull, CircuitOpen, RateLimited, Rejected, Timeout, Transient, Unavailable } from "../../src/Errors.js"
import { isRejected, isTransient } from "../../src/Errors.js"

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
  })
})
