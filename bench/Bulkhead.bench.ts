/**
 * Bulkhead throughput under contention against effect's `Semaphore`, and the success-path overhead
 * of a free bulkhead against the bare effect. Each group is one `describe`, so vitest prints the
 * ratios. Run: `npx vitest bench --run bench/Bulkhead.bench.ts`.
 *
 * Contention: 10,000 fibers start at once and each runs one `yieldNow` inside the guard, so all but
 * N of them wait. `Semaphore.withPermits` wakes every waiter whenever a permit frees (they race and
 * the losers wait again), which makes it quadratic in the number of waiters: with N = 10 it did not
 * finish 10,000 fibers in minutes on the reference machine, so the groups use N = 1,000 and N = 100.
 * The bulkhead hands each freed slot to the oldest waiter, one wake-up per slot.
 */
import { Effect, Scope } from "effect"
import { bench, describe } from "vitest"
import * as Bulkhead from "../src/Bulkhead.js"

const scope = Effect.runSync(Scope.make())
const fibers = Array.from({ length: 10_000 }, (_, i) => i)

const storm = (guard: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, unknown, R>) =>
  Effect.forEach(fibers, () => guard(Effect.yieldNow()), { concurrency: "unbounded", discard: true })

const contended = (slots: number, options: { readonly iterations: number }) => {
  const bulkhead = Effect.runSync(
    Scope.extend(Bulkhead.make({ name: `bench-${slots}`, maxConcurrent: slots, maxQueued: fibers.length }), scope)
  )
  const withTimeout = Effect.runSync(
    Scope.extend(
      Bulkhead.make({
        name: `bench-timeout-${slots}`,
        maxConcurrent: slots,
        maxQueued: fibers.length,
        queueTimeout: "1 minute"
      }),
      scope
    )
  )
  const semaphore = Effect.runSync(Effect.makeSemaphore(slots))
  const throughBulkhead = storm(bulkhead)
  const throughBulkheadWithTimeout = storm(withTimeout)
  const throughSemaphore = storm(semaphore.withPermits(1))
  const bare = storm((self) => self)
  const tinybench = { iterations: options.iterations, time: 0, warmupIterations: 1 }

  describe(`10,000 fibers through ${slots} slots`, () => {
    bench(`Bulkhead (maxConcurrent ${slots})`, () => Effect.runPromise(throughBulkhead), tinybench)
    bench(`Bulkhead with queueTimeout (maxConcurrent ${slots})`, () => Effect.runPromise(throughBulkheadWithTimeout), tinybench)
    bench(`Effect.makeSemaphore(${slots}).withPermits(1)`, () => Effect.runPromise(throughSemaphore), tinybench)
    bench("no guard (10,000 bare fibers)", () => Effect.runPromise(bare), tinybench)
  })
}

contended(1_000, { iterations: 10 })
contended(100, { iterations: 3 })

// `Effect.sync`, not `Effect.succeed`: runSync short-circuits a bare success without starting a fiber.
const call = Effect.sync(() => 1)
const free = Effect.runSync(Scope.extend(Bulkhead.make({ name: "bench-free", maxConcurrent: 10 }), scope))
const perTenant = Effect.runSync(
  Scope.extend(Bulkhead.keyed({ name: "bench-keyed", maxConcurrent: 10, idleTimeToLive: "1 minute" }), scope)
)
const semaphore = Effect.runSync(Effect.makeSemaphore(10))
const protectedCall = free(call)
const keyedCall = perTenant.protect(call, "tenant-a")
const semaphoreCall = semaphore.withPermits(1)(call)

describe("success path, free slot (runSync)", () => {
  bench("bare effect", () => {
    Effect.runSync(call)
  })
  bench("Bulkhead", () => {
    Effect.runSync(protectedCall)
  })
  bench("Semaphore.withPermits(1)", () => {
    Effect.runSync(semaphoreCall)
  })
  bench("keyed Bulkhead, one key", () => {
    Effect.runSync(keyedCall)
  })
})
