/**
 * Backoffs: the delays between attempts, as Effect `Schedule`s whose output is the delay they sleep.
 *
 * A `Backoff` is an ordinary `Schedule`, so it goes straight into `Effect.retry`, `Effect.repeat`,
 * `Retry.transient` or a breaker's `openFor`, and composes with `Schedule.intersect(Schedule.recurs(n))`.
 * Its output is the delay it applies (exactly what the driver sleeps), so `Schedule.run` or a tap on the
 * output shows what happened. The constructors never end on their own: limiting attempts is the job of
 * `times`, a retry budget or a deadline. Delays are finite, non-negative and never NaN at any attempt:
 * `exponential` clamps to its cap, which is finite even when left out. Every duration option is at most
 * 24 days: Effect's clock never wakes from a sleep past the JavaScript timer limit (24.8 days).
 *
 * **Why full jitter.** Marc Brooker's "Exponential Backoff And Jitter" (AWS Architecture Blog, 2015)
 * simulated clients contending for one resource: without jitter, clients that failed together retry
 * together and the load comes back in waves; of the jittered variants, full jitter,
 * `rand(0, min(cap, base * 2^n))`, did the least work and finished about as fast as any. It is the
 * default of `Retry.transient`. Equal jitter keeps at least half of the delay (for when a retry must not
 * come almost at once), and decorrelated jitter grows from the previous delay instead of the attempt
 * number. The formulas are the blog's; randomness comes from Effect's `Random`, so a seeded
 * `Random.make(seed)` replays a sequence exactly in tests.
 *
 * **Why Retry-After wins, and why a long one ends the schedule.** A provider that says "retry after
 * 30 s" knows better than any backoff: `honorRetryAfter` waits `max(backoff, hint)` plus a small upward
 * jitter (at most 10% of the hint and at most 1 s), so the clients it released together do not come back
 * in the same millisecond, and never earlier than the hint. A hint longer than `maxHint` is not waited
 * for: sleeping minutes inside a request holds a fiber, a connection and the caller's patience. The
 * schedule ends instead, `Effect.retry` fails with that error and its `retryAfter` intact, and the caller
 * decides: queue the work for later, serve a fallback, or tell its own client when to come back.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type * as Schedule from "effect/Schedule"
import * as internal from "./internal/backoff.js"

/**
 * A schedule of delays: its output is the delay before the next attempt, and that is exactly the time
 * it makes `Effect.retry` / `Effect.repeat` sleep. `In` is what the schedule reads from each failure
 * (`unknown` for all but {@link honorRetryAfter}); `R` is its requirements.
 *
 * @example
 * ```ts
 * import { Effect, Schedule } from "effect"
 * import * as Backoff from "effect-resilience/Backoff"
 *
 * const backoff: Backoff.Backoff = Backoff.exponential({ base: "100 millis", cap: "2 seconds" })
 * // the first five delays, in millis: 100, 200, 400, 800, 1600
 * const delays = Schedule.run(backoff, 0, [1, 2, 3, 4, 5])
 * const program = Effect.fail("boom").pipe(Effect.retry(backoff.pipe(Schedule.intersect(Schedule.recurs(3)))))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Backoff<in In = unknown, out R = never> extends Schedule.Schedule<Duration.Duration, In, R> {}

/**
 * @since 0.1.0
 * @category models
 */
export declare namespace Backoff {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface LinearOptions {
    /** The first delay. */
    readonly base: Duration.DurationInput
    /** Added to the delay after each attempt. Defaults to `base`. */
    readonly step?: Duration.DurationInput | undefined
    /** The longest delay. Defaults to `1 minute` (or `base`, when base is longer). */
    readonly cap?: Duration.DurationInput | undefined
  }

  /**
   * @since 0.1.0
   * @category models
   */
  export interface ExponentialOptions {
    /** The first delay; must be above zero. */
    readonly base: Duration.DurationInput
    /** What each delay is multiplied by, at least 1. Defaults to `2`. */
    readonly factor?: number | undefined
    /** The longest delay. Defaults to `1 minute` (or `base`, when base is longer). */
    readonly cap?: Duration.DurationInput | undefined
  }

