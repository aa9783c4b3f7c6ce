import * as Persistence from "@effect/experimental/Persistence"
import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either, Exit, Fiber, Layer, Logger, Metric, Option, Ref, Schema, TestClock } from "effect"
import { CircuitOpen, ClientError, InvalidOptions, Timeout, Unavailable } from "../src/Errors.js"
import { served } from "../src/internal/lastKnownGood.js"
import * as LastKnownGood from "../src/LastKnownGood.js"

const down = new Unavailable({ provider: "prices", reason: "connection-refused" })
const options = { name: "prices", schema: Schema.Number, maxStale: "5 minutes" } as const

/** A provider that answers its scripted outcomes in turn, the last one for ever. */
const scripted = (outcomes: ReadonlyArray<Either.Either<number, unknown>>) =>
  Effect.map(Ref.make(0), (calls) =>
    Effect.flatMap(Ref.getAndUpdate(calls, (n) => n + 1), (n) => {
      const outcome = outcomes[Math.min(n, outcomes.length - 1)]!
      return Either.isRight(outcome) ? Effect.succeed(outcome.right) : Effect.fail(outcome.left)
    }))

describe("LastKnownGood", () => {
  it.effect("a success is Fresh and remembered; a transient failure then serves it as Stale with its age", () =>
    Effect.gen(function*() {
      const cache = yield* LastKnownGood.make(options)
      const call = yield* scripted([Either.right(42), Either.left(down)])
      expect(yield* call.pipe(cache.serve("sku-1"))).toEqual(LastKnownGood.fresh(42))
      yield* TestClock.adjust("90 seconds")
      const served = yield* call.pipe(cache.serve("sku-1"))
      expect(served).toEqual(LastKnownGood.stale(42, Duration.seconds(90)))
      expect(LastKnownGood.isStale(served)).toBe(true)
    }).pipe(Effect.scoped))

  it.effect("staleness bound - served at exactly maxStale, the original error one millisecond later", () =>
    Effect.gen(function*() {
      const cache = yield* LastKnownGood.make(options)
      yield* cache.remember("sku-1", 7)
      yield* TestClock.adjust("5 minutes")
      expect(yield* Effect.fail(down).pipe(cache.serve("sku-1"))).toEqual(
        LastKnownGood.stale(7, Duration.minutes(5))
      )
      yield* TestClock.adjust("1 millis")
      expect(yield* Effect.flip(Effect.fail(down).pipe(cache.serve("sku-1")))).toBe(down)
      expect(yield* cache.get("sku-1")).toEqual(Option.none())
    }).pipe(Effect.scoped))

  it.effect("staleness bound - a maxStale of months is an age, not a timer: accepted and kept", () =>
    Effect.gen(function*() {
      const cache = yield* LastKnownGood.make({ ...options, maxStale: "90 days" })
      yield* cache.remember("sku-1", 7)
      yield* TestClock.adjust("60 days")
      expect(yield* Effect.fail(down).pipe(cache.serve("sku-1"))).toEqual(LastKnownGood.stale(7, Duration.days(60)))
    }).pipe(Effect.scoped))

  it.effect("keys are separate: a failure for an unknown key is the original error", () =>
    Effect.gen(function*() {
      const cache = yield* LastKnownGood.make(options)
      yield* cache.remember("sku-1", 1)
      expect(yield* Effect.flip(Effect.fail(down).pipe(cache.serve("sku-2")))).toBe(down)
    }).pipe(Effect.scoped))

  it.effect("default serveOn - Transient and Rejected are served; ClientError is a real answer and comes through", () =>
    Effect.gen(function*() {
      const cache = yield* LastKnownGood.make(options)
      yield* cache.remember("k", 1)
      const timeout = new Timeout({ provider: "prices", after: Duration.seconds(1), scope: "attempt" })
      const open = new CircuitOpen({ breaker: "prices", reason: "open", retryAfter: Duration.seconds(1) })
      expect((yield* Effect.fail(timeout).pipe(cache.serve("k")))._tag).toBe("Stale")
      expect((yield* Effect.fail(open).pipe(cache.serve("k")))._tag).toBe("Stale")
      const notFound = new ClientError({ provider: "prices", status: 404, body: "no such sku" })
      expect(yield* Effect.flip(Effect.fail(notFound).pipe(cache.serve("k")))).toBe(notFound)
      expect(yield* Effect.flip(Effect.fail("boom").pipe(cache.serve("k")))).toBe("boom")
    }).pipe(Effect.scoped))

  it.effect("serveOn overrides which failures are served", () =>
    Effect.gen(function*() {
      const cache = yield* LastKnownGood.make({ ...options, serveOn: (e) => e === "boom" })
      yield* cache.remember("k", 1)
      expect((yield* Effect.fail("boom").pipe(cache.serve("k")))._tag).toBe("Stale")
      expect(yield* Effect.flip(Effect.fail(down).pipe(cache.serve("k")))).toBe(down)
    }).pipe(Effect.scoped))

  it.effect("a later success replaces the value and resets its age", () =>
    Effect.gen(function*() {
      const cache = yield* LastKnownGood.make(options)
      const call = yield* scripted([Either.right(1), Either.right(2), Either.left(down)])
      yield* call.pipe(cache.serve("k"))
      yield* TestClock.adjust("4 minutes")
      yield* call.pipe(cache.serve("k"))
      yield* TestClock.adjust("4 minutes")
      expect(yield* call.pipe(cache.serve("k"))).toEqual(LastKnownGood.stale(2, Duration.minutes(4)))
    }).pipe(Effect.scoped))

  it.effect("bounded - at most maxKeys keys in memory, the least recently used out first", () =>
    Effect.gen(function*() {
      const cache = yield* LastKnownGood.make({ ...options, maxKeys: 2 })
      yield* cache.remember("a", 1)
      yield* cache.remember("b", 2)
      yield* cache.get("a") // "a" is now the most recently used
      yield* cache.remember("c", 3)
      expect(Option.isSome(yield* cache.get("a"))).toBe(true)
      expect(yield* cache.get("b")).toEqual(Option.none())
      expect(Option.isSome(yield* cache.get("c"))).toBe(true)
    }).pipe(Effect.scoped))

  it.effect("the dual serve and the cache's own serve agree", () =>
    Effect.gen(function*() {
      const cache = yield* LastKnownGood.make(options)
      yield* Effect.succeed(3).pipe(LastKnownGood.serve(cache, "k"))
      expect(yield* LastKnownGood.serve(Effect.fail(down), cache, "k")).toEqual(LastKnownGood.stale(3, Duration.zero))
    }).pipe(Effect.scoped))

  it.effect("an interrupted call stores nothing and serves nothing", () =>
    Effect.gen(function*() {
      const cache = yield* LastKnownGood.make(options)
      const fiber = yield* Effect.fork(Effect.sleep("1 seconds").pipe(Effect.as(5), cache.serve("k")))
      yield* TestClock.adjust("500 millis")
      expect(Exit.isInterrupted(yield* Fiber.interrupt(fiber))).toBe(true)
      expect(yield* cache.get("k")).toEqual(Option.none())
    }).pipe(Effect.scoped))

  it.effect("uses a Persistence.BackingPersistence from context: two caches of one name share values", () =>
    Effect.gen(function*() {
      const writer = yield* LastKnownGood.make(options)
      const reader = yield* LastKnownGood.make(options)
      yield* writer.remember("k", 9)
      expect(yield* reader.get("k")).toEqual(Option.some(LastKnownGood.stale(9, Duration.zero)))
    }).pipe(Effect.scoped, Effect.provide(Persistence.layerMemory)))

  it.effect("a value the schema cannot read back counts as none", () =>
    Effect.gen(function*() {
      const writer = yield* LastKnownGood.make({ ...options, schema: Schema.String })
      const reader = yield* LastKnownGood.make(options)
      yield* writer.remember("k", "not a number")
      expect(yield* Effect.flip(Effect.fail(down).pipe(reader.serve("k")))).toBe(down)
    }).pipe(Effect.scoped, Effect.provide(Persistence.layerMemory)))

  it.effect("a store outage never fails a call: fresh answers pass, failures come through, logged once", () =>
    Effect.gen(function*() {
      const logs: Array<string> = []
      const logger = Logger.make(({ message }) => logs.push(String(message)))
      const broken = Layer.succeed(Persistence.BackingPersistence, {
        [Persistence.BackingPersistenceTypeId]: Persistence.BackingPersistenceTypeId,
        make: () =>
          Effect.succeed({
            get: () => Effect.fail(Persistence.PersistenceBackingError.make("get", "down")),
            getMany: () => Effect.fail(Persistence.PersistenceBackingError.make("getMany", "down")),
            set: () => Effect.fail(Persistence.PersistenceBackingError.make("set", "down")),
            setMany: () => Effect.fail(Persistence.PersistenceBackingError.make("setMany", "down")),
            remove: () => Effect.void,
            clear: Effect.void
          })
      })
      yield* Effect.gen(function*() {
        const cache = yield* LastKnownGood.make(options)
        expect(yield* Effect.succeed(1).pipe(cache.serve("k"))).toEqual(LastKnownGood.fresh(1))
        expect(yield* Effect.succeed(2).pipe(cache.serve("k"))).toEqual(LastKnownGood.fresh(2))
        expect(yield* Effect.flip(Effect.fail(down).pipe(cache.serve("k")))).toBe(down)
      }).pipe(Effect.scoped, Effect.provide(broken), Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      expect(logs.filter((line) => line.includes("unreachable"))).toHaveLength(1)
    }))

  it.effect("metrics - answers counted by cache and result", () =>
    Effect.gen(function*() {
      const cache = yield* LastKnownGood.make({ ...options, name: "metrics-prices" })
      yield* Effect.succeed(1).pipe(cache.serve("k"))
      yield* Effect.fail(down).pipe(cache.serve("k"))
      yield* Effect.fail(down).pipe(cache.serve("k"))
      yield* Effect.either(Effect.fail(down).pipe(cache.serve("other")))
      const count = (result: string) =>
        Metric.value(
          served.pipe(
            Metric.tagged("cache", "metrics-prices"),
            Metric.tagged("result", result)
          )
        ).pipe(Effect.map((state) => state.count))
      expect([yield* count("fresh"), yield* count("stale"), yield* count("failed")]).toEqual([1, 2, 1])
    }).pipe(Effect.scoped))

  it.effect("bad options fail with InvalidOptions", () =>
    Effect.gen(function*() {
      const bads: Array<LastKnownGood.LastKnownGood.Options<number, number>> = [
        { ...options, maxStale: "0 millis" },
        { ...options, maxKeys: 0 },
        { ...options, name: "" },
        { ...options, maxStale: -1 }
      ]
      for (const bad of bads) {
        const error = yield* Effect.flip(LastKnownGood.make(bad))
        expect(error).toBeInstanceOf(InvalidOptions)
      }
    }).pipe(Effect.scoped))
})
