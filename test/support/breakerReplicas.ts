/**
 * Helpers for tests of breakers shared by replicas (a fake store, or Redis): calls through a
 * replica, and a call held open.
 */
import { Deferred, Effect, type Either, TestClock } from "effect"
import type * as CircuitBreaker from "../../src/CircuitBreaker.js"
import { CircuitOpen, Unavailable } from "../../src/Errors.js"

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
