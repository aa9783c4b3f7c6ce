import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as RedisRateLimiter from "@effect/experimental/RateLimiter/Redis"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import { Redis, type RedisOptions } from "ioredis"
import type { InvalidOptions } from "../Errors.js"
import type * as RateLimit from "../RateLimit.js"
import type * as RateLimitRedis from "../RateLimitRedis.js"
import * as options from "./options.js"
import { GateStore, GateStoreError } from "./rateLimitGate.js"

export const defaults = {
  prefix: "resilience:ratelimit:",
  timeout: Duration.millis(500),
  connectTimeout: Duration.seconds(2)
} as const

const fromUrl = (module: string, input: string | Redacted.Redacted<string>): RedisOptions => {
  const check = { module, option: "url" }
  const expected = "a redis:// or rediss:// URL"
  let url: URL
  try {
    url = new URL(Redacted.isRedacted(input) ? Redacted.value(input) : input)
  } catch {
    return options.invalid(check, "<redacted>", expected)
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") return options.invalid(check, url.protocol, expected)
  const parsed: RedisOptions = { host: url.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1" }
  if (url.port !== "") parsed.port = Number(url.port)
  if (url.username !== "") parsed.username = decodeURIComponent(url.username)
  if (url.password !== "") parsed.password = decodeURIComponent(url.password)
  if (url.pathname.length > 1) {
    parsed.db = options.integerAtLeast({ module, option: "url (database)" }, Number(url.pathname.slice(1)), 0)
  }
  if (url.protocol === "rediss:") parsed.tls = {}
  return parsed
}

// Every command is bounded by `timeout`, queued ones included (ioredis arms commandTimeout before
// queueing). With maxRetriesPerRequest 0 a queued command fails at the first failed reconnection
// instead of waiting for 20 of them; reconnection continues in the background, at most every 2 s.
const resolve = (module: string, o: RateLimitRedis.Options) => {
  const timeout = o.timeout === undefined
    ? defaults.timeout
    : options.positiveDuration({ module, option: "timeout" }, o.timeout)
  const connectTimeout = o.connectTimeout === undefined
    ? defaults.connectTimeout
    : options.positiveDuration({ module, option: "connectTimeout" }, o.connectTimeout)
  const prefix = o.prefix ?? defaults.prefix
  const redis: RedisOptions = {
    ...(o.url === undefined ? {} : fromUrl(module, o.url)),
    commandTimeout: Math.ceil(Duration.toMillis(timeout)),
    connectTimeout: Math.ceil(Duration.toMillis(connectTimeout)),
    maxRetriesPerRequest: 0,
    retryStrategy: (times: number) => Math.min(times * 200, 2_000),
    ...o.redis
  }
  return { prefix, redis }
}

// The experimental fixed-window script sets `PX refill * tokens`, which Redis refuses when the
// refill rate (window / limit) is not a whole number of millis: round it.
const wholeMillis = (store: RateLimiter.RateLimiterStore["Type"]): RateLimiter.RateLimiterStore["Type"] =>
  RateLimiter.RateLimiterStore.of({
    fixedWindow: (o) =>
      store.fixedWindow({
        ...o,
        refillRate: Duration.millis(Math.max(1, Math.round(Duration.toMillis(o.refillRate))))
      }),
    tokenBucket: store.tokenBucket
  })

export const layerStore = (
  o: RateLimitRedis.Options = {}
): Layer.Layer<RateLimiter.RateLimiterStore, InvalidOptions> =>
  Layer.scoped(
    RateLimiter.RateLimiterStore,
    Effect.flatMap(options.validated(() => resolve("RateLimitRedis.layerStore", o)), ({ prefix, redis }) =>
      Effect.map(quietRelease(RedisRateLimiter.make({ ...redis, prefix: `${prefix}limit:` })), wholeMillis))
  )

// The experimental store closes its client with `Effect.promise(() => redis.quit())`, which dies when
// Redis is down and the QUIT is refused. Closing a store must not fail the application's shutdown:
// run it in a child scope whose close failure is logged at debug level.
const quietRelease = <A, E>(acquire: Effect.Effect<A, E, Scope.Scope>): Effect.Effect<A, E, Scope.Scope> =>
  Effect.flatMap(
    Effect.acquireRelease(Scope.make(), (child, exit) =>
      Effect.catchAllCause(Scope.close(child, exit), (cause) =>
        Effect.logDebug("rate-limit store connection closed with an error", cause))),
    (child) => Scope.extend(acquire, child)
  )

interface GateRedis extends Redis {
  resilienceGateClose(key: string, millis: number): Promise<number>
}

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

const acquireClient = (redis: RedisOptions): Effect.Effect<GateRedis, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const client = new Redis(redis) as GateRedis
      // Connection errors surface as failed commands, which the gate logs once per outage.
      client.on("error", () => {})
      client.defineCommand("resilienceGateClose", { lua: closeScript, numberOfKeys: 1 })
      return client
    }),
    (client) =>
      Effect.promise(() =>
        client.status === "ready"
          ? client.quit().then(() => undefined, () => client.disconnect())
          : Promise.resolve(client.disconnect())
      )
  )

const gateStoreFrom = (client: GateRedis, prefix: string): RateLimit.GateStore =>
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

export const layerGate = (o: RateLimitRedis.Options = {}): Layer.Layer<RateLimit.GateStore, InvalidOptions> =>
  Layer.scoped(
    GateStore,
    Effect.flatMap(options.validated(() => resolve("RateLimitRedis.layerGate", o)), ({ prefix, redis }) =>
      Effect.map(acquireClient(redis), (client) => gateStoreFrom(client, `${prefix}gate:`)))
  )

export const layer = (
  o: RateLimitRedis.Options = {}
): Layer.Layer<RateLimiter.RateLimiterStore | RateLimit.GateStore, InvalidOptions> =>
  Layer.merge(layerStore(o), layerGate(o))
