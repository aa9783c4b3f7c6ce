import type * as Context from "effect/Context"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { dual } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Predicate from "effect/Predicate"
import * as Scope from "effect/Scope"
import type { InvalidOptions } from "../Errors.js"
import type * as Api from "../Hedge.js"
import type { RetryBudget } from "../Retry.js"
import { LatencyWindow } from "./latencyWindow.js"
import * as Options from "./options.js"
import { budget as makeBudget, isRetryBudget } from "./retryBudget.js"
import { spanEvent } from "./spanEvent.js"
import { tagged } from "./taggedMetric.js"

/** @internal */
export const TypeId: Api.TypeId = Symbol.for("effect-resilience/Hedge") as Api.TypeId

/** @internal */
export const defaults = {
  maxHedged: 1,
  window: 1000,
  minSamples: 100,
  budget: { ratio: 0.1, minPerSecond: 1 }
} as const

/** @internal */
export const metrics = {
  hedges: Metric.counter("resilience_hedge_hedges_total", {
    description: "Hedged attempts started, by hedge",
    incremental: true
  }),
  wins: Metric.counter("resilience_hedge_wins_total", {
    description: "Calls answered by a hedged attempt rather than the first one, by hedge",
    incremental: true
  }),
  refused: Metric.counter("resilience_hedge_refused_total", {
    description: "Hedges not started because the retry budget was empty, by hedge",
    incremental: true
  })
}

/** How long to wait before the next hedge, read at the start of each call. */
type Delay =
  | { readonly _tag: "Fixed"; readonly millis: number }
  | {
    readonly _tag: "Percentile"
    readonly percentile: number
    readonly initial: number
    readonly minSamples: number
    readonly window: LatencyWindow
  }

interface Config {
  readonly name: string
  readonly delay: Delay
  readonly maxHedged: number
}

const isPercentile = (u: unknown): u is Api.Hedge.Percentile => Predicate.hasProperty(u, "percentile")

const validate = (module: string, input: Api.Hedge.Options): Config => {
  const check = (option: string): Options.Check => ({ module, option })
  if (typeof input !== "object" || input === null) Options.invalid(check("options"), input, "an options object")
  const name = Options.nonEmptyString(check("name"), input.name)
  const maxHedged = Options.orDefault(input.maxHedged, defaults.maxHedged, (n) => Options.integerAtLeast(check("maxHedged"), n, 1))
  const delay = input.delay
  if (!isPercentile(delay)) {
    return { name, maxHedged, delay: { _tag: "Fixed", millis: Duration.toMillis(Options.positiveDuration(check("delay"), delay)) } }
  }
  const window = Options.orDefault(delay.window, defaults.window, (n) => Options.integerAtLeast(check("delay.window"), n, 1))
  const minSamples = Options.orDefault(
    delay.minSamples,
    Math.min(defaults.minSamples, window),
    (n) => n > window ? Options.invalid(check("delay.minSamples"), n, `an integer <= window (${window})`) : Options.integerAtLeast(check("delay.minSamples"), n, 1)
  )
  return {
    name,
    maxHedged,
    delay: {
      _tag: "Percentile",
      percentile: Options.threshold(check("delay.percentile"), delay.percentile),
      initial: Duration.toMillis(Options.positiveDuration(check("delay.initial"), delay.initial)),
      minSamples,
      window: new LatencyWindow(window)
    }
  }
}

/** The delay for a call starting now; a percentile is trusted once the window holds `minSamples`, and never below 1 ms. */
const currentDelay = (delay: Delay): number => {
  if (delay._tag === "Fixed") return delay.millis
  if (delay.window.count < delay.minSamples) return delay.initial
  return Math.max(1, delay.window.percentile(delay.percentile)!)
}

const record = (delay: Delay, millis: number): void => {
  if (delay._tag === "Percentile") delay.window.record(millis)
}

/**
 * Runs `self` at once and again after each `delay` without an answer, at most `maxHedged` more times,
 * each extra attempt paid for by the budget. The first success is the answer; the call fails once every
 * attempt started has failed and no attempt is running (a failure before the first delay ends the call:
 * hedging is for slow answers, retrying is the retry's). `running` and `done` change only inside
 * synchronous steps, so "no attempt is running" and "start another" cannot interleave.
 *
 * Attempts are forked in a scope that closes when the call ends: the losers, the pending hedges and, if
 * the caller is interrupted, every attempt are interrupted and awaited. They are forked interruptible,
 * so a caller in an uninterruptible region (a layer's construction) still gets its answer when the
 * first attempt ends, not when the slowest does.
 *
 * That scope is passed to `forkIn` and never put in the attempts' context (`Effect.scoped` would): a
 * `self` that needs a `Scope` gets the caller's, so what the winner acquired lives until the caller's
 * scope closes, not until the call returns. What a loser acquired stays there too, as with `Effect.race`.
 */
