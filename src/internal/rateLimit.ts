import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import { dual } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import { type InvalidOptions, RateLimited } from "../Errors.js"
import type * as RateLimit from "../RateLimit.js"
import { remaining } from "./deadline.js"
import { withNow } from "./fiberNow.js"
import { inProcessLimiterStore } from "./rateLimit/inProcessStore.js"
import * as options from "./options.js"
import { isGate } from "./rateLimitGate.js"
import * as metrics from "./rateLimitMetrics.js"
import { guardValue, keyOfOption, localRefusal, storeErrorPolicy } from "./rateLimitCommon.js"
import { onExitMasked } from "./onExitMasked.js"
import { makeStoreHealth } from "./rateLimitStoreHealth.js"
import { storeKeyOf } from "./storeKey.js"
import { tagged } from "./taggedMetric.js"

export const TypeId: RateLimit.TypeId = Symbol.for("effect-resilience/RateLimit") as RateLimit.TypeId

export const defaults = {
  algorithm: "token-bucket",
  onExceeded: "delay"
} as const

const resolve = <Args>(module: string, o: RateLimit.RateLimit.Options<Args>) => {
  const name = options.nonEmptyString({ module, option: "name" }, o.name)
  const limit = options.integerAtLeast({ module, option: "limit" }, o.limit, 1)
  // A window is never slept on (a quota per month is fine); a wait is, so it stays within the timer limit.
  const window = options.positiveDuration({ module, option: "window" }, o.window, Duration.infinity)
  return {
    name,
    keyOf: keyOfOption(module, o.key),
    limit,
    window,
    algorithm: options.oneOf({ module, option: "algorithm" }, ["token-bucket", "fixed-window"], o.algorithm, defaults.algorithm),
    onExceeded: options.oneOf({ module, option: "onExceeded" }, ["delay", "fail"], o.onExceeded, defaults.onExceeded),
    maxWait: o.maxWait === undefined
      ? Duration.min(window, options.longestTimer)
      : options.nonNegativeDuration({ module, option: "maxWait" }, o.maxWait),
    onStoreError: storeErrorPolicy(module, o.onStoreError)
  }
}

/** The time a caller may still wait: min(maxWait, time left until the active deadline). */
export const waitBudget = (maxWait: Duration.Duration): Effect.Effect<Duration.Duration> =>
  Effect.map(remaining, Option.match({ onNone: () => maxWait, onSome: (left) => Duration.min(left, maxWait) }))

