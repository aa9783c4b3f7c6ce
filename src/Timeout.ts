/**
 * Time limits: one per attempt, and one deadline for the whole call that everything below inherits.
 *
 * Why two? An attempt timeout says "this provider should answer within 2 s, or it is not going to";
 * a total timeout is the promise made to the caller ("the checkout answers within 10 s, retries
 * included"). Retrying under an attempt timeout alone can take `times x (attempt + backoff)`; the total
 * bounds that.
 *
 * - `Timeout.total(d)` sets a deadline in a `FiberRef`, so nested effects and forked children see it.
 *   A nested total keeps the earlier deadline: an inner call cannot extend its caller's budget.
 * - `Timeout.attempt(d)` uses min(d, time left until the deadline). `Retry` reads the same deadline
 *   and stops before a backoff that would end after it, returning the last error.
 * - At its own limit an attempt fails with `Timeout { scope: "attempt" }` (retried by default). At the
 *   deadline every guard fails with `Timeout { scope: "total", after: <the total's duration> }`
 *   (never retried), whichever timer fires first.
 *
 * Both guards return at the limit even when the work ignores interruption (an uninterruptible region,
 * a blocking finalizer): the work runs in a fiber of its own, started at once with the caller's context
 * and fiber refs, raced against one `Clock` sleep (none when the work ends before its first
 * asynchronous step); it is interrupted in the background and releases what it holds when it really
 * ends. `Effect.timeout` alone would wait for it, breaking the promise made to the caller. A caller
 * interrupted at any step, including while the run loop yields right after the work started,
 * interrupts the work.
 *
 * Observability: a counter `resilience_timeout_expired_total` tagged `scope`, a debug log line and a
 * `resilience.timeout` span event each time a limit is hit.
 *
 * @since 0.1.0
 */
import type { Duration, DurationInput } from "effect/Duration"
import type { Effect } from "effect/Effect"
import type { Option } from "effect/Option"
import type { Timeout } from "./Errors.js"
import * as internal from "./internal/timeout.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * The provider named in the `Timeout` error and its message ("payments did not answer within 2s").
   * Defaults to `undefined` (the message says "the call").
   */
  readonly provider?: string | undefined
}

/**
 * Fails with `Timeout { scope: "attempt", after: duration }` when `self` has not finished within
 * `duration`, and interrupts it. Under a `Timeout.total`, the limit is min(duration, time left); when
 * the deadline is the tighter bound the error is the total's (`scope: "total"`), and if no time is
 * left `self` is not started at all.
 *
 * The caller gets the error at the limit even if `self` ignores interruption; `self` is interrupted in
 * the background and its finalizers run when it really ends.
 *
 * Throws `InvalidOptions` when `duration` is not a finite duration > 0.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Timeout } from "effect-resilience"
 *
 * declare const fetchUser: Effect.Effect<string, Error>
 *
 * // Effect<string, Error | Timeout>
 * const user = fetchUser.pipe(Timeout.attempt("2 seconds", { provider: "auth" }))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const attempt: {
  (duration: DurationInput, options?: Options): <A, E, R>(self: Effect<A, E, R>) => Effect<A, E | Timeout, R>
  <A, E, R>(self: Effect<A, E, R>, duration: DurationInput, options?: Options): Effect<A, E | Timeout, R>
} = internal.attempt

/**
 * Sets a deadline `duration` from now for `self` and everything it runs, forked children included,
 * and fails with `Timeout { scope: "total", after: duration }` when it passes. Inside another total,
 * the earlier of the two deadlines applies.
 *
 * `Timeout.attempt` below it shrinks to the time left, and `Retry.transient` does not start a backoff
 * that would end after it.
 *
 * Throws `InvalidOptions` when `duration` is not a finite duration > 0.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Retry, Timeout } from "effect-resilience"
 *
 * declare const charge: Effect.Effect<string, Error>
 *
 * // at most 10 s for every attempt and backoff together; each attempt at most 2 s
 * const program = charge.pipe(
 *   Timeout.attempt("2 seconds"),
 *   Retry.transient({ times: 5 }),
 *   Timeout.total("10 seconds")
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const total: {
  (duration: DurationInput, options?: Options): <A, E, R>(self: Effect<A, E, R>) => Effect<A, E | Timeout, R>
  <A, E, R>(self: Effect<A, E, R>, duration: DurationInput, options?: Options): Effect<A, E | Timeout, R>
} = internal.total

/**
 * The time left until the active `Timeout.total` deadline (zero once it has passed), or `None` when
 * no deadline is set. Useful to pass a budget on to a provider (a `grpc-timeout` header, say).
 *
 * @example
 * ```ts
 * import { Duration, Effect, Option } from "effect"
 * import { Timeout } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const left = yield* Timeout.remaining
 *   return Option.map(left, Duration.toMillis)
 * }).pipe(Timeout.total("5 seconds"))
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const remaining: Effect<Option<Duration>> = internal.remaining
