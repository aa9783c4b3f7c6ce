/**
 * Per-call cost of a breaker shared on Redis, next to the in-memory breaker and a bare Redis round
 * trip, in one run: calls one after another (the latency a caller pays), then 100 at a time (the
 * throughput of one replica).
 *
 * Run (Redis at REDIS_URL, default redis://127.0.0.1:6379):
 * `node --import tsx bench/CircuitBreakerRedis.overhead.ts`
 */
import { Effect, Exit, Layer, Scope } from "effect"
import { Redis } from "ioredis"
import * as CircuitBreaker from "../src/CircuitBreaker.js"
import * as CircuitBreakerRedis from "../src/CircuitBreakerRedis.js"
import { Unavailable } from "../src/Errors.js"

const CALLS = 5_000
const url = process.env.REDIS_URL ?? "redis://127.0.0.1:6379"
const prefix = `bench:breaker:${process.pid}:`

/** Microseconds per call, `concurrency` calls at a time. */
const perCall = (run: (i: number) => Effect.Effect<unknown, unknown>, concurrency = 1) =>
  Effect.gen(function*() {
    const calls = (n: number) =>
      Effect.forEach(Array.from({ length: n }, (_, i) => i), (i) => Effect.either(run(i)), { concurrency, discard: true })
    yield* calls(500) // warm-up
    const start = performance.now()
    yield* calls(CALLS)
    return ((performance.now() - start) * 1000) / CALLS
  })

const failing = Effect.fail(new Unavailable({ provider: "bench", reason: "status", status: 503 }))

const main = Effect.gen(function*() {
  const scope = yield* Scope.make()
  const store = yield* Layer.buildWithScope(CircuitBreakerRedis.layerStore({ url, prefix }), scope)
  const consecutive = { name: "consecutive", policy: CircuitBreaker.consecutive(1_000_000) }
  const rate = { name: "rate", policy: CircuitBreaker.failureRate({ threshold: 1, window: { calls: 100 } }) }
  const memory = yield* Scope.extend(CircuitBreaker.make(consecutive), scope)
  const shared = yield* Scope.extend(Effect.provide(CircuitBreaker.make(consecutive), store), scope)
  const sharedRate = yield* Scope.extend(Effect.provide(CircuitBreaker.make(rate), store), scope)
  const client = new Redis(url)

  const rows: Array<readonly [string, number]> = [
    ["bare effect", yield* perCall(() => Effect.void)],
    ["in-memory breaker, consecutive, success", yield* perCall(() => memory.protect(Effect.void))],
    ["Redis PING round trip (reference)", yield* perCall(() => Effect.promise(() => client.ping()))],
    ["shared breaker, consecutive, success (2 checks, no write)", yield* perCall(() => shared.protect(Effect.void))],
    [
      "shared breaker, failureRate, success/failure alternating (1 check + 1 write)",
      yield* perCall((i) => sharedRate.protect(i % 2 === 0 ? Effect.void : failing))
    ],
    ["in-memory breaker, 100 concurrent calls", yield* perCall(() => memory.protect(Effect.void), 100)],
    [
      "shared breaker, failureRate, 100 concurrent calls (group commit)",
      yield* perCall((i) => sharedRate.protect(i % 2 === 0 ? Effect.void : failing), 100)
    ]
  ]
  client.disconnect()
  const keys = yield* Effect.promise(async () => {
    const cleaner = new Redis(url)
    const found = await cleaner.keys(`${prefix}*`)
    if (found.length > 0) await cleaner.del(...found)
    cleaner.disconnect()
    return found.length
  })
  yield* Scope.close(scope, Exit.void)
  const memoryMicros = rows[1]![1]
  for (const [name, micros] of rows) {
    console.log(`${name.padEnd(78)} ${micros.toFixed(1).padStart(8)} µs/call  (${(micros / memoryMicros).toFixed(1)}x in-memory)`)
  }
  console.log(`(${CALLS} calls per row; ${keys} bench keys deleted)`)
})

Effect.runPromise(main)