  /**
   * @since 0.1.0
   * @category models
   */
  export interface DecorrelatedJitterOptions {
    /** The shortest delay, and the seed of the first draw; must be above zero. */
    readonly base: Duration.DurationInput
    /** The longest delay, at least `base`. */
    readonly cap: Duration.DurationInput
  }

  /**
   * @since 0.1.0
   * @category models
   */
  export interface HonorRetryAfterOptions {
    /**
     * The longest hint that is waited for. A longer hint ends the schedule, so the error is returned with
     * its `retryAfter` for the caller to act on. Defaults to `1 minute` ({@link defaultMaxRetryAfter}).
     */
    readonly maxHint?: Duration.DurationInput | undefined
  }
}

/**
 * What {@link honorRetryAfter} reads: any value at all, as long as a `retryAfter` field, where there is
 * one, is a `Duration` (as on `RateLimited`, `Unavailable` and `CircuitOpen`). So
 * `RateLimited | Unavailable | ClientError`, `Error` and `string` all fit, while an error whose
 * `retryAfter` is a number of seconds or a raw header string is a type error instead of a hint that is
 * silently ignored.
 *
 * The `object &` matters: `{ retryAfter?: Duration }` alone is a "weak type" (all optional), and
 * TypeScript rejects a `ClientError` or an `Error` against it for having no property in common.
 *
 * @since 0.1.0
 * @category models
 */
export type RetryAfterInput =
  | (object & { readonly retryAfter?: Duration.Duration | undefined })
  | string
  | number
  | boolean
  | bigint
  | symbol
  | null
  | undefined

