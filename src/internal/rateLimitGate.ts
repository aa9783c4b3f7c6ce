import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberMap from "effect/FiberMap"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Random from "effect/Random"
import type * as Scope from "effect/Scope"
import { type InvalidOptions, type RateLimited, retryAfterOf } from "../Errors.js"
import type * as RateLimit from "../RateLimit.js"
import { remaining } from "./deadline.js"
import { withNow } from "./fiberNow.js"
import * as healthChecks from "./health/checks.js"
import { whenRegistry } from "./health/registry.js"
import * as options from "./options.js"
import { inProcessGateStore } from "./rateLimit/inProcessStore.js"
import { guardValue, keyOfOption, localRefusal, storeErrorPolicy } from "./rateLimitCommon.js"
import * as metrics from "./rateLimitMetrics.js"
import { makeStoreHealth } from "./rateLimitStoreHealth.js"
import { storeKeyOf } from "./storeKey.js"
import { tagged } from "./taggedMetric.js"

export const GateTypeId: RateLimit.GateTypeId = Symbol.for("effect-resilience/RateLimit/Gate") as RateLimit.GateTypeId

export const gateDefaults = {
  maxClosed: options.defaultMaxRetryAfter,
  maxWait: Duration.infinity,
  releaseOver: Duration.seconds(1)
} as const

export class GateStoreError extends Data.TaggedError("GateStoreError")<{
  readonly operation: string
  readonly cause: unknown
}> {
  override get message(): string {
    return `rate-limit gate store failed to ${this.operation}`
  }
}

export const GateStore: Context.Tag<RateLimit.GateStore, RateLimit.GateStore> = Context.GenericTag<
  RateLimit.GateStore
>("effect-resilience/RateLimit/GateStore")

/** The default signal: the provider's own word (a 429, or a 5xx that sent Retry-After). */
export const defaultSignal = (error: unknown): Duration.Duration | undefined =>
  (Predicate.isTagged(error, "RateLimited") && Predicate.hasProperty(error, "reason") && error.reason === "provider") ||
    Predicate.isTagged(error, "Unavailable")
    ? retryAfterOf(error)
    : undefined

export const isGate = (u: unknown): u is RateLimit.Gate<unknown> => Predicate.hasProperty(u, GateTypeId)

const resolve = <Args>(module: string, o: RateLimit.Gate.Options<Args>) => {
  const name = options.nonEmptyString({ module, option: "name" }, o.name)
  return {
    name,
    keyOf: keyOfOption(module, o.key),
    onStoreError: storeErrorPolicy(module, o.onStoreError),
    maxClosed: o.maxClosed === undefined
      ? gateDefaults.maxClosed
      : options.positiveDuration({ module, option: "maxClosed" }, o.maxClosed),
    maxWait: o.maxWait === undefined
      ? gateDefaults.maxWait
      : options.nonNegativeDuration({ module, option: "maxWait" }, o.maxWait),
    releaseOver: o.releaseOver === undefined
      ? gateDefaults.releaseOver
      : options.nonNegativeDuration({ module, option: "releaseOver" }, o.releaseOver),
    signal: o.signal === undefined ? defaultSignal : options.fn({ module, option: "signal" }, o.signal)
  }
}

const closeCheck: options.Check = { module: "RateLimit.Gate.close", option: "duration" }

