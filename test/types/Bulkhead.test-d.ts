import { Context, Effect, Layer, Scope } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import * as Bulkhead from "../../src/Bulkhead.js"
import type { BulkheadFull, InvalidOptions } from "../../src/Errors.js"

class Storage extends Context.Tag("test/Storage")<Storage, Bulkhead.Bulkhead>() {}
class Db extends Context.Tag("test/Db")<Db, { readonly query: Effect.Effect<number> }>() {}
class QueryError {
  readonly _tag = "QueryError"
}

declare const bulkhead: Bulkhead.Bulkhead
declare const call: Effect.Effect<number, QueryError, Db>

describe("Bulkhead", () => {
  it("make needs a Scope and may fail with InvalidOptions", () => {
    expectTypeOf(Bulkhead.make({ name: "s", maxConcurrent: 1 })).toEqualTypeOf<
      Effect.Effect<Bulkhead.Bulkhead, InvalidOptions, Scope.Scope>
    >()
  })

  it("layer provides the tag and says it may fail with InvalidOptions", () => {
    expectTypeOf(Bulkhead.layer(Storage, { name: "s", maxConcurrent: 1 })).toEqualTypeOf<
      Layer.Layer<Storage, InvalidOptions>
    >()
  })

  it("a bulkhead value adds BulkheadFull and keeps A and R", () => {
    expectTypeOf(bulkhead(call)).toEqualTypeOf<Effect.Effect<number, QueryError | BulkheadFull, Db>>()
    expectTypeOf(call.pipe(Bulkhead.protect(bulkhead))).toEqualTypeOf<
      Effect.Effect<number, QueryError | BulkheadFull, Db>
    >()
    expectTypeOf(Bulkhead.protect(call, bulkhead)).toEqualTypeOf<Effect.Effect<number, QueryError | BulkheadFull, Db>>()
  })

  it("protect with a tag adds the tag to R", () => {
    expectTypeOf(call.pipe(Bulkhead.protect(Storage))).toEqualTypeOf<
      Effect.Effect<number, QueryError | BulkheadFull, Db | Storage>
    >()
    expectTypeOf(Bulkhead.protect(call, Storage)).toEqualTypeOf<
      Effect.Effect<number, QueryError | BulkheadFull, Db | Storage>
    >()
  })

  it("protect with a tag of another service does not compile", () => {
    // @ts-expect-error Db does not hold a Bulkhead
    Bulkhead.protect(call, Db)
  })

  it("keyed bulkheads are per key type, and protect is dual", () => {
    type TenantId = string & { readonly TenantId: unique symbol }
    const keyed = Bulkhead.keyed<TenantId>({ name: "t", maxConcurrent: 1, idleTimeToLive: "1 minute" })
    expectTypeOf(keyed).toEqualTypeOf<Effect.Effect<Bulkhead.KeyedBulkhead<TenantId>, InvalidOptions, Scope.Scope>>()
    Effect.gen(function*() {
      const tenants = yield* keyed
      const tenant = "acme" as TenantId
      expectTypeOf(call.pipe(tenants.protect(tenant))).toEqualTypeOf<
        Effect.Effect<number, QueryError | BulkheadFull, Db>
      >()
      expectTypeOf(tenants.protect(call, tenant)).toEqualTypeOf<Effect.Effect<number, QueryError | BulkheadFull, Db>>()
      expectTypeOf(tenants.get(tenant)).toEqualTypeOf<Effect.Effect<Bulkhead.Bulkhead, never, Scope.Scope>>()
      // @ts-expect-error a plain string is not a TenantId
      tenants.protect(call, "acme")
    })
  })

  it("options reject wrong types", () => {
    // @ts-expect-error maxConcurrent is required
    Bulkhead.make({ name: "s" })
    // @ts-expect-error queueTimeout takes a DurationInput
    Bulkhead.make({ name: "s", maxConcurrent: 1, queueTimeout: true })
  })

  it("stats is an Effect of the counters", () => {
    expectTypeOf(bulkhead.stats).toEqualTypeOf<Effect.Effect<Bulkhead.Bulkhead.Stats>>()
    expectTypeOf<Bulkhead.Bulkhead.Stats>().toEqualTypeOf<{
      readonly active: number
      readonly queued: number
      readonly rejected: number
      readonly maxConcurrent: number
      readonly maxQueued: number
    }>()
  })
})