/**
 * The same delay before every attempt.
 *
 * Throws `InvalidOptions` when `delay` is negative, NaN, longer than 24 days or not a duration.
 *
 * @example
 * ```ts
 * import * as Backoff from "effect-resilience/Backoff"
 *
 * const everySecond = Backoff.constant("1 second") // 1000, 1000, 1000, ...
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const constant: (delay: Duration.DurationInput) => Backoff = internal.constant

/**
 * A delay that grows by `step` after each attempt: `min(cap, base + step * n)` for the n-th retry
 * (counting from 0).
 *
 * Throws `InvalidOptions` for a negative, NaN, unparseable or over-24-day duration, or a `cap` below `base`.
 *
 * @example
 * ```ts
 * import * as Backoff from "effect-resilience/Backoff"
 *
 * const backoff = Backoff.linear({ base: "1 second", step: "500 millis", cap: "3 seconds" })
 * // 1000, 1500, 2000, 2500, 3000, 3000, ...
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const linear: (options: Backoff.LinearOptions) => Backoff = internal.linear

/**
 * A delay that is multiplied by `factor` after each attempt: `min(cap, base * factor^n)` for the n-th
 * retry (counting from 0). Values below the cap are exactly the formula's; once `base * factor^n` would
 * pass the cap (or overflow) the delay stays at the cap, at attempt 10,000 as at attempt 10.
 *
 * Throws `InvalidOptions` when `base` is not above zero, `factor` is below 1 or not finite, `cap` is
 * below `base`, or a duration is negative, NaN, unparseable or longer than 24 days.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import * as Backoff from "effect-resilience/Backoff"
 *
 * const backoff = Backoff.exponential({ base: "100 millis", factor: 2, cap: "1 second" })
 * // 100, 200, 400, 800, 1000, 1000, ...
 * const program = Effect.fail("flaky").pipe(Effect.retry({ schedule: backoff, times: 5 }))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const exponential: (options: Backoff.ExponentialOptions) => Backoff = internal.exponential

/**
 * Full jitter: each delay `d` of `self` becomes a uniform draw from `[0, d)`. Over an exponential backoff
 * that is Brooker's `rand(0, min(cap, base * 2^n))`, the recommended default (see the module notes).
 * Randomness comes from Effect's `Random` service.
 *
 * Apply it before {@link honorRetryAfter}, never after: jitter after it could wake before the hint.
 *
 * @example
 * ```ts
 * import * as Backoff from "effect-resilience/Backoff"
 *
 * const backoff = Backoff.exponential({ base: "100 millis", cap: "10 seconds" }).pipe(Backoff.fullJitter)
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const fullJitter: <In, R>(self: Backoff<In, R>) => Backoff<In, R> = internal.fullJitter

/**
 * Equal jitter: each delay `d` of `self` becomes `d/2 + rand(0, d/2)`, so at least half of the delay is
 * always kept. Randomness comes from Effect's `Random` service.
 *
 * @example
 * ```ts
 * import * as Backoff from "effect-resilience/Backoff"
 *
 * const backoff = Backoff.exponential({ base: "1 second", cap: "30 seconds" }).pipe(Backoff.equalJitter)
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const equalJitter: <In, R>(self: Backoff<In, R>) => Backoff<In, R> = internal.equalJitter

/**
 * Decorrelated jitter: each delay is `min(cap, rand(base, previous * 3))`, starting from `previous = base`.
 * It grows from the delay actually slept rather than from the attempt number, so retries spread out
 * without a schedule shared by every client. Randomness comes from Effect's `Random` service.
 *
 * Throws `InvalidOptions` when `base` is not above zero, or `cap` is missing, below `base` or longer than
 * 24 days.
 *
 * @example
 * ```ts
 * import * as Backoff from "effect-resilience/Backoff"
 *
 * const backoff = Backoff.decorrelatedJitter({ base: "100 millis", cap: "5 seconds" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const decorrelatedJitter: (options: Backoff.DecorrelatedJitterOptions) => Backoff = internal.decorrelatedJitter

/**
 * The longest `Retry-After` hint waited for by default, in every module: `Retry.transient`'s
 * `maxRetryAfter`, {@link honorRetryAfter}'s `maxHint`, a rate-limit gate's `maxClosed` and a circuit
 * breaker's `maxRetryAfter`. One value, so a hint is waited for (or handed back) the same way whichever
 * guard reads it.
 *
 * Why a minute: providers send seconds for a burst limit and minutes to hours for a quota. Waiting out a
 * burst inside the call is what the caller wants; sleeping through a quota holds a fiber, a connection
 * and the caller's patience, so a longer hint ends the retry and the error goes back with its
 * `retryAfter` (to queue the work or answer "try later"). A `Timeout.total` bounds any wait anyway: a
 * retry that would end past the deadline is not started.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import * as Backoff from "effect-resilience/Backoff"
 *
 * Duration.toMillis(Backoff.defaultMaxRetryAfter) // 60000
 * // wait longer for a provider known to send long hints
 * const patient = Backoff.constant("1 second").pipe(
 *   Backoff.honorRetryAfter({ maxHint: Duration.times(Backoff.defaultMaxRetryAfter, 5) })
 * )
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const defaultMaxRetryAfter: Duration.Duration = internal.defaultMaxRetryAfter

/**
 * Makes a backoff obey the `retryAfter` hint of the failure it is retrying (read with `retryAfterOf`).
 *
 * - no hint: the backoff's own delay;
 * - a hint up to `maxHint`: `max(delay, hint)` plus an upward jitter drawn from
 *   `[0, min(10% of the hint, 1 second))`, so never earlier than the hint;
 * - a hint above `maxHint`: the schedule ends, and `Effect.retry` returns that error, hint intact.
 *
 * The input type becomes `In & RetryAfterInput`: any error fits unless it has a `retryAfter` that is not
 * a `Duration`. Apply it last, after any jitter. Options are checked when it is called; a bad `maxHint`
 * throws `InvalidOptions`.
 *
 * @example
 * ```ts
 * import { Duration, Effect } from "effect"
 * import * as Backoff from "effect-resilience/Backoff"
 * import { RateLimited } from "effect-resilience/Errors"
 *
 * const backoff = Backoff.exponential({ base: "100 millis", cap: "10 seconds" }).pipe(
 *   Backoff.fullJitter,
 *   Backoff.honorRetryAfter({ maxHint: "30 seconds" })
 * )
 * // waits 2 s to 2.2 s, then retries
 * const program = Effect.fail(new RateLimited({ provider: "x", reason: "provider", retryAfter: Duration.seconds(2) }))
 *   .pipe(Effect.retry({ schedule: backoff, times: 3 }))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const honorRetryAfter: {
  (options?: Backoff.HonorRetryAfterOptions): <In, R>(self: Backoff<In, R>) => Backoff<In & RetryAfterInput, R>
  <In, R>(self: Backoff<In, R>, options?: Backoff.HonorRetryAfterOptions): Backoff<In & RetryAfterInput, R>
} = internal.honorRetryAfter
