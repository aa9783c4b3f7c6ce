/**
 * Retries for failures that may pass: which errors, how often, how far apart, and when to stop early.
 *
 * `Retry.transient()` retries the `Transient` errors (`RateLimited`, `Unavailable`, an attempt
 * `Timeout`) and nothing else: not `ClientError`, `InvalidRequest` or `InvalidResponse` (the same
 * request fails the same way), not `CircuitOpen` or `BulkheadFull` (a local guard said no; retrying
 * defeats it), not a total `Timeout` (no time is left), and not the caller's own errors. The error
 * channel is unchanged: when a retry is refused, for any reason, the last error is returned as it was.
 *
 * **Delays.** Exponential from 100 ms, doubling, capped at 10 s, with full jitter (see `Backoff`).
 * Every backoff, the default or yours, is wrapped in `Backoff.honorRetryAfter`: a `RateLimited` or `503`
 * that says "retry after 2 s" is retried after max(backoff, 2 s), never earlier; a hint above
 * `maxRetryAfter` (1 minute by default, as in every module) is not waited for, and the error goes back
 * to the caller with its hint, to queue the work or answer "try later" upstream.
 *
 * **Deadline.** Under `Timeout.total`, a retry whose backoff (or hint) would end after the deadline is
 * not started: the last error is returned at once instead of a `Timeout` after a pointless sleep. So a
 * call with a 10 s budget never waits on a 30 s hint, whatever `maxRetryAfter` says.
 *
 * **Why budgets beat max retries.** `times` alone is a guess, and it multiplies: when a dependency
 * really fails, every caller retries `times` times, so the load on it is multiplied by `times + 1`
 * exactly when it can least take it, and each layer of retrying callers multiplies again (a retry
 * storm). A retry budget bounds retries as a share of the traffic that works: each success deposits
 * `ratio` of a retry (default 0.2), each retry withdraws one, and a floor of `minPerSecond` keeps a quiet
 * client able to retry at all. When a dependency is healthy, the rare failure is retried as usual; when
 * it is failing, successes stop, the budget empties, and retries stop adding load, with no number to
 * tune per call site. Share one budget between every call site of a dependency (the same value, or a
 * Layer). This is the idea of Finagle's and tower's `TpsBudget`; keep a small `times` as well, so one
 * call cannot spend the whole budget.
 *
 * **Visibility.** Each retry writes a debug log line (policy name, attempt, delay, error tag; never the
 * error's message), increments `resilience_retry_retries_total{policy}` and adds a `resilience.retry`
 * event to the current span. A retryable failure returned without retry increments
 * `resilience_retry_stopped_total{policy, reason}` (`times`, `retry-after`, `schedule`, `deadline`,
 * `budget`). A budget logs once when it runs dry and once when it has credit again.
 *
 * @since 0.1.0
 */
