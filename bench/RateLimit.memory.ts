/**
 * Memory of per-tenant limits: heap with 100,000 tenant keys, and after their windows have passed, for
 * `RateLimit.layerStoreMemory` and for `@effect/experimental`'s in-memory store side by side, each
 * against the heap before its first key: a minute after the tenants' last call, while 100,000 calls
 * of one busy tenant go by. Time is a `TestClock`.
 *
 * Run: `node --expose-gc --import tsx bench/RateLimit.memory.ts`
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import { Effect, Layer, TestClock, TestContext } from "effect"
import * as RateLimit from "../src/RateLimit.js"
import { heap, kb, mb } from "./support/heap.js"

const TENANTS = 100_000

const measure = (label: string, store: Layer.Layer<RateLimiter.RateLimiterStore>) =>
  Effect.gen(function*() {
    const perTenant = yield* RateLimit.make<string>({
      name: "tenants",
      key: (tenant) => tenant,
      limit: 10,
      window: "1 second",
      onExceeded: "fail"
    })
    yield* RateLimit.protect(Effect.void, perTenant, "warm-up")
    const before = heap()
    for (let i = 0; i < TENANTS; i++) yield* RateLimit.protect(Effect.void, perTenant, `tenant-${i}`)
    const busy = heap()
    // a window and a minute later, as much traffic again through one busy tenant
    yield* TestClock.adjust("61 seconds")
    for (let i = 0; i < TENANTS; i++) yield* Effect.either(RateLimit.protect(Effect.void, perTenant, "busy"))
    const after = heap()
    console.log(`  ${label.padEnd(34)} ${mb(busy - before)} ${kb((busy - before) / TENANTS)} ${mb(after - before)}`)
  }).pipe(Effect.scoped, Effect.provide(Layer.fresh(store)), Effect.provide(TestContext.TestContext))

const main = Effect.gen(function*() {
  console.log(`per-tenant token buckets, ${TENANTS.toLocaleString("en")} tenants, limit 10 per second`)
  console.log(`  ${"heap above baseline".padEnd(34)} ${"all keys".padStart(10)} ${"per key".padStart(10)} ${"a min later".padStart(10)}`)
  yield* measure("@effect/experimental (baseline)", RateLimiter.layerStoreMemory)
  yield* measure("RateLimit.layerStoreMemory", RateLimit.layerStoreMemory)
})

Effect.runPromise(main)
