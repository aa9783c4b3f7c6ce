import type { HttpClient, HttpServerError } from "@effect/platform"
import type { Context, Layer, Scope } from "effect"
import { Effect } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import type { InvalidOptions, Transient } from "../../src/Errors.js"
import { Chaos, FakeProvider, ScriptedHttpClient } from "../../src/testing/index.js"

class Db extends Effect.Tag("test/Db")<Db, { readonly query: Effect.Effect<number> }>() {}

describe("ScriptedHttpClient", () => {
  it("layer provides the HttpClient and the recorder, and cannot fail", () => {
    const layer = ScriptedHttpClient.layer([ScriptedHttpClient.ok({}), ScriptedHttpClient.status(503)])
    expectTypeOf(layer).toEqualTypeOf<
      Layer.Layer<HttpClient.HttpClient | ScriptedHttpClient.ScriptedHttpClient, never, never>
    >()
    expectTypeOf(ScriptedHttpClient.make([])).toEqualTypeOf<Effect.Effect<ScriptedHttpClient.Service, never, never>>()
  })

  it("every constructor is a Step", () => {
    expectTypeOf(ScriptedHttpClient.delay("1 second", ScriptedHttpClient.hang)).toEqualTypeOf<ScriptedHttpClient.Step>()
    expectTypeOf(ScriptedHttpClient.connectionRefused).toEqualTypeOf<ScriptedHttpClient.Step>()
    expectTypeOf(ScriptedHttpClient.respondWith(() => ScriptedHttpClient.dnsFailure))
      .toEqualTypeOf<ScriptedHttpClient.Step>()
    // @ts-expect-error: a Retry-After must be a duration or a raw header string
    ScriptedHttpClient.status(429, { retryAfter: true })
  })

  it("the recorder is a Context tag for its service", () => {
    expectTypeOf<Context.Tag.Service<ScriptedHttpClient.ScriptedHttpClient>>().toEqualTypeOf<
      ScriptedHttpClient.Service
    >()
  })
})

describe("FakeProvider", () => {
  it("make needs a Scope and may fail to bind; layer says so too", () => {
    expectTypeOf(FakeProvider.make()).toEqualTypeOf<
      Effect.Effect<FakeProvider.Service, HttpServerError.ServeError, Scope.Scope>
    >()
    expectTypeOf(FakeProvider.layer()).toEqualTypeOf<
      Layer.Layer<FakeProvider.FakeProvider, HttpServerError.ServeError, never>
    >()
  })

  it("route handlers may answer with a value or an Effect without requirements", () => {
    FakeProvider.make({ routes: [{ method: "GET", path: "/a", handler: () => ({ body: 1 }) }] })
    FakeProvider.make({ routes: [{ method: "GET", path: "/a", handler: () => Effect.succeed({ status: 204 }) }] })
    // @ts-expect-error: a handler cannot need services
    FakeProvider.make({ routes: [{ method: "GET", path: "/a", handler: () => Effect.map(Db.query, () => ({})) }] })
  })
})

describe("Chaos", () => {
  it("inject adds Transient to E and leaves A and R alone", () => {
    const call = Effect.map(Db.query, String)
    expectTypeOf(Chaos.inject(call)).toEqualTypeOf<Effect.Effect<string, Transient, Db>>()
    expectTypeOf(call.pipe(Chaos.inject)).toEqualTypeOf<Effect.Effect<string, Transient, Db>>()
  })

  it("inject does not require the Chaos service: without it, it is the identity", () => {
    expectTypeOf(Chaos.inject(Effect.succeed(1))).toEqualTypeOf<Effect.Effect<number, Transient, never>>()
  })

  it("layer and make fail with InvalidOptions", () => {
    expectTypeOf(Chaos.layer({ errorRate: 0.1 })).toEqualTypeOf<Layer.Layer<Chaos.Chaos, InvalidOptions, never>>()
    expectTypeOf(Chaos.make({ errorRate: 0.1 })).toEqualTypeOf<Effect.Effect<Chaos.Service, InvalidOptions, never>>()
  })

  it("custom errors must be Transient", () => {
    // @ts-expect-error: an arbitrary Error is not a failure a resilience policy handles
    Chaos.layer({ errorRate: 0.1, error: () => new Error("boom") })
  })
})
