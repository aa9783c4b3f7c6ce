/** The table printed at the end, and the same figures as JSON for `--json`. */
import type { Figures } from "./figures.js"
import type { Result } from "./run.js"

const percent = (share: number) => `${(share * 100).toFixed(1)} %`
const millis = (n: number) => n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`

const rows: ReadonlyArray<readonly [string, (figures: Figures) => string]> = [
  ["calls (ended during the run)", (f) => String(f.calls)],
  ["success rate (provider answered)", (f) => percent(f.successRate)],
  ["fallback (last quote, at once)", (f) => percent(f.fallbackRate)],
  ["failed", (f) => percent(f.failureRate)],
  ["latency p50", (f) => millis(f.p50Millis)],
  ["latency p99", (f) => millis(f.p99Millis)],
  ["provider requests per call", (f) => f.providerRequestsPerCall.toFixed(2)],
  ["429s after the first Retry-After", (f) => String(f.rateLimitedAfterFirstRetryAfter)],
  ["time to recover after the outage", (f) => f.recoverySeconds === null ? "never" : `${f.recoverySeconds.toFixed(1)} s`]
]

export const table = (result: Result): string => {
  const width = Math.max(...rows.map(([label]) => label.length)) + 2
  const line = (label: string, naive: string, library: string) =>
    `${label.padEnd(width)}${naive.padStart(14)}${library.padStart(20)}`
  return [
    line("", "naive fetch", "effect-resilience"),
    ...rows.map(([label, figure]) => line(label, figure(result.naive), figure(result.library)))
  ].join("\n")
}

/** What the rows mean, for a person reading the table for the first time. */
export const legend = `How to read it:
  success rate   calls the provider answered; failed calls ended in an error after their retries.
  fallback       the library refused to call (breaker open, limiter or bulkhead full) and the app
                 served the last quote it had, at once.
  latency        what a user waited for an answer, fallbacks included; the library's users wait out
                 a Retry-After or a retry where fetch gives up sooner.
  requests/call  load on the provider: every retry is one more request.
  429s after...  requests the provider had to turn away after it had said when to come back.
  recover        from the end of the outage to the first answer from the provider.`

export const json = (result: Result): string => JSON.stringify(result, null, 2) + "\n"
