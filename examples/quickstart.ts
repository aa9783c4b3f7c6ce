import { Console, Effect } from "effect"
import { Backoff, Retry, Timeout } from "effect-resilience"
import { Unavailable } from "effect-resilience/Errors"

// stands in for your provider call: two 503s, then an answer
let calls = 0
const callPaymentProvider = (amount: number) =>
  Effect.suspend(() => {
    calls += 1
    return calls < 3
      ? Effect.fail(new Unavailable({ provider: "payments", reason: "status", status: 503 }))
      : Effect.succeed({ id: "ch_1", amount })
  })

const charge = (amount: number) =>
  callPaymentProvider(amount).pipe(
    Timeout.attempt("2 seconds", { provider: "payments" }), // E += Timeout
    Retry.transient({
      times: 4,
      backoff: Backoff.exponential({ base: "200 millis", cap: "5 seconds" }).pipe(Backoff.fullJitter)
    }),
    Timeout.total("10 seconds"), // retries never sleep past this deadline
    Effect.map((charge) => `charged ${charge.id} (${charge.amount} cents)`),
    Effect.catchTags({
      // the compiler checks that every error left in E is handled
      Unavailable: (e) => Effect.succeed(`queued for later: ${e.message}`),
      Timeout: (e) => Effect.succeed(`queued for later: ${e.message}`)
    })
  )

Effect.runPromise(charge(500).pipe(Effect.flatMap((outcome) => Console.log(`${outcome}, after ${calls} calls`))))
// charged ch_1 (500 cents), after 3 calls
