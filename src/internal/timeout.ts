import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import { Timeout } from "../Errors.js"
import * as Deadline from "./deadline.js"
import { eagerDual } from "./eagerDual.js"
import * as Options from "./options.js"
import { spanEvent } from "./spanEvent.js"

/** @internal */
export interface TimeoutOptions {
  readonly provider?: string | undefined
}

type Scope = "attempt" | "total"

/**
 * The duration of the `Timeout.total` that set the active deadline. A guard that hits that deadline
 * names the total's own duration in its error, so every fiber under one total reports the same
 * `Timeout { scope: "total", after }` whichever timer fires first.
 */
interface Total {
  readonly deadline: number
  readonly after: Duration.Duration
}

const currentTotal = FiberRef.unsafeMake<Option.Option<Total>>(Option.none())

const expired = Metric.counter("resilience_timeout_expired_total", {
  description: "Calls failed with Timeout by Timeout.attempt or Timeout.total, by scope",
  incremental: true
})

const timeoutError = (scope: Scope, after: Duration.Duration, provider: string | undefined): Timeout =>
  new Timeout(provider === undefined ? { scope, after } : { scope, after, provider })

const onExpired = (error: Timeout): Effect.Effect<never, Timeout> =>
  Effect.zipRight(
    Effect.all([
      Metric.increment(Metric.tagged(expired, "scope", error.scope)),
      Effect.logDebug("timeout").pipe(
        Effect.annotateLogs({
          scope: error.scope,
          after: Duration.format(error.after),
          provider: error.provider ?? "-"
        })
      ),
      spanEvent("resilience.timeout", { scope: error.scope, after: Duration.toMillis(error.after) })
    ], { discard: true }),
    Effect.fail(error)
  )

/**
 * Races the work, run in a disconnected fiber, against `limit`. When the limit wins the caller gets
 * the error at once; the work is interrupted in the background and its finalizers run when it really
 * ends, even if it is uninterruptible for a while. Fiber refs (the deadline) are inherited by the
 * disconnected fiber, since it is forked.
 */
const guard = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  limit: Duration.Duration,
  error: () => Timeout
): Effect.Effect<A, E | Timeout, R> =>
  Effect.flatten(
    Effect.timeoutTo(Effect.disconnect(self), {
      duration: limit,
      onSuccess: Effect.succeed,
      onTimeout: () => onExpired(error())
    })
  )

const totalAfter = (deadline: number, left: number): Effect.Effect<Duration.Duration> =>
  Effect.map(
    FiberRef.get(currentTotal),
    (total) =>
      Option.isSome(total) && total.value.deadline === deadline ? total.value.after : Duration.millis(Math.max(0, left))
  )

/**
 * Runs `self` bounded by min(own, time left until the active deadline). When the deadline is the
 * tighter bound, or a tie, expiry is the total's, not the attempt's: retrying cannot help, and the
 * outer `Timeout.total` (whose timer fires at the same instant) reports the same error.
 */
const bounded = <A, E, R>(
  self: Effect.Effect<A, E, R>,
  own: Duration.Duration,
  ownScope: Scope,
  provider: string | undefined
): Effect.Effect<A, E | Timeout, R> =>
  Effect.flatMap(FiberRef.get(Deadline.currentDeadline), (deadline) => {
    if (Option.isNone(deadline)) {
      return guard(self, own, () => timeoutError(ownScope, own, provider))
    }
    return Effect.flatMap(Clock.currentTimeMillis, (now): Effect.Effect<A, E | Timeout, R> => {
      const left = deadline.value - now
      if (left > Duration.toMillis(own)) {
        return guard(self, own, () => timeoutError(ownScope, own, provider))
      }
      return Effect.flatMap(totalAfter(deadline.value, left), (after) =>
        left <= 0
          ? onExpired(timeoutError("total", after, provider))
          : guard(self, Duration.millis(left), () => timeoutError("total", after, provider)))
    })
  })

/** @internal */
export const attempt = eagerDual((duration: Duration.DurationInput, options?: TimeoutOptions) => {
  const own = Options.positiveDuration({ module: "Timeout.attempt", option: "duration" }, duration)
  const provider = providerOf("Timeout.attempt", options)
  return <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | Timeout, R> =>
    bounded(self, own, "attempt", provider)
})

/** @internal */
export const total = eagerDual((duration: Duration.DurationInput, options?: TimeoutOptions) => {
  const own = Options.positiveDuration({ module: "Timeout.total", option: "duration" }, duration)
  const ownMillis = Duration.toMillis(own)
  const provider = providerOf("Timeout.total", options)
  return <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | Timeout, R> =>
    Effect.flatMap(
      Effect.zip(Clock.currentTimeMillis, FiberRef.get(Deadline.currentDeadline)),
      ([now, inherited]): Effect.Effect<A, E | Timeout, R> => {
        const deadline = now + ownMillis
        // A nested total keeps the earlier deadline: an inner call cannot extend its caller's budget.
        if (Option.isSome(inherited) && inherited.value <= deadline) {
          return bounded(self, own, "total", provider)
        }
        return bounded(self, own, "total", provider).pipe(
          Effect.locally(currentTotal, Option.some({ deadline, after: own })),
          Effect.locally(Deadline.currentDeadline, Option.some(deadline))
        )
      }
    )
})

const providerOf = (module: string, options: TimeoutOptions | undefined): string | undefined =>
  options?.provider === undefined ? undefined : Options.nonEmptyString({ module, option: "provider" }, options.provider)

/** @internal */
export const remaining: Effect.Effect<Option.Option<Duration.Duration>> = Deadline.remaining
