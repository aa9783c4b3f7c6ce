import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import { storeCooldownMillis } from "./rateLimitStoreHealth.js"

/**
 * Runs the store operations of a guard that keeps serving while its store is down (the last-known-good
 * cache, the queue's dead letters): `call` returns `None` when the operation failed or one failed less
 * than `storeCooldownMillis` ago, so an outage costs one timeout, not one per call. The outage is
 * logged once when it starts and once when it ends: a line per call would flood the logs exactly when
 * an operator reads them.
 */
export interface StoreOutage {
  readonly call: <A, E, R>(operation: Effect.Effect<A, E, R>) => Effect.Effect<Option.Option<A>, never, R>
}

const describe = (u: unknown): string => {
  const own = Predicate.hasProperty(u, "message") && typeof u.message === "string" && u.message !== ""
    ? u.message
    : String(u)
  const cause = Predicate.hasProperty(u, "cause") && Predicate.hasProperty(u.cause, "message")
    ? String(u.cause.message)
    : undefined
  return cause === undefined ? own : `${own}: ${cause}`
}

export const make = (what: string, whileDown: string, annotations: Record<string, string>): StoreOutage => {
  let down = false
  let downUntil = 0
  const onFailure = (error: unknown) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      downUntil = now + storeCooldownMillis
      const log = down ? Effect.void : Effect.logWarning(`${what} is unreachable; ${whileDown}`).pipe(
        Effect.annotateLogs({ ...annotations, error: describe(error) })
      )
      down = true
      return Effect.as(log, Option.none())
    })
  const onSuccess = <A>(a: A) => {
    if (!down) return Effect.succeed(Option.some(a))
    down = false
    return Effect.as(Effect.annotateLogs(Effect.logInfo(`${what} answers again`), annotations), Option.some(a))
  }
  return {
    call: (operation) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) =>
        now < downUntil ? Effect.succeedNone : Effect.matchEffect(operation, { onFailure, onSuccess }))
  }
}
