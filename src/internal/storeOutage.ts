import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"

/** After a store error, the store is skipped for this long, so an outage costs one timeout, not one per call. */
export const storeCooldownMillis = 1_000

/**
 * Runs the store operations of a guard that keeps serving while its store is down (a limiter or a gate
 * on its `onStoreError`, the last-known-good cache, the queue's dead letters): `call` returns `None`
 * when the operation failed or one failed less than `storeCooldownMillis` ago, so an outage costs one
 * timeout, not one per call. The outage is logged once when it starts and once when it ends: a line
 * per call would flood the logs exactly when an operator reads them.
 */
export interface StoreOutage {
  readonly call: <A, E, R>(operation: Effect.Effect<A, E, R>) => Effect.Effect<Option.Option<A>, never, R>
}

const messageOf = (u: unknown): string | undefined =>
  Predicate.hasProperty(u, "message") && typeof u.message === "string" && u.message !== "" ? u.message : undefined

/** "Failed to execute ...: connect ECONNREFUSED 127.0.0.1:6379": the store's error and its cause. */
const describe = (error: unknown): string => {
  const own = messageOf(error) ?? String(error)
  const cause = Predicate.hasProperty(error, "cause") ? messageOf(error.cause) : undefined
  return cause === undefined ? own : `${own}: ${cause}`
}

/**
 * `what` names the store in the two log lines ("`what` is unreachable; `whileDown`", "`what` answers
 * again"), both annotated with `annotations`; `onError` runs on every failed operation (a counter).
 */
export const make = (
  what: string,
  whileDown: string,
  annotations: Record<string, string>,
  onError: Effect.Effect<void> = Effect.void
): StoreOutage => {
  let down = false
  let downUntil = 0
  const onFailure = (error: unknown) =>
    Effect.clockWith((clock) => {
      downUntil = clock.unsafeCurrentTimeMillis() + storeCooldownMillis
      const log = down ? Effect.void : Effect.logWarning(`${what} is unreachable; ${whileDown}`).pipe(
        Effect.annotateLogs({ ...annotations, error: describe(error) })
      )
      down = true
      return Effect.as(Effect.zipRight(onError, log), Option.none())
    })
  const onSuccess = <A>(a: A) => {
    if (!down) return Effect.succeed(Option.some(a))
    down = false
    return Effect.as(Effect.annotateLogs(Effect.logInfo(`${what} answers again`), annotations), Option.some(a))
  }
  return {
    // the clock is read in the step that decides, as the limiters' hot path goes through here
    call: (operation) =>
      Effect.clockWith((clock) =>
        clock.unsafeCurrentTimeMillis() < downUntil
          ? Effect.succeedNone
          : Effect.matchEffect(operation, { onFailure, onSuccess })
      )
  }
}
