import * as RateLimiter from "@effect/experimental/RateLimiter"
import { describe, expect, it, vi } from "@effect/vitest"
import { Context, Duration, Effect, Either, Exit, FastCheck, Fiber, Layer, Logger, Option, Ref, Scope } from "effect"
import * as Net from "node:net"
import { RateLimited } from "../src/Errors.js"
import { makeMemoryStores, restGrace } from "../src/internal/rateLimitMemory.js"
import * as RateLimit from "../src/RateLimit.js"
import * as RateLimitRedis from "../src/RateLimitRedis.js"
import { fixedWindow, manualClock, type Store, steps, type Take, tokenBucket } from "./support/rateLimitSteps.js"
import {
  closedPort,
  deleteKeys,
  redisClient,
  redisRequired,
  redisUnavailable,
  redisUrl,
  uniquePrefix
} from "./support/redis.js"

/** One "process": its own connections to Redis, built in the test's scope. */
const instance = (options: RateLimitRedis.Options) =>
  Effect.flatMap(Scope.Scope, (scope) => Layer.buildWithScope(RateLimitRedis.layer(options), scope))

const withPrefix = (name: string) =>
  Effect.acquireRelease(Effect.sync(() => uniquePrefix(name)), (prefix) => Effect.promise(() => deleteKeys(prefix)))

const elapsedMillis = <A, E, R>(self: Effect.Effect<A, E, R>) =>
  Effect.map(Effect.timed(self), ([d, a]) => [Duration.toMillis(d), a] as const)

const tooMany = (millis: number) =>
  new RateLimited({ provider: "crm", reason: "provider", retryAfter: Duration.millis(millis) })

if (redisUnavailable !== undefined && redisRequired) {
  describe("RateLimitRedis", () => {
    it("Redis is required (REQUIRE_REDIS=1)", () => {
      throw new Error(`no Redis at ${redisUrl}: ${redisUnavailable}`)
    })
  })
}

