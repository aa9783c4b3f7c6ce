/**
 * Helpers for tests of breakers shared by replicas (a fake store, or Redis): the stores a suite runs
 * over, calls through a replica, and a call held open.
 */
import { Deferred, Effect, type Either, Layer, Scope, TestClock } from "effect"
import * as CircuitBreaker from "../../src/CircuitBreaker.js"
import * as CircuitBreakerRedis from "../../src/CircuitBreakerRedis.js"
import { CircuitOpen, type InvalidOptions, Unavailable } from "../../src/Errors.js"
import { deleteKeys, redisClient, redisUnavailable, redisUrl, uniquePrefix } from "./redis.js"

export const unavailable = new Unavailable({ provider: "p", reason: "status", status: 503 })

export const fail = (breaker: CircuitBreaker.CircuitBreaker) => Effect.either(breaker.protect(Effect.fail(unavailable)))

export const succeed = (breaker: CircuitBreaker.CircuitBreaker) => Effect.either(breaker.protect(Effect.succeed("ok")))

export const rejection = (result: Either.Either<unknown, unknown>): CircuitOpen => {
  if (result._tag === "Left" && result.left instanceof CircuitOpen) return result.left
  throw new Error(`expected a CircuitOpen rejection, got ${JSON.stringify(result)}`)
}

/** A call that holds its admission until released; returns once it runs. */
export const heldCall = (breaker: CircuitBreaker.CircuitBreaker) =>
  Effect.gen(function*() {
    const started = yield* Deferred.make<void>()
    const release = yield* Deferred.make<void>()
    const fiber = yield* Effect.fork(
      breaker.protect(Effect.zipRight(Deferred.succeed(started, undefined), Deferred.await(release)))
    )
    yield* Deferred.await(started)
    return { fiber, release: Deferred.succeed(release, undefined) }
  })

/** Opens a `consecutive(4)` breaker with failures split across two replicas, then lets a 10 s break elapse. */
export const openThenElapse = (a: CircuitBreaker.CircuitBreaker, b: CircuitBreaker.CircuitBreaker) =>
  Effect.gen(function*() {
    yield* fail(a)
    yield* fail(b)
    yield* fail(a)
    yield* fail(b)
    yield* TestClock.adjust("10 seconds")
  })

/** `changes` subscribes when the stream starts: give a forked consumer a few turns first. */
export const subscribed = Effect.repeatN(Effect.yieldNow(), 10)

/**
 * Where a test's replicas keep their shared breaker: the suite runs once per store. `replica`
 * builds one replica (on Redis, with its own connection) in the current scope; `records` counts the
 * breaker records written so far.
 */
export interface StoreUnderTest {
  readonly replica: (
    options?: CircuitBreaker.CircuitBreaker.Options
  ) => Effect.Effect<CircuitBreaker.CircuitBreaker, InvalidOptions, Scope.Scope>
  readonly keyed: (
    options: CircuitBreaker.CircuitBreaker.KeyedOptions<string>
  ) => Effect.Effect<CircuitBreaker.Keyed<string>, InvalidOptions, Scope.Scope>
  readonly records: Effect.Effect<number, never, Scope.Scope>
}

export interface StoreKind {
  readonly name: string
  readonly skip: boolean
  readonly make: (test: string) => Effect.Effect<StoreUnderTest, never, Scope.Scope>
}

/** The breaker every replica of these tests runs, unless a test says otherwise. */
export const payments = (
  options: CircuitBreaker.CircuitBreaker.Options = {}
): CircuitBreaker.CircuitBreaker.Options => ({
  name: "payments",
  policy: CircuitBreaker.consecutive(4),
  openFor: "10 seconds",
  ...options
})

/** Over a `Store` value that every replica of the test shares (a fake store). */
export const storeValue = (store: CircuitBreaker.Store, records: Effect.Effect<number>): StoreUnderTest => ({
  replica: (options) => Effect.provideService(CircuitBreaker.make(payments(options)), CircuitBreaker.Store, store),
  keyed: (options) => Effect.provideService(CircuitBreaker.keyed(options), CircuitBreaker.Store, store),
  records
})

/** A key prefix of the test's own on Redis, whose keys are deleted with the scope. */
export const withPrefix = (name: string) =>
  Effect.acquireRelease(Effect.sync(() => uniquePrefix(name)), (prefix) => Effect.promise(() => deleteKeys(prefix)))

/** On real Redis under a prefix of the test's own; each replica has its own connection (its own layer). */
export const redisStore: StoreKind = {
  name: "Redis",
  skip: redisUnavailable !== undefined,
  make: (test) =>
    Effect.map(withPrefix(test), (prefix): StoreUnderTest => {
      const provide = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>) =>
        Effect.flatMap(
          Effect.flatMap(Scope.Scope, (scope) =>
            Layer.buildWithScope(CircuitBreakerRedis.layerStore({ url: redisUrl, prefix }), scope)),
          (context) => Effect.provide(effect, context)
        )
      return {
        replica: (options) => provide(CircuitBreaker.make(payments(options))),
        keyed: (options) => provide(CircuitBreaker.keyed(options)),
        records: Effect.flatMap(redisClient, (client) => Effect.promise(() => client.keys(`${prefix}*`))).pipe(
          Effect.map((keys) => keys.length)
        )
      }
    })
}
