import * as RateLimiter from "@effect/experimental/RateLimiter"
import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, Either, FastCheck, Layer, TestClock } from "effect"
import { type InProcessLimiterStore, inProcessLimiterStore } from "../src/internal/rateLimit/inProcessStore.js"
import { makeMemoryStores, restGrace } from "../src/internal/rateLimitMemory.js"
import * as RateLimit from "../src/RateLimit.js"
import { fixedWindow, manualClock, quotas, type Step, type Store, steps, type Take, tokenBucket } from "./support/rateLimitSteps.js"

/** Runs `steps` on the experimental store, a store that sweeps when told, and one that never sweeps. */
const replay = <A>(
  script: ReadonlyArray<Step>,
  take: (store: Store, step: Take) => Effect.Effect<A, unknown>
) => {
  const time = manualClock()
  const experimental = time.run(Effect.provide(RateLimiter.RateLimiterStore, RateLimiter.layerStoreMemory))
  // deletes what is at rest on every call and on every "sweep" step; the reference never deletes
  const swept = makeMemoryStores({ grace: 0, perCall: 2 })
  const unswept = makeMemoryStores({ perCall: 0 })
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
  return { results, left: swept.sizes().counters + swept.sizes().buckets }
}

/**
 * Replays `script` on two memory stores, one through `viaStore` only, the other through its in-process
 * answer (`take`) for the one-token takes a limiter in "fail" mode makes: `take` must say `taken` of what
 * the store answered, and every other step must leave both stores answering the same.
 */
