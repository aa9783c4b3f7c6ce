import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"

/**
 * `Effect.onExit` for a caller already inside `Effect.uninterruptibleMask` (which `self` is restored
 * in): the same outcome, without `onExit`'s own mask, which a guard's hot path would pay twice.
 *
 * `cleanup` may do its work synchronously and return `undefined`: the exit is then returned in the
 * same step of the run loop (a guard giving back a slot, a breaker counting a call).
 */
export const onExitMasked = <A, E, R, R2>(
  self: Effect.Effect<A, E, R>,
  cleanup: (exit: Exit.Exit<A, E>) => Effect.Effect<void, never, R2> | undefined
): Effect.Effect<A, E, R | R2> =>
  Effect.matchCauseEffect(self, {
    onFailure: (cause) => {
      const exit = Exit.failCause(cause)
      return after(cleanup(exit), exit)
    },
    onSuccess: (value) => {
      const exit = Exit.succeed(value)
      return after(cleanup(exit), exit)
    }
  })

/** `exit` after `cleanup`; a failing cleanup's cause comes after the exit's own. */
const after = <A, E, R>(cleanup: Effect.Effect<void, never, R> | undefined, exit: Exit.Exit<A, E>): Effect.Effect<A, E, R> =>
  cleanup === undefined
    ? exit
    : Exit.isSuccess(exit)
    ? Effect.zipRight(cleanup, exit)
    : Effect.matchCauseEffect(cleanup, {
      onFailure: (cleanupCause) => Exit.failCause(Cause.sequential(exit.cause, cleanupCause)),
      onSuccess: () => exit
    })
