/**
 * Memory of per-tenant limits: heap with one key per tenant, and after their windows have passed, for
 * `RateLimit.layerStoreMemory` and for `@effect/experimental`'s in-memory store side by side, each
 * against the heap before its first key: a minute after the tenants' last call, while as many calls
 * of one busy tenant go by. Time is a `TestClock`.
 *
 * 10,000 tenants by default, 100,000 with `--full` (about 30 s of CPU per store at 100,000).
 *
 * Run: `node --expose-gc --import tsx bench/RateLimit.memory.ts [--full]` (part of `npm run bench`).
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import { Effect, Layer, TestClock, TestContext } from "effect"
import { RateLimit } from "effect-resilience"
import { heap } from "./support/heap.js"
import { report } from "./support/report.js"

const TENANTS = process.argv.includes("--full") ? 100_000 : 10_000

const measure = (store: Layer.Layer<RateLimiter.RateLimiterStore>) =>
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
    return { allKeys: busy - before, perKey: (busy - before) / TENANTS, minuteLater: after - before }
  }).pipe(Effect.scoped, Effect.provide(Layer.fresh(store)), Effect.provide(TestContext.TestContext))

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`

const main = Effect.gen(function*() {
  const experimental = yield* measure(RateLimiter.layerStoreMemory)
  const ours = yield* measure(RateLimit.layerStoreMemory)
  const what = `per-tenant token buckets, ${TENANTS.toLocaleString("en")} tenants, limit 10 per second`
  report({
    id: "memory-limiter",
    title: "Per-tenant limiter, memory",
    rows: [
      {
        what: `${what}: heap above the baseline with every key`,
        ours: `${megabytes(ours.allKeys)} (${ours.perKey.toFixed(0)} B per key)`,
        baseline: `\`@effect/experimental\` in-memory store: ${megabytes(experimental.allKeys)} (${
          experimental.perKey.toFixed(0)
        } B per key)`,
        ratio: `${(ours.allKeys / experimental.allKeys).toFixed(2)}x`,
        goal: "",
        verdict: ""
      },
      {
        what: `${what}: a minute after the tenants' last call, as many calls of one busy tenant later`,
        ours: megabytes(ours.minuteLater),
        baseline: `\`@effect/experimental\`: ${megabytes(experimental.minuteLater)}`,
        ratio: "",
        goal: "",
        verdict: ""
      }
    ],
    data: { experimental, ours }
  })
})

Effect.runPromise(main)
