/**
 * One policy for a third-party API, with defaults chosen for real providers.
 *
 * A payments provider runs on 127.0.0.1 (FakeProvider, no external network). The client is built
 * without a `policy`, so every request goes through `Policy.provider("payments")`: a 10 s attempt
 * timeout, a 30 s deadline, a jittered exponential retry that waits out `Retry-After`, a retry budget,
 * a failure-rate breaker, the provider's 429 gate, a rate limiter and a bulkhead. Then the same
 * recipe is tuned for one call site, and `Policy.make` composes guards given as tags.
 *
 *   npx tsx examples/policy-provider.ts
 */
import { Console, Context, Effect, Layer, Schema } from "effect"
import { CircuitBreaker, HttpProvider, Policy } from "effect-resilience"
import * as HttpProviderNode from "effect-resilience/HttpProviderNode"
import { FakeProvider } from "effect-resilience/testing"

const NewCharge = Schema.Struct({ amount: Schema.Positive, currency: Schema.Literal("eur", "usd") })
const Charge = Schema.Struct({ id: Schema.String, amount: Schema.Number })

// Without a `policy`, E is HttpProvider.DefaultError: the request errors plus CircuitOpen and BulkheadFull.
class Payments extends Context.Tag("example/Payments")<Payments, HttpProvider.HttpProvider>() {}

const PaymentsLive = Layer.unwrapEffect(
  Effect.map(FakeProvider.FakeProvider, (fake) => HttpProvider.layer(Payments, { name: "payments", baseUrl: fake.url }))
).pipe(
  Layer.provide(HttpProviderNode.layerPool({ connections: 10 })),
  Layer.provideMerge(FakeProvider.layer())
)

const charge = (amount: number) =>
  Effect.flatMap(Payments, (payments) =>
    payments.post("/v1/charges", {
      request: NewCharge,
      body: { amount, currency: "eur" },
      response: Charge,
      idempotent: true
    }))

// Policy.make: your own pipeline, guards given as tags (they join R), always in the documented order.
class LedgerBreaker extends Context.Tag("example/LedgerBreaker")<LedgerBreaker, CircuitBreaker.CircuitBreaker>() {}
const ledgerPolicy = Policy.make({
  name: "ledger",
  total: "2 seconds",
  retry: { times: 2 },
  breaker: LedgerBreaker,
  attempt: "500 millis"
})
const LedgerBreakerLive = CircuitBreaker.layer(LedgerBreaker, { policy: CircuitBreaker.consecutive(3) })

const program = Effect.gen(function*() {
  const fake = yield* FakeProvider.FakeProvider
  const seen = Effect.map(fake.requests, (requests) => requests.length)

  yield* Console.log("1. A 503 for two requests, then a 429 with Retry-After: 1. The default policy rides it out.")
  yield* fake.sequence([
    { phase: FakeProvider.outage({ status: 503 }), requests: 2 },
    { phase: FakeProvider.rateLimited({ retryAfter: "1 second" }), requests: 1 }
  ])
  const first = yield* charge(1500)
  yield* Console.log(`   charged ${first.id}; the provider saw ${yield* seen} requests`)

  yield* Console.log("2. The recipe tuned, around any effect: a 1 s attempt timeout, no retry, no bulkhead.")
  const reports = yield* Policy.provider("reports", { attempt: "1 second", retry: false, bulkhead: false })
  const slowReport = Effect.as(Effect.sleep("3 seconds"), "report")
  const error = yield* Effect.flip(slowReport.pipe(reports))
  yield* Console.log(`   ${error._tag}: ${error.message}`)

  yield* Console.log("3. Policy.make around any effect: the ledger's breaker opens after three attempt timeouts.")
  const ledgerWrite = Effect.never.pipe(ledgerPolicy)
  const results = yield* Effect.all([ledgerWrite, ledgerWrite].map((write) => Effect.flip(write)))
  yield* Console.log(`   ${results.map((e) => e._tag).join(", ")} (the second call was rejected at once)`)
})

Effect.runPromise(program.pipe(Effect.provide(Layer.merge(PaymentsLive, LedgerBreakerLive)), Effect.scoped)).catch(
  (error) => {
    console.error(error)
    process.exitCode = 1
  }
)
