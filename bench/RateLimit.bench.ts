/**
 * Success-path overhead of `RateLimit.protect` (in-memory store, a limit never reached) and of the
 * gate (open) against the bare effect, in one group so vitest prints the ratios.
 * Run: `npx vitest bench --run bench/RateLimit.bench.ts`.
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import { Effect, Layer, Scope } from "effect"
import { bench, describe } from "vitest"
import * as RateLimit from "../src/RateLimit.js"

const scope = Effect.runSync(Scope.make())
const build = <A, E>(
  effect: Effect.Effect<A, E, RateLimit.GateStore | Scope.Scope | RateLimiter.RateLimiterStore>
) =>
  Effect.runSync(Effect.provide(Scope.extend(effect, scope), Layer.fresh(RateLimit.layerMemory)))

const huge = { limit: 1_000_000_000, window: "1 second" } as const
const tokenBucket = build(RateLimit.make({ name: "tb", key: "k", ...huge }))
const fixedWindow = build(RateLimit.make({ name: "fw", key: "k", algorithm: "fixed-window", ...huge }))
const perTenant = build(RateLimit.make({ name: "tenant", key: (tenant: string) => tenant, ...huge }))
const withLimiter = Effect.runSync(
  Effect.provide(RateLimiter.makeWithRateLimiter, RateLimiter.layer.pipe(Layer.provide(RateLimiter.layerStoreMemory)))
)
const gate = build(RateLimit.gate({ name: "gate", key: "k" }))

// `Effect.sync`, not `Effect.succeed`: runSync short-circuits a bare success without starting a fiber.
const call = Effect.sync(() => 1)
const viaTokenBucket = call.pipe(RateLimit.protect(tokenBucket))
const viaFixedWindow = call.pipe(RateLimit.protect(fixedWindow))
const viaExperimental = call.pipe(withLimiter({ key: "k", algorithm: "token-bucket", onExceeded: "delay", ...huge }))
const viaTenant = call.pipe(RateLimit.protect(perTenant, "tenant-a"))
const viaGate = call.pipe(RateLimit.protect(gate))
const viaBoth = call.pipe(RateLimit.protect(tokenBucket), RateLimit.protect(gate))

describe("success path (runSync)", () => {
  bench("bare effect", () => {
    Effect.runSync(call)
  })
  bench("experimental makeWithRateLimiter, token bucket (what RateLimit builds on)", () => {
    Effect.runSync(viaExperimental)
  })
  bench("limiter, token bucket", () => {
    Effect.runSync(viaTokenBucket)
  })
  bench("limiter, fixed window", () => {
    Effect.runSync(viaFixedWindow)
  })
  bench("limiter, per-tenant key", () => {
    Effect.runSync(viaTenant)
  })
  bench("gate (open)", () => {
    Effect.runSync(viaGate)
  })
  bench("gate + limiter", () => {
    Effect.runSync(viaBoth)
  })
})
