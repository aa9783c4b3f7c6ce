import type { RateLimiterStore } from "@effect/experimental/RateLimiter"
import type { Layer, Scope } from "effect"
import { Context, Effect } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import type { InvalidOptions, RateLimited } from "../../src/Errors.js"
import * as RateLimit from "../../src/RateLimit.js"
import * as RateLimitRedis from "../../src/RateLimitRedis.js"

class Boom {
  readonly _tag = "Boom"
}
declare const call: Effect.Effect<number, Boom, "Http">
declare const limiter: RateLimit.RateLimit
declare const perTenant: RateLimit.RateLimit<string>
declare const gate: RateLimit.Gate
declare const perTenantGate: RateLimit.Gate<string>
class ApiLimit extends Context.Tag("test/ApiLimit")<ApiLimit, RateLimit.RateLimit<string>>() {}
class ApiGate extends Context.Tag("test/ApiGate")<ApiGate, RateLimit.Gate>() {}

describe("RateLimit", () => {
  it("make needs the experimental RateLimiterStore and may fail with InvalidOptions", () => {
    expectTypeOf(RateLimit.make({ name: "a", key: "k", limit: 1, window: "1 second" })).toEqualTypeOf<
      Effect.Effect<RateLimit.RateLimit<void>, InvalidOptions, RateLimiterStore>
    >()
  })

  it("a key function fixes the argument type", () => {
    expectTypeOf(RateLimit.make({ name: "a", key: (tenant: string) => tenant, limit: 1, window: "1 second" }))
      .toEqualTypeOf<Effect.Effect<RateLimit.RateLimit<string>, InvalidOptions, RateLimiterStore>>()
  })

  it("gate needs a GateStore and a Scope", () => {
    expectTypeOf(RateLimit.gate({ name: "a", key: "k" })).toEqualTypeOf<
      Effect.Effect<RateLimit.Gate<void>, InvalidOptions, RateLimit.GateStore | Scope.Scope>
    >()
  })

  it("gate close may fail with InvalidOptions (a duration that is not one)", () => {
    expectTypeOf(gate.close("1 second")).toEqualTypeOf<Effect.Effect<void, InvalidOptions>>()
    expectTypeOf(perTenantGate.close("1 second", "tenant-a")).toEqualTypeOf<Effect.Effect<void, InvalidOptions>>()
  })

  it("protect adds RateLimited to E and leaves A and R", () => {
    expectTypeOf(call.pipe(RateLimit.protect(limiter))).toEqualTypeOf<
      Effect.Effect<number, Boom | RateLimited, "Http">
    >()
    expectTypeOf(RateLimit.protect(call, gate)).toEqualTypeOf<Effect.Effect<number, Boom | RateLimited, "Http">>()
    expectTypeOf(call.pipe(limiter.protect)).toEqualTypeOf<Effect.Effect<number, Boom | RateLimited, "Http">>()
    expectTypeOf(call.pipe(RateLimit.protect(perTenant, "tenant-a"))).toEqualTypeOf<
      Effect.Effect<number, Boom | RateLimited, "Http">
    >()
  })

  it("protect through a tag adds the tag to R", () => {
    expectTypeOf(call.pipe(RateLimit.protect(ApiLimit, "t"), RateLimit.protect(ApiGate))).toEqualTypeOf<
      Effect.Effect<number, Boom | RateLimited, "Http" | ApiLimit | ApiGate>
    >()
    expectTypeOf(RateLimit.protect(call, ApiLimit, "t")).toEqualTypeOf<
      Effect.Effect<number, Boom | RateLimited, "Http" | ApiLimit>
    >()
  })

  it("the key arguments are checked", () => {
    // @ts-expect-error a per-tenant limiter needs the tenant
    RateLimit.protect(perTenant)
    // @ts-expect-error a fixed-key limiter takes no argument
    RateLimit.protect(limiter, "tenant-a")
    // @ts-expect-error the tenant is a string
    RateLimit.protect(perTenant, 42)
  })

  it("layers carry InvalidOptions and their store requirement", () => {
    expectTypeOf(RateLimit.layer(ApiLimit, { name: "a", key: (t) => t, limit: 1, window: "1 second" })).toEqualTypeOf<
      Layer.Layer<ApiLimit, InvalidOptions, RateLimiterStore>
    >()
    expectTypeOf(RateLimit.layerGate(ApiGate, { name: "a", key: "k" })).toEqualTypeOf<
      Layer.Layer<ApiGate, InvalidOptions, RateLimit.GateStore>
    >()
    expectTypeOf(RateLimit.layerMemory).toEqualTypeOf<Layer.Layer<RateLimiterStore | RateLimit.GateStore>>()
    expectTypeOf(RateLimitRedis.layer({ url: "redis://127.0.0.1:6379" })).toEqualTypeOf<
      Layer.Layer<RateLimiterStore | RateLimit.GateStore, InvalidOptions>
    >()
  })

  it("providing the memory stores removes the requirement", () => {
    const program = Effect.scoped(
      Effect.gen(function*() {
        const l = yield* RateLimit.make({ name: "a", key: "k", limit: 1, window: "1 second" })
        const g = yield* RateLimit.gate({ name: "a", key: "k" })
        return yield* call.pipe(RateLimit.protect(l), RateLimit.protect(g))
      })
    ).pipe(Effect.provide(RateLimit.layerMemory))
    expectTypeOf(program).toEqualTypeOf<Effect.Effect<number, Boom | RateLimited | InvalidOptions, "Http">>()
  })
})

