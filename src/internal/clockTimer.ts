import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DefaultServices from "effect/DefaultServices"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as FiberId from "effect/FiberId"
import * as Runtime from "effect/Runtime"

/** Stops a timer that has not fired; after it fires, does nothing. */
export type Cancel = () => void

const liveClock = Context.get(DefaultServices.liveServices, Clock.Clock)

/**
 * Calls `onFire` once `limit` has passed on `clock`, unless cancelled first. On Effect's live clock
 * this is what its `sleep` does underneath: a `setTimeout` (every duration option is at most 24
 * days, within what a timer can wait), without a fiber to run the sleep in, which was most of what a timeout cost when its work
 * was asynchronous. On any other clock (`TestClock`, a user's own) a fiber sleeps on that clock, so
 * the clock alone decides when the time has come; `cancel` interrupts it as `by`.
 */
export const start = <R>(
  runtime: Runtime.Runtime<R>,
  clock: Clock.Clock,
  limit: Duration.Duration,
  by: FiberId.FiberId,
  onFire: () => void
): Cancel => {
  if (clock === liveClock) {
    const handle = setTimeout(onFire, Duration.toMillis(limit))
    return () => clearTimeout(handle)
  }
  // Interruptible even for a caller in an uninterruptible region, so the timer stops when cancelled.
  const sleeper = Runtime.runFork(runtime, Effect.interruptible(clock.sleep(limit)))
  const fired = (exit: Exit.Exit<void>) => {
    if (Exit.isSuccess(exit)) onFire()
  }
  sleeper.addObserver(fired)
  return () => {
    sleeper.removeObserver(fired)
    sleeper.unsafeInterruptAsFork(by)
  }
}
