import * as Persistence from "@effect/experimental/Persistence"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { Redis } from "ioredis"
import type { InvalidOptions } from "../../Errors.js"
import type * as Api from "../../LastKnownGoodRedis.js"
import * as options from "../options.js"
import { acquireClient, deleteByPrefix, redisOptions } from "../redisClient.js"

/** @internal */
export const defaults = { prefix: "resilience:" } as const

const backingError = (method: string) => (cause: unknown) => Persistence.PersistenceBackingError.make(method, cause)

/**
 * A stored text that is no JSON (written by something else) counts as nothing stored, as a value the
 * schema cannot read does: one bad key is no outage of the store.
 */
const parse = (raw: string | null): Option.Option<unknown> => {
  if (raw === null) return Option.none()
  try {
    return Option.some(JSON.parse(raw))
  } catch {
    return Option.none()
  }
}

const px = (ttl: Option.Option<Duration.Duration>): Option.Option<number> =>
  Option.map(ttl, (d) => Math.max(1, Math.ceil(Duration.toMillis(d))))

const storeFrom = (client: Redis, prefix: string): Persistence.BackingPersistenceStore => {
  const set = (key: string, value: unknown, ttl: Option.Option<Duration.Duration>) =>
    Effect.tryPromise({
      try: () => {
        const json = JSON.stringify(value)
        return Option.match(px(ttl), {
          onNone: () => client.set(`${prefix}${key}`, json),
          onSome: (millis) => client.set(`${prefix}${key}`, json, "PX", millis)
        })
      },
      catch: backingError("set")
    })
  return {
    get: (key) =>
      Effect.map(Effect.tryPromise({ try: () => client.get(`${prefix}${key}`), catch: backingError("get") }), parse),
    getMany: (keys) =>
      Effect.tryPromise({ try: () => client.mget(keys.map((key) => `${prefix}${key}`)), catch: backingError("getMany") })
        .pipe(Effect.map((raws) => raws.map(parse))),
    set: (key, value, ttl) => Effect.asVoid(set(key, value, ttl)),
    setMany: (entries) => Effect.forEach(entries, ([key, value, ttl]) => set(key, value, ttl), { discard: true }),
    remove: (key) =>
      Effect.asVoid(Effect.tryPromise({ try: () => client.del(`${prefix}${key}`), catch: backingError("remove") })),
    clear: Effect.tryPromise({
      try: () => deleteByPrefix(client, prefix),
      catch: backingError("clear")
    })
  }
}

/** @internal */
export const layerStore = (o: Api.Options = {}): Layer.Layer<Persistence.BackingPersistence, InvalidOptions> => {
  const module = "LastKnownGoodRedis.layerStore"
  return Layer.scoped(
    Persistence.BackingPersistence,
    Effect.gen(function*() {
      const { prefix, redis } = yield* options.validated(() => ({
        prefix: options.orDefault(o.prefix, defaults.prefix, (p) => options.string({ module, option: "prefix" }, p)),
        redis: redisOptions(module, o)
      }))
      const client = yield* acquireClient<Redis>(redis, {})
      return Persistence.BackingPersistence.of({
        [Persistence.BackingPersistenceTypeId]: Persistence.BackingPersistenceTypeId,
        make: (storeId) => Effect.succeed(storeFrom(client, `${prefix}${storeId}:`))
      })
    })
  )
}
