/**
 * What the store property tests share: a clock moved by hand, and generated schedules of the calls
 * `RateLimiter.make` makes on a `RateLimiterStore` (limit and window fixed per key, as in a real limiter).
 */
import type * as RateLimiter from "@effect/experimental/RateLimiter"
import { Clock, Duration, Effect, FastCheck } from "effect"

/** A clock the test moves by hand, so thousands of generated steps run without waiting. */
export const manualClock = () => {
  let now = 1_000_000
  const clock: Clock.Clock = {
    [Clock.ClockTypeId]: Clock.ClockTypeId,
    unsafeCurrentTimeMillis: () => now,
    currentTimeMillis: Effect.sync(() => now),
    unsafeCurrentTimeNanos: () => BigInt(now) * 1_000_000n,
    currentTimeNanos: Effect.sync(() => BigInt(now) * 1_000_000n),
    sleep: () => Effect.void
  }
  return {
    clock,
    now: () => now,
    advance: (millis: number) => {
      now += millis
    },
    run: <A, E>(effect: Effect.Effect<A, E>): A => Effect.runSync(Effect.withClock(effect, clock))
  }
}

export const quotas = {
  a: { limit: 1, window: 1_000 },
  b: { limit: 3, window: 1_000 }, // a fractional refill rate: 333.33 ms
  c: { limit: 10, window: 3_000 },
  d: { limit: 2_000, window: 1_000 } // a refill rate under a millisecond
} as const
export type Key = keyof typeof quotas

export type Take = { readonly kind: "take"; readonly key: Key; readonly tokens: 1 | -1; readonly mode: "fail" | "delay" }
export type Step = { readonly kind: "advance"; readonly millis: number } | { readonly kind: "sweep" } | Take

const step: FastCheck.Arbitrary<Step> = FastCheck.oneof(
  FastCheck.record({ kind: FastCheck.constant("advance" as const), millis: FastCheck.integer({ min: 0, max: 2_500 }) }),
  FastCheck.record({ kind: FastCheck.constant("sweep" as const) }),
  FastCheck.record({
    kind: FastCheck.constant("take" as const),
    key: FastCheck.constantFrom<Key>("a", "b", "c", "d"),
    // -1 is how RateLimit gives a token back
    tokens: FastCheck.constantFrom<1 | -1>(1, 1, 1, -1),
    mode: FastCheck.constantFrom<"fail" | "delay">("fail", "delay")
  })
)
export const steps = FastCheck.array(step, { minLength: 1, maxLength: 80 })

export type Store = RateLimiter.RateLimiterStore["Type"]

export const fixedWindow = (store: Store, take: Take) => {
  const { limit, window } = quotas[take.key]
  return store.fixedWindow({
    key: take.key,
    tokens: take.tokens,
    refillRate: Duration.millis(window / limit),
    limit: take.mode === "fail" ? limit : undefined
  })
}

export const tokenBucket = (store: Store, take: Take) => {
  const { limit, window } = quotas[take.key]
  return store.tokenBucket({
    key: take.key,
    tokens: take.tokens,
    limit,
    refillRate: Duration.millis(window / limit),
    allowOverflow: take.mode === "delay"
  })
}
