import * as RateLimiter from "@effect/experimental/RateLimiter"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Context, Duration, Effect, Either, FastCheck, Layer, TestClock } from "effect"
import { makeMemoryStores, makeScopedMemoryStores, sweepInterval } from "../src/internal/rateLimitMemory.js"
import * as RateLimit from "../src/RateLimit.js"

/** A clock the test moves by hand, so thousands of generated steps run synchronously. */
const manualClock = () => {
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
    now: () => now,
    advance: (millis: number) => {
      now += millis
    },
    run: <A, E>(effect: Effect.Effect<A, E>): A => Effect.runSync(Effect.withClock(effect, clock))
  }
}

/** What `RateLimiter.make` asks of a store for `key` (limit and window fixed per key, as in a real limiter). */
const quotas = {
  a: { limit: 1, window: 1_000 },
  b: { limit: 3, window: 1_000 }, // a fractional refill rate: 333.33 ms
  c: { limit: 10, window: 3_000 }
} as const
type Key = keyof typeof quotas

type Step =
  | { readonly kind: "advance"; readonly millis: number }
  | { readonly kind: "sweep" }
  | { readonly kind: "take"; readonly key: Key; readonly tokens: 1 | -1; readonly mode: "fail" | "delay" }

const step: FastCheck.Arbitrary<Step> = FastCheck.oneof(
  FastCheck.record({ kind: FastCheck.constant("advance" as const), millis: FastCheck.integer({ min: 0, max: 2_500 }) }),
  FastCheck.record({ kind: FastCheck.constant("sweep" as const) }),
  FastCheck.record({
    kind: FastCheck.constant("take" as const),
    key: FastCheck.constantFrom<Key>("a", "b", "c"),
    // -1 is how RateLimit gives a token back
    tokens: FastCheck.constantFrom<1 | -1>(1, 1, 1, -1),
    mode: FastCheck.constantFrom<"fail" | "delay">("fail", "delay")
  })
)
const steps = FastCheck.array(step, { minLength: 1, maxLength: 80 })

const fixedWindow = (store: RateLimiter.RateLimiterStore["Type"], take: Extract<Step, { kind: "take" }>) => {
  const { limit, window } = quotas[take.key]
  return store.fixedWindow({
    key: take.key,
    tokens: take.tokens,
    refillRate: Duration.millis(window / limit),
    limit: take.mode === "fail" ? limit : undefined
  })
}

const tokenBucket = (store: RateLimiter.RateLimiterStore["Type"], take: Extract<Step, { kind: "take" }>) => {
  const { limit, window } = quotas[take.key]
  return store.tokenBucket({
    key: take.key,
    tokens: take.tokens,
    limit,
    refillRate: Duration.millis(window / limit),
    allowOverflow: take.mode === "delay"
  })
}

/** Runs `steps` on the experimental store, a store that sweeps when told, and one that never sweeps. */
const replay = <A>(
  script: ReadonlyArray<Step>,
  take: (store: RateLimiter.RateLimiterStore["Type"], step: Extract<Step, { kind: "take" }>) => Effect.Effect<A, unknown>
) => {
  const time = manualClock()
  const experimental = time.run(Effect.provide(RateLimiter.RateLimiterStore, RateLimiter.layerStoreMemory))
  const swept = makeMemoryStores()
  const unswept = makeMemoryStores()
  const results: Array<{ experimental: A; swept: A; unswept: A }> = []
  for (const s of script) {
    if (s.kind === "advance") time.advance(s.millis)
    else if (s.kind === "sweep") swept.sweep(time.now())
    else {
      results.push({
        experimental: time.run(take(experimental, s)),
        swept: time.run(take(swept.limiter, s)),
        unswept: time.run(take(unswept.limiter, s))
      })
    }
  }
  // a day later every entry is at rest: the sweep leaves nothing behind
  time.advance(86_400_000)
  swept.sweep(time.now())
  return { results, left: swept.maps.counters.size + swept.maps.buckets.size }
}

const TENANTS = 10_000

