import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import type * as Scope from "effect/Scope"
import { type InvalidOptions, type RateLimited, retryAfterOf } from "../../Errors.js"
import type * as RateLimit from "../../RateLimit.js"
import * as options from "../options.js"
import { remaining } from "../deadline.js"
import { waitBudget } from "../rateLimit.js"
import { guardValue, keyOfOption, localRefusal } from "../rateLimitCommon.js"
import { hintMillis, type Quota, readQuota } from "../rateLimitHeaders.js"
import { makeStoreHealth } from "../rateLimitStoreHealth.js"
import * as metrics from "../rateLimitMetrics.js"
import { spanEvent } from "../spanEvent.js"
import { storeKeyOf } from "../storeKey.js"
import * as model from "./adaptiveModel.js"
import { currentCost, currentSink, type Sink } from "./adaptiveSink.js"
import { AdaptiveStore, makeMemory } from "./adaptiveStore.js"

export const AdaptiveTypeId: RateLimit.AdaptiveTypeId = Symbol.for(
  "effect-resilience/RateLimit/Adaptive"
) as RateLimit.AdaptiveTypeId

export const adaptiveDefaults = {
  initialConcurrency: 4,
  maxConcurrency: 50,
  minRate: 0.5,
  maxRate: 1000,
  decrease: 0.7,
  maxWait: Duration.minutes(1),
  maxClosed: options.defaultMaxRetryAfter
} as const

/**
 * CUBIC's scale C relative to W_max: W_max is regained K = cbrt((1 - decrease) / C) = 3.9 s after a cut
 * (at the default decrease), and passed by 10% 2.7 s later. AWS SDK v3 uses an absolute C = 0.4, the same
 * curve at W_max = 80/s; at the few requests per second third-party APIs allow, an absolute C regains
 * W_max in about a second and overshoots again: measured against a 5/s limit, a 429 every 2.7 s.
 */
const cubicScale = 0.005
/** Weight of the newest call in the smoothed call duration (an exponentially weighted mean). */
const callSmoothing = 0.2
/** How often a key re-reads what other limiters sharing the store learned. */
const syncEveryMillis = 1000
/** An idle key is forgotten locally after this long (what it learned stays in the store). */
const idleMillis = 10 * 60 * 1000
/** Keys examined per new key when sweeping, so memory follows the keys in use without a fiber. */
const sweepPerNewKey = 4

const resolve = <Args>(o: RateLimit.Adaptive.Options<Args>) => {
  const module = "RateLimit.adaptive"
  const check = (option: string) => ({ module, option })
  const name = options.nonEmptyString(check("name"), o.name)
  const initialConcurrency = options.orDefault(
    o.initialConcurrency,
    adaptiveDefaults.initialConcurrency,
    (n) => options.integerAtLeast(check("initialConcurrency"), n, 1)
  )
  const maxConcurrency = options.orDefault(
    o.maxConcurrency,
    Math.max(adaptiveDefaults.maxConcurrency, initialConcurrency),
    (n) => options.integerAtLeast(check("maxConcurrency"), n, initialConcurrency)
  )
  const positive = (option: string) => (n: number) =>
    Number.isFinite(n) && n > 0 ? n : options.invalid(check(option), n, "a finite number > 0")
  const minRate = options.orDefault(o.minRate, adaptiveDefaults.minRate, positive("minRate"))
  const maxRate = options.orDefault(
    o.maxRate,
    Math.max(adaptiveDefaults.maxRate, minRate),
    (n) => options.numberAtLeast(check("maxRate"), n, minRate)
  )
  const decrease = options.orDefault(
    o.decrease,
    adaptiveDefaults.decrease,
    (n) => Number.isFinite(n) && n > 0 && n < 1 ? n : options.invalid(check("decrease"), n, "a number in (0, 1)")
  )
  const maxClosed = options.orDefault(
    o.maxClosed,
    adaptiveDefaults.maxClosed,
    (d) => options.positiveDuration(check("maxClosed"), d)
  )
  const constants: model.Constants = {
    beta: decrease,
    scale: cubicScale,
    minRate,
    maxRate,
    initialConcurrency,
    maxConcurrency,
    maxClosedMillis: Duration.toMillis(maxClosed)
  }
  return {
    name,
    keyOf: keyOfOption(module, o.key),
    constants,
    maxWait: options.orDefault(o.maxWait, adaptiveDefaults.maxWait, (d) => options.nonNegativeDuration(check("maxWait"), d))
  }
}

