import * as Metric from "effect/Metric"
import * as metrics from "./rateLimitMetrics.js"
import * as storeOutage from "./storeOutage.js"
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

/** A limiter's or a gate's `StoreOutage`: its log lines name it, and each failed operation is counted. */
export const makeStoreHealth = (
  kind: "limiter" | "gate" | "adaptive limiter",
  name: string,
  policy: StoreDownBehaviour
): storeOutage.StoreOutage =>
  storeOutage.make(
    `rate-limit ${kind} store for ${name}`,
    whileDown[policy],
    { limiter: name, store: kind, onStoreError: policy },
    Metric.increment(tagged(metrics.storeErrorsTotal, { limiter: name }))
  )
