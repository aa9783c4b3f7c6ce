import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as FiberId from "effect/FiberId"
import * as FiberRefs from "effect/FiberRefs"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Runtime from "effect/Runtime"
import { Timeout } from "../Errors.js"
import * as ClockTimer from "./clockTimer.js"
import * as Deadline from "./deadline.js"
import * as FiberNow from "./fiberNow.js"
import { eagerDual } from "./eagerDual.js"
import * as Options from "./options.js"
import { spanEvent } from "./spanEvent.js"
import * as StartedWork from "./startedWork.js"

/** @internal */
export interface TimeoutOptions {
  readonly provider?: string | undefined
}

type Scope = "attempt" | "total"

/**
 * The duration of the `Timeout.total` that set the active deadline. A guard that hits that deadline
 * names the total's own duration in its error, so every fiber under one total reports the same
 * `Timeout { scope: "total", after }` whichever timer fires first. Like the deadline, it is set for
 * the total's fiber only and never flows back to the caller when that fiber is joined.
 */
interface Total {
  readonly deadline: number
  readonly after: Duration.Duration
}

const currentTotal = StartedWork.unsafeMakeKeptOnJoin<Option.Option<Total>>(Option.none())

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
 * Runs the work in its own fiber, started at once on the caller's runtime (context, fiber refs such
 * as the deadline, runtime flags, plus `refs` for a total's deadline), and waits for the first of:
 * the work ends, or `limit` passes on the `Clock`. When the limit wins the caller gets the error at
 * once; the work is interrupted in the background and its finalizers run when it really ends, even
 * if it is uninterruptible for a while (what `Effect.disconnect` + `Effect.timeoutTo` do, without
 * their three child fibers).
 *
 * The work starts inside an uninterruptible region whose handler stops it if the caller is
 * interrupted, so no step of the run loop (where the caller may yield, and be interrupted while it
 * does) lies between starting the work and being able to stop it.
 *
 * Work that finishes before its first asynchronous step (a cache hit, a refused call) is done when
 * its fiber is started: its exit is returned as is, and no timer is started. Otherwise a timer runs
 * on the caller's `Clock` (internal/clockTimer.ts; `TestClock` drives it) and is stopped when the
 * work ends first.
 * Like `Fiber.join`, a success hands the work's fiber refs back to the caller.
 */
const guard = <A, E, R>(
  runtime: Runtime.Runtime<R>,
  clock: Clock.Clock,
  caller: FiberId.FiberId,
  self: Effect.Effect<A, E, R>,
  limit: Duration.Duration,
  error: () => Timeout,
  refs?: (refs: FiberRefs.FiberRefs, fiberId: FiberId.Runtime) => FiberRefs.FiberRefs
): Effect.Effect<A, E | Timeout> =>
  Effect.uninterruptibleMask((restore) => {
    const work = StartedWork.start(runtime, self, refs)
    const done = work.fiber.unsafePoll()
    return done !== null ? StartedWork.exit(work, done) : raceClock(runtime, clock, work, limit, caller, error, restore)
  })