interface Waiter {
  readonly cost: number
  /** true when admitted; false when its turn came too late to finish before its deadline. */
  readonly admitted: Deferred.Deferred<boolean>
  /** When the active `Timeout.total` deadline ends; Infinity without one. */
  readonly deadlineAt: number
  admittedAt: number | undefined
}

/**
 * Where a waiter joins the queue: earliest deadline first, in arrival order among equal deadlines
 * (and so among calls without one, which go last). After a throttle, the waiters that piled up
 * leave the gate in random order; serving the ones with the least time left first lets every
 * waiter whose deadline allows the wait make it, where arrival order would fail the oldest.
 */
const placeOf = (queue: ReadonlyArray<Waiter>, deadlineAt: number): number => {
  let index = queue.length
  while (index > 0 && queue[index - 1]!.deadlineAt > deadlineAt) index--
  return index
}

interface Entry {
  readonly key: string
  readonly storeKey: string
  readonly state: model.KeyState
  readonly queue: Array<Waiter>
  timer: Fiber.RuntimeFiber<void> | undefined
  timerAt: number
  syncedAt: number
  usedAt: number
  lastQuota: Quota
  /** How long admitted calls take, smoothed: a turn leaving less than this before the deadline is refused. */
  callMillis: number
}

/** One admitted call, as its sink sees it. */
interface Call {
  cost: number
  throttled: boolean
  readonly admittedAt: number
}

const isProviderRateLimited = (error: unknown): boolean =>
  Predicate.isTagged(error, "RateLimited") && Predicate.hasProperty(error, "reason") && error.reason === "provider"

