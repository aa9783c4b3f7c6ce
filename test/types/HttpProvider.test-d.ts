import type { Headers, HttpClient } from "@effect/platform"
import { Context, Duration, Effect, Schema } from "effect"
import type { Layer, Option, Scope } from "effect"
import type { IncomingHttpHeaders } from "node:http"
import { describe, expectTypeOf, it } from "vitest"
import * as Credentials from "../../src/Credentials.js"
import type {
  BulkheadFull,
  CircuitOpen,
  ClientError,
  InvalidOptions,
  InvalidRequest,
  InvalidResponse,
  RateLimited,
  Timeout,
  Unavailable
} from "../../src/Errors.js"
import * as HttpProvider from "../../src/HttpProvider.js"
import * as HttpProviderNode from "../../src/HttpProviderNode.js"

const Charge = Schema.Struct({ id: Schema.String, amount: Schema.Number })
const NewCharge = Schema.Struct({ amount: Schema.Positive, currency: Schema.String })

class PaymentsBreaker extends Context.Tag("test/PaymentsBreaker")<PaymentsBreaker, { readonly open: boolean }>() {}
declare const breaker: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CircuitOpen, R | PaymentsBreaker>

declare const plain: HttpProvider.HttpProvider<HttpProvider.RequestError>
declare const guarded: HttpProvider.HttpProvider<HttpProvider.RequestError | CircuitOpen>

type Documented = RateLimited | Unavailable | Timeout | ClientError | InvalidRequest | InvalidResponse

describe("HttpProvider", () => {
  it("RequestError is exactly the documented union", () => {
    expectTypeOf<HttpProvider.RequestError>().toEqualTypeOf<Documented>()
  })

  it("DefaultError, the default E, adds the default policy's rejections", () => {
    expectTypeOf<HttpProvider.DefaultError>().toEqualTypeOf<Documented | CircuitOpen | BulkheadFull>()
    expectTypeOf<HttpProvider.HttpProvider>().toEqualTypeOf<HttpProvider.HttpProvider<HttpProvider.DefaultError>>()
  })

  it("a request succeeds with the response Schema's type, fails with the union and needs nothing", () => {
    const get = plain.get("/v1/charges/1", { response: Charge })
    expectTypeOf(get).toEqualTypeOf<
      Effect.Effect<{ readonly id: string; readonly amount: number }, Documented, never>
    >()
    const post = plain.post("/v1/charges", {
      request: NewCharge,
      body: { amount: 1, currency: "eur" },
      response: Charge
    })
    expectTypeOf(post).toEqualTypeOf<
      Effect.Effect<{ readonly id: string; readonly amount: number }, Documented, never>
    >()
    expectTypeOf(plain.delete("/v1/charges/1", { response: Schema.Void })).toEqualTypeOf<
      Effect.Effect<void, Documented, never>
    >()
  })

  it("the body must match the request Schema", () => {
    // @ts-expect-error: currency is missing
    plain.post("/v1/charges", { request: NewCharge, body: { amount: 1 }, response: Charge })
    // @ts-expect-error: a body needs its Schema
    plain.post("/v1/charges", { body: { amount: 1, currency: "eur" }, response: Charge })
  })

  it("the policy's errors join every request's error channel", () => {
    expectTypeOf(guarded.get("/x", { response: Charge })).toEqualTypeOf<
      Effect.Effect<{ readonly id: string; readonly amount: number }, Documented | CircuitOpen, never>
    >()
  })

  it("catchTags over the union leaves never", () => {
    const handled = guarded.get("/x", { response: Charge }).pipe(
      Effect.catchTags({
        RateLimited: (e) => Effect.succeed(e.retryAfter),
        Unavailable: (e) => Effect.succeed(e.reason),
        Timeout: (e) => Effect.succeed(e.scope),
        ClientError: (e) => Effect.succeed(e.status),
        InvalidRequest: (e) => Effect.succeed(e.issue),
        InvalidResponse: (e) => Effect.succeed(e.issue),
        CircuitOpen: (e) => Effect.succeed(e.breaker)
      })
    )
    expectTypeOf(handled).toHaveProperty("pipe")
    expectTypeOf<Effect.Effect.Error<typeof handled>>().toEqualTypeOf<never>()
    expectTypeOf<Effect.Effect.Context<typeof handled>>().toEqualTypeOf<never>()
  })

  it("make - the policy's requirements are needed once, at construction", () => {
    const made = HttpProvider.make({ name: "payments", baseUrl: "https://p.test", policy: breaker })
    expectTypeOf(made).toEqualTypeOf<
      Effect.Effect<
        HttpProvider.HttpProvider<Documented | CircuitOpen>,
        InvalidOptions,
        HttpClient.HttpClient | PaymentsBreaker
      >
    >()
  })

  it("make - a lambda policy composing guards is inferred", () => {
    const made = HttpProvider.make({
      name: "payments",
      baseUrl: "https://p.test",
      policy: (self) => self.pipe(breaker, Effect.retry({ times: 3 }))
    })
    expectTypeOf(made).toEqualTypeOf<
      Effect.Effect<
        HttpProvider.HttpProvider<Documented | CircuitOpen>,
        InvalidOptions,
        HttpClient.HttpClient | PaymentsBreaker
      >
    >()
  })

  it("make - a policy that handles a tag removes it from every request", () => {
    const made = HttpProvider.make({
      name: "payments",
      baseUrl: "https://p.test",
      policy: (self) => self.pipe(Effect.catchTag("RateLimited", () => Effect.die("unexpected 429")))
    })
    expectTypeOf(made).toEqualTypeOf<
      Effect.Effect<
        HttpProvider.HttpProvider<Exclude<Documented, RateLimited>>,
        InvalidOptions,
        HttpClient.HttpClient
      >
    >()
  })

  it("make - a policy cannot invent a response", () => {
    // One line: tsc 5 reports the error at the call, tsgo (vitest's checker) at the property.
    // @ts-expect-error: the policy only passes the opaque attempt through
    HttpProvider.make({ name: "payments", baseUrl: "https://p.test", policy: (self) => self.pipe(Effect.orElseSucceed(() => ({ id: "cached", amount: 0 }))) })
  })

  it("make - without a policy, Policy.provider(name) adds its rejections and the client needs a Scope", () => {
    expectTypeOf(HttpProvider.make({ name: "payments", baseUrl: "https://p.test" })).toEqualTypeOf<
      Effect.Effect<
        HttpProvider.HttpProvider<Documented | CircuitOpen | BulkheadFull>,
        InvalidOptions,
        HttpClient.HttpClient | Scope.Scope
      >
    >()
  })

  it("make - the identity policy adds nothing and needs no Scope", () => {
    expectTypeOf(HttpProvider.make({ name: "payments", baseUrl: "https://p.test", policy: (self) => self }))
      .toEqualTypeOf<Effect.Effect<HttpProvider.HttpProvider<Documented>, InvalidOptions, HttpClient.HttpClient>>()
  })

  it("layer - for the user's tag; an Effect of options adds its error and requirements, not Scope", () => {
    class Payments extends Context.Tag("test/Payments")<
      Payments,
      HttpProvider.HttpProvider<HttpProvider.RequestError | CircuitOpen>
    >() {}
    const direct = HttpProvider.layer(Payments, { name: "payments", baseUrl: "https://p.test", policy: breaker })
    expectTypeOf(direct).toEqualTypeOf<
      Layer.Layer<Payments, InvalidOptions, HttpClient.HttpClient | PaymentsBreaker>
    >()
    class Partner extends Context.Tag("test/Partner")<Partner, HttpProvider.HttpProvider>() {}
    const fromEffect = HttpProvider.layer(
      Partner,
      Effect.map(
        Credentials.rotating({ fetch: Effect.fail(new Error("vault down")), every: "1 hour" }),
        (credentials) => ({ name: "partner", baseUrl: "https://partner.test", credentials })
      )
    )
    expectTypeOf(fromEffect).toEqualTypeOf<Layer.Layer<Partner, InvalidOptions | Error, HttpClient.HttpClient>>()
  })

  it("layer - without a policy the tag must admit the default policy's errors", () => {
    class Plain extends Context.Tag("test/Plain")<Plain, HttpProvider.HttpProvider<HttpProvider.RequestError>>() {}
    // @ts-expect-error: the default policy adds CircuitOpen and BulkheadFull
    HttpProvider.layer(Plain, { name: "plain", baseUrl: "https://plain.test" })
    // @ts-expect-error: the same for options made by an effect
    HttpProvider.layer(Plain, Effect.succeed({ name: "plain", baseUrl: "https://plain.test" }))
    expectTypeOf(HttpProvider.layer(Plain, { name: "plain", baseUrl: "https://plain.test", policy: (self) => self }))
      .toEqualTypeOf<Layer.Layer<Plain, InvalidOptions, HttpClient.HttpClient>>()
  })
})

