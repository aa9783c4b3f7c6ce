/**
 * The figures the run ends with, for one client: from what its users went through (`workload.ts`)
 * and what its provider saw (`provider.ts`).
 */
import type { Tally } from "./provider.js"
import type { Record } from "./workload.js"

export interface Figures {
  /** Calls that ended during the run. */
  readonly calls: number
  /** Share of calls answered by the provider. */
  readonly successRate: number
  /** Share of calls answered at once from the last good quote, because a guard refused to call. */
  readonly fallbackRate: number
  /** Share of calls that ended in an error. */
  readonly failureRate: number
  readonly p50Millis: number
  readonly p99Millis: number
  /** Requests that reached the provider. */
  readonly providerRequests: number
  readonly providerRequestsPerCall: number
  /** 429s the provider answered after its first one, whose Retry-After said when to come back. */
  readonly rateLimitedAfterFirstRetryAfter: number
  /** From the end of the outage to the first answer from the provider; null if none came. */
  readonly recoverySeconds: number | null
}

const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!

const round = (n: number, digits: number) => Math.round(n * 10 ** digits) / 10 ** digits

export const compute = (record: Record, tally: Tally, outageEndMillis: number): Figures => {
  const calls = record.calls.length
  const latencies = record.calls.map((call) => call.endedAt - call.startedAt).sort((a, b) => a - b)
  const share = (n: number) => calls === 0 ? 0 : round(n / calls, 3)
  const firstAnswer = record.calls
    .filter((call) => call.outcome === "ok" && call.endedAt >= outageEndMillis)
    .reduce((first, call) => Math.min(first, call.endedAt), Infinity)
  return {
    calls,
    successRate: share(record.ok),
    fallbackRate: share(record.fallback),
    failureRate: share(record.failed),
    p50Millis: percentile(latencies, 0.5),
    p99Millis: percentile(latencies, 0.99),
    providerRequests: tally.requests,
    providerRequestsPerCall: calls === 0 ? 0 : round(tally.requests / calls, 2),
    rateLimitedAfterFirstRetryAfter: tally.rateLimitedAfterFirst,
    recoverySeconds: firstAnswer === Infinity ? null : round((firstAnswer - outageEndMillis) / 1000, 1)
  }
}
