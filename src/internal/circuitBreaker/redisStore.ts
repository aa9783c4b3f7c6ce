import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type { Redis } from "ioredis"
import type * as api from "../../CircuitBreaker.js"
import type * as CircuitBreakerRedis from "../../CircuitBreakerRedis.js"
import type { InvalidOptions } from "../../Errors.js"
import * as options from "../options.js"
import { acquireClient, redisOptions } from "../redisClient.js"
import { Store, StoreError } from "./store.js"

export const defaults = {
  prefix: "resilience:breaker:",
  idleTimeToLive: Duration.days(1)
} as const

/** The longest idle time to live: never slept on, so longer than a timer may wait. */
const longestIdle = Duration.days(3650)

// The record is a hash { version, record }. The versions are compared as the strings they were
// written as, so no number passes through Lua's doubles. A missing hash is version "0"; HMGET's
// false for a missing record ends the reply's array, which the client reads as no record. The expiry
// is capped at 1e15 ms: Redis refuses a number it would print with an exponent.
const syncScript = `
local held = redis.call("HMGET", KEYS[1], "version", "record")
local version = held[1] or "0"
if version ~= ARGV[1] then
  return { 0, version, held[2] }
end
if ARGV[2] ~= "" then
  redis.call("HSET", KEYS[1], "version", ARGV[2], "record", ARGV[3])
  if ARGV[4] == "" then
    redis.call("PERSIST", KEYS[1])
  else
    redis.call("PEXPIRE", KEYS[1], math.min(tonumber(ARGV[4]), 1e15))
  end
end
return { 1 }
`

interface BreakerRedis extends Redis {
  resilienceBreakerSync(key: string, ...args: Array<string>): Promise<[number, string?, string?]>
}

const storeFrom = (client: BreakerRedis, prefix: string, idleMillis: number): api.Store =>
  Store.of({
    sync: ({ key, version, write }) =>
      Effect.tryPromise({
        try: () =>
          client.resilienceBreakerSync(
            `${prefix}${key}`,
            String(version),
            write === undefined ? "" : String(write.version),
            write === undefined ? "" : write.record,
            write?.pendingMillis === undefined ? "" : String(Math.ceil(Math.max(0, write.pendingMillis) + idleMillis))
          ),
        catch: (cause) => new StoreError({ operation: "sync the breaker's record with Redis", cause })
      }).pipe(Effect.map(([committed, held, record]): api.Store.Response =>
        committed === 1 ? { committed: true } : { committed: false, version: Number(held), record: record ?? undefined }
      ))
  })

export const layerStore = (o: CircuitBreakerRedis.Options = {}): Layer.Layer<api.Store, InvalidOptions> => {
  const module = "CircuitBreakerRedis.layerStore"
  return Layer.scoped(
    Store,
    Effect.flatMap(
      options.validated(() => {
        const prefix = options.nonEmptyString({ module, option: "prefix" }, o.prefix ?? defaults.prefix)
        const idle = o.idleTimeToLive === undefined
          ? defaults.idleTimeToLive
          : options.positiveDuration({ module, option: "idleTimeToLive" }, o.idleTimeToLive, longestIdle)
        return { prefix, redis: redisOptions(module, o), idleMillis: Duration.toMillis(idle) }
      }),
      ({ idleMillis, prefix, redis }) =>
        Effect.map(
          acquireClient<BreakerRedis>(redis, { resilienceBreakerSync: syncScript }),
          (client) => storeFrom(client, prefix, idleMillis)
        )
    )
  )
}
