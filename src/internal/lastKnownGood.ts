import * as Persistence from "@effect/experimental/Persistence"
import * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { dual } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import { type InvalidOptions, isRejected, isTransient } from "../Errors.js"
import type * as Api from "../LastKnownGood.js"
import * as memoryStore from "./lastKnownGood/memoryStore.js"
import * as options from "./options.js"
import * as storeOutage from "./storeOutage.js"
import { tagged } from "./taggedMetric.js"

/** @internal */
export const TypeId: Api.TypeId = Symbol.for("effect-resilience/LastKnownGood") as Api.TypeId

/** @internal */
export const served = Metric.counter("resilience_lastknowngood_answers_total", {
  description: "Answers through a last-known-good cache, by result (fresh, stale, failed)",
  incremental: true
})

/** @internal */
export const defaults = {
  maxKeys: 10_000,
  serveOn: (error: unknown): boolean => isTransient(error) || isRejected(error)
} as const

/** @internal */
export const fresh = <A>(value: A): Api.Fresh<A> => ({ _tag: "Fresh", value })

/** @internal */
export const stale = <A>(value: A, age: Duration.Duration): Api.Stale<A> => ({ _tag: "Stale", value, age })

/** @internal */
export const isStale = <A>(result: Api.Result<A>): result is Api.Stale<A> => result._tag === "Stale"

// What is stored under a key: the value in its encoded (JSON-safe) form and when it was stored, on the
// writer's clock.
const entrySchema = <A, I>(value: Schema.Schema<A, I>) => Schema.Struct({ value, storedAt: Schema.Number })

const build = <A, I>(module: string, input: Api.LastKnownGood.Options<A, I>) =>
  Effect.gen(function*() {
    const { maxKeys, maxStale, name, serveOn } = yield* options.validated(() => ({
      name: options.nonEmptyString({ module, option: "name" }, input.name),
      // never slept on (an age compared, a store's expiry): no timer's 24-day limit
      maxStale: options.positiveDuration({ module, option: "maxStale" }, input.maxStale, Duration.infinity),
      maxKeys: options.orDefault(
        input.maxKeys,
        defaults.maxKeys,
        (n) => options.integerAtLeast({ module, option: "maxKeys" }, n, 1)
      ),
      serveOn: options.orDefault(input.serveOn, defaults.serveOn, (f) => options.fn({ module, option: "serveOn" }, f))
    }))
    const backing = yield* Effect.serviceOption(Persistence.BackingPersistence)
    const store = Option.isSome(backing)
      // the name's length first, as storeKeyOf does: cache "a" with key "b:c" and cache "a:b" with key "c"
      // must not share a Redis key
      ? yield* backing.value.make(`lastKnownGood:${name.length}:${name}`)
      : memoryStore.make(maxKeys)
    const entry = entrySchema(input.schema)
    const encode = Schema.encode(entry)
    const decode = Schema.decodeUnknown(entry)
    // The age check enforces maxStale; the store's own expiry only frees the space, a little later so
    // that a value exactly maxStale old is still there to serve.
    const ttl = Option.some(Duration.sum(maxStale, Duration.seconds(1)))
    const outage = storeOutage.make(
      `last-known-good store for ${name}`,
      "serving fresh answers and passing failures through",
      { lastKnownGood: name }
    )
    // The store never fails a call: while it is down a write is skipped and a read finds nothing.
    const remember = (key: string, value: A): Effect.Effect<void> =>
      Clock.currentTimeMillis.pipe(
        Effect.flatMap((storedAt) => encode({ value, storedAt })),
        Effect.flatMap((encoded) => outage.call(store.set(key, encoded, ttl))),
        Effect.catchAll((error) => Effect.logWarning(`last-known-good ${name} cannot encode a value`, error)),
        Effect.asVoid
      )
    const recall = (key: string): Effect.Effect<Option.Option<Api.Stale<A>>> =>
      outage.call(store.get(key)).pipe(
        Effect.map(Option.flatten),
        Effect.flatMap(Option.match({
          onNone: () => Effect.succeedNone,
          // A value the schema no longer reads (the type changed between deploys) is as good as none.
          onSome: (raw) => Effect.option(decode(raw))
        })),
        Effect.flatMap(Option.match({
          onNone: () => Effect.succeedNone,
          onSome: ({ storedAt, value }) =>
            Effect.map(Clock.currentTimeMillis, (now) => {
              const age = Duration.millis(Math.max(0, now - storedAt))
              return Duration.lessThanOrEqualTo(age, maxStale) ? Option.some(stale(value, age)) : Option.none()
            })
        }))
      )
    const answers = {
      fresh: tagged(served, { cache: name, result: "fresh" }),
      stale: tagged(served, { cache: name, result: "stale" }),
      failed: tagged(served, { cache: name, result: "failed" })
    }
    const count = (result: keyof typeof answers) => Metric.increment(answers[result])
    const serveKey = <E, R>(self: Effect.Effect<A, E, R>, key: string): Effect.Effect<Api.Result<A>, E, R> =>
      Effect.matchEffect(self, {
        onSuccess: (value) => Effect.as(Effect.zipRight(remember(key, value), count("fresh")), fresh(value)),
        onFailure: (error) =>
          (serveOn(error) ? recall(key) : Effect.succeedNone).pipe(
            Effect.flatMap(Option.match({
              onNone: () => Effect.zipRight(count("failed"), Effect.fail(error)),
              onSome: (value) => Effect.as(count("stale"), value)
            }))
          )
      })
    const cache: Api.LastKnownGood<A> = {
      [TypeId]: TypeId,
      name,
      maxStale,
      serve: dual(2, serveKey),
      get: recall,
      remember
    }
    return cache
  })

/** @internal */
export const make = <A, I>(
  input: Api.LastKnownGood.Options<A, I>
): Effect.Effect<Api.LastKnownGood<A>, InvalidOptions, Scope.Scope> => build("LastKnownGood.make", input)

/** @internal */
export const layer = <Id, A, I>(
  tag: Context.Tag<Id, Api.LastKnownGood<A>>,
  input: Api.LastKnownGood.Options<A, I>
): Layer.Layer<Id, InvalidOptions> => Layer.scoped(tag, build("LastKnownGood.layer", input))

/** @internal */
export const isLastKnownGood = (u: unknown): u is Api.LastKnownGood<unknown> => Predicate.hasProperty(u, TypeId)

/** @internal */
export const serve: {
  <A>(cache: Api.LastKnownGood<A>, key: string): <E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<Api.Result<A>, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, cache: Api.LastKnownGood<A>, key: string): Effect.Effect<Api.Result<A>, E, R>
} = dual(
  3,
  <A, E, R>(self: Effect.Effect<A, E, R>, cache: Api.LastKnownGood<A>, key: string) => cache.serve(self, key)
)