describe.skipIf(redisUnavailable !== undefined)("RateLimitRedis (real Redis)", () => {
  it.scopedLive("store - two instances share one quota", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("quota")
      const options = { name: "api", key: "shared", limit: 3, window: "1 minute", onExceeded: "fail" } as const
      const a = yield* Effect.provide(RateLimit.make(options), yield* instance({ url: redisUrl, prefix }))
      const b = yield* Effect.provide(RateLimit.make(options), yield* instance({ url: redisUrl, prefix }))
      const call = (limiter: RateLimit.RateLimit) => Effect.either(Effect.succeed("sent").pipe(limiter.protect))
      expect(yield* call(a)).toEqual(Either.right("sent"))
      expect(yield* call(a)).toEqual(Either.right("sent"))
      expect(yield* call(b)).toEqual(Either.right("sent"))
      const refusedB = yield* call(b)
      const refusedA = yield* call(a)
      expect(Either.isLeft(refusedB) && refusedB.left.reason === "local").toBe(true)
      expect(Either.isLeft(refusedA) && refusedA.left._tag === "RateLimited").toBe(true)
    }))

  it.scopedLive("store - a delayed call waits for the token the other instance left", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("delay")
      // token bucket, 2 per 600 ms: one token every 300 ms
      const options = { name: "api", key: "shared", limit: 2, window: "600 millis" } as const
      const a = yield* Effect.provide(RateLimit.make(options), yield* instance({ url: redisUrl, prefix }))
      const b = yield* Effect.provide(RateLimit.make(options), yield* instance({ url: redisUrl, prefix }))
      yield* Effect.void.pipe(a.protect)
      yield* Effect.void.pipe(a.protect)
      const [waited] = yield* elapsedMillis(Effect.void.pipe(b.protect))
      expect(waited).toBeGreaterThanOrEqual(250)
      expect(waited).toBeLessThan(1_000)
    }))

  // Schedules generated once (a fixed seed), replayed on Redis and in memory under one hand-moved clock.
  const schedules = FastCheck.sample(steps, { numRuns: 60, seed: 2026 })
  const sameAsMemory = <A>(name: string, take: (store: Store, step: Take) => Effect.Effect<A, unknown>) =>
    it.scopedLive(`store - ${name}: the same answers as the in-memory store, step for step`, () =>
      Effect.gen(function*() {
        for (const [i, script] of schedules.entries()) {
          const prefix = yield* withPrefix(`model-${i}`)
          const redis = yield* Effect.provide(RateLimiter.RateLimiterStore, yield* instance({ url: redisUrl, prefix }))
          const memory = makeMemoryStores({ perCall: 0 }).limiter
          const time = manualClock()
          for (const step of script) {
            if (step.kind === "advance") time.advance(step.millis)
            else if (step.kind === "take") {
              const [inRedis, inMemory] = yield* Effect.all([take(redis, step), take(memory, step)]).pipe(
                Effect.withClock(time.clock)
              )
              expect(inRedis).toEqual(inMemory)
            }
          }
        }
      }), { timeout: 30_000 })
  sameAsMemory("fixed window", fixedWindow)
  sameAsMemory("token bucket", tokenBucket)

  it.scopedLive("store - a limit above the window in milliseconds counts the window it says (2000 per second)", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("fine")
      const redis = yield* Effect.provide(RateLimiter.RateLimiterStore, yield* instance({ url: redisUrl, prefix }))
      const take = redis.fixedWindow({ key: "k", tokens: 1, refillRate: Duration.millis(0.5), limit: 2000 })
      const time = manualClock()
      const counts = yield* Effect.all(Array.from({ length: 2001 }, () => take)).pipe(Effect.withClock(time.clock))
      expect(counts[1999]).toEqual([2000, 1000])
      // refused, and told to come back when the window ends: 1 s, not the 2 s a 1 ms refill would count
      expect(counts[2000]).toEqual([2001, 1000])
    }))

  it.scopedLive("store - a lifetime quota (a window of 1e17 ms) counts in Redis as in memory", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("lifetime")
      const options = {
        name: "lifetime",
        key: "k",
        limit: 1,
        window: Duration.millis(1e17),
        onExceeded: "fail",
        algorithm: "fixed-window"
      } as const
      const inRedis = yield* Effect.provide(RateLimit.make(options), yield* instance({ url: redisUrl, prefix }))
      const inMemory = yield* Effect.provide(RateLimit.make(options), RateLimit.layerMemory)
      const twice = (limiter: RateLimit.RateLimit) =>
        Effect.map(Effect.all([Effect.either(Effect.void.pipe(limiter.protect)), Effect.either(Effect.void.pipe(limiter.protect))]), (results) => results.map((r) => r._tag))
      expect(yield* twice(inMemory)).toEqual(["Right", "Left"])
      expect(yield* twice(inRedis)).toEqual(["Right", "Left"])
    }))

  it.scopedLive("store - a refused call writes nothing, in Redis as in memory (then the clock steps back)", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("refused")
      const redis = yield* Effect.provide(RateLimiter.RateLimiterStore, yield* instance({ url: redisUrl, prefix }))
      const memory = makeMemoryStores().limiter
      const time = manualClock()
      const both = (tokens: number, limit: number | undefined) => {
        const options = { key: "k", tokens, refillRate: Duration.millis(3), limit }
        return Effect.all([redis.fixedWindow(options), memory.fixedWindow(options)]).pipe(Effect.withClock(time.clock))
      }
      yield* both(1, undefined)
      time.advance(10) // the window has ended
      const [refusedInRedis, refusedInMemory] = yield* both(2, 1)
      expect(refusedInRedis).toEqual(refusedInMemory)
      time.advance(-9) // NTP steps the clock back
      const [inRedis, inMemory] = yield* both(1, undefined)
      expect(inRedis).toEqual(inMemory)
    }))

  it.scopedLive("store - every key expires a minute after it comes to rest (per-tenant keys do not pile up)", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("expiry")
      const stores = yield* instance({ url: redisUrl, prefix })
      for (const algorithm of ["token-bucket", "fixed-window"] as const) {
        const limiter = yield* Effect.provide(
          RateLimit.make<string>({ name: algorithm, key: (tenant) => tenant, limit: 5, window: "10 seconds", algorithm }),
          stores
        )
        yield* Effect.void.pipe(RateLimit.protect(limiter, "tenant-1"))
      }
      const client = yield* redisClient
      const keys = yield* Effect.promise(() => client.keys(`${prefix}*`))
      expect(keys).toHaveLength(2)
      for (const key of keys) {
        const pttl = yield* Effect.promise(() => client.pttl(key))
        // at rest after one refill (token bucket: 2 s) or the counted window share (fixed: 2 s)
        expect(pttl).toBeGreaterThan(restGrace)
        expect(pttl).toBeLessThanOrEqual(2_000 + restGrace)
      }
    }))

  it.scopedLive("gate - a 429 seen by one instance closes the gate of the other; its callers wait, then call", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("gate")
      const options = { name: "crm", key: "crm-key", releaseOver: "50 millis" } as const
      const a = yield* Effect.provide(RateLimit.gate(options), yield* instance({ url: redisUrl, prefix }))
      const b = yield* Effect.provide(RateLimit.gate(options), yield* instance({ url: redisUrl, prefix }))
      const sent = yield* Ref.make(0)
      const call = Effect.zipRight(Ref.update(sent, (n) => n + 1), Effect.succeed("ok"))

      yield* Effect.either(Effect.fail(tooMany(400)).pipe(a.protect))
      const closed = yield* b.closedFor()
      expect(Option.isSome(closed) && Duration.toMillis(closed.value) > 200).toBe(true)

      const [waited, results] = yield* elapsedMillis(
        Effect.all(Array.from({ length: 10 }, () => call.pipe(b.protect)), { concurrency: "unbounded" })
      )
      expect(results).toEqual(Array.from({ length: 10 }, () => "ok"))
      expect(yield* Ref.get(sent)).toBe(10)
      expect(waited).toBeGreaterThanOrEqual(250)
      expect(waited).toBeLessThan(2_000)
      expect(yield* a.closedFor()).toEqual(Option.none())
    }))

  it.scopedLive("gate - a waiter whose maxWait is shorter than the shared closing fails at once", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("gate-maxwait")
      const a = yield* Effect.provide(
        RateLimit.gate({ name: "crm", key: "crm-key" }),
        yield* instance({ url: redisUrl, prefix })
      )
      const b = yield* Effect.provide(
        RateLimit.gate({ name: "crm", key: "crm-key", maxWait: "100 millis" }),
        yield* instance({ url: redisUrl, prefix })
      )
      yield* a.close("5 seconds")
      const [waited, refused] = yield* elapsedMillis(Effect.flip(Effect.void.pipe(b.protect)))
      expect(refused.reason).toBe("local")
      expect(Duration.toMillis(refused.retryAfter ?? Duration.zero)).toBeGreaterThan(4_000)
      expect(waited).toBeLessThan(500)
    }))
})