/** `module` is the function the user called, for the `InvalidOptions` it may fail with. */
const build = <Args>(
  module: string,
  o: RateLimit.RateLimit.Options<Args>
): Effect.Effect<RateLimit.RateLimit<Args>, InvalidOptions, RateLimiter.RateLimiterStore> =>
  Effect.flatMap(options.validated(() => resolve(module, o)), (resolved) =>
    Effect.map(Effect.zip(RateLimiter.make, RateLimiter.RateLimiterStore), ([limiter, store]) => {
      const { algorithm, keyOf, limit, maxWait, name, onExceeded, onStoreError, window } = resolved
      // the in-process answer of this limiter's algorithm, when its store has one
      const inProcessStore = inProcessLimiterStore(store)
      const takeInProcess = inProcessStore === undefined
        ? undefined
        : algorithm === "token-bucket"
        ? inProcessStore.takeToken
        : inProcessStore.takeWindowSlot
      // as RateLimiter.consume computes it, so both ways find the same bucket
      const refillMillis = Duration.toMillis(Duration.unsafeDivide(window, limit))
      const health = makeStoreHealth("limiter", name, onStoreError)
      const admitted = tagged(metrics.admittedTotal, { limiter: name })
      const refunded = tagged(metrics.refundedTotal, { limiter: name })
      const waited = tagged(metrics.waitMillis, { limiter: name })
      const rejectedLimit = metrics.rejected(name, "limit")
      const rejectedWait = metrics.rejected(name, "wait")
      const rejectedStore = metrics.rejected(name, "store")

      const refuse = (retryAfter: Duration.Duration | undefined) => localRefusal(name, retryAfter)
      const fixedStoreKey = typeof o.key === "string" ? storeKeyOf(name, o.key) : undefined

      const consume = (storeKey: string, tokens: number, mode: "delay" | "fail") =>
        limiter.consume({ key: storeKey, limit, window, algorithm, onExceeded: mode, tokens })

      // A refusal ("fail" mode) is a value; a store error stays an error, for the store health check.
      const take = (storeKey: string) =>
        Effect.matchEffect(consume(storeKey, 1, onExceeded), {
          onFailure: (error) => error.reason === "Exceeded" ? Effect.succeed(Either.left(error)) : Effect.fail(error),
          onSuccess: (result) => Effect.succeed(Either.right(result))
        })

      // The experimental RateLimiter has no refund: a token is given back by consuming -1 through the
      // same store ("delay" mode, so it is never refused). Fixed window: the counter and its TTL step
      // back by one. Token bucket: the bucket gains one token (up to its limit). Best effort: a store error is ignored.
      const refund = (storeKey: string) =>
        Effect.zipRight(Effect.ignore(consume(storeKey, -1, "delay")), Metric.increment(refunded))

      // Takes the token uninterruptibly (a Redis round trip that was sent may have counted), then runs
      // `self` interruptibly. Until `self` has started, an interruption (during the delay, or right
      // after the token was taken) gives the token back.
      const limited = <A, E, R>(self: Effect.Effect<A, E, R>, storeKey: string): Effect.Effect<A, E | RateLimited, R> =>
        Effect.uninterruptibleMask((restore) =>
          Effect.flatMap(
            health.call(take(storeKey)),
            (taken): Effect.Effect<A, E | RateLimited, R> => {
              if (Option.isNone(taken)) {
                return onStoreError === "allow"
                  ? restore<A, E | RateLimited, R>(self)
                  : Effect.zipRight(Metric.increment(rejectedStore), Effect.fail(refuse(undefined)))
              }
              const result = taken.value
              if (result._tag === "Left") {
                return Effect.zipRight(Metric.increment(rejectedLimit), Effect.fail(refuse(result.left.retryAfter)))
              }
              const delay = result.right.delay
              const run = (wait: Effect.Effect<void> | undefined) => {
                let started = false
                const start = Effect.suspend(() => {
                  started = true
                  return self
                })
                return Effect.zipRight(
                  Metric.increment(admitted),
                  onExitMasked(
                    restore(wait === undefined ? start : Effect.zipRight(wait, start)),
                    () => started ? Effect.void : refund(storeKey)
                  )
                )
              }
              if (Duration.isZero(delay)) return run(undefined)
              return Effect.flatMap(waitBudget(maxWait), (budget): Effect.Effect<A, E | RateLimited, R> =>
                Duration.greaterThan(delay, budget)
                  ? Effect.zipRight(
                    Effect.zipRight(refund(storeKey), Metric.increment(rejectedWait)),
                    Effect.fail(refuse(delay))
                  )
                  : Effect.zipRight(
                    Metric.update(waited, Duration.toMillis(delay)),
                    run(Effect.sleep(delay))
                  ))
            }
          )
        )

      // A store in this process takes a free token (or a free place in the window) in the same
      // synchronous step that hands `self` to the fiber (the moment the Effect way marks as `started`):
      // an interruption after that step is the call's own, as there, so there is nothing to give back and
      // no mask to pay for. Without a free one (a wait, a refusal) the call goes the Effect way, as with
      // any store.
      const protect = <A, E, R>(self: Effect.Effect<A, E, R>, args: Args): Effect.Effect<A, E | RateLimited, R> => {
        if (takeInProcess === undefined) {
          return fixedStoreKey === undefined
            ? Effect.suspend(() => limited(self, storeKeyOf(name, keyOf(args))))
            : limited(self, fixedStoreKey)
        }
        const limitedFixed = fixedStoreKey === undefined ? undefined : limited(self, fixedStoreKey)
        return withNow((now, metricTags): Effect.Effect<A, E | RateLimited, R> => {
          const storeKey = fixedStoreKey ?? storeKeyOf(name, keyOf(args))
          if (!takeInProcess(storeKey, limit, refillMillis, now)) return limitedFixed ?? limited(self, storeKey)
          admitted.unsafeUpdate(1, metricTags)
          return self
        })
      }

      return guardValue<RateLimit.RateLimit<Args>>(TypeId, { name, limit, window, algorithm, onExceeded, protect })
    }))

export const make = <Args = void>(
  o: RateLimit.RateLimit.Options<Args>
): Effect.Effect<RateLimit.RateLimit<Args>, InvalidOptions, RateLimiter.RateLimiterStore> => build("RateLimit.make", o)

export const layer = <I, Args = void>(
  tag: Context.Tag<I, RateLimit.RateLimit<Args>>,
  o: RateLimit.RateLimit.Options<Args>
): Layer.Layer<I, InvalidOptions, RateLimiter.RateLimiterStore> => Layer.effect(tag, build("RateLimit.layer", o))

export const isRateLimit = (u: unknown): u is RateLimit.RateLimit<unknown> => Predicate.hasProperty(u, TypeId)

type Guard = {
  readonly protect: (self: Effect.Effect<unknown, unknown, unknown>, args: unknown) => Effect.Effect<unknown, unknown>
}

const isGuardOrTag = (u: unknown): boolean => isRateLimit(u) || isGate(u) || Context.isTag(u)

export const protect = dual(
  (args: IArguments) => Effect.isEffect(args[0]) && !isGuardOrTag(args[0]),
  (
    self: Effect.Effect<unknown, unknown, unknown>,
    guard: unknown,
    args?: unknown
  ): Effect.Effect<unknown, unknown, unknown> =>
    Context.isTag(guard)
      ? Effect.flatMap(guard as Context.Tag<unknown, Guard>, (g) => g.protect(self, args))
      : (guard as Guard).protect(self, args)
) as any