/** The first of the work's end and the timer, waited for interruptibly; an interrupted caller stops both. */
const raceClock = <A, E, R>(
  runtime: Runtime.Runtime<R>,
  clock: Clock.Clock,
  work: StartedWork.StartedWork<A, E>,
  limit: Duration.Duration,
  caller: FiberId.FiberId,
  error: () => Timeout,
  restore: <X, Y, Z>(effect: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>
): Effect.Effect<A, E | Timeout> => {
  let outcome: Effect.Effect<A, E | Timeout> | undefined
  let resumeCaller: ((outcome: Effect.Effect<A, E | Timeout>) => void) | undefined
  const settle = (result: Effect.Effect<A, E | Timeout>) => {
    outcome = result
    resumeCaller?.(result)
  }
  const onWork = (exit: Exit.Exit<A, E>) => {
    if (outcome !== undefined) return
    cancelTimer()
    settle(StartedWork.exit(work, exit))
  }
  const onTimer = () => {
    if (outcome !== undefined) return
    work.fiber.removeObserver(onWork)
    work.fiber.unsafeInterruptAsFork(caller)
    settle(onExpired(error()))
  }
  const cancelTimer = ClockTimer.start(runtime, clock, limit, caller, onTimer)
  work.fiber.addObserver(onWork)
  const waited = Effect.async<A, E | Timeout>((resume) => {
    if (outcome === undefined) resumeCaller = resume
    else resume(outcome)
  })
  return Effect.matchCauseEffect(restore(waited), {
    onFailure: (cause) => {
      // The caller was interrupted before either came: stop both, without waiting for the work to end.
      if (outcome === undefined) {
        outcome = Effect.failCause(cause)
        work.fiber.removeObserver(onWork)
        cancelTimer()
        work.fiber.unsafeInterruptAsFork(caller)
      }
      return Effect.failCause(cause)
    },
    onSuccess: Effect.succeed
  })
}

/**
 * The caller's runtime (its fiber refs carry the deadline) and its `Clock`, read once per call in one
 * step (what `Effect.runtime` and `Effect.clockWith` read, without their two more steps each).
 */
const withRuntimeAndClock = <A, E, R>(
  f: (runtime: Runtime.Runtime<R>, clock: Clock.Clock, caller: FiberId.FiberId) => Effect.Effect<A, E>
): Effect.Effect<A, E, R> =>
  Effect.withFiberRuntime<A, E, R>((fiber) => {
    const { flags, refs } = StartedWork.stateOf(fiber)
    return f(
      Runtime.make({ context: fiber.currentContext as Context.Context<R>, runtimeFlags: flags, fiberRefs: refs }),
      FiberNow.clockOf(fiber),
      fiber.id()
    )
  })

/**
 * Runs `self` bounded by min(own, time left until the active deadline). When the deadline is the
 * tighter bound, or a tie, expiry is the total's, not the attempt's: retrying cannot help, and the
 * outer `Timeout.total` (whose timer fires at the same instant) reports the same error.
 */
const bounded = <A, E, R>(
  runtime: Runtime.Runtime<R>,
  clock: Clock.Clock,
  caller: FiberId.FiberId,
  self: Effect.Effect<A, E, R>,
  own: Duration.Duration,
  ownScope: Scope,
  provider: string | undefined
): Effect.Effect<A, E | Timeout> => {
  const deadline = FiberRefs.getOrDefault(runtime.fiberRefs, Deadline.currentDeadline)
  const left = Option.isNone(deadline) ? Infinity : deadline.value - clock.unsafeCurrentTimeMillis()
  if (left > Duration.toMillis(own)) return guard(runtime, clock, caller, self, own, () => timeoutError(ownScope, own, provider))
  const total = FiberRefs.getOrDefault(runtime.fiberRefs, currentTotal)
  const after = Option.isSome(total) && Option.isSome(deadline) && total.value.deadline === deadline.value
    ? total.value.after
    : Duration.millis(Math.max(0, left))
  return left <= 0
    ? onExpired(timeoutError("total", after, provider))
    : guard(runtime, clock, caller, self, Duration.millis(left), () => timeoutError("total", after, provider))
}

/** @internal */
export const attempt = eagerDual((duration: Duration.DurationInput, options?: TimeoutOptions) => {
  const own = Options.positiveDuration({ module: "Timeout.attempt", option: "duration" }, duration)
  const provider = providerOf("Timeout.attempt", options)
  return <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | Timeout, R> =>
    withRuntimeAndClock<A, E | Timeout, R>((runtime, clock, caller) =>
      bounded(runtime, clock, caller, self, own, "attempt", provider)
    )
})

/** @internal */
export const total = eagerDual((duration: Duration.DurationInput, options?: TimeoutOptions) => {
  const own = Options.positiveDuration({ module: "Timeout.total", option: "duration" }, duration)
  const ownMillis = Duration.toMillis(own)
  const provider = providerOf("Timeout.total", options)
  return <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | Timeout, R> =>
    withRuntimeAndClock<A, E | Timeout, R>((runtime, clock, caller) => {
      const deadline = clock.unsafeCurrentTimeMillis() + ownMillis
      const inherited = FiberRefs.getOrDefault(runtime.fiberRefs, Deadline.currentDeadline)
      // A nested total keeps the earlier deadline: an inner call cannot extend its caller's budget.
      if (Option.isSome(inherited) && inherited.value <= deadline) {
        return bounded(runtime, clock, caller, self, own, "total", provider)
      }
      // The deadline is set in the work's fiber alone, as it starts: the caller's refs are untouched.
      return guard(runtime, clock, caller, self, own, () => timeoutError("total", own, provider), (refs, fiberId) =>
        FiberRefs.updateManyAs(refs, {
          entries: [
            [Deadline.currentDeadline, [[fiberId, Option.some(deadline)]]],
            [currentTotal, [[fiberId, Option.some({ deadline, after: own })]]]
          ]
        }))
    })
})

const providerOf = (module: string, options: TimeoutOptions | undefined): string | undefined =>
  options?.provider === undefined ? undefined : Options.nonEmptyString({ module, option: "provider" }, options.provider)

/** @internal */
export const remaining: Effect.Effect<Option.Option<Duration.Duration>> = Deadline.remaining
