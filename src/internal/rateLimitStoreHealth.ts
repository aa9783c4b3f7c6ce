import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as metrics from "./rateLimitMetrics.js"
import { tagged } from "./taggedMetric.js"

/**
 * How a limiter or a gate treats a store it cannot reach: `"allow"` lets the call through unlimited
 * (fail open), `"reject"` refuses it (fail closed).
 */
export type StoreErrorPolicy = "allow" | "reject"

/**
 * What a guard does while its store is down: its `StoreErrorPolicy`, or, for the adaptive limiter,
 * go on pacing from what it learned itself (`"local"`).
 */
export type StoreDownBehaviour = StoreErrorPolicy | "local"

const whileDown: Record<StoreDownBehaviour, string> = {
  allow: "letting calls through unlimited (fail open)",
  reject: "refusing calls (fail closed)",
  local: "pacing calls from what this limiter learned alone"
}

/** After a store error, the store is skipped for this long, so an outage costs one timeout, not one per call. */
export const storeCooldownMillis = 1_000

/**
 * Tracks whether a store answers. `call` runs a store operation and returns `None` when the store is
 * down (the operation failed, or one failed less than `storeCooldownMillis` ago): the caller then
 * does what its `StoreDownBehaviour` says. The outage is logged once when it starts and once when it ends.
 */
export interface StoreHealth {
  readonly call: <A, E>(operation: Effect.Effect<A, E>) => Effect.Effect<Option.Option<A>>
}

const messageOf = (u: unknown): string | undefined =>
  Predicate.hasProperty(u, "message") && typeof u.message === "string" && u.message !== "" ? u.message : undefined

/** "Failed to execute ...: connect ECONNREFUSED 127.0.0.1:6379": the store's error and its cause. */
const describe = (error: unknown): string => {
  const own = messageOf(error) ?? String(error)
  const cause = Predicate.hasProperty(error, "cause") ? messageOf(error.cause) : undefined
  return cause === undefined ? own : `${own}: ${cause}`
}

export const makeStoreHealth = (
  kind: "limiter" | "gate" | "adaptive limiter",
  name: string,
  policy: StoreDownBehaviour
): StoreHealth => {
  let downUntil = 0
  let down = false
  const errors = tagged(metrics.storeErrorsTotal, { limiter: name })
  const annotations = { limiter: name, store: kind, onStoreError: policy }
  const onFailure = (error: unknown) =>
    Effect.flatMap(Clock.currentTimeMillis, (now) => {
      downUntil = now + storeCooldownMillis
      const log = down ? Effect.void : Effect.logWarning(
        `rate-limit ${kind} store for ${name} is unreachable; ${whileDown[policy]}`
      ).pipe(Effect.annotateLogs({ ...annotations, error: describe(error) }))
      down = true
      return Effect.as(Effect.zipRight(Metric.increment(errors), log), Option.none())
    })
  const onSuccess = <A>(a: A) => {
    if (!down) return Effect.succeed(Option.some(a))
    down = false
    return Effect.as(
      Effect.annotateLogs(Effect.logInfo(`rate-limit ${kind} store for ${name} answers again`), annotations),
      Option.some(a)
    )
  }
  return {
    call: (operation) =>
      Effect.clockWith((clock) =>
        clock.unsafeCurrentTimeMillis() < downUntil
          ? Effect.succeedNone
          : Effect.matchEffect(operation, { onFailure, onSuccess })
      )
  }
}