declare const adaptive: RateLimit.Adaptive
declare const perModel: RateLimit.Adaptive<string>
class LlmLimit extends Context.Tag("test/LlmLimit")<LlmLimit, RateLimit.Adaptive<string>>() {}

describe("RateLimit.adaptive", () => {
  it("adaptive needs only a Scope (the store is optional) and may fail with InvalidOptions", () => {
    expectTypeOf(RateLimit.adaptive({ name: "a", key: "k" })).toEqualTypeOf<
      Effect.Effect<RateLimit.Adaptive<void>, InvalidOptions, Scope.Scope>
    >()
    expectTypeOf(RateLimit.adaptive({ name: "a", key: (model: string) => model })).toEqualTypeOf<
      Effect.Effect<RateLimit.Adaptive<string>, InvalidOptions, Scope.Scope>
    >()
    expectTypeOf(RateLimit.layerAdaptive(LlmLimit, { name: "a", key: (m) => m })).toEqualTypeOf<
      Layer.Layer<LlmLimit, InvalidOptions>
    >()
  })

  it("protect adds RateLimited to E and leaves A and R, as a method, a guard or a tag", () => {
    expectTypeOf(call.pipe(adaptive.protect)).toEqualTypeOf<Effect.Effect<number, Boom | RateLimited, "Http">>()
    expectTypeOf(perModel.protect(call, "gpt")).toEqualTypeOf<Effect.Effect<number, Boom | RateLimited, "Http">>()
    expectTypeOf(call.pipe(RateLimit.protect(adaptive))).toEqualTypeOf<
      Effect.Effect<number, Boom | RateLimited, "Http">
    >()
    expectTypeOf(RateLimit.protect(call, perModel, "gpt")).toEqualTypeOf<
      Effect.Effect<number, Boom | RateLimited, "Http">
    >()
    expectTypeOf(call.pipe(RateLimit.protect(LlmLimit, "gpt"))).toEqualTypeOf<
      Effect.Effect<number, Boom | RateLimited, "Http" | LlmLimit>
    >()
    // @ts-expect-error a per-model limiter needs the model
    RateLimit.protect(perModel)
  })

  it("withCost, observe and reportUsage change nothing in A, E or R", () => {
    expectTypeOf(call.pipe(RateLimit.withCost(500))).toEqualTypeOf<Effect.Effect<number, Boom, "Http">>()
    expectTypeOf(RateLimit.withCost(call, 500)).toEqualTypeOf<Effect.Effect<number, Boom, "Http">>()
    expectTypeOf(RateLimit.observe({ status: 200, headers: {} })).toEqualTypeOf<Effect.Effect<void>>()
    expectTypeOf(RateLimit.reportUsage(1)).toEqualTypeOf<Effect.Effect<void>>()
    expectTypeOf(adaptive.current()).toEqualTypeOf<Effect.Effect<RateLimit.Adaptive.Snapshot>>()
  })
})