import type { Tag } from "effect/Context"
import type { Duration, DurationInput } from "effect/Duration"
import type { Effect } from "effect/Effect"
import type { Layer } from "effect/Layer"
import type { Schedule } from "effect/Schedule"
import type { InvalidOptions } from "./Errors.js"
import * as internal from "./internal/retry.js"
import * as internalBudget from "./internal/retryBudget.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options<in E = unknown, out R = never> {
  /**
   * The most retries, as in `Effect.retry`: `times: 3` is at most 4 attempts; `0` never retries.
   * Defaults to `3`.
   */
  readonly times?: number | undefined
  /**
   * The delays between attempts, wrapped in `Backoff.honorRetryAfter` for you (pass a backoff without
   * it). Its `R` is added to the effect's. Defaults to exponential from `100 millis`, factor 2, cap
   * `10 seconds`, full jitter.
   */
  readonly backoff?: Schedule<Duration, E, R> | undefined
  /**
   * Which errors are retried. Replaces the default, so it may narrow it (`(e) => e._tag === "Unavailable"`)
   * or widen it to your own errors. Defaults to {@link isRetryable}.
   */
  readonly while?: ((error: E) => boolean) | undefined
  /**
   * A retry budget shared with other call sites; a retry that it refuses is not made. Defaults to
   * `undefined` (no budget: only `times` limits retries).
   */
  readonly budget?: RetryBudget | undefined
  /**
   * The policy name: the `policy` tag of the metrics and the prefix of the log lines. Defaults to
   * `"retry"`.
   */
  readonly name?: string | undefined
  /**
   * The longest `retryAfter` hint that is waited for; after a longer one the error is returned with
   * its hint. Defaults to `1 minute` (`Backoff.defaultMaxRetryAfter`, shared by every module).
   */
  readonly maxRetryAfter?: DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface BudgetOptions {
  /** The name in the budget's log lines. Defaults to `"retry-budget"`. */
  readonly name?: string | undefined
  /**
   * The share of a retry each success deposits, in [0, 1]: `0.2` allows one retry per five successes.
   * Defaults to `0.2`.
   */
  readonly ratio?: number | undefined
  /**
   * Retries per second allowed on top of the deposits, so a client with little traffic can retry at
   * all. Defaults to `10`.
   */
  readonly minPerSecond?: number | undefined
  /** How long a deposit (and a withdrawal) counts. Defaults to `10 seconds`. */
  readonly ttl?: DurationInput | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export const BudgetTypeId: unique symbol = internalBudget.TypeId

/**
 * @since 0.1.0
 * @category models
 */
export type BudgetTypeId = typeof BudgetTypeId

/**
 * A shared allowance of retries: successes deposit into it, retries withdraw from it. Made by
 * {@link budget}; pass the same value to every call site of one dependency, or provide it as a Layer
 * ({@link layerBudget}).
 *
 * @since 0.1.0
 * @category models
 */
export interface RetryBudget {
  readonly [BudgetTypeId]: BudgetTypeId
  /** The name in the budget's log lines. */
  readonly name: string
  /** Records a success (done by `Retry.transient` for each successful call). */
  readonly deposit: Effect<void>
  /** Takes one retry if the balance allows it; `false` leaves the balance untouched. */
  readonly withdraw: Effect<boolean>
  /** How many retries could be withdrawn now. */
  readonly available: Effect<number>
}

/**
 * Retries `self` when it fails with a retryable error, with backoff, honouring `retryAfter` hints, the
 * active `Timeout.total` deadline and an optional retry budget. The error and requirement channels are
 * kept (plus the backoff's requirements): a refused retry returns the last error unchanged. Defects and
 * interruptions are never retried; interrupting during a backoff stops at once.
 *
 * Throws `InvalidOptions` when it is called (before any effect runs, so `E` stays yours) with a `times`
 * that is not an integer >= 0, a `maxRetryAfter` that is not a duration >= 0, a `name` that is not a
 * non-empty string, a `backoff` that is not a `Schedule`, a `while` that is not a function, or a `budget`
 * not made by {@link budget}. `while: undefined` keeps the default, so `while: f | undefined` compiles.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Backoff, Retry, Timeout } from "effect-resilience"
 * import type { Transient } from "effect-resilience/Errors"
 *
 * declare const fetchRates: Effect.Effect<number, Transient>
 *
 * const rates = fetchRates.pipe(
 *   Timeout.attempt("2 seconds"),
 *   Retry.transient({
 *     times: 4,
 *     name: "rates",
 *     backoff: Backoff.exponential({ base: "200 millis", cap: "5 seconds" }).pipe(Backoff.fullJitter)
 *   }),
 *   Timeout.total("10 seconds")
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const transient: {
  <In = unknown, RB = never>(
    options?: Options<In, RB> & { readonly while?: undefined }
  ): <A, E extends In, R>(self: Effect<A, E, R>) => Effect<A, E, R | RB>
  <E, RB = never>(
    options: Options<NoInfer<E>, RB> & { readonly while: ((error: E) => boolean) | undefined }
  ): <A, R>(self: Effect<A, E, R>) => Effect<A, E, R | RB>
  <In, RB = never>(options: Options<In, RB>): <A, E extends In, R>(self: Effect<A, E, R>) => Effect<A, E, R | RB>
  <A, E, R, RB = never>(self: Effect<A, E, R>, options?: Options<NoInfer<E>, RB>): Effect<A, E, R | RB>
} = internal.transient

/**
 * Whether `Retry.transient` retries `u` by default: a `Transient` error (`RateLimited`, `Unavailable`,
 * `Timeout`), except a `Timeout` with `scope: "total"`. Use it to widen or narrow the default in `while`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry } from "effect-resilience"
 *
 * class Busy {
 *   readonly _tag = "Busy"
 * }
 * declare const call: Effect.Effect<string, Busy | Error>
 *
 * const retried = call.pipe(
 *   Retry.transient({ while: (e) => Retry.isRetryable(e) || e instanceof Busy })
 * )
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isRetryable: (u: unknown) => boolean = internal.isRetryable

/**
 * Makes a retry budget (see the module notes): each success deposits `ratio` of a retry, each retry
 * withdraws one, deposits count for `ttl`, and `minPerSecond` retries per second are always allowed.
 * Time comes from the `Clock`. Fails with `InvalidOptions` for a ratio outside [0, 1], a negative or NaN
 * `minPerSecond`, or a `ttl` that is not a finite duration > 0.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry } from "effect-resilience"
 * import type { Transient } from "effect-resilience/Errors"
 *
 * declare const getUser: Effect.Effect<string, Transient>
 * declare const getOrders: Effect.Effect<ReadonlyArray<string>, Transient>
 *
 * const program = Effect.gen(function*() {
 *   const budget = yield* Retry.budget({ ratio: 0.1, minPerSecond: 5 })
 *   // both call sites of the same dependency draw on one budget
 *   const user = yield* getUser.pipe(Retry.transient({ budget, name: "crm" }))
 *   const orders = yield* getOrders.pipe(Retry.transient({ budget, name: "crm" }))
 *   return { user, orders }
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const budget: (options?: BudgetOptions) => Effect<RetryBudget, InvalidOptions> = internalBudget.budget

/**
 * A Layer that provides a {@link RetryBudget} under your own tag, for a budget shared across a service.
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import { Retry } from "effect-resilience"
 * import type { Transient } from "effect-resilience/Errors"
 *
 * class CrmBudget extends Context.Tag("app/CrmBudget")<CrmBudget, Retry.RetryBudget>() {}
 * const CrmBudgetLive = Retry.layerBudget(CrmBudget, { ratio: 0.2 })
 *
 * declare const getUser: Effect.Effect<string, Transient>
 * const user = Effect.flatMap(CrmBudget, (budget) => getUser.pipe(Retry.transient({ budget })))
 * const program = Effect.provide(user, CrmBudgetLive)
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerBudget: <I>(tag: Tag<I, RetryBudget>, options?: BudgetOptions) => Layer<I, InvalidOptions> =
  internalBudget.layerBudget

/**
 * Whether `u` is a {@link RetryBudget}.
 *
 * @since 0.1.0
 * @category guards
 */
export const isRetryBudget: (u: unknown) => u is RetryBudget = internalBudget.isRetryBudget