const inProcessAgrees = <A>(
  script: ReadonlyArray<Step>,
  viaStore: (store: Store, step: Take) => Effect.Effect<A, unknown>,
  take: (store: InProcessLimiterStore) => InProcessLimiterStore["takeToken"],
  taken: (answer: A, limit: number) => boolean
) => {
  const time = manualClock()
  const viaEffect = makeMemoryStores()
  const viaInProcess = makeMemoryStores()
  const inProcess = inProcessLimiterStore(viaInProcess.limiter)
  expect(inProcess).toBeDefined()
  for (const s of script) {
    if (s.kind === "advance") time.advance(s.millis)
    else if (s.kind === "sweep") {
      viaEffect.sweep(time.now())
      viaInProcess.sweep(time.now())
    } else {
      const expected = time.run(viaStore(viaEffect.limiter, s))
      if (s.tokens === 1 && s.mode === "fail") {
        const { limit, window } = quotas[s.key]
        // the refill rate as the store receives it (a fractional millisecond is kept in nanoseconds)
        const refillMillis = Duration.toMillis(Duration.millis(window / limit))
        expect(take(inProcess!)(s.key, limit, refillMillis, time.now())).toBe(taken(expected, limit))
      } else {
        expect(time.run(viaStore(viaInProcess.limiter, s))).toEqual(expected)
      }
    }
  }
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

  it.prop(
    "token bucket - takeToken (the in-process answer) takes and refuses as tokenBucket with one token and no overflow",
    [steps],
    ([script]) => inProcessAgrees(script, tokenBucket, (p) => p.takeToken, (left) => left >= 0),
    { fastCheck: { numRuns: 1_000 } }
  )

  it.prop(
    "fixed window - takeWindowSlot (the in-process answer) counts and refuses as fixedWindow with one token and a limit",
    [steps],
    ([script]) => inProcessAgrees(script, fixedWindow, (p) => p.takeWindowSlot, ([count], limit) => count <= limit),
    { fastCheck: { numRuns: 1_000 } }
  )

  it("token bucket - a full bucket refills from its next use, not from an old phase (stricter than experimental)", () => {
    const time = manualClock()
    const ours = makeMemoryStores()
    const experimental = time.run(Effect.provide(RateLimiter.RateLimiterStore, RateLimiter.layerStoreMemory))
    const take = (store: Store) =>
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
    const swept = makeMemoryStores({ grace: 0, perCall: 2 })
    const unswept = makeMemoryStores({ perCall: 0 })
    for (const s of script) {
      if (s.kind === "advance") time.advance(s.millis)
      else if (s.kind === "sweep") swept.sweep(time.now())
      else if (s.kind === "close") {
        expect(time.run(swept.gate.close(s.key, s.millis))).toBe(time.run(unswept.gate.close(s.key, s.millis)))
      } else expect(time.run(swept.gate.closedFor(s.key))).toBe(time.run(unswept.gate.closedFor(s.key)))
    }
    time.advance(86_400_000)
    swept.sweep(time.now())
    expect(swept.sizes().gates).toBe(0)
  }, { fastCheck: { numRuns: 1_000 } })

  it.prop(
    "token bucket - a key used with another limit or window is another bucket, swept or not",
    [FastCheck.array(FastCheck.tuple(FastCheck.integer({ min: 1, max: 5 }), FastCheck.integer({ min: 0, max: 3_000 })), {
      maxLength: 60
    })],
    ([script]) => {
      const time = manualClock()
      const swept = makeMemoryStores({ grace: 0, perCall: 2 })
      const unswept = makeMemoryStores({ perCall: 0 })
      for (const [limit, advance] of script) {
        time.advance(advance)
        const options = { key: "api:t", tokens: 1, limit, refillRate: Duration.seconds(1), allowOverflow: false }
        swept.sweep(time.now())
        expect(time.run(swept.limiter.tokenBucket(options))).toBe(time.run(unswept.limiter.tokenBucket(options)))
      }
    },
    { fastCheck: { numRuns: 500 } }
  )

  it("a wall clock stepped back by less than the grace minute changes no answer", () => {
    const time = manualClock()
    const swept = makeMemoryStores()
    const unswept = makeMemoryStores({ perCall: 0 })
    const take = (stores: ReturnType<typeof makeMemoryStores>) =>
      time.run(stores.limiter.fixedWindow({ key: "k", tokens: 1, refillRate: Duration.seconds(10), limit: 1 }))
    expect(take(swept)).toEqual(take(unswept))
    time.advance(10_000 + restGrace - 1)
    swept.sweep(time.now())
    expect(swept.sizes().counters).toBe(1) // at rest, but not for a whole minute yet
    time.advance(-30_000) // NTP steps the clock back
    expect(take(swept)).toEqual(take(unswept))
    time.advance(30_000 + 10_000 + restGrace)
    swept.sweep(time.now())
    expect(swept.sizes().counters).toBe(0)
  })

  it.effect("10,000 tenants: their keys are gone after their window and a minute, as other calls go by", () =>
    Effect.gen(function*() {
      const stores = makeMemoryStores()
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
      for (let i = 0; i < TENANTS; i++) yield* RateLimit.protect(Effect.void, perTenant, `tenant-${i}`)
      yield* RateLimit.protect(Effect.void, slow)
      expect(stores.sizes().buckets).toBe(TENANTS + 1)

      yield* TestClock.adjust(Duration.millis(1_000 + restGrace))
      // another limiter's calls: each examines two entries of its own map and two of another in
      // turn (here one of four), so a lap of the tenants' map takes about 4 x 10,000 / 2 calls
      for (let i = 0; i < 2.5 * TENANTS; i++) yield* Effect.either(RateLimit.protect(Effect.void, slow))
      expect(stores.sizes().buckets).toBe(1)
      const refused = yield* Effect.either(RateLimit.protect(Effect.void, slow))
      expect(Either.isLeft(refused) && refused.left._tag).toBe("RateLimited")
      // an evicted tenant starts afresh, as if it had never been seen
      expect(Either.isRight(yield* Effect.either(RateLimit.protect(Effect.void, perTenant, "tenant-7")))).toBe(true)
    }), 60_000) // 35,000 calls of CPU work: about 2.5 s alone, over 10 s on a loaded 2-core machine

  it("token bucket - a quota (limit and window) whose buckets are all gone is dropped too", () => {
    const time = manualClock()
    const stores = makeMemoryStores()
    // a limit per call: 20,000 quotas, each with one bucket
    for (let limit = 1; limit <= 20_000; limit++) {
      time.run(stores.limiter.tokenBucket({ key: "t", tokens: 1, limit, refillRate: Duration.millis(10), allowOverflow: false }))
    }
    expect(stores.quotas()).toBe(20_000)
    time.advance(3_600_000)
    // other calls go by: each sweeps its own quota and the next map in turn
    for (let i = 0; i < 50_000; i++) {
      time.run(stores.limiter.fixedWindow({ key: "busy", tokens: 1, refillRate: Duration.millis(1), limit: undefined }))
    }
    expect(stores.quotas()).toBe(0)
    expect(stores.sizes().buckets).toBe(0)
  })

  it.effect("closed gates are gone a minute after they reopen", () =>
    Effect.gen(function*() {
      const stores = makeMemoryStores()
      for (let i = 0; i < 100; i++) yield* stores.gate.close(`tenant-${i}`, 1_000)
      yield* TestClock.adjust(Duration.millis(1_000 + restGrace))
      // a lap of the map at two entries per call, wherever the previous lap stopped
      for (let i = 0; i < 52; i++) yield* stores.gate.closedFor("other")
      expect(stores.sizes().gates).toBe(0)
    }))
})
