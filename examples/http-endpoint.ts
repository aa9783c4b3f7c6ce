/**
 * An HTTP endpoint whose dependency fails: while the dependency's circuit breaker is open, the
 * endpoint answers at once instead of making every request wait for a timeout.
 *
 * - `GET /recommendations` has a safe default: it serves a fixed list (marked as such) and 200.
 * - `GET /prices/:sku` has none (a stale price is a wrong price): it answers 503 with `Retry-After`,
 *   the time until the breaker lets a probe through, so well-behaved clients come back then.
 *
 * Both the endpoint and its dependency (the catalog, FakeProvider) run on 127.0.0.1; the catalog
 * answers, fails two requests, then recovers. The program calls its own endpoint with fetch.
 *
 *   npx tsx examples/http-endpoint.ts
 */
import { HttpRouter, HttpServer, HttpServerResponse } from "@effect/platform"
import { NodeHttpServer } from "@effect/platform-node"
import { Console, Context, Duration, Effect, Layer, Schema } from "effect"
import { CircuitBreaker, HttpProvider, Policy } from "effect-resilience"
import type { CircuitOpen } from "effect-resilience/Errors"
import * as HttpProviderNode from "effect-resilience/HttpProviderNode"
import { FakeProvider } from "effect-resilience/testing"
import { createServer } from "node:http"

const Product = Schema.Struct({ sku: Schema.String, title: Schema.String })
const Price = Schema.Struct({ sku: Schema.String, cents: Schema.Number })

// The catalog client: one attempt of at most 500 ms, behind its breaker.
class CatalogBreaker extends Context.Tag("example/CatalogBreaker")<CatalogBreaker, CircuitBreaker.CircuitBreaker>() {}
class Catalog extends Context.Tag("example/Catalog")<
  Catalog,
  HttpProvider.HttpProvider<HttpProvider.RequestError | CircuitOpen>
>() {}

const CatalogBreakerLive = CircuitBreaker.layer(CatalogBreaker, {
  name: "catalog",
  policy: CircuitBreaker.consecutive(2),
  openFor: "3 seconds"
})

const CatalogLive = Layer.unwrapEffect(
  Effect.map(FakeProvider.FakeProvider, (catalog) =>
    HttpProvider.layer(Catalog, {
      name: "catalog",
      baseUrl: catalog.url,
      policy: Policy.make({ name: "catalog", breaker: CatalogBreaker, attempt: "500 millis" })
    }))
).pipe(Layer.provide(HttpProviderNode.layerPool({ connections: 10 })), Layer.provideMerge(CatalogBreakerLive))

// What the catalog serves when it is up.
const CatalogServer = FakeProvider.layer({
  routes: [
    {
      method: "GET",
      path: "/v1/recommendations",
      handler: () => ({ body: [{ sku: "sku-7", title: "Trail shoes" }, { sku: "sku-9", title: "Rain jacket" }] })
    },
    { method: "GET", path: "/v1/prices/:sku", handler: (request) => ({ body: { sku: request.params.sku, cents: 8900 } }) }
  ]
})

// --- the endpoint ---------------------------------------------------------------------------------

const bestsellers = [{ sku: "sku-1", title: "Gift card" }]

/** Whole seconds, rounded up: what a `Retry-After` header carries. */
const retryAfterSeconds = (retryAfter: Duration.Duration | undefined) =>
  String(Math.max(1, Math.ceil(Duration.toMillis(retryAfter ?? Duration.seconds(1)) / 1000)))

const router = HttpRouter.empty.pipe(
  HttpRouter.get(
    "/recommendations",
    Effect.gen(function*() {
      const catalog = yield* Catalog
      const answer = yield* catalog.get("/v1/recommendations", { response: Schema.Array(Product) }).pipe(
        Effect.map((items) => ({ items, source: "catalog" })),
        // any failure, the open breaker included: the default list, at once
        Effect.catchAll((error) => Effect.succeed({ items: bestsellers, source: `defaults (${error._tag})` }))
      )
      return yield* HttpServerResponse.json(answer)
    })
  ),
  HttpRouter.get(
    "/prices/:sku",
    Effect.gen(function*() {
      const { sku = "" } = yield* HttpRouter.params
      const catalog = yield* Catalog
      return yield* catalog.get("/v1/prices/{sku}", { params: { sku }, response: Price }).pipe(
        Effect.flatMap((price) => HttpServerResponse.json(price)),
        Effect.catchTag("CircuitOpen", (open) =>
          HttpServerResponse.json(
            { error: "prices are unavailable at the moment" },
            { status: 503, headers: { "retry-after": retryAfterSeconds(open.retryAfter) } }
          )),
        Effect.catchAll(() => HttpServerResponse.json({ error: "prices did not answer" }, { status: 502 }))
      )
    })
  )
)

const EndpointLive = HttpServer.serve(router).pipe(
  Layer.provideMerge(NodeHttpServer.layer(createServer, { port: 0, host: "127.0.0.1" }))
)

// --- a client visiting the endpoint ------------------------------------------------------------------

const visit = (base: string, path: string) =>
  Effect.promise(async () => {
    const response = await fetch(`${base}${path}`)
    const retryAfter = response.headers.get("retry-after")
    const body = await response.text()
    return `   GET ${path} -> ${response.status}${retryAfter === null ? "" : ` (Retry-After: ${retryAfter})`} ${body}`
  }).pipe(Effect.flatMap(Console.log))

const program = Effect.gen(function*() {
  const server = yield* HttpServer.HttpServer
  const catalog = yield* FakeProvider.FakeProvider
  const address = server.address
  const base = address._tag === "TcpAddress" ? `http://${address.hostname}:${address.port}` : ""

  yield* Console.log("1. The catalog answers.")
  yield* visit(base, "/recommendations")
  yield* visit(base, "/prices/sku-7")

  yield* Console.log("2. The catalog answers 503 twice: two failures in a row open its breaker for 3 s.")
  yield* catalog.sequence([{ phase: FakeProvider.outage({ status: 503 }), requests: 2 }])
  yield* visit(base, "/recommendations")
  yield* visit(base, "/prices/sku-7")
  yield* Console.log("   while the breaker is open, no request waits for the catalog:")
  yield* visit(base, "/recommendations")
  yield* visit(base, "/prices/sku-7")

  yield* Console.log("3. 3 s later, the breaker lets a probe through; the catalog is back and it closes.")
  yield* Effect.sleep("3500 millis")
  yield* visit(base, "/prices/sku-7")
  yield* visit(base, "/recommendations")
})

Effect.runPromise(
  program.pipe(Effect.provide(EndpointLive.pipe(Layer.provide(CatalogLive), Layer.provideMerge(CatalogServer))))
).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