export const make = <Args = void>(
  o: RateLimit.Adaptive.Options<Args>
): Effect.Effect<RateLimit.Adaptive<Args>, InvalidOptions, Scope.Scope> =>
  Effect.gen(function*() {
    const { constants: c, keyOf, maxWait, name } = yield* options.validated(() => resolve(o))
    const store = yield* Effect.flatMap(
      Effect.serviceOption(AdaptiveStore),
      Option.match({ onNone: () => makeMemory, onSome: Effect.succeed })
    )
    const scope = yield* Effect.scope
    const entries = new Map<string, Entry>()
    const tag = <T extends Metric.Metric<any, any, any>>(metric: T): T => Metric.tagged(metric, "limiter", name) as T
    const rateGauge = tag(metrics.adaptiveRate)
    const unitRateGauge = tag(metrics.adaptiveUnitRate)
    const concurrencyGauge = tag(metrics.adaptiveConcurrency)
    const inFlightGauge = tag(metrics.adaptiveInFlight)
    const waitingGauge = tag(metrics.adaptiveWaiting)
    const decreases = tag(metrics.adaptiveDecreasesTotal)
    const admitted = tag(metrics.admittedTotal)
    const refunded = tag(metrics.refundedTotal)
    const waited = tag(metrics.waitMillis)
    const rejectedWait = metrics.rejected(name, "wait")

    const gauges = (entry: Entry) =>
      Effect.all([
        Metric.set(rateGauge, model.requestRate(c, entry.state.learned) ?? 0),
        Metric.set(unitRateGauge, model.unitRate(entry.state.learned) ?? 0),
        Metric.set(concurrencyGauge, entry.state.learned.concurrency),
        Metric.set(inFlightGauge, entry.state.inFlight),
        Metric.set(waitingGauge, entry.queue.length)
      ], { discard: true })

    // Store errors never stop calls: the local state keeps pacing; the next change is written again.
    // An outage is one WARN, and the store is skipped for a cooldown instead of costing a timeout a call.
    const health = makeStoreHealth("adaptive limiter", name, "local")
    const storeSet = (entry: Entry) => Effect.asVoid(health.call(store.set(entry.storeKey, entry.state.learned)))

    // What other limiters sharing the store learned, when it is newer. The concurrency window stays
    // this process's own; the latest reopening wins, within this limiter's own `maxClosed` (a limiter
    // configured to hold a key longer does not hold this one longer).
    const adopt = (entry: Entry, remote: model.Learned, now: number) => {
      const local = entry.state.learned
      if (remote.updatedAt <= local.updatedAt) return
      entry.state.learned = {
        ...remote,
        concurrency: local.concurrency,
        notBefore: Math.max(local.notBefore, Math.min(remote.notBefore, now + c.maxClosedMillis))
      }
    }

    const sync = (entry: Entry, now: number) => {
      if (now - entry.syncedAt < syncEveryMillis) return Effect.void
      entry.syncedAt = now
      return Effect.map(health.call(store.get(entry.storeKey)), (read) => {
        const remote = Option.flatten(read)
        if (Option.isSome(remote)) adopt(entry, remote.value, now)
      })
    }

    const sweep = (now: number) => {
      let examined = 0
      for (const [key, entry] of entries) {
        if (examined++ >= sweepPerNewKey) break
        entries.delete(key)
        const idle = entry.queue.length === 0 && entry.state.inFlight === 0 && entry.timer === undefined &&
          now - entry.usedAt > idleMillis && entry.state.learned.notBefore < now
        // re-inserted at the end, so the next sweep examines other keys
        if (!idle) entries.set(key, entry)
      }
    }

    const entryFor = (key: string, now: number): Effect.Effect<Entry> => {
      const existing = entries.get(key)
      if (existing !== undefined) {
        existing.usedAt = now
        return Effect.as(sync(existing, now), existing)
      }
      sweep(now)
      const entry: Entry = {
        key,
        storeKey: storeKeyOf(name, key),
        state: model.makeKeyState(model.initialLearned(c), now),
        queue: [],
        timer: undefined,
        timerAt: Infinity,
        syncedAt: -Infinity,
        usedAt: now,
        lastQuota: {},
        callMillis: 0
      }
      entries.set(key, entry)
      return Effect.as(sync(entry, now), entry)
    }

    // Admits waiters from the head of the queue while the concurrency window and the buckets allow;
    // when time is what blocks the head, one timer fiber per key wakes the pump then. Each wake-up is
    // computed after the previous waiter took its tokens, so waiters leave one by one at the learned
    // rate, never together (AWS's JS limiter computes every sleep from one snapshot: a burst).
    const pump = (entry: Entry): Effect.Effect<void> =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const { queue, state } = entry
        let admittedNow = 0
        let wakeAt: number | undefined
        while (queue.length > 0 && model.hasConcurrency(state)) {
          const head = queue[0]!
          const wait = model.waitFor(c, state, head.cost, now)
          if (wait > 0) {
            wakeAt = now + wait
            break
          }
          queue.shift()
          // A call admitted too late to finish before its deadline would spend the provider's quota
          // (its tokens) and then time out: its turn passes to the next waiter instead.
          if (head.deadlineAt - now < entry.callMillis) {
            Deferred.unsafeDone(head.admitted, Exit.succeed(false))
            continue
          }
          model.admit(c, state, head.cost, now)
          head.admittedAt = now
          Deferred.unsafeDone(head.admitted, Exit.succeed(true))
          admittedNow++
        }
        const gaugesNow = admittedNow > 0 ? gauges(entry) : Effect.void
        if (wakeAt === undefined || (entry.timer !== undefined && entry.timerAt <= wakeAt)) return gaugesNow
        const previous = entry.timer
        entry.timerAt = wakeAt
        const wake = Effect.zipRight(
          Effect.sleep(Duration.millis(wakeAt - now)),
          Effect.suspend(() => {
            entry.timer = undefined
            entry.timerAt = Infinity
            return pump(entry)
          })
        )
        // pump often runs in protect's uninterruptible region: the timer must not inherit it
        return Effect.zipRight(
          gaugesNow,
          Effect.flatMap(Effect.forkIn(Effect.interruptible(wake), scope), (fiber) => {
            entry.timer = fiber
            return previous === undefined ? Effect.void : Fiber.interruptFork(previous)
          })
        )
      })

    /** Logs, counts, traces and stores one change of what was learned. */
    const changed = (entry: Entry, reason: string, level: "info" | "debug") => {
      const l = entry.state.learned
      const rate = model.requestRate(c, l)
      const unitRate = model.unitRate(l)
      const attributes = {
        limiter: name,
        key: entry.key,
        reason,
        rate: rate ?? "unpaced",
        unitRate: unitRate ?? "unpaced",
        concurrency: l.concurrency
      }
      const text = `adaptive rate limit ${name}: ${reason}; now ${
        rate === undefined ? "unpaced" : `${rate.toFixed(2)}/s`
      }, concurrency ${l.concurrency}`
      return Effect.all([
        Effect.annotateLogs(level === "info" ? Effect.logInfo(text) : Effect.logDebug(text), attributes),
        spanEvent("resilience.ratelimit.adaptive.changed", attributes),
        gauges(entry),
        storeSet(entry)
      ], { discard: true })
    }

    const makeSink = (entry: Entry, call: Call, outer: Option.Option<Sink>): Sink => ({
      observe: (response) =>
        Effect.zipRight(
          Effect.flatMap(Clock.currentTimeMillis, (now) => {
            const { state } = entry
            const quota = readQuota(response.headers, now)
            if (quota.requests !== undefined || quota.units !== undefined) entry.lastQuota = quota
            let learned = model.observe(c, state, quota, call.cost, now)
            if (response.status === 429) call.throttled = true
            if (response.status === 429 || response.status === 503) {
              const hint = hintMillis(response.headers, now)
              if (hint !== undefined) learned = model.closeUntil(c, state, now + hint, now) || learned
            }
            return learned ? Effect.zipRight(changed(entry, "provider headers", "debug"), pump(entry)) : Effect.void
          }),
          Option.match(outer, { onNone: () => Effect.void, onSome: (sink) => sink.observe(response) })
        ),
      settle: (units) =>
        Effect.zipRight(
          Effect.suspend(() => {
            model.settle(entry.state, call.cost, units)
            call.cost = units
            return Effect.void
          }),
          Option.match(outer, { onNone: () => Effect.void, onSome: (sink) => sink.settle(units) })
        )
    })

    // How a started call ended teaches the limiter: a throttle (a 429 seen by `observe`, or a
    // provider `RateLimited`) cuts the rate, any other answer lets it regrow. A defect or an
    // interruption says nothing about the provider: only the in-flight count changes.
    const finish = (entry: Entry, call: Call, exit: Exit.Exit<unknown, unknown>) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => {
        const { state } = entry
        entry.callMillis = entry.callMillis === 0
          ? now - call.admittedAt
          : entry.callMillis + callSmoothing * (now - call.admittedAt - entry.callMillis)
        const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : Option.none()
        const rateLimited = Option.isSome(failure) && isProviderRateLimited(failure.value)
        let learning: Effect.Effect<void> = Effect.void
        if (call.throttled || rateLimited) {
          const retryAfter = rateLimited ? retryAfterOf(failure.value) : undefined
          const closed = retryAfter !== undefined && model.closeUntil(c, state, now + Duration.toMillis(retryAfter), now)
          const before = [model.requestRate(c, state.learned), state.learned.concurrency]
          if (model.throttle(c, state, call.admittedAt, now)) {
            // INFO only when the rate or the window moved: 429s at the floor would repeat one line per wave
            const moved = before[0] !== model.requestRate(c, state.learned) || before[1] !== state.learned.concurrency
            learning = Effect.zipRight(
              Metric.increment(decreases),
              changed(entry, "throttled (429)", moved ? "info" : "debug")
            )
          } else if (closed) {
            learning = changed(entry, "Retry-After", "debug")
          }
        } else if (Exit.isSuccess(exit) || Option.isSome(failure)) {
          model.succeed(c, state, now)
        }
        // After the lesson: the call that ends is still in flight when the window's use is judged (at a
        // window of 1, counting it out left none in use, and the window never grew again).
        model.release(state, call.cost)
        return Effect.zipRight(learning, Effect.zipRight(gauges(entry), pump(entry)))
      })

    // A waiter that gave up (interrupted, or out of budget) leaves the queue; if it had been admitted
    // already, what it took comes back.
    const leave = (entry: Entry, waiter: Waiter) =>
      Effect.suspend(() => {
        if (waiter.admittedAt !== undefined) {
          model.refund(entry.state, waiter.cost)
          return Effect.zipRight(Metric.increment(refunded), pump(entry))
        }
        const index = entry.queue.indexOf(waiter)
        if (index >= 0) entry.queue.splice(index, 1)
        return Effect.zipRight(gauges(entry), pump(entry))
      })

    /** A rough estimate of a newcomer's wait (its own turn, then the queue ahead at the learned rates). */
    const estimate = (entry: Entry, cost: number, deadlineAt: number, now: number): number => {
      const { learned } = entry.state
      const rate = model.requestRate(c, learned)
      const unitRate = model.unitRate(learned)
      const ahead = entry.queue.slice(0, placeOf(entry.queue, deadlineAt))
      const queuedUnits = ahead.reduce((sum, w) => sum + w.cost, 0)
      return model.waitFor(c, entry.state, cost, now) + Math.max(
        rate === undefined ? 0 : ahead.length * 1000 / rate,
        // each waiter ahead holds the next one for `maxClosed` at most (see the model's unit debt)
        unitRate === undefined ? 0 : Math.min(queuedUnits * 1000 / unitRate, ahead.length * c.maxClosedMillis)
      )
    }

    const refuse = (millis: number) => localRefusal(name, Duration.millis(Math.ceil(millis)))

    const protect = <A, E, R>(self: Effect.Effect<A, E, R>, args: Args): Effect.Effect<A, E | RateLimited, R> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function*() {
          const now = yield* Clock.currentTimeMillis
          const entry = yield* entryFor(keyOf(args), now)
          const cost = yield* FiberRef.get(currentCost)
          const deadlineAt = Option.match(yield* remaining, {
            onNone: () => Infinity,
            onSome: (left) => now + Duration.toMillis(left)
          })
          const wait = estimate(entry, cost, deadlineAt, now)
          const budget = Duration.toMillis(yield* waitBudget(maxWait))
          const waiter: Waiter = { cost, admitted: yield* Deferred.make<boolean>(), deadlineAt, admittedAt: undefined }
          if (wait > budget) {
            yield* Metric.increment(rejectedWait)
            return yield* Effect.fail(refuse(wait))
          }
          entry.queue.splice(placeOf(entry.queue, deadlineAt), 0, waiter)
          yield* pump(entry)
          if (waiter.admittedAt === undefined) {
            yield* gauges(entry)
            const inTime = yield* restore(Effect.timeout(Deferred.await(waiter.admitted), Duration.millis(budget)))
              .pipe(Effect.onInterrupt(() => leave(entry, waiter)), Effect.option)
            if (Option.isNone(inTime) || !inTime.value) {
              const left = estimate(entry, cost, deadlineAt, yield* Clock.currentTimeMillis)
              yield* leave(entry, waiter)
              yield* Metric.increment(rejectedWait)
              return yield* Effect.fail(refuse(left))
            }
            yield* Metric.update(waited, (yield* Clock.currentTimeMillis) - now)
          }
          yield* Metric.increment(admitted)
          const call: Call = { cost, throttled: false, admittedAt: waiter.admittedAt! }
          const outer = yield* FiberRef.get(currentSink)
          let started = false
          return yield* restore(Effect.suspend(() => {
            started = true
            return Effect.locally(self, currentSink, Option.some(makeSink(entry, call, outer)))
          })).pipe(Effect.onExit((exit) => started ? finish(entry, call, exit) : leave(entry, waiter)))
        })
      )

    const current = (args: Args): Effect.Effect<RateLimit.Adaptive.Snapshot> =>
      Effect.gen(function*() {
        const now = yield* Clock.currentTimeMillis
        const entry = yield* entryFor(keyOf(args), now)
        const { learned, inFlight } = entry.state
        const notBefore = learned.notBefore - now
        return {
          learned: learned.learned,
          rate: Option.fromNullable(model.requestRate(c, learned)),
          unitRate: Option.fromNullable(model.unitRate(learned)),
          concurrency: learned.concurrency,
          inFlight,
          waiting: entry.queue.length,
          remaining: Option.fromNullable(entry.lastQuota.requests?.remaining),
          remainingUnits: Option.fromNullable(entry.lastQuota.units?.remaining),
          closedFor: notBefore > 0 ? Option.some(Duration.millis(notBefore)) : Option.none()
        }
      })

    return guardValue<RateLimit.Adaptive<Args>>(AdaptiveTypeId, { name, protect, current })
  })

export const layer = <I, Args = void>(
  tag: Context.Tag<I, RateLimit.Adaptive<Args>>,
  o: RateLimit.Adaptive.Options<Args>
): Layer.Layer<I, InvalidOptions> => Layer.scoped(tag, make(o))

export const isAdaptive = (u: unknown): u is RateLimit.Adaptive<unknown> => Predicate.hasProperty(u, AdaptiveTypeId)
