/**
 * Success-path overhead of the retry and timeout guards: what a call that works the first time pays
 * for being guarded. Every case runs through `Effect.runPromise`, so the runtime's own cost is the
 * same in each and the summary's "x times faster than" ratios compare the guards alone.
 * Run with `npm run bench` (or `npx vitest bench --run bench/Retry.bench.ts`). No assertions.
 *
 * Reading the figures: `Retry.transient` on success is one extra `matchCauseEffect`, so it should sit
 * within noise of the bare effect. `Timeout.attempt` starts a timer and two fibers (the race, and the
 * disconnected work), like `Effect.timeout`: tens of microseconds, large next to `Effect.succeed(42)`
 * and small next to any network call. `Effect.timeout` is included as the reference for that cost.
 */
import { Effect } from "effect"
import { bench, describe } from "vitest"
import * as Retry from "../src/Retry.js"
import * as Timeout from "../src/Timeout.js"

const call = Effect.succeed(42)

// Longer runs and a warm-up: the timer cases are noisy on a shared machine.
const options = { time: 1500, warmupTime: 300 }

const cases: ReadonlyArray<readonly [string, Effect.Effect<number, unknown>]> = [
  ["bare effect", call],
  ["Retry.transient", call.pipe(Retry.transient())],
  ["Timeout.attempt", call.pipe(Timeout.attempt("1 second"))],
  ["Effect.timeout (reference)", call.pipe(Effect.timeout("1 second"))],
  ["Retry.transient + Timeout.attempt", call.pipe(Timeout.attempt("1 second"), Retry.transient())]
]

describe("success path: Retry.transient + Timeout.attempt vs the bare effect", () => {
  for (const [name, effect] of cases) {
    bench(name, () => Effect.runPromise(effect).then(() => undefined), options)
  }
})
