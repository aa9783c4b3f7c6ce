/**
 * Memory of keyed breakers: heap per idle keyed breaker at 100,000 keys (target <= 1 KB per key), and
 * the heap once they are evicted, side by side with the heap before any key existed.
 *
 * Run: `node --expose-gc --import tsx bench/CircuitBreaker.memory.ts` (part of `npm run bench`).
 */
import { Effect } from "effect"
import { CircuitBreaker } from "effect-resilience"
import { type Options, reportIdleKeyMemory } from "./support/keyedMemory.js"

const options: Options = {
  what: "idle `CircuitBreaker.keyed` key, `consecutive(5)`",
  keys: 100_000,
  ttlMillis: 2_000,
  make: (idleTimeToLive) =>
    Effect.map(
      CircuitBreaker.keyed<string>({ name: "memory", policy: CircuitBreaker.consecutive(5), idleTimeToLive }),
      (perKey) => ({ touch: (key) => perKey.protect(Effect.void, key), keys: perKey.keys })
    )
}

reportIdleKeyMemory("memory-breaker", "Keyed breakers, memory per idle key", options)
