import { Context, Duration, Effect, Layer, Option, Schema, Scope } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import type { ClientError, InvalidOptions, Unavailable } from "../../src/Errors.js"
import * as LastKnownGood from "../../src/LastKnownGood.js"

class Db extends Context.Tag("test/Db")<Db, { readonly query: Effect.Effect<number> }>() {}
class Prices extends Context.Tag("test/Prices")<Prices, LastKnownGood.LastKnownGood<number>>() {}

declare const cache: LastKnownGood.LastKnownGood<number>
declare const call: Effect.Effect<number, Unavailable | ClientError, Db>

describe("LastKnownGood", () => {
  it("make needs a Scope and may fail with InvalidOptions; the value type comes from the schema", () => {
    expectTypeOf(LastKnownGood.make({ name: "p", schema: Schema.NumberFromString, maxStale: "1 minute" }))
      .toEqualTypeOf<Effect.Effect<LastKnownGood.LastKnownGood<number>, InvalidOptions, Scope.Scope>>()
  })

  it("layer provides the tag and may fail with InvalidOptions", () => {
    expectTypeOf(LastKnownGood.layer(Prices, { name: "p", schema: Schema.Number, maxStale: "1 minute" }))
      .toEqualTypeOf<Layer.Layer<Prices, InvalidOptions>>()
  })

  it("serve keeps E and R unchanged and marks the answer Fresh or Stale", () => {
    expectTypeOf(call.pipe(cache.serve("k"))).toEqualTypeOf<
      Effect.Effect<LastKnownGood.Result<number>, Unavailable | ClientError, Db>
    >()
    expectTypeOf(cache.serve(call, "k")).toEqualTypeOf<
      Effect.Effect<LastKnownGood.Result<number>, Unavailable | ClientError, Db>
    >()
    expectTypeOf(call.pipe(LastKnownGood.serve(cache, "k"))).toEqualTypeOf<
      Effect.Effect<LastKnownGood.Result<number>, Unavailable | ClientError, Db>
    >()
  })

  it("the stale marker is in the type: only a Stale result has an age", () => {
    const result = {} as LastKnownGood.Result<number>
    expectTypeOf(result).toEqualTypeOf<LastKnownGood.Fresh<number> | LastKnownGood.Stale<number>>()
    if (result._tag === "Stale") expectTypeOf(result.age).toEqualTypeOf<Duration.Duration>()
    else expectTypeOf(result).not.toHaveProperty("age")
    // @ts-expect-error a Result may be fresh: it has no age until narrowed
    void result.age
  })

  it("serve accepts only effects of the cache's value type", () => {
    // @ts-expect-error a string is not the cached number
    Effect.succeed("x").pipe(cache.serve("k"))
  })

  it("get and remember never fail", () => {
    expectTypeOf(cache.get("k")).toEqualTypeOf<Effect.Effect<Option.Option<LastKnownGood.Stale<number>>>>()
    expectTypeOf(cache.remember("k", 1)).toEqualTypeOf<Effect.Effect<void>>()
  })
})