const hedged = <A, E, R>(
  config: Config,
  budget: RetryBudget,
  ownBudget: boolean,
  labels: Labels,
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.suspend(() => {
    const delay = Duration.millis(currentDelay(config.delay))
    let running = 0
    let done = false
    return Effect.flatMap(Deferred.make<A, E>(), (result) => {
      const finish = (exit: Exit.Exit<A, E>) => {
        done = true
        Deferred.unsafeDone(result, exit)
      }
      const attempt = (index: number): Effect.Effect<void, never, R> =>
        Effect.flatMap(Clock.currentTimeMillis, (start) =>
          Effect.flatMap(Effect.exit(self), (exit) =>
            Effect.flatMap(Clock.currentTimeMillis, (end) =>
              Effect.suspend(() => {
                running--
                if (done) return Effect.void
                if (Exit.isSuccess(exit)) {
                  record(config.delay, end - start)
                  finish(exit)
                  return index > 0 ? Metric.increment(labels.wins) : Effect.void
                }
                if (running === 0) finish(exit)
                return Effect.void
              }))))
      const start = (scope: Scope.Scope, index: number) =>
        Effect.suspend(() => {
          running++
          return Effect.forkIn(Effect.interruptible(attempt(index)), scope)
        })
      const hedge = (scope: Scope.Scope, index: number): Effect.Effect<void, never, R> =>
        Effect.zipRight(
          Effect.sleep(delay),
          Effect.suspend(() => {
            if (done) return Effect.void
            return Effect.flatMap(budget.withdraw, (allowed) => {
              if (done) return Effect.void
              if (!allowed) return Metric.increment(labels.refused)
              return Effect.all([
                Metric.increment(labels.hedges),
                spanEvent("resilience.hedge", { hedge: config.name, attempt: index + 1, delayMillis: Duration.toMillis(delay) }),
                start(scope, index)
              ], { discard: true }).pipe(
                Effect.zipRight(index < config.maxHedged ? hedge(scope, index + 1) : Effect.void)
              )
            })
          })
        )
      return Effect.acquireUseRelease(
        Scope.make(),
        (scope) =>
          start(scope, 0).pipe(
            Effect.zipRight(Effect.forkIn(Effect.interruptible(hedge(scope, 1)), scope)),
            Effect.zipRight(Deferred.await(result)),
            Effect.tap(() => ownBudget ? budget.deposit : Effect.void)
          ),
        (scope, exit) => Scope.close(scope, exit)
      )
    })
  })

interface Labels {
  readonly hedges: Metric.Metric.Counter<number>
  readonly wins: Metric.Metric.Counter<number>
  readonly refused: Metric.Metric.Counter<number>
}

const build = (module: string, input: Api.Hedge.Options): Effect.Effect<Api.Hedge, InvalidOptions, Scope.Scope> =>
  Effect.gen(function*() {
    const config = yield* Options.validated(() => validate(module, input))
    const given = input.budget
    const shared = isRetryBudget(given)
    if (!shared && given !== undefined && (typeof given !== "object" || given === null)) {
      yield* Options.validated(() => Options.invalid({ module, option: "budget" }, given, "a RetryBudget or budget options"))
    }
    const budget = shared ? given : yield* makeBudget({ name: config.name, ...defaults.budget, ...given })
    const labels: Labels = {
      hedges: tagged(metrics.hedges, { hedge: config.name }),
      wins: tagged(metrics.wins, { hedge: config.name }),
      refused: tagged(metrics.refused, { hedge: config.name })
    }
    const hedge = <A, E, R>(self: Effect.Effect<A, E, R>) => hedged(config, budget, !shared, labels, self)
    return Object.defineProperties(hedge, {
      [TypeId]: { value: TypeId },
      name: { value: config.name, enumerable: true },
      delay: { value: Effect.sync(() => Duration.millis(currentDelay(config.delay))), enumerable: true }
    }) as unknown as Api.Hedge
  })

/** @internal */
export const make = (input: Api.Hedge.Options): Effect.Effect<Api.Hedge, InvalidOptions, Scope.Scope> =>
  build("Hedge.make", input)

/** @internal */
export const layer = <I>(tag: Context.Tag<I, Api.Hedge>, input: Api.Hedge.Options): Layer.Layer<I, InvalidOptions> =>
  Layer.scoped(tag, build("Hedge.layer", input))

/** @internal */
export const isHedge = (u: unknown): u is Api.Hedge => Predicate.hasProperty(u, TypeId)

/** @internal */
export const protect = dual(
  2,
  <A, E, R, I>(self: Effect.Effect<A, E, R>, hedge: Api.Hedge | Context.Tag<I, Api.Hedge>): Effect.Effect<A, E, R | I> =>
    isHedge(hedge) ? hedge(self) : Effect.flatMap(hedge, (h) => h(self))
)
