import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Layer, Scope } from "effect"
import * as Net from "node:net"
import * as CircuitBreaker from "../src/CircuitBreaker.js"
import * as CircuitBreakerRedis from "../src/CircuitBreakerRedis.js"
import { InvalidOptions } from "../src/Errors.js"
import { fail, payments, rejection, succeed, withPrefix } from "./support/breakerReplicas.js"
import { captureLogs } from "./support/logs.js"
import { redisClient, redisRequired, redisUnavailable, redisUrl } from "./support/redis.js"

/** One replica: its own Redis connection (its own layer), built in the test's scope. */
const replica = (store: CircuitBreakerRedis.Options, options: CircuitBreaker.CircuitBreaker.Options = {}) =>
  Effect.gen(function*() {
    const context = yield* Layer.buildWithScope(CircuitBreakerRedis.layerStore(store), yield* Scope.Scope)
    return yield* Effect.provide(CircuitBreaker.make(payments(options)), context)
  })

/**
 * A TCP proxy in front of Redis, so a test can take "Redis" away mid-run: `kill` closes the port and
 * every connection through it, and reconnections are then refused.
 */
const redisProxy = Effect.acquireRelease(
  Effect.async<{ readonly url: string; readonly kill: Effect.Effect<void> }>((resume) => {
    const target = new URL(redisUrl)
    const sockets = new Set<Net.Socket>()
    const track = (socket: Net.Socket) => {
      sockets.add(socket)
      socket.on("error", () => socket.destroy())
      socket.on("close", () => sockets.delete(socket))
    }
    const server = Net.createServer((client) => {
      const upstream = Net.connect(Number(target.port || 6379), target.hostname)
      track(client)
      track(upstream)
      client.pipe(upstream).pipe(client)
      client.on("close", () => upstream.destroy())
      upstream.on("close", () => client.destroy())
    })
    const kill = Effect.sync(() => {
      server.close()
      for (const socket of sockets) socket.destroy()
    })
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as Net.AddressInfo).port
      const auth = target.username || target.password ? `${target.username}:${target.password}@` : ""
      resume(Effect.succeed({ url: `redis://${auth}127.0.0.1:${port}${target.pathname}`, kill }))
    })
  }),
  (proxy) => proxy.kill
)

if (redisUnavailable !== undefined && redisRequired) {
  describe("CircuitBreakerRedis", () => {
    it("Redis is required (REQUIRE_REDIS=1)", () => {
      throw new Error(`no Redis at ${redisUrl}: ${redisUnavailable}`)
    })
  })
}

// The scenarios every store shares run on Redis in CircuitBreaker.store.test.ts; here what only Redis has.
describe.skipIf(redisUnavailable !== undefined)("CircuitBreakerRedis (real Redis)", () => {
  it.effect("expiry - a record is kept while its break is pending, then idleTimeToLive", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("expiry")
      const breaker = yield* replica({ url: redisUrl, prefix, idleTimeToLive: "1 minute" })
      yield* Effect.repeatN(fail(breaker), 3)
      const client = yield* redisClient
      const keys = yield* Effect.promise(() => client.keys(`${prefix}*`))
      expect(keys).toEqual([`${prefix}8:payments:consecutive(4)`])
      const pttl = yield* Effect.promise(() => client.pttl(keys[0]!))
      expect(pttl).toBeGreaterThan(60_000)
      expect(pttl).toBeLessThanOrEqual(70_000)
      yield* breaker.isolate
      expect(yield* Effect.promise(() => client.pttl(keys[0]!))).toBe(-1)
    }).pipe(Effect.scoped))

  it.effect("expiry - a record forgotten at rest reads as a closed breaker that keeps its lifetime counts", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("forgotten")
      const breaker = yield* replica({ url: redisUrl, prefix }, { policy: CircuitBreaker.consecutive(1) })
      yield* fail(breaker)
      yield* fail(breaker)
      expect(yield* breaker.snapshot).toMatchObject({ state: "open", opens: 1, rejected: 1 })
      // the record expires at rest (as idleTimeToLive would have it)
      const client = yield* redisClient
      yield* Effect.promise(() => client.del(`${prefix}8:payments:consecutive(1)`))
      expect(yield* breaker.snapshot).toMatchObject({ state: "closed", opens: 1, rejected: 1 })
    }).pipe(Effect.scoped))

  it.effect("store killed mid-run - local: the replica goes on with its own breaker, one warning", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("killed-local")
      const proxy = yield* redisProxy
      const logs = yield* captureLogs
      const a = yield* replica({ url: proxy.url, prefix, timeout: "300 millis" })
      const b = yield* replica({ url: redisUrl, prefix })
      yield* Effect.gen(function*() {
        yield* Effect.repeatN(fail(a), 2)
        yield* proxy.kill
        // a's own breaker goes on from the three shared failures: one more opens it
        yield* fail(a)
        expect(yield* a.state).toBe("open")
        expect(rejection(yield* succeed(a)).reason).toBe("open")
        expect(yield* b.state).toBe("closed")
      }).pipe(Effect.provide(logs.layer))
      expect((yield* logs.lines).filter((line) => line.startsWith("WARN") && line.includes("its store"))).toEqual([
        "WARN circuit breaker payments cannot reach its store; each replica uses its own breaker"
      ])
    }).pipe(Effect.scoped), { timeout: 8_000 })

  it.effect("store killed mid-run - allow lets calls through, reject rejects them", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("killed-policy")
      const proxy = yield* redisProxy
      const allow = yield* replica({ url: proxy.url, prefix, timeout: "300 millis" }, { onStoreError: "allow" })
      const reject = yield* replica({ url: proxy.url, prefix, timeout: "300 millis" }, { onStoreError: "reject" })
      yield* Effect.repeatN(fail(allow), 2)
      expect(yield* succeed(reject)).toEqual(Either.right("ok"))
      yield* proxy.kill
      yield* Effect.repeatN(fail(allow), 3)
      expect(yield* succeed(allow)).toEqual(Either.right("ok"))
      expect(rejection(yield* succeed(reject)).reason).toBe("open")
    }).pipe(Effect.scoped), { timeout: 8_000 })

  it.effect("layerStore - a bad URL, prefix or time to live fails with InvalidOptions", () =>
    Effect.gen(function*() {
      const build = (options: CircuitBreakerRedis.Options) =>
        Effect.flip(Effect.scoped(Layer.build(CircuitBreakerRedis.layerStore(options))))
      const badUrl = yield* build({ url: "http://127.0.0.1:6379" })
      expect(badUrl).toBeInstanceOf(InvalidOptions)
      expect(badUrl.option).toBe("url")
      expect((yield* build({ prefix: "" })).option).toBe("prefix")
      expect((yield* build({ idleTimeToLive: "0 millis" })).option).toBe("idleTimeToLive")
    }))
})
