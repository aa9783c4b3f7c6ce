import { Context, Effect } from "effect"
import type { Layer, Scope } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import type { InvalidOptions, Transient } from "../../src/Errors.js"
import * as Hedge from "../../src/Hedge.js"

class Db extends Context.Tag("test/Db")<Db, { readonly query: Effect.Effect<number> }>() {}
class Reads extends Context.Tag("test/Reads")<Reads, Hedge.Hedge>() {}
declare const read: Effect.Effect<number, Transient, Db>
declare const hedge: Hedge.Hedge

describe("Hedge", () => {
  it("adds no error and no requirement", () => {
    expectTypeOf(read.pipe(hedge)).toEqualTypeOf<Effect.Effect<number, Transient, Db>>()
    expectTypeOf(read.pipe(Hedge.protect(hedge))).toEqualTypeOf<Effect.Effect<number, Transient, Db>>()
  })

  it("a tag joins the requirements", () => {
    expectTypeOf(read.pipe(Hedge.protect(Reads))).toEqualTypeOf<Effect.Effect<number, Transient, Db | Reads>>()
    expectTypeOf(Hedge.protect(read, Reads)).toEqualTypeOf<Effect.Effect<number, Transient, Db | Reads>>()
  })

  it("make needs a Scope and may fail with InvalidOptions; layer provides the tag", () => {
    expectTypeOf(Hedge.make({ name: "h", delay: "1 second" })).toEqualTypeOf<
      Effect.Effect<Hedge.Hedge, InvalidOptions, Scope.Scope>
    >()
    expectTypeOf(Hedge.layer(Reads, { name: "h", delay: { percentile: 0.95, initial: "100 millis" } })).toEqualTypeOf<
      Layer.Layer<Reads, InvalidOptions>
    >()
  })

  it("a percentile delay needs its initial delay", () => {
    // @ts-expect-error initial is required: there is no good guess of a provider's latency
    Hedge.make({ name: "h", delay: { percentile: 0.95 } })
  })
})