describe("Credentials", () => {
  it("rotating carries the fetch's error and requirements, plus Scope", () => {
    class Vault extends Context.Tag("test/Vault")<Vault, { readonly read: Effect.Effect<string> }>() {}
    const made = Credentials.rotating({ fetch: Effect.flatMap(Vault, (v) => v.read), every: "5 minutes" })
    expectTypeOf(made).toEqualTypeOf<Effect.Effect<Credentials.Credentials, InvalidOptions, Vault | Scope.Scope>>()
  })
})

describe("HttpProviderNode", () => {
  it("a pool is an HttpClient that can fail only with InvalidOptions", () => {
    expectTypeOf(HttpProviderNode.layerPool({ connections: 4 })).toEqualTypeOf<
      Layer.Layer<HttpClient.HttpClient, InvalidOptions>
    >()
    expectTypeOf(HttpProviderNode.makePool()).toEqualTypeOf<
      Effect.Effect<HttpClient.HttpClient, InvalidOptions, Scope.Scope>
    >()
  })
})

declare const platform: Headers.Headers
declare const fetched: globalThis.Headers
declare const node: IncomingHttpHeaders
declare const undici: Record<string, string | Array<string> | undefined>

describe("HttpProvider.classify and HttpProvider.retryAfter", () => {
  it("classify yields the typed error or undefined, fails with nothing and needs nothing", () => {
    expectTypeOf(HttpProvider.classify({ provider: "search", status: 429 })).toEqualTypeOf<
      Effect.Effect<RateLimited | Unavailable | Timeout | ClientError | undefined, never, never>
    >()
    expectTypeOf<HttpProvider.Classified>().toEqualTypeOf<RateLimited | Unavailable | Timeout | ClientError>()
  })

  it("retryAfter yields an optional Duration", () => {
    expectTypeOf(HttpProvider.retryAfter({ "Retry-After": "5" })).toEqualTypeOf<
      Effect.Effect<Option.Option<Duration.Duration>, never, never>
    >()
  })

  it("headers from platform, fetch, undici or Node fit as they are", () => {
    HttpProvider.retryAfter(platform)
    HttpProvider.retryAfter(fetched)
    HttpProvider.retryAfter(node)
    HttpProvider.classify({ provider: "p", status: 503, headers: undici, body: "", elapsed: Duration.seconds(1) })
    // @ts-expect-error: a status is a number
    HttpProvider.classify({ provider: "p", status: "503" })
    // @ts-expect-error: elapsed is a Duration
    HttpProvider.classify({ provider: "p", status: 408, elapsed: "1 second" })
  })
})
