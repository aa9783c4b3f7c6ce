import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleIntervals from "effect/ScheduleIntervals"
import * as Backoff from "../Backoff.js"
import { isTransient, retryAfterOf } from "../Errors.js"
import * as Deadline from "./deadline.js"
import * as Options from "./options.js"
import type * as Retry from "../Retry.js"
import { eagerDual } from "./eagerDual.js"
import { isRetryBudget } from "./retryBudget.js"
import { spanEvent } from "./spanEvent.js"

type RetryOptions = Retry.Options<any, any>

/** @internal */
export const defaults = {
  times: 3,
  name: "retry",
  maxRetryAfter: Options.defaultMaxRetryAfter,
  backoff: (): Backoff.Backoff =>
    Backoff.exponential({ base: "100 millis", factor: 2, cap: "10 seconds" }).pipe(Backoff.fullJitter)
} as const

/** @internal */
export const isRetryable = (u: unknown): boolean =>
  isTransient(u) && !(u._tag === "Timeout" && u.scope === "total")

/** Why a failure was returned without (another) retry; the `reason` tag of the stop counter. */
type Stop = "times" | "schedule" | "retry-after" | "deadline" | "budget"

const retriesTotal = Metric.counter("resilience_retry_retries_total", {
  description: "Retries started by Retry.transient, by policy",
  incremental: true
})

const stoppedTotal = Metric.counter("resilience_retry_stopped_total", {
  description: "Retryable failures returned without a retry, by policy and reason",
  incremental: true
})

/** The error's tag (or class name, or type) for logs: never its message, which may carry secrets. */
const kindOf = (error: unknown): string =>
  Predicate.hasProperty(error, "_tag") && typeof error._tag === "string"
    ? error._tag
    : error instanceof Error
    ? error.name
    : typeof error

interface Policy {
  readonly name: string
  readonly times: number
  readonly schedule: Schedule.Schedule<Duration.Duration, unknown, any>
  readonly retryable: (error: unknown) => boolean
  readonly budget: Retry.RetryBudget | undefined
  readonly retries: Metric.Metric.Counter<number>
}

const make = (options: RetryOptions | undefined): Policy => {
  const module = "Retry.transient"
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    Options.invalid({ module, option: "options" }, options, "an options object")
  }
  const times = Options.orDefault(
    options?.times,
    defaults.times,
    (n) => Options.integerAtLeast({ module, option: "times" }, n, 0)
  )
  const name = Options.orDefault(options?.name, defaults.name, (n) => Options.nonEmptyString({ module, option: "name" }, n))
  const maxHint = Options.orDefault(
    options?.maxRetryAfter,
    defaults.maxRetryAfter,
    (d) => Options.nonNegativeDuration({ module, option: "maxRetryAfter" }, d)
  )
  if (options?.budget !== undefined && !isRetryBudget(options.budget)) {
    Options.invalid({ module, option: "budget" }, options.budget, "a RetryBudget made by Retry.budget")
  }
  if (options?.while !== undefined) Options.fn({ module, option: "while" }, options.while)
  if (options?.backoff !== undefined && !Schedule.isSchedule(options.backoff)) {
    const expected = "a Schedule of delays (e.g. Backoff.exponential(...))"
    Options.invalid({ module, option: "backoff" }, options.backoff, expected)
  }
  return {
    name,
    times,
    schedule: Backoff.honorRetryAfter(options?.backoff ?? defaults.backoff(), { maxHint }) as Policy["schedule"],
    retryable: options?.while ?? isRetryable,
    budget: options?.budget,
    retries: Metric.tagged(retriesTotal, "policy", name)
  }
}

const stop = <E>(policy: Policy, cause: Cause.Cause<E>, reason: Stop, error: unknown): Effect.Effect<never, E> =>
  Effect.zipRight(
    Effect.all([
      Metric.increment(Metric.tagged(Metric.tagged(stoppedTotal, "policy", policy.name), "reason", reason)),
      Effect.logDebug(`${policy.name}: ${kindOf(error)} returned without retry (${reason})`).pipe(
        Effect.annotateLogs({ policy: policy.name, reason, error: kindOf(error) })
      )
    ], { discard: true }),
    Effect.failCause(cause)
  )

const announce = (policy: Policy, attempt: number, delay: number, error: unknown): Effect.Effect<void> => {
  const kind = kindOf(error)
  return Effect.all([
    Metric.increment(policy.retries),
    Effect.logDebug(`${policy.name}: attempt ${attempt} failed with ${kind}, retrying in ${Duration.format(delay)}`)
      .pipe(
        Effect.annotateLogs({ policy: policy.name, attempt, delay: Duration.format(delay), error: kind })
      ),
    spanEvent("resilience.retry", { policy: policy.name, attempt, delayMillis: delay, error: kind })
  ], { discard: true })
}

/**
 * Decides, after attempt number `attempt` failed with `cause`, whether to retry: the error must be
 * retryable, retries left, the backoff continuing, the delay ending before the deadline, and the
 * budget granting a withdrawal, in that order (so a refused retry never spends budget). Defects and
 * interruptions are never retried. A refusal returns the original cause unchanged.
 */
const retrying = <A, E, R>(self: Effect.Effect<A, E, R>, policy: Policy): Effect.Effect<A, E, R> => {
  const succeeded = (a: A): Effect.Effect<A> =>
    policy.budget === undefined ? Exit.succeed(a) : Effect.as(policy.budget.deposit, a)

  const failed = (cause: Cause.Cause<E>, state: unknown, attempt: number): Effect.Effect<A, E, R> => {
    const failure = Cause.failureOption(cause)
    if (Option.isNone(failure) || Cause.isDie(cause) || Cause.isInterrupted(cause)) return Effect.failCause(cause)
    const error = failure.value
    if (!policy.retryable(error)) return Effect.failCause(cause)
    if (attempt > policy.times) return stop(policy, cause, "times", error)
    return Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.flatMap(policy.schedule.step(now, error, state), ([next, out, decision]) => {
        if (ScheduleDecision.isDone(decision)) {
          // honorRetryAfter ends on a hint too long (ours, or a bound of the backoff's own) with the hint
          // itself as its output; any other end is the backoff's own
          const hint = retryAfterOf(error)
          return stop(policy, cause, hint !== undefined && out === hint ? "retry-after" : "schedule", error)
        }
        const delay = Math.max(0, ScheduleIntervals.start(decision.intervals) - now)
        return Effect.flatMap(FiberRef.get(Deadline.currentDeadline), (deadline) => {
          if (Option.isSome(deadline) && now + delay >= deadline.value) return stop(policy, cause, "deadline", error)
          const withdraw = policy.budget === undefined ? Effect.succeed(true) : policy.budget.withdraw
          return Effect.flatMap(withdraw, (allowed) =>
            allowed
              ? announce(policy, attempt, delay, error).pipe(
                Effect.zipRight(Effect.sleep(Duration.millis(delay))),
                Effect.zipRight(run(next, attempt + 1))
              )
              : stop(policy, cause, "budget", error))
        })
      }))
  }

  const run = (state: unknown, attempt: number): Effect.Effect<A, E, R> =>
    Effect.matchCauseEffect(self, {
      onSuccess: succeeded,
      onFailure: (cause) => failed(cause, state, attempt)
    })

  // The first attempt's effect holds no state of its own: built once, run by every call.
  return run(policy.schedule.initial, 1)
}

/** @internal */
export const transient = eagerDual((options?: RetryOptions) => {
  const policy = make(options)
  return <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> => retrying(self, policy)
})
