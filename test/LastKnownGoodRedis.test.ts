import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Layer, Logger, Option, Schema, Scope } from "effect"
import { Unavailable } from "../src/Errors.js"
import * as LastKnownGood from "../src/LastKnownGood.js"
import * as LastKnownGoodRedis from "../src/LastKnownGoodRedis.js"
import {
  closedPort,
  failWithoutRedis,
  redisClient,
  redisUnavailable,
  redisUrl,
  withPrefix
} from "./support/redis.js"

const Price = Schema.Struct({ amount: Schema.Number, currency: Schema.String, at: Schema.DateFromString })
const options = { name: "prices", schema: Price, maxStale: "1 minute" } as const
const down = new Unavailable({ provider: "prices", reason: "connection-refused" })

/** One "process": a cache over its own Redis connection, built in the test's scope. */
const instance = (store: LastKnownGoodRedis.Options) =>
  Effect.flatMap(Scope.Scope, (scope) =>
    Effect.flatMap(
      Layer.buildWithScope(LastKnownGoodRedis.layerStore(store), scope),
      (context) => Effect.provide(LastKnownGood.make(options), context)
    ))

failWithoutRedis("LastKnownGoodRedis")

describe.skipIf(redisUnavailable !== undefined)("LastKnownGoodRedis (real Redis)", () => {
  it.scopedLive("a value stored by one instance is served, decoded by its Schema, by another", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("lkg-share")
      const writer = yield* instance({ url: redisUrl, prefix })
      const reader = yield* instance({ url: redisUrl, prefix })
      const price = { amount: 12.5, currency: "EUR", at: new Date("2026-01-01T00:00:00Z") }
      yield* Effect.succeed(price).pipe(writer.serve("sku-1"))
      const served = yield* Effect.fail(down).pipe(reader.serve("sku-1"))
      expect(served._tag).toBe("Stale")
      expect(served.value).toEqual(price)
      expect(served.value.at).toBeInstanceOf(Date)
    }))

  it.scopedLive("caches whose name and key join to the same text keep their values apart", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("lkg-names")
      const layer = yield* Effect.flatMap(Scope.Scope, (scope) =>
        Layer.buildWithScope(LastKnownGoodRedis.layerStore({ url: redisUrl, prefix }), scope))
      const prices = yield* Effect.provide(LastKnownGood.make({ ...options, name: "prices" }), layer)
      const euPrices = yield* Effect.provide(LastKnownGood.make({ ...options, name: "prices:eu" }), layer)
      yield* euPrices.remember("sku-1", { amount: 42, currency: "EUR", at: new Date(0) })
      // "prices" + "eu:sku-1" and "prices:eu" + "sku-1" were one Redis key
      expect(yield* prices.get("eu:sku-1")).toEqual(Option.none())
      expect(Option.isSome(yield* euPrices.get("sku-1"))).toBe(true)
    }))

  it.scopedLive("a stored text that is no JSON counts as nothing stored: no outage, the other keys are served", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("lkg-garbage")
      const logs: Array<string> = []
      const logger = Logger.make(({ message }) => logs.push(String(message)))
      const cache = yield* instance({ url: redisUrl, prefix })
      const price = { amount: 1, currency: "EUR", at: new Date(0) }
      yield* cache.remember("sku-2", price)
      const client = yield* redisClient
      yield* Effect.promise(() => client.set(`${prefix}lastKnownGood:6:prices:sku-1`, "{not json"))
      const served = yield* Effect.all([
        Effect.either(Effect.fail(down).pipe(cache.serve("sku-1"))),
        Effect.fail(down).pipe(cache.serve("sku-2"))
      ]).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      expect(served[0]).toEqual(Either.left(down))
      expect(served[1]._tag).toBe("Stale")
      expect(logs.filter((line) => line.includes("unreachable"))).toEqual([])
    }))

  it.scopedLive("every key expires on Redis a second after maxStale", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("lkg-ttl")
      const cache = yield* instance({ url: redisUrl, prefix })
      yield* cache.remember("sku-1", { amount: 1, currency: "EUR", at: new Date(0) })
      const client = yield* redisClient
      const ttl = yield* Effect.promise(() => client.pttl(`${prefix}lastKnownGood:6:prices:sku-1`))
      expect(ttl).toBeGreaterThan(Duration.toMillis("59 seconds"))
      expect(ttl).toBeLessThanOrEqual(Duration.toMillis("61 seconds"))
    }))

  it.scopedLive("Redis down - fresh answers are served, failures come through, one warning, no hang", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(closedPort)
      const logs: Array<string> = []
      const logger = Logger.make(({ message }) => logs.push(String(message)))
      const cache = yield* instance({ url: `redis://127.0.0.1:${port}`, timeout: "200 millis" })
      const price = { amount: 1, currency: "EUR", at: new Date(0) }
      yield* Effect.gen(function*() {
        for (let i = 0; i < 3; i++) {
          expect(yield* Effect.succeed(price).pipe(cache.serve("sku-1"))).toEqual(LastKnownGood.fresh(price))
        }
        expect(yield* Effect.flip(Effect.fail(down).pipe(cache.serve("sku-1")))).toBe(down)
        expect(yield* cache.get("sku-1")).toEqual(Option.none())
      }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)), Effect.timeout("5 seconds"))
      expect(logs.filter((line) => line.includes("unreachable"))).toHaveLength(1)
    }))
})
