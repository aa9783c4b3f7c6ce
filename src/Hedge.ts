/**
 * Hedged attempts for idempotent reads with a long latency tail: when the first attempt has not
 * answered after a delay, another one starts; the first success is the answer and the others are
 * interrupted.
 *
 * Why: when 5% of a provider's answers take 2 s and the rest 50 ms, a timeout cannot help (the slow
 * call is not failing) and a retry after it wastes the time already spent. A second attempt started at
 * the 95th percentile of latency turns most of those 2 s into about 100 ms, for about 5% more calls
 * (the "backup requests" of Dean and Barroso's *The Tail at Scale*; `bench/scenarios/hedge.ts` measures it).
 *
 * How it behaves:
 * - **When.** The delay is fixed, or a percentile of observed latency: the last `window` latencies of
 *   winning attempts (each measured from its own start), trusted once `minSamples` are in; until then
 *   `initial` is used. A call reads the delay when it starts. Hedge `k` starts `k x delay` after the call
 *   started, if no attempt has answered yet and at least one is still running; at most `maxHedged` hedges.
 * - **How many.** Each hedge withdraws one retry from a `Retry.RetryBudget`, so a provider that is slow
 *   for everyone is not sent twice the load: when the budget is empty the call waits for the attempts it
 *   has. By default the hedge has a budget of its own (`ratio: 0.1`, `minPerSecond: 1`) that it feeds
 *   with each successful call; give it your `Retry`'s budget to share one (then the retry feeds it).
 * - **What the caller gets.** The first success. If every attempt fails, the error of the attempt that
 *   failed last (the latest word from the provider, its freshest `Retry-After`); a failure while no
 *   other attempt runs ends the call at once, without waiting for a hedge: hedging is for slow answers,
 *   failures are the retry's. Defects and interruptions of an attempt count as its failure.
 * - **Interruption.** The losers are interrupted when the answer comes, and every attempt when the
 *   caller is interrupted; the call returns once they have been (their slots and permits are back).
 * - **Scoped calls.** A call that needs a `Scope` gets the caller's: what the winner acquired is released
 *   when the caller's scope closes, not when the hedged call returns; so is what a loser acquired before
 *   it was interrupted, as with `Effect.race`.
 *
 * Only for idempotent calls: a hedge sends the same request twice. In a `Policy` (option `hedge`) it
 * sits inside the retry and outside the breaker, so each attempt, hedged or not, takes its own breaker
 * verdict, limiter permit, bulkhead slot and attempt timeout.
 *
 * A hedge is a value, `Effect -> Effect`, that keeps the latency window: build one per downstream with
 * {@link make} in a `Scope`, or as your own tag's service with {@link layer}.
 *
 * Observability: counters `resilience_hedge_hedges_total` (hedges started),
 * `resilience_hedge_wins_total` (calls a hedge answered) and `resilience_hedge_refused_total` (hedges
 * the budget refused), tagged `hedge`; a span event `resilience.hedge` per hedge.
 *
 * @since 0.1.0
 */
import type * as Context from "effect/Context"
import type { Duration, DurationInput } from "effect/Duration"
import type { Effect } from "effect/Effect"
import type { Layer } from "effect/Layer"
import type * as Metric from "effect/Metric"
import type { Scope } from "effect/Scope"
import type { InvalidOptions } from "./Errors.js"
import * as internal from "./internal/hedge.js"
import type { BudgetOptions, RetryBudget } from "./Retry.js"

/**
 * @since 0.1.0
 * @category models
 */
export const TypeId: unique symbol = internal.TypeId

/**
 * @since 0.1.0
 * @category models
 */
export type TypeId = typeof TypeId

/**
 * A hedge: apply it to an idempotent effect to run hedged attempts of it. It adds no error: the caller
 * gets one of the attempts' own.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Hedge } from "effect-resilience"
 * import type { Transient } from "effect-resilience/Errors"
 *
 * declare const getProfile: Effect.Effect<string, Transient>
 *
 * const program = Effect.gen(function*() {
 *   const hedge = yield* Hedge.make({ name: "profiles", delay: { percentile: 0.95, initial: "200 millis" } })
 *   return yield* getProfile.pipe(hedge) // Effect<string, Transient>
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Hedge {
  <A, E, R>(self: Effect<A, E, R>): Effect<A, E, R>
  readonly [TypeId]: TypeId
  /** The name in the `hedge` metric tag and span events. */
  readonly name: string
  /** The delay a call starting now would wait before its first hedge. */
  readonly delay: Effect<Duration>
}

/**
 * @since 0.1.0
 */
