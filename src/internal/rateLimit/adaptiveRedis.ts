import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import type { InvalidOptions } from "../../Errors.js"
import type * as RateLimit from "../../RateLimit.js"
import type * as RateLimitRedis from "../../RateLimitRedis.js"
import { maxHintMillis } from "../rateLimitHeaders.js"
import { layerWith, type StoreRedis } from "../rateLimitRedis.js"
import { AdaptiveStore, AdaptiveStoreError } from "./adaptiveStore.js"

/**
 * What adaptive limiters learned, as one JSON string per key, written only when it is newer than
 * what is there (a Lua compare of `updatedAt`, so a slow writer never overwrites a fresher lesson).
 * Entries expire an hour after their last write, as in memory: a provider's limits may have changed.
 */
const ttlMillis = 60 * 60 * 1000

const setIfNewerScript = `
local stored = redis.call("GET", KEYS[1])
if stored then
  local ok, previous = pcall(cjson.decode, stored)
  if ok and type(previous) == "table" and tonumber(previous.updatedAt) and
    tonumber(previous.updatedAt) > tonumber(ARGV[2]) then
    return 0
  end
end
redis.call("SET", KEYS[1], ARGV[1], "PX", ARGV[3])
return 1
`

interface AdaptiveRedis extends StoreRedis {
  resilienceAdaptiveSet(key: string, json: string, updatedAt: string, ttl: string): Promise<number>
}

const isNumberOrNull = (u: unknown): boolean => u === null || typeof u === "number"
const isRateOrNull = (u: unknown): boolean => u === null || (typeof u === "number" && u > 0 && Number.isFinite(u))

/**
 * A stored entry is believed only when it has the shape of one and values a limiter could have
 * written (another writer, an old version...): rates > 0, a closing no longer than the longest hint
 * believed after the write. A zero rate or a closing in the far future would stop the key for good.
 */
const decode = (text: string | null): Option.Option<RateLimit.AdaptiveStore.Learned> => {
  if (text === null) return Option.none()
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch {
    return Option.none()
  }
  if (!Predicate.isRecord(parsed)) return Option.none()
  const { ceiling, concurrency, cubic, decreasedAt, learned, notBefore, unitCeiling, updatedAt } = parsed
  const cubicOk = cubic === null ||
    (Predicate.isRecord(cubic) && ["wMax", "k", "since", "rate"].every((f) => typeof cubic[f] === "number"))
  const ok = isRateOrNull(ceiling) && isRateOrNull(unitCeiling) && cubicOk && typeof notBefore === "number" &&
    typeof concurrency === "number" && typeof learned === "boolean" && isNumberOrNull(decreasedAt) &&
    typeof updatedAt === "number" && notBefore <= updatedAt + maxHintMillis
  // JSON has no -Infinity: "never decreased" travels as null
  return ok
    ? Option.some({ ...(parsed as any), decreasedAt: decreasedAt ?? -Infinity } as RateLimit.AdaptiveStore.Learned)
    : Option.none()
}

const encode = (learned: RateLimit.AdaptiveStore.Learned): string =>
  JSON.stringify({ ...learned, decreasedAt: Number.isFinite(learned.decreasedAt) ? learned.decreasedAt : null })

const adaptiveContext = (client: StoreRedis, prefix: string) => {
  const redis = client as AdaptiveRedis
  redis.defineCommand("resilienceAdaptiveSet", { numberOfKeys: 1, lua: setIfNewerScript })
  const store: RateLimit.AdaptiveStore = {
    get: (key) =>
      Effect.tryPromise({
        try: () => redis.get(`${prefix}adaptive:${key}`),
        catch: (cause) => new AdaptiveStoreError({ operation: "read what was learned", cause })
      }).pipe(Effect.map(decode)),
    set: (key, learned) =>
      Effect.tryPromise({
        try: () =>
          redis.resilienceAdaptiveSet(
            `${prefix}adaptive:${key}`,
            encode(learned),
            String(learned.updatedAt),
            String(ttlMillis)
          ),
        catch: (cause) => new AdaptiveStoreError({ operation: "write what was learned", cause })
      }).pipe(Effect.asVoid)
  }
  return Context.make(AdaptiveStore, store)
}

export const layerAdaptive = (o: RateLimitRedis.Options = {}): Layer.Layer<RateLimit.AdaptiveStore, InvalidOptions> =>
  layerWith("RateLimitRedis.layerAdaptive", o, adaptiveContext)