/** `module` is the function the user called, for the `InvalidOptions` it may fail with. */
const build = <Args>(
  module: string,
  o: RateLimit.Gate.Options<Args>
): Effect.Effect<RateLimit.Gate<Args>, InvalidOptions, RateLimit.GateStore | Scope.Scope> =>
  Effect.gen(function*() {
    const resolved = yield* options.validated(() => resolve(module, o))
    const { maxClosed, maxWait, name, onStoreError, releaseOver, signal } = resolved
    const store = yield* GateStore
    const inProcess = inProcessGateStore(store)
    const watchers = yield* FiberMap.make<string>()
    const health = makeStoreHealth("gate", name, onStoreError)
    const maxClosedMillis = Duration.toMillis(maxClosed)
    const maxWaitMillis = Duration.toMillis(maxWait)
    const releaseOverMillis = Math.floor(Duration.toMillis(releaseOver))
    const longestTimerMillis = Duration.toMillis(options.longestTimer)
    const closed = tagged(metrics.gateClosedTotal, { limiter: name })
    const rejectedGate = metrics.rejected(name, "gate")
    const rejectedStore = metrics.rejected(name, "store")
    const waitingNow = tagged(metrics.gateWaiting, { limiter: name })
    let waiting = 0
    const storeKey = (key: string) => storeKeyOf(name, key)

    const refuse = (retryAfter: number | undefined) =>
      localRefusal(name, retryAfter === undefined ? undefined : Duration.millis(retryAfter))

    // Millis until the gate for `key` reopens; 0 when open. A store that is down counts as open
    // ("allow") or refuses the call ("reject").
    const closedFor = (key: string): Effect.Effect<number, RateLimited> =>
      Effect.flatMap(
        health.call(store.closedFor(storeKey(key))),
        Option.match({
          onNone: () =>
            onStoreError === "allow"
              ? Effect.succeed(0)
              : Effect.zipRight(Metric.increment(rejectedStore), Effect.fail(refuse(undefined))),
          onSome: Effect.succeed
        })
      )

    const setWaiting = (delta: number) =>
      Effect.suspend(() => {
        waiting += delta
        return Metric.set(waitingNow, waiting)
      })

    // Waits until the gate reopens, plus a random offset in [0, releaseOver) so the waiters do not
    // all call at once; then checks again, since another caller may have closed it meanwhile. Fails
    // at once when the reopening lies beyond maxWait (counted from the first check) or the deadline.
    const awaitOpen = (key: string, firstClosed: number): Effect.Effect<void, RateLimited> =>
      Effect.flatMap(Clock.currentTimeMillis, (start) => {
        const loop = (closedMillis: number): Effect.Effect<void, RateLimited> =>
          Effect.gen(function*() {
            const now = yield* Clock.currentTimeMillis
            const deadline = yield* remaining
            const budget = Math.min(
              maxWaitMillis - (now - start),
              Option.isSome(deadline) ? Duration.toMillis(deadline.value) : Infinity
            )
            if (closedMillis > budget) {
              yield* Metric.increment(rejectedGate)
              return yield* Effect.fail(refuse(closedMillis))
            }
            // Spread over the room the budget leaves, or the waiters cut short by it would all call together.
            const room = Math.min(releaseOverMillis, Math.floor(budget - closedMillis))
            const offset = room > 0 ? yield* Random.nextIntBetween(0, room) : 0
            yield* Effect.acquireUseRelease(
              setWaiting(1),
              // within the timer limit: a longer closing is waited out in turns (the loop checks again)
              () => Effect.sleep(Duration.millis(Math.min(closedMillis + offset, budget, longestTimerMillis))),
              () => setWaiting(-1)
            )
            const next = yield* closedFor(key)
            if (next > 0) return yield* loop(next)
          })
        return loop(firstClosed)
      })

    // One fiber per closed key logs the reopening when it happens (re-checking the store, since the
    // closing may have been extended, by this process or another one sharing the store).
    const watch = (key: string): Effect.Effect<void> =>
      Effect.flatMap(
        Effect.option(closedFor(key)),
        (left) =>
          Option.isSome(left) && left.value > 0
            ? Effect.zipRight(Effect.sleep(Duration.millis(left.value)), watch(key))
            : Effect.annotateLogs(Effect.logInfo(`rate-limit gate ${name} reopened`), { limiter: name, key })
      )

    const close = (key: string, error: unknown, retryAfter: Duration.Duration) => {
      const millis = Math.min(Duration.toMillis(retryAfter), maxClosedMillis)
      if (!(millis > 0)) return Effect.void
      // One WARN when the gate closes; a 429 that only extends a closed gate (the rest of a wave, a
      // probe answered 429 again) logs at DEBUG, or one wave of 429s would repeat the same line.
      const log = (wasClosed: boolean) => wasClosed ? Effect.logDebug : Effect.logWarning
      return Effect.flatMap(
        Effect.zip(FiberMap.has(watchers, key), health.call(store.close(storeKey(key), millis))),
        ([wasClosed, extended]) =>
        Option.isSome(extended) && extended.value
          ? Effect.zipRight(
            Effect.annotateLogs(
              log(wasClosed)(
                `rate-limit gate ${name} closed for ${
                  Duration.format(Duration.millis(millis))
                }: callers wait instead of calling`
              ),
              {
                limiter: name,
                key,
                signal: Predicate.hasProperty(error, "_tag") ? String(error._tag) : String(error),
                retryAfter: Duration.format(retryAfter)
              }
            ),
            Effect.zipRight(
              Metric.increment(closed),
              FiberMap.run(watchers, key, watch(key), { onlyIfMissing: true })
            )
          )
          : Effect.void)
    }

    // The call, closing the gate of `key` when it fails with a signal.
    const closingOnSignal = <A, E, R>(self: Effect.Effect<A, E, R>, key: string): Effect.Effect<A, E, R> =>
      Effect.tapError(self, (error) => {
        const retryAfter = signal(error)
        return retryAfter === undefined ? Effect.void : close(key, error, retryAfter)
      })

    const whenOpen = <A, E, R>(
      guarded: Effect.Effect<A, E, R>,
      key: string,
      closedMillis: number
    ): Effect.Effect<A, E | RateLimited, R> =>
      closedMillis > 0 ? Effect.zipRight(awaitOpen(key, closedMillis), guarded) : guarded

    // A store in this process answers in the step that starts the call. It cannot fail: no store health to track.
    const protect = <A, E, R>(self: Effect.Effect<A, E, R>, args: Args): Effect.Effect<A, E | RateLimited, R> => {
      const fixed = typeof o.key === "string"
        ? { key: o.key, storeKey: storeKey(o.key), guarded: closingOnSignal(self, o.key) }
        : undefined
      if (inProcess !== undefined) {
        return withNow((now) => {
          const key = fixed?.key ?? resolved.keyOf(args)
          const guarded = fixed?.guarded ?? closingOnSignal(self, key)
          return whenOpen(guarded, key, inProcess.closedFor(fixed?.storeKey ?? storeKey(key), now))
        })
      }
      return Effect.suspend(() => {
        const key = fixed?.key ?? resolved.keyOf(args)
        const guarded = fixed?.guarded ?? closingOnSignal(self, key)
        return Effect.flatMap(closedFor(key), (closedMillis) => whenOpen(guarded, key, closedMillis))
      })
    }

    const gate = guardValue<RateLimit.Gate<Args>>(GateTypeId, {
      name,
      protect,
      // a duration longer than maxClosed is fine (it is capped); one that is not a duration >= 0 is refused
      close: (duration: Duration.DurationInput, args: Args) =>
        Effect.flatMap(
          options.validated(() => options.nonNegativeDuration(closeCheck, duration, Duration.infinity)),
          (retryAfter) => close(resolved.keyOf(args), "manual", retryAfter)
        ),
      closedFor: (args: Args) =>
        Effect.map(Effect.orElseSucceed(closedFor(resolved.keyOf(args)), () => 0), (millis) =>
          millis > 0 ? Option.some(Duration.millis(millis)) : Option.none())
    })
    // A gate keyed per call (per tenant...) has no one state to report.
    if (typeof o.key === "string") yield* whenRegistry(healthChecks.gate(gate as RateLimit.Gate))
    return gate
  })

export const make = <Args = void>(
  o: RateLimit.Gate.Options<Args>
): Effect.Effect<RateLimit.Gate<Args>, InvalidOptions, RateLimit.GateStore | Scope.Scope> => build("RateLimit.gate", o)

export const layer = <I, Args = void>(
  tag: Context.Tag<I, RateLimit.Gate<Args>>,
  o: RateLimit.Gate.Options<Args>
): Layer.Layer<I, InvalidOptions, RateLimit.GateStore> => Layer.scoped(tag, build("RateLimit.layerGate", o))
