/**
 * The Redis stores: limiter quotas (our own Lua fixed window and token bucket, counting exactly as
 * the in-memory store does) and gate closings, over one ioredis client per layer.
 *
 * Why not `@effect/experimental`'s Redis store (a departure from DESIGN.md): its client has no error
 * listener (ioredis prints "Unhandled error event" on every failed reconnection), it cannot be closed
 * while Redis is down (its QUIT waits behind queued commands, is refused, and the client goes on
 * reconnecting for ever), its fixed window needs a refill rate in whole milliseconds (a limit above
 * the window in milliseconds counted windows twice or more too long), and its token buckets never
 * expire (a key per tenant for ever).
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { Redis } from "ioredis"
import type { InvalidOptions } from "../Errors.js"
import type * as RateLimit from "../RateLimit.js"
import type * as RateLimitRedis from "../RateLimitRedis.js"
import * as options from "./options.js"
import { GateStore, GateStoreError } from "./rateLimitGate.js"
import { restGrace } from "./rateLimitMemory.js"
import { acquireClient, redisOptions } from "./redisClient.js"

export const defaults = {
  prefix: "resilience:ratelimit:"
} as const

const resolve = (module: string, o: RateLimitRedis.Options) => ({
  prefix: o.prefix === undefined ? defaults.prefix : options.string({ module, option: "prefix" }, o.prefix),
  redis: redisOptions(module, o)
})

export interface StoreRedis extends Redis {
  resilienceFixedWindow(key: string, ...args: Array<string>): Promise<[string, string]>
  resilienceTokenBucket(key: string, ...args: Array<string>): Promise<string>
  resilienceGateClose(key: string, millis: number): Promise<number>
}

// Numbers go in and out as strings: "%.17g" and Lua's tonumber round-trip a double exactly, where a
// Lua number returned as a Redis integer would lose its fraction (refill rates such as 1000 / 3 ms).
// Time is the caller's `now`, so both stores count alike and TestClock drives this one too; Redis's
// own clock only expires a key, a grace after it has come to rest and answers as a missing one. The
// expiry is capped at 1e15 ms (31,000 years): Redis refuses a number it would print with an exponent.
const fixedWindowScript = `
local now, tokens, refill = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local limit, grace = tonumber(ARGV[4]), tonumber(ARGV[5])
local count, expiresAt = 0, now
local stored = redis.call("HMGET", KEYS[1], "count", "expiresAt")
if stored[1] and tonumber(stored[2]) > now then
  count, expiresAt = tonumber(stored[1]), tonumber(stored[2])
end
if limit and count + tokens > limit then
  return { string.format("%.17g", count + tokens), string.format("%.17g", expiresAt - now) }
end
count = count + tokens
expiresAt = expiresAt + refill * tokens
redis.call("HSET", KEYS[1], "count", string.format("%.17g", count), "expiresAt", string.format("%.17g", expiresAt))
redis.call("PEXPIRE", KEYS[1], math.min(math.max(1, math.ceil(expiresAt - now)) + grace, 1e15))
return { string.format("%.17g", count), string.format("%.17g", expiresAt - now) }
`

const tokenBucketScript = `
local now, tokens, refill = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local limit, overflow, grace = tonumber(ARGV[4]), ARGV[5] == "1", tonumber(ARGV[6])
local current, last = limit, now
local stored = redis.call("HMGET", KEYS[1], "tokens", "lastRefill")
if stored[1] then
  current, last = tonumber(stored[1]), tonumber(stored[2])
  if refill > 0 then
    local refilled = math.floor((now - last) / refill)
    if refilled > 0 then
      current = math.min(limit, current + refilled)
      last = last + refilled * refill
    end
  else
    current = limit
  end
end
if current >= limit then
  current, last = limit, now
end
local left = current - tokens
if overflow or left >= 0 then
  current = math.min(limit, left)
end
local restsAt = last
if refill > 0 then
  restsAt = last + math.ceil(limit - current) * refill
end
redis.call("HSET", KEYS[1], "tokens", string.format("%.17g", current), "lastRefill", string.format("%.17g", last))
redis.call("PEXPIRE", KEYS[1], math.min(math.max(1, math.ceil(restsAt - now)) + grace, 1e15))
if overflow or left >= 0 then
  return string.format("%.17g", current)
end
return string.format("%.17g", left)
`

// Closed = the key exists; its PTTL is the time left, read on the Redis clock, so replicas whose
// clocks disagree still agree on when the gate reopens. Closing only ever extends.
const closeScript = `
local current = redis.call("PTTL", KEYS[1])
local millis = tonumber(ARGV[1])
if current >= millis then
  return 0
end
redis.call("SET", KEYS[1], "1", "PX", millis)
return 1
`

const storeError = (algorithm: string) => (cause: unknown) =>
  new RateLimiter.RateLimitStoreError({ message: `the Redis ${algorithm} command failed`, cause })

const limiterStoreFrom = (client: StoreRedis, prefix: string): RateLimiter.RateLimiterStore["Type"] =>
  RateLimiter.RateLimiterStore.of({
    fixedWindow: (o) =>
      Effect.clockWith((clock) =>
        Effect.tryPromise({
          try: () =>
            client.resilienceFixedWindow(
              `${prefix}fixed:${o.key}`,
              String(clock.unsafeCurrentTimeMillis()),
              String(o.tokens),
              String(Duration.toMillis(o.refillRate)),
              o.limit === undefined ? "" : String(o.limit),
              String(restGrace)
            ),
          catch: storeError("fixed-window")
        }).pipe(Effect.map(([count, ttl]) => [Number(count), Number(ttl)] as const))
      ),
    tokenBucket: (o) =>
      Effect.clockWith((clock) => {
        const refillMillis = Duration.toMillis(o.refillRate)
        return Effect.tryPromise({
          try: () =>
            client.resilienceTokenBucket(
              // a bucket per key and quota, as in memory
              `${prefix}bucket:${o.limit}|${refillMillis}:${o.key}`,
              String(clock.unsafeCurrentTimeMillis()),
              String(o.tokens),
              String(refillMillis),
              String(o.limit),
              o.allowOverflow ? "1" : "0",
              String(restGrace)
            ),
          catch: storeError("token-bucket")
        }).pipe(Effect.map(Number))
      })
  })

const gateStoreFrom = (client: StoreRedis, prefix: string): RateLimit.GateStore =>
  GateStore.of({
    closedFor: (key) =>
      Effect.tryPromise({
        try: () => client.pttl(`${prefix}${key}`),
        catch: (cause) => new GateStoreError({ operation: "read the gate", cause })
      }).pipe(Effect.map((pttl) => Math.max(0, pttl))),
    close: (key, millis) =>
      Effect.tryPromise({
        try: () => client.resilienceGateClose(`${prefix}${key}`, Math.max(1, Math.ceil(millis))),
        catch: (cause) => new GateStoreError({ operation: "close the gate", cause })
      }).pipe(Effect.map((changed) => changed === 1))
  })

/** A layer over one client of its own, closed with the layer's scope. */
export const layerWith = <A>(
  module: string,
  o: RateLimitRedis.Options,
  build: (client: StoreRedis, prefix: string) => Context.Context<A>
): Layer.Layer<A, InvalidOptions> =>
  Layer.scopedContext(
    Effect.flatMap(options.validated(() => resolve(module, o)), ({ prefix, redis }) =>
      Effect.map(
        acquireClient<StoreRedis>(redis, {
          resilienceFixedWindow: fixedWindowScript,
          resilienceTokenBucket: tokenBucketScript,
          resilienceGateClose: closeScript
        }),
        (client) => build(client, prefix)
      ))
  )

const limiterContext = (client: StoreRedis, prefix: string) =>
  Context.make(RateLimiter.RateLimiterStore, limiterStoreFrom(client, `${prefix}limit:`))

const gateContext = (client: StoreRedis, prefix: string) => Context.make(GateStore, gateStoreFrom(client, `${prefix}gate:`))

export const layerStore = (o: RateLimitRedis.Options = {}): Layer.Layer<RateLimiter.RateLimiterStore, InvalidOptions> =>
  layerWith("RateLimitRedis.layerStore", o, limiterContext)

export const layerGate = (o: RateLimitRedis.Options = {}): Layer.Layer<RateLimit.GateStore, InvalidOptions> =>
  layerWith("RateLimitRedis.layerGate", o, gateContext)

export const layer = (
  o: RateLimitRedis.Options = {}
): Layer.Layer<RateLimiter.RateLimiterStore | RateLimit.GateStore, InvalidOptions> =>
  layerWith("RateLimitRedis.layer", o, (client, prefix) =>
    Context.merge(limiterContext(client, prefix), gateContext(client, prefix)))
