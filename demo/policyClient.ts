/**
 * The same call through the library: `HttpProvider` with its default policy (`Policy.provider`:
 * attempt timeout, total deadline, jittered retries that honour `Retry-After`, a retry budget, a
 * failure-rate circuit breaker, the provider's 429 gate, an adaptive rate limiter and a bulkhead).
 * Nothing is tuned for the demo.
 *
 * When the library refuses a call without calling the provider (the breaker is open, the gate or the
 * limiter cannot let it through in time, the bulkhead is full), the app serves the last quote it got:
 * that is a fallback, answered at once.
 */
import { Effect, Option, Ref, Schema } from "effect"
import { HttpProvider } from "effect-resilience"

const Quote = Schema.Struct({ symbol: Schema.String, price: Schema.Number })

export type Outcome = "ok" | "fallback"

/** The provider's name: in its breaker, gate, limiter and bulkhead, in metrics and on /health. */
export const providerName = "quotes"

/** A refusal by a local guard: the provider was not called. */
const isLocalRefusal = (error: HttpProvider.DefaultError): boolean =>
  error._tag === "CircuitOpen" || error._tag === "BulkheadFull" || (error._tag === "RateLimited" && error.reason === "local")

export const make = (baseUrl: string) =>
  Effect.gen(function*() {
    const quotes = yield* HttpProvider.make({ name: providerName, baseUrl })
    const lastQuote = yield* Ref.make(Option.none<typeof Quote.Type>())
    return quotes.get("/v1/quote", { response: Quote }).pipe(
      Effect.tap((quote) => Ref.set(lastQuote, Option.some(quote))),
      Effect.as<Outcome>("ok"),
      // no quote yet to fall back on: the refusal stays an error
      Effect.catchIf(isLocalRefusal, (error) =>
        Effect.flatMap(Ref.get(lastQuote), (quote) =>
          Option.isSome(quote) ? Effect.succeed<Outcome>("fallback") : Effect.fail(error)))
    )
  })
