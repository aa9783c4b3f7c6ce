/**
 * Idempotent charges that survive retries: every write carries an idempotency key.
 *
 * A payments provider runs on 127.0.0.1 (FakeProvider, no external network) and has a bad minute:
 * it commits a charge and then drops the connection, rate limits, and has a short outage. The client
 * sends every charge with an Idempotency-Key made once per charge, so each retry re-sends the same key
 * and the provider replays the stored charge instead of charging again.
 *
 *   npx tsx examples/payments.ts
 */
import { Console, Context, Effect, Layer, Schema } from "effect"
import { Backoff, Credentials, HttpProvider, Retry, Timeout } from "effect-resilience"
import * as HttpProviderNode from "effect-resilience/HttpProviderNode"
import { FakeProvider } from "effect-resilience/testing"

// The anti-corruption layer: what we send and what we accept back.
const NewCharge = Schema.Struct({
  amount: Schema.Number.pipe(Schema.int(), Schema.positive()),
  currency: Schema.Literal("eur", "usd")
})
const Charge = Schema.Struct({
  id: Schema.String,
  amount: Schema.Number,
  currency: Schema.String,
  status: Schema.Literal("succeeded")
})

class Payments extends Context.Tag("example/Payments")<Payments, HttpProvider.HttpProvider>() {}

const PaymentsLive = Layer.unwrapEffect(
  Effect.map(FakeProvider.FakeProvider, (fake) =>
    HttpProvider.layer(Payments, {
      name: "payments",
      baseUrl: fake.url,
      credentials: Credentials.fixed("sk_test_example"),
      maxConnections: 10,
      deadlineHeader: "X-Request-Timeout-Ms",
      // Every request: at most 1 s per attempt, up to 4 retries of transient failures with full-jitter
      // backoff that never waits less than the provider's Retry-After, all within 8 s.
      policy: (self) =>
        self.pipe(
          Timeout.attempt("1 second", { provider: "payments" }),
          Retry.transient({
            times: 4,
            backoff: Backoff.exponential({ base: "100 millis", cap: "2 seconds" }).pipe(Backoff.fullJitter)
          }),
          Timeout.total("8 seconds", { provider: "payments" })
        )
    }))
).pipe(
  // one pooled client for this provider, shared by every call and closed with the layer
  Layer.provide(HttpProviderNode.layerPool({ connections: 10 })),
  Layer.provideMerge(FakeProvider.layer())
)

const charge = (amount: number, idempotent: boolean) =>
  Effect.flatMap(Payments, (payments) =>
    payments.post("/v1/charges", {
      request: NewCharge,
      body: { amount, currency: "eur" },
      response: Charge,
      idempotent
    }))

const program = Effect.gen(function*() {
  const fake = yield* FakeProvider.FakeProvider
  const count = Effect.map(
    Effect.all([fake.requests, fake.sideEffects]),
    ([requests, charges]) => `${requests.length} requests, ${charges} ${charges === 1 ? "charge" : "charges"} in total`
  )

  yield* Console.log("1. The provider commits the charge, then drops the connection; then it rate limits.")
  yield* fake.sequence([
    { phase: FakeProvider.dropAfterCommit, requests: 1 },
    { phase: FakeProvider.rateLimited({ retryAfter: "500 millis" }), requests: 1 }
  ])
  const first = yield* charge(1500, true)
  yield* Console.log(`   charged ${first.id}; the provider saw ${yield* count}: every retry re-sent the same key`)

  yield* Console.log("2. A 503 outage for two requests: retried until it recovers.")
  yield* fake.sequence([{ phase: FakeProvider.outage({ status: 503 }), requests: 2 }])
  const second = yield* charge(990, true)
  yield* Console.log(`   charged ${second.id}; the provider saw ${yield* count}`)

  yield* Console.log("3. The same drop without an idempotency key: not re-sent, the caller must reconcile.")
  yield* fake.sequence([{ phase: FakeProvider.dropAfterCommit, requests: 1 }])
  const unsafe = yield* Effect.flip(charge(700, false))
  yield* Console.log(`   ${unsafe._tag}: ${unsafe.message}; the provider saw ${yield* count}`)

  yield* Console.log("4. An invalid amount never leaves the process.")
  const invalid = yield* Effect.flip(charge(-5, true))
  yield* Console.log(`   ${invalid._tag}: ${invalid.message}`)
  yield* Console.log(`   the provider saw ${yield* count}`)
})

Effect.runPromise(program.pipe(Effect.provide(PaymentsLive))).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
