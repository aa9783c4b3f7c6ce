import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"

/**
 * `Effect.onExit` for a caller already inside `Effect.uninterruptibleMask` (which `self` is restored
 * in): the same outcome, without `onExit`'s own mask, which a guard's hot path would pay twice.
 */
export const onExitMasked = <A, E, R, R2>(
  self: Effect.Effect<A, E, R>,
  cleanup: (exit: Exit.Exit<A, E>) => Effect.Effect<void, never, R2>
): Effect.Effect<A, E, R | R2> =>
  Effect.matchCauseEffect(self, {
    onFailure: (cause) => {
      const result = Exit.failCause(cause)
      return Effect.matchCauseEffect(cleanup(result), {
        onFailure: (cleanupCause) => Exit.failCause(Cause.sequential(cause, cleanupCause)),
        onSuccess: () => result
      })
    },
    onSuccess: (value) => {
      const result = Exit.succeed(value)
      return Effect.zipRight(cleanup(result), result)
    }
  })
