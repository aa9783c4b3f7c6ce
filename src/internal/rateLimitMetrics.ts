import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import { tagged } from "./taggedMetric.js"

/** The metrics of limiters and gates, all tagged `limiter` with the guard's name. */
export const admittedTotal = Metric.counter("resilience_ratelimit_admitted_total", {
  description: "Calls that took a token and ran",
  incremental: true
})

export const rejectedTotal = Metric.counter("resilience_ratelimit_rejected_total", {
  description: "Calls refused with RateLimited before running (reason: limit, wait, store, gate)",
  incremental: true
})

export const refundedTotal = Metric.counter("resilience_ratelimit_refunded_total", {
  description: "Tokens given back because the call was interrupted or gave up before it ran",
  incremental: true
})

export const waitMillis = Metric.histogram(
  "resilience_ratelimit_wait_millis",
  MetricBoundaries.exponential({ start: 1, factor: 4, count: 10 }),
  "How long delayed calls waited for their token"
)

export const storeErrorsTotal = Metric.counter("resilience_ratelimit_store_errors_total", {
  description: "Rate-limit store operations that failed or timed out (Redis unreachable, ...)",
  incremental: true
})

export const gateClosedTotal = Metric.counter("resilience_ratelimit_gate_closed_total", {
  description: "Times a gate was closed or its closing extended by a provider's Retry-After",
  incremental: true
})

export const gateWaiting = Metric.gauge("resilience_ratelimit_gate_waiting", {
  description: "Callers currently waiting for a gate to reopen"
})

export type RejectReason = "limit" | "wait" | "store" | "gate"

export const rejected = (name: string, reason: RejectReason) => tagged(rejectedTotal, { limiter: name, reason })

/** The adaptive limiter's learned values, tagged `limiter` (the name) like the metrics above. */
export const adaptiveRate = Metric.gauge("resilience_ratelimit_adaptive_rate", {
  description: "Requests per second the adaptive limiter paces at (0 while it does not pace)"
})

export const adaptiveUnitRate = Metric.gauge("resilience_ratelimit_adaptive_unit_rate", {
  description: "Units (e.g. tokens) per second the adaptive limiter paces at (0 while it does not pace)"
})

export const adaptiveConcurrency = Metric.gauge("resilience_ratelimit_adaptive_concurrency", {
  description: "The adaptive limiter's concurrency window"
})

export const adaptiveInFlight = Metric.gauge("resilience_ratelimit_adaptive_in_flight", {
  description: "Calls admitted by the adaptive limiter and still running"
})

export const adaptiveWaiting = Metric.gauge("resilience_ratelimit_adaptive_waiting", {
  description: "Callers queued in the adaptive limiter"
})

export const adaptiveDecreasesTotal = Metric.counter("resilience_ratelimit_adaptive_decreases_total", {
  description: "Times the adaptive limiter cut its rate after a throttle (one per wave of 429s)",
  incremental: true
})
