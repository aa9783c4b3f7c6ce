/**
 * Health endpoints for a service that calls a payments provider: what a load balancer or Kubernetes
 * asks (`/health/live`, `/health/ready`) and what an operator reads (`/health/breakers`).
 *
 * The payments provider runs on 127.0.0.1 (FakeProvider, no external network). Its client uses the
 * provider recipe (`Policy.provider`), without retries and with a breaker that opens after 3 failures
 * for 2 seconds, so the example runs in a few seconds. The guards it builds join the health registry on their own, because
 * the registry is in the context when they are built; "payments" is named required, so readiness
 * fails while its breaker is open. A database check is added by hand.
 *
 *   npx tsx examples/health-checks.ts
 */
import { Console, Effect, Layer, Logger, LogLevel, Schema } from "effect"
import * as HttpServer from "@effect/platform/HttpServer"
import { CircuitBreaker, Health, HttpProvider, Policy } from "effect-resilience"
import * as HealthNode from "effect-resilience/HealthNode"
import * as HttpProviderNode from "effect-resilience/HttpProviderNode"
import { FakeProvider } from "effect-resilience/testing"

const Pong = Schema.Struct({ ok: Schema.Boolean })

/** Asks the health server, as a load balancer would, and prints the status line and the body. */
const ask = (base: string, path: string) =>
  Effect.promise(async () => {
    const response = await fetch(`${base}${path}`)
    return `GET ${path} -> ${response.status}\n${JSON.stringify(await response.json(), null, 2)}`
  }).pipe(Effect.flatMap(Console.log))

const program = Effect.gen(function*() {
  const fake = yield* FakeProvider.FakeProvider
  const address = (yield* HttpServer.HttpServer).address
  const base = address._tag === "TcpAddress" ? `http://127.0.0.1:${address.port}` : ""
  yield* Console.log(`Health endpoints on ${base}\n`)

  // Built while Health.Registry is in the context: its breaker, gate and bulkhead register themselves.
  // A short break, no retries and few failures, so the example runs in seconds (the recipe's own
  // breaker judges a failure rate over 30 seconds).
  const policy = yield* Policy.provider("payments", {
    breaker: { policy: CircuitBreaker.consecutive(3), openFor: "2 seconds" },
    retry: false
  })
  const payments = yield* HttpProvider.make({ name: "payments", baseUrl: fake.url, policy })
  // A check of your own: here a database that answers.
  yield* Health.register({ name: "database", required: true, status: Effect.succeed({ status: "up" }) })
  const ping = payments.get("/v1/ping", { response: Pong }).pipe(Effect.either)

  yield* ping
  yield* Console.log("1. The provider answers: the service is ready.")
  yield* ask(base, "/health/ready")

  yield* fake.setPhase(FakeProvider.outage())
  for (let i = 0; i < 3; i++) yield* ping
  yield* Console.log("\n2. The provider is down and the breaker opened: not ready (503), still live.")
  yield* ask(base, "/health/ready")
  yield* ask(base, "/health/live")
  yield* ask(base, "/health/breakers")

  yield* fake.setPhase(FakeProvider.normal)
  yield* Effect.sleep("2 seconds")
  yield* ping
  yield* Console.log("\n3. The break is over, a probe succeeded, the breaker closed: ready again.")
  yield* ask(base, "/health/ready")
})

program.pipe(
  Effect.scoped,
  Effect.provide(Layer.mergeAll(
    HealthNode.layerServer({ port: 0 }),
    HttpProviderNode.layerPool(),
    FakeProvider.layer()
  )),
  Effect.provide(Health.layer({ required: ["payments", "database"] })),
  // the breaker's transitions are logged; this example prints what the endpoints say instead
  Logger.withMinimumLogLevel(LogLevel.None),
  Effect.runPromise
)
