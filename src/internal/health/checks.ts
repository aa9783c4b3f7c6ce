import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type { Bulkhead } from "../../Bulkhead.js"
import type * as CircuitBreaker from "../../CircuitBreaker.js"
import type * as Api from "../../Health.js"
import type { Gate } from "../../RateLimit.js"

/** The status a breaker's state stands for: only an open or isolated breaker is down. */
export const breakerStatus = (snapshot: CircuitBreaker.Snapshot): Api.Observed => {
  switch (snapshot.state) {
    case "closed":
      return { status: "up" }
    case "half-open":
      return { status: "degraded", detail: "half-open: probing" }
    case "open":
      return {
        status: "down",
        detail: snapshot.retryAfter === undefined
          ? "open"
          : `open, next probe in ${Duration.format(snapshot.retryAfter)}`
      }
    case "isolated":
      return { status: "down", detail: "isolated" }
  }
}

export const breaker = (breaker: CircuitBreaker.CircuitBreaker): Api.Check => ({
  name: breaker.name,
  kind: "breaker",
  status: Effect.map(breaker.snapshot, breakerStatus),
  breakers: Effect.map(breaker.snapshot, (snapshot) => [snapshot])
})

/**
 * Keyed breakers (one per tenant, host...) are one check: one key's open breaker is that key's
 * downstream failing, not this instance, so the check is at worst degraded.
 */
export const keyedBreakers = (name: string, snapshots: Effect.Effect<ReadonlyArray<CircuitBreaker.Snapshot>>): Api.Check => ({
  name,
  kind: "keyed-breakers",
  status: Effect.map(snapshots, (all) => {
    const notClosed = all.filter((snapshot) => snapshot.state !== "closed").length
    return notClosed === 0
      ? { status: "up", detail: `${all.length} keys` }
      : { status: "degraded", detail: `${notClosed} of ${all.length} keys not closed` }
  }),
  breakers: snapshots
})

/** A bulkhead is degraded while its queue is full (calls are being shed), else up. */
export const bulkhead = (bulkhead: Bulkhead): Api.Check => ({
  name: bulkhead.name,
  kind: "bulkhead",
  status: Effect.map(bulkhead.stats, (stats): Api.Observed => {
    const detail = `${stats.active}/${stats.maxConcurrent} active, ${stats.queued}/${stats.maxQueued} queued`
    return stats.active >= stats.maxConcurrent && stats.queued >= stats.maxQueued
      ? { status: "degraded", detail: `full: ${detail}` }
      : { status: "up", detail }
  })
})

/** A gate closed by a `Retry-After` is degraded (callers wait); the provider answered, so never down. */
export const gate = (gate: Gate): Api.Check => ({
  name: gate.name,
  kind: "gate",
  status: Effect.map(gate.closedFor(), (closed): Api.Observed =>
    Option.isNone(closed)
      ? { status: "up" }
      : { status: "degraded", detail: `closed by Retry-After for ${Duration.format(closed.value)}` })
})