describe("RateLimitRedis (Redis down: a closed port)", () => {
  const captureWarnings = Effect.map(Ref.make<Array<string>>([]), (lines) => ({
    lines: Ref.get(lines),
    layer: Logger.replace(
      Logger.defaultLogger,
      Logger.make(({ logLevel, message }) => {
        if (logLevel.label === "WARN") {
          Effect.runSync(Ref.update(lines, (ls) => [...ls, String(Array.isArray(message) ? message[0] : message)]))
        }
      })
    )
  }))

  it.scopedLive("allow - calls go through in bounded time, one warning; reject - they fail with RateLimited", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(closedPort)
      const warnings = yield* captureWarnings
      const stores = yield* instance({ url: `redis://127.0.0.1:${port}`, timeout: "200 millis" })
      const open = yield* Effect.provide(
        RateLimit.make({ name: "open", key: "k", limit: 1, window: "1 minute" }),
        stores
      )
      const closed = yield* Effect.provide(
        RateLimit.make({ name: "closed", key: "k", limit: 1, window: "1 minute", onStoreError: "reject" }),
        stores
      )
      const gate = yield* Effect.provide(RateLimit.gate({ name: "gate", key: "k" }), stores)
      const strictGate = yield* Effect.provide(
        RateLimit.gate({ name: "strict", key: "k", onStoreError: "reject" }),
        stores
      )

      const [waited, results] = yield* elapsedMillis(
        Effect.all([
          Effect.succeed(1).pipe(open.protect),
          Effect.succeed(2).pipe(open.protect), // over the limit of 1, but nothing counts while Redis is down
          Effect.succeed(3).pipe(gate.protect)
        ]).pipe(Effect.provide(warnings.layer))
      )
      expect(results).toEqual([1, 2, 3])
      expect(waited).toBeLessThan(1_500)
      expect(yield* warnings.lines).toEqual([
        "rate-limit limiter store for open is unreachable; letting calls through unlimited (fail open)",
        "rate-limit gate store for gate is unreachable; letting calls through unlimited (fail open)"
      ])

      expect(yield* Effect.flip(Effect.succeed(1).pipe(closed.protect))).toEqual(
        new RateLimited({ provider: "closed", reason: "local" })
      )
      expect(yield* Effect.flip(Effect.succeed(1).pipe(strictGate.protect))).toEqual(
        new RateLimited({ provider: "strict", reason: "local" })
      )
    }), { timeout: 8_000 })

  it.scopedLive("shutdown while Redis is down, with a command pending: the client is closed, no reconnecting", () =>
    Effect.gen(function*() {
      // a "Redis" that accepts connections and drops them at once, counting them
      let accepted = 0
      const server = Net.createServer((socket) => {
        accepted++
        socket.destroy()
      })
      yield* Effect.acquireRelease(
        Effect.async<void>((resume) => {
          server.listen(0, "127.0.0.1", () => resume(Effect.void))
        }),
        () =>
          Effect.async<void>((resume) => {
            server.close(() => resume(Effect.void))
          })
      )
      const port = (server.address() as Net.AddressInfo).port
      const scope = yield* Scope.make()
      const stores = yield* Layer.buildWithScope(
        RateLimitRedis.layer({ url: `redis://127.0.0.1:${port}`, timeout: "5 seconds" }),
        scope
      )
      const limiter = yield* Effect.provide(RateLimit.make({ name: "x", key: "k", limit: 5, window: "1 second" }), stores)
      const pending = yield* Effect.fork(Effect.void.pipe(limiter.protect))
      yield* Effect.sleep("100 millis")
      yield* Scope.close(scope, Exit.void)
      yield* Fiber.interrupt(pending)
      const before = accepted
      yield* Effect.sleep("2500 millis") // longer than the 2 s reconnection backoff
      expect(accepted - before).toBe(0)
    }), { timeout: 10_000 })

  it.scopedLive("Redis down: nothing is printed behind the logger's back (no ioredis unhandled-error lines)", () =>
    Effect.gen(function*() {
      const printed = vi.spyOn(console, "error").mockImplementation(() => {})
      yield* Effect.addFinalizer(() => Effect.sync(() => printed.mockRestore()))
      const port = yield* Effect.promise(closedPort)
      yield* instance({ url: `redis://127.0.0.1:${port}` })
      yield* Effect.sleep("1500 millis")
      expect(printed.mock.calls.filter((call) => String(call[0]).includes("[ioredis]"))).toEqual([])
    }), { timeout: 8_000 })

  it.effect("options - a password with a malformed %-escape is InvalidOptions, not a crash, and not echoed", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Layer.build(RateLimitRedis.layerStore({ url: "redis://:50%off@127.0.0.1:6379" })).pipe(Effect.scoped)
      )
      expect(error._tag).toBe("InvalidOptions")
      expect(error.message).not.toContain("50%off")
    }))

  it.effect("options - a URL that is not redis:// fails the layer with InvalidOptions, without echoing it", () =>
    Effect.gen(function*() {
      class Limit extends Context.Tag("test/Limit")<Limit, RateLimit.RateLimit>() {}
      const layer = RateLimit.layer(Limit, { name: "x", key: "x", limit: 1, window: "1 second" }).pipe(
        Layer.provide(RateLimitRedis.layerStore({ url: "http://user:secret@host" }))
      )
      const error = yield* Effect.flip(Effect.provide(Limit, layer))
      expect(error._tag).toBe("InvalidOptions")
      expect(error.message).toBe(
        "RateLimitRedis.layerStore: option url must be a redis:// or rediss:// URL, got \"http:\""
      )
      const garbage = yield* Effect.flip(
        Layer.build(RateLimitRedis.layerGate({ url: "::secret::" })).pipe(Effect.scoped)
      )
      expect(garbage.message).not.toContain("secret")
    }))

  it.effect("options - a prefix that is not a string fails the layer with InvalidOptions naming it", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        Layer.build(RateLimitRedis.layer({ prefix: 5 as unknown as string })).pipe(Effect.scoped)
      )
      expect(error.message).toBe("RateLimitRedis.layer: option prefix must be a string, got 5")
    }))
})
