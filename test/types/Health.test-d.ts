import type * as HttpRouter from "@effect/platform/HttpRouter"
import type * as HttpServer from "@effect/platform/HttpServer"
import type { ServeError } from "@effect/platform/HttpServerError"
import { Context, Effect, Layer, Scope } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import * as Bulkhead from "../../src/Bulkhead.js"
import * as CircuitBreaker from "../../src/CircuitBreaker.js"
import type { InvalidOptions } from "../../src/Errors.js"
import * as Health from "../../src/Health.js"
import * as HealthNode from "../../src/HealthNode.js"
import * as Policy from "../../src/Policy.js"

class PaymentsBreaker extends Context.Tag("test/PaymentsBreaker")<PaymentsBreaker, CircuitBreaker.CircuitBreaker>() {}

declare const breaker: CircuitBreaker.CircuitBreaker
declare const bulkhead: Bulkhead.Bulkhead

describe("Health", () => {
  it("make and layer may fail with InvalidOptions and need nothing", () => {
    expectTypeOf(Health.make({ required: ["payments"] })).toEqualTypeOf<Effect.Effect<Health.Registry, InvalidOptions>>()
    expectTypeOf(Health.layer()).toEqualTypeOf<Layer.Layer<Health.Registry, InvalidOptions>>()
  })

  it("guards do not require a registry: building one keeps its requirements", () => {
    expectTypeOf(CircuitBreaker.make()).toEqualTypeOf<Effect.Effect<CircuitBreaker.CircuitBreaker, InvalidOptions, Scope.Scope>>()
    expectTypeOf(CircuitBreaker.layer(PaymentsBreaker)).toEqualTypeOf<Layer.Layer<PaymentsBreaker, InvalidOptions>>()
    expectTypeOf(Bulkhead.make({ name: "b", maxConcurrent: 1 })).toEqualTypeOf<
      Effect.Effect<Bulkhead.Bulkhead, InvalidOptions, Scope.Scope>
    >()
    expectTypeOf(Policy.provider("p")).toEqualTypeOf<Effect.Effect<Policy.Policy<Policy.ProviderError>, InvalidOptions, Scope.Scope>>()
  })

  it("register needs the registry and a scope, and never fails", () => {
    expectTypeOf(Health.register(breaker, { required: true })).toEqualTypeOf<
      Effect.Effect<void, never, Health.Registry | Scope.Scope>
    >()
    expectTypeOf(Health.register(bulkhead)).toEqualTypeOf<Effect.Effect<void, never, Health.Registry | Scope.Scope>>()
    expectTypeOf(Health.register({ name: "db", status: Effect.succeed({ status: "up" as const }) })).toEqualTypeOf<
      Effect.Effect<void, never, Health.Registry | Scope.Scope>
    >()
  })

  it("the routes need only the registry; the Node server provides HttpServer", () => {
    expectTypeOf(Health.router).toEqualTypeOf<HttpRouter.HttpRouter<never, Health.Registry>>()
    expectTypeOf(HealthNode.layerServer({ port: 0 })).toEqualTypeOf<
      Layer.Layer<HttpServer.HttpServer, ServeError, Health.Registry>
    >()
  })

  it("readiness, checks and breakers never fail", () => {
    expectTypeOf<Health.Registry["readiness"]>().toEqualTypeOf<Effect.Effect<Health.Readiness>>()
    expectTypeOf<Health.Registry["checks"]>().toEqualTypeOf<Effect.Effect<ReadonlyArray<Health.CheckResult>>>()
    expectTypeOf<Health.Registry["breakers"]>().toEqualTypeOf<Effect.Effect<ReadonlyArray<Health.BreakerView>>>()
  })
})
