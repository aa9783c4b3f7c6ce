/**
 * Memory of keyed breakers: heap per idle keyed breaker at 100,000 keys (target <= 1 KB per key), and
 * the heap once they are evicted, side by side with the heap before any key existed. Time is a
 * `TestClock`, so no key expires while the others are created, however slow the machine.
 *
 * Run: `node --expose-gc --import tsx bench/CircuitBreaker.memory.ts`
 */
import { Effect, Scope, TestClock, TestContext } from "effect"
import * as CircuitBreaker from "../src/CircuitBreaker.js"
import { heap, kb, mb } from "./support/heap.js"

const KEYS = 100_000
const TTL_MS = 2_000

const main = Effect.gen(function*() {
  const scope = yield* Scope.make()
  const perKey = yield* Scope.extend(
    CircuitBreaker.keyed<string>({
      name: "memory",
      policy: CircuitBreaker.consecutive(5),
      idleTimeToLive: `${TTL_MS} millis`
    }),
    scope
  )
  // warm up: one key through its whole life, so code and shared structures are not counted per key
  yield* perKey.protect(Effect.void, "warm-up")
  yield* TestClock.adjust(TTL_MS + 500)

  const before = heap()
  yield* Effect.forEach(
    Array.from({ length: KEYS }, (_, i) => `tenant-${i}`),
    (key) => perKey.protect(Effect.void, key),
    { discard: true }
  )
  const idle = heap()
  const keysLive = (yield* perKey.keys).length

  yield* TestClock.adjust(TTL_MS + 1_000)
  const evicted = heap()
  const keysAfter = (yield* perKey.keys).length
  yield* Scope.close(scope, Effect.void.pipe(Effect.exit) as never)

  const perKeyBytes = (idle - before) / keysLive
  console.log(`keyed breakers, ${KEYS.toLocaleString("en")} keys, consecutive(5), idleTimeToLive ${TTL_MS} ms`)
  console.log(`  heap before (baseline)       ${mb(before)}`)
  console.log(`  heap with ${KEYS} idle keys  ${mb(idle)}   (${keysLive} keys live)`)
  console.log(`  heap after eviction          ${mb(evicted)}   (${keysAfter} keys live)`)
  console.log(`  bytes per idle keyed breaker ${kb(perKeyBytes)}   ${perKeyBytes.toFixed(0)} B (target <= 1024 B)`)
  console.log(`  left after eviction          ${kb(evicted - before)}   vs baseline`)
})

Effect.runPromise(Effect.provide(main, TestContext.TestContext))
