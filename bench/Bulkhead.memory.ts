/**
 * Memory of keyed bulkheads: heap per idle keyed bulkhead at 100,000 keys (target <= 1 KB per key),
 * and the heap once they are evicted, side by side with the heap before any key existed.
 *
 * Run: `node --expose-gc --import tsx bench/Bulkhead.memory.ts` (part of `npm run bench`).
 */
import { Effect } from "effect"
import { Bulkhead } from "effect-resilience"
import { type Options, reportIdleKeyMemory } from "./support/keyedMemory.js"

const options: Options = {
  what: "idle `Bulkhead.keyed` key, `maxConcurrent: 10`",
  keys: 100_000,
  ttlMillis: 2_000,
  make: (idleTimeToLive) =>
    Effect.map(
      Bulkhead.keyed<string>({ name: "memory", maxConcurrent: 10, idleTimeToLive }),
      (perKey) => ({ touch: (key) => perKey.protect(Effect.void, key), keys: perKey.keys })
    )
}

reportIdleKeyMemory("memory-bulkhead", "Keyed bulkheads, memory per idle key", options)
