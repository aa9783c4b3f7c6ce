import * as Effect from "effect/Effect"
import * as Predicate from "effect/Predicate"

/**
 * Logs a store outage once when it starts and once when it ends, however many calls run into it: the
 * last-known-good cache and the queue for later keep serving through one, so a log line per call would
 * flood the logs exactly when an operator reads them.
 */
export interface OutageLog {
  readonly failed: (error: unknown) => Effect.Effect<void>
  readonly succeeded: Effect.Effect<void>
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

export const make = (what: string, whileDown: string, annotations: Record<string, string>): OutageLog => {
  let down = false
  return {
    failed: (error) =>
      Effect.suspend(() => {
        if (down) return Effect.void
        down = true
        return Effect.logWarning(`${what} is unreachable; ${whileDown}`).pipe(
          Effect.annotateLogs({ ...annotations, error: describe(error) })
        )
      }),
    succeeded: Effect.suspend(() => {
      if (!down) return Effect.void
      down = false
      return Effect.logInfo(`${what} answers again`).pipe(Effect.annotateLogs(annotations))
    })
  }
}
