/**
 * Success-path overhead of `CircuitBreaker.protect` against the bare effect and against cockatiel's
 * breaker (promise-based, so both run through a promise for the comparison), in one group so vitest
 * prints the ratios. Run: `npx vitest bench --run bench/CircuitBreaker.bench.ts`.
 */
import { circuitBreaker, ConsecutiveBreaker, handleAll } from "cockatiel"
import { Effect, Scope } from "effect"
import { bench, describe } from "vitest"
import * as CircuitBreaker from "../src/CircuitBreaker.js"

const scope = Effect.runSync(Scope.make())
const breaker = Effect.runSync(
  Scope.extend(CircuitBreaker.make({ name: "bench", policy: CircuitBreaker.consecutive(5), openFor: "10 seconds" }), scope)
)
const rateBreaker = Effect.runSync(
  Scope.extend(
    CircuitBreaker.make({
      name: "bench-rate",
      policy: CircuitBreaker.failureRate({ threshold: 0.5, window: { calls: 100 } }),
      openFor: "10 seconds"
    }),
    scope
  )
)
const perKey = Effect.runSync(Scope.extend(CircuitBreaker.keyed<string>({ idleTimeToLive: "1 minute" }), scope))
const cockatiel = circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) })

// `Effect.sync`, not `Effect.succeed`: runSync short-circuits a bare success without starting a fiber.
const call = Effect.sync(() => 1)
const protectedCall = CircuitBreaker.protect(call, breaker)
const rateCall = CircuitBreaker.protect(call, rateBreaker)
const keyedCall = perKey.protect(call, "host-a")
const promiseCall = () => Promise.resolve(1)

describe("success path, through a promise", () => {
  bench("bare effect (runPromise)", async () => {
    await Effect.runPromise(call)
  })
  bench("protect, consecutive(5) (runPromise)", async () => {
    await Effect.runPromise(protectedCall)
  })
  bench("protect, failureRate over 100 calls (runPromise)", async () => {
    await Effect.runPromise(rateCall)
  })
  bench("keyed protect, one key (runPromise)", async () => {
    await Effect.runPromise(keyedCall)
  })
  bench("bare promise", async () => {
    await promiseCall()
  })
  bench("cockatiel 3.2.1 circuitBreaker(handleAll, ConsecutiveBreaker(5))", async () => {
    await cockatiel.execute(promiseCall)
  })
})

describe("success path, synchronous", () => {
  bench("bare effect (runSync)", () => {
    Effect.runSync(call)
  })
  bench("protect, consecutive(5) (runSync)", () => {
    Effect.runSync(protectedCall)
  })
})