describe("in-memory stores", () => {
  it.prop("fixed window - the same answers as the experimental store; sweeping changes none", [steps], ([script]) => {
    const { left, results } = replay(script, fixedWindow)
    for (const r of results) {
      expect(r.swept).toEqual(r.experimental)
      expect(r.unswept).toEqual(r.experimental)
    }
    expect(left).toBe(0)
  }, { fastCheck: { numRuns: 1_000 } })

  it.prop(
    "token bucket - sweeping changes no answer, and it never grants more than the experimental store",
    [steps],
    ([script]) => {
      const { left, results } = replay(script, tokenBucket)
      for (const r of results) {
        expect(r.swept).toBe(r.unswept)
        expect(r.swept).toBeLessThanOrEqual(r.experimental)
      }
      expect(left).toBe(0)
    },
    { fastCheck: { numRuns: 1_000 } }
  )

  it("token bucket - a full bucket refills from its next use, not from an old phase (stricter than experimental)", () => {
    const time = manualClock()
    const ours = makeMemoryStores()
    const experimental = time.run(Effect.provide(RateLimiter.RateLimiterStore, RateLimiter.layerStoreMemory))
    const take = (store: RateLimiter.RateLimiterStore["Type"]) =>
      time.run(store.tokenBucket({ key: "k", tokens: 1, limit: 1, refillRate: Duration.seconds(1), allowOverflow: false }))
    expect([take(ours.limiter), take(experimental)]).toEqual([0, 0])
    time.advance(1_900) // full again since 1000; its old phase would refill at 2000
    expect([take(ours.limiter), take(experimental)]).toEqual([0, 0])
    time.advance(100) // 2000: the experimental bucket refills 100 ms after it was emptied
    expect([take(ours.limiter), take(experimental)]).toEqual([-1, 0])
    time.advance(900) // 2900: one second after it was emptied
    expect(take(ours.limiter)).toBe(0)
  })

  it("token bucket - a refund never lifts a bucket above its limit", () => {
    const time = manualClock()
    const { limiter } = makeMemoryStores()
    const take = (tokens: number) =>
      time.run(limiter.tokenBucket({ key: "k", tokens, limit: 2, refillRate: Duration.seconds(1), allowOverflow: true }))
    expect(take(1)).toBe(1)
    time.advance(1_000)
    expect(take(-1)).toBe(2)
    expect([take(1), take(1), take(1)]).toEqual([1, 0, -1])
  })

  it.prop("gate - sweeping changes no answer, and a day later nothing is left", [
    FastCheck.array(
      FastCheck.oneof(
        FastCheck.record({ kind: FastCheck.constant("advance" as const), millis: FastCheck.integer({ min: 0, max: 2_500 }) }),
        FastCheck.record({ kind: FastCheck.constant("sweep" as const) }),
        FastCheck.record({
          kind: FastCheck.constant("close" as const),
          key: FastCheck.constantFrom("a", "b"),
          millis: FastCheck.integer({ min: 1, max: 5_000 })
        }),
        FastCheck.record({ kind: FastCheck.constant("read" as const), key: FastCheck.constantFrom("a", "b") })
      ),
      { maxLength: 80 }
    )
  ], ([script]) => {
    const time = manualClock()
    const swept = makeMemoryStores()
    const unswept = makeMemoryStores()
    for (const s of script) {
      if (s.kind === "advance") time.advance(s.millis)
      else if (s.kind === "sweep") swept.sweep(time.now())
      else if (s.kind === "close") {
        expect(time.run(swept.gate.close(s.key, s.millis))).toBe(time.run(unswept.gate.close(s.key, s.millis)))
      } else expect(time.run(swept.gate.closedFor(s.key))).toBe(time.run(unswept.gate.closedFor(s.key)))
    }
    time.advance(86_400_000)
    swept.sweep(time.now())
    expect(swept.maps.gates.size).toBe(0)
  }, { fastCheck: { numRuns: 1_000 } })

  it.scoped("10,000 tenants: their keys are gone one sweep after their windows; a key mid-window stays, limited", () =>
    Effect.gen(function*() {
      const stores = yield* makeScopedMemoryStores
      const store = Layer.succeedContext(
        Context.make(RateLimiter.RateLimiterStore, stores.limiter).pipe(Context.add(RateLimit.GateStore, stores.gate))
      )
      const perTenant = yield* RateLimit.make<string>({
        name: "tenants",
        key: (tenant) => tenant,
        limit: 1,
        window: "1 second",
        onExceeded: "fail"
      }).pipe(Effect.provide(store))
      const slow = yield* RateLimit.make({ name: "slow", key: "all", limit: 1, window: "10 minutes", onExceeded: "fail" })
        .pipe(Effect.provide(store))
      const gate = yield* RateLimit.gate<string>({ name: "gate", key: (tenant) => tenant }).pipe(Effect.provide(store))

      for (let i = 0; i < TENANTS; i++) {
        yield* RateLimit.protect(Effect.void, perTenant, `tenant-${i}`)
        if (i % 100 === 0) yield* gate.close("1 second", `tenant-${i}`)
      }
      yield* RateLimit.protect(Effect.void, slow)
      expect([stores.maps.buckets.size, stores.maps.gates.size]).toEqual([TENANTS + 1, TENANTS / 100])

      yield* TestClock.adjust(Duration.subtract(sweepInterval, Duration.millis(1)))
      expect(stores.maps.buckets.size).toBe(TENANTS + 1) // no sweep yet: memory is reclaimed by the sweeper only
      yield* TestClock.adjust(Duration.millis(1))
      expect([stores.maps.buckets.size, stores.maps.gates.size]).toEqual([1, 0])

      const refused = yield* Effect.either(RateLimit.protect(Effect.void, slow))
      expect(Either.isLeft(refused) && refused.left._tag).toBe("RateLimited")
      // an evicted tenant starts afresh, as if it had never been seen
      expect(Either.isRight(yield* Effect.either(RateLimit.protect(Effect.void, perTenant, "tenant-7")))).toBe(true)
    }))
})
