import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, Either, Layer, Logger, Option, Ref, Scope } from "effect"
import { RateLimited } from "../src/Errors.js"
import * as RateLimit from "../src/RateLimit.js"
import * as RateLimitRedis from "../src/RateLimitRedis.js"
import { closedPort, deleteKeys, redisRequired, redisUnavailable, redisUrl, uniquePrefix } from "./support/redis.js"

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
})