export declare namespace Hedge {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Options {
    /** Names the hedge in metrics, span events and its budget's logs. Required, not empty. */
    readonly name: string
    /** How long to wait for an answer before each hedge: a duration > 0, or a {@link Percentile} of latency. Required. */
    readonly delay: DurationInput | Percentile
    /** The most extra attempts per call, an integer >= 1. Defaults to `1`. */
    readonly maxHedged?: number | undefined
    /**
     * What hedges withdraw from: a `Retry.RetryBudget` to share (your retry's; its owner feeds it), or
     * options for one of the hedge's own, which it feeds with each successful call. Defaults to a budget of
     * its own with `{ ratio: 0.1, minPerSecond: 1 }`: about one hedge per ten calls, plus one a second.
     */
    readonly budget?: RetryBudget | BudgetOptions | undefined
  }

  /**
   * A delay that follows the provider: a percentile of the latency of recent winning attempts.
   *
   * @since 0.1.0
   * @category models
   */
  export interface Percentile {
    /** Which percentile, in (0, 1]: `0.95` hedges the slowest 5% of calls. Required. */
    readonly percentile: number
    /** The delay until the window holds `minSamples` latencies (> 0). Required. */
    readonly initial: DurationInput
    /** How many recent latencies the percentile is read from, an integer >= 1. Defaults to `1000`. */
    readonly window?: number | undefined
    /** How many latencies before the percentile is trusted, an integer in [1, window]. Defaults to `100` (or `window` if smaller). */
    readonly minSamples?: number | undefined
  }
}

/**
 * Makes a hedge. Fails with `InvalidOptions` naming the option for an empty `name`, a `delay` that is
 * not a duration > 0, a percentile outside (0, 1], a `window` or `minSamples` that is not a positive
 * integer (or `minSamples > window`), a `maxHedged` below 1, or bad budget options.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Hedge } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const search = yield* Hedge.make({ name: "search", delay: "150 millis", maxHedged: 2 })
 *   return yield* Effect.succeed(["result"]).pipe(search)
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: Hedge.Options) => Effect<Hedge, InvalidOptions, Scope> = internal.make

/**
 * A `Layer` that provides your own tag with a hedge built from `options`.
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import { Hedge } from "effect-resilience"
 *
 * class CatalogHedge extends Context.Tag("app/CatalogHedge")<CatalogHedge, Hedge.Hedge>() {}
 * const CatalogHedgeLive = Hedge.layer(CatalogHedge, { name: "catalog", delay: { percentile: 0.95, initial: "100 millis" } })
 *
 * const item = Effect.succeed("item").pipe(Hedge.protect(CatalogHedge))
 * const main = item.pipe(Effect.provide(CatalogHedgeLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: <I>(tag: Context.Tag<I, Hedge>, options: Hedge.Options) => Layer<I, InvalidOptions> = internal.layer

/**
 * Runs an effect through a hedge, given the hedge itself or the tag of a service that holds one (then
 * the tag joins the requirements).
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import { Hedge } from "effect-resilience"
 *
 * class CatalogHedge extends Context.Tag("app/CatalogHedge")<CatalogHedge, Hedge.Hedge>() {}
 *
 * // Effect<string, never, CatalogHedge>
 * const item = Effect.succeed("item").pipe(Hedge.protect(CatalogHedge))
 * const same = Hedge.protect(Effect.succeed("item"), CatalogHedge)
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const protect: {
  (hedge: Hedge): <A, E, R>(self: Effect<A, E, R>) => Effect<A, E, R>
  <I>(tag: Context.Tag<I, Hedge>): <A, E, R>(self: Effect<A, E, R>) => Effect<A, E, R | I>
  <A, E, R>(self: Effect<A, E, R>, hedge: Hedge): Effect<A, E, R>
  <A, E, R, I>(self: Effect<A, E, R>, tag: Context.Tag<I, Hedge>): Effect<A, E, R | I>
} = internal.protect

/**
 * Whether `u` is a {@link Hedge}.
 *
 * @since 0.1.0
 * @category guards
 */
export const isHedge: (u: unknown) => u is Hedge = internal.isHedge

/**
 * The counters every hedge updates, untagged. Tag them with `hedge` to read one hedge's series.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { Hedge } from "effect-resilience"
 *
 * const hedgesStarted = Metric.value(Hedge.metrics.hedges.pipe(Metric.tagged("hedge", "search")))
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const metrics: {
  /** `resilience_hedge_hedges_total`: hedged attempts started. */
  readonly hedges: Metric.Metric.Counter<number>
  /** `resilience_hedge_wins_total`: calls answered by a hedged attempt. */
  readonly wins: Metric.Metric.Counter<number>
  /** `resilience_hedge_refused_total`: hedges not started for want of budget. */
  readonly refused: Metric.Metric.Counter<number>
} = internal.metrics
