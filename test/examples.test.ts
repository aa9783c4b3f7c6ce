/**
 * Runs every example as a program, as `npx tsx examples/<name>.ts` runs it from the repository root
 * (compiled by `compile` in test/support/runScript.ts, then a Node process of its own), and checks that
 * it exits 0 and prints the lines that tell its story. Each talks only to servers it starts on 127.0.0.1, or to nothing; each takes a few
 * seconds of real time.
 */
import { beforeAll, describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import { compile, missingLine, queueTimeout, root, run, runTimeout } from "./support/runScript.js"

// For each example, lines its output must hold, in order (`...` stands for any text).
const examples: Record<string, ReadonlyArray<string>> = {
  "quickstart.ts": ["charged ch_1 (500 cents), after 3 calls"],
  "payments.ts": [
    "   charged ch_1; the provider saw 3 requests, 1 charge in total: every retry re-sent the same key",
    "   charged ch_2; the provider saw 6 requests, 2 charges in total",
    "   Unavailable: payments is unavailable: connection reset (ECONNRESET); the provider saw 7 requests, 3 charges in total",
    "   InvalidRequest: request to payments failed its schema and was not sent: amount: Expected a positive number, actual -5",
    "   the provider saw 7 requests, 3 charges in total"
  ],
  "auth-fallback.ts": [
    "   alice, checked by the auth provider",
    "...refreshed them and re-sending once...",
    "   alice, checked by the auth provider; access tokens issued: 2",
    "   alice, checked locally (provider answered 503)",
    "   alice, checked locally (breaker open, next try in ...)",
    "   alice, checked by the auth provider",
    "   refused by the auth provider",
    "   refused locally: bad signature",
    "breaker closed; it refused ... checks without calling the provider"
  ],
  "multi-tenant.ts": [
    "   tenant-a: 10 served, 30 refused with RateLimited",
    "   tenant-b: 5 served, 0 refused with RateLimited",
    "   tenant-c: 5 served, 0 refused with RateLimited",
    "   tenant-a: 4 ran (2 at a time, 2 queued), 4 refused with BulkheadFull",
    "   tenant-b: 2 of 2 ran, untouched by tenant-a",
    "   tenant-a: partner rate limited the call (provider); retry after 500ms",
    "   the partner saw 5 calls: one 429, then one call per waiting sync"
  ],
  "storage-upload.ts": [
    "   photo-1.jpg: stored",
    "   photo-3.jpg: stored",
    "   photo-4.jpg: kept in the local spool (Unavailable)",
    "   photo-8.jpg: kept in the local spool (CircuitOpen)",
    "   breaker: open; 5 photos in the spool",
    "   photo-4.jpg: sent from the spool",
    "   photo-8.jpg: sent from the spool",
    "the store holds 8 photos; breaker closed; ... requests reached it"
  ],
  "http-endpoint.ts": [
    `   GET /recommendations -> 200 {"items":[{"sku":"sku-7","title":"Trail shoes"},...],"source":"catalog"}`,
    `   GET /prices/sku-7 -> 200 {"sku":"sku-7","cents":8900}`,
    `   GET /recommendations -> 200 {"items":[{"sku":"sku-1","title":"Gift card"}],"source":"defaults (CircuitOpen)"}`,
    `   GET /prices/sku-7 -> 503 (Retry-After: ...) {"error":"prices are unavailable at the moment"}`,
    `   GET /prices/sku-7 -> 200 {"sku":"sku-7","cents":8900}`,
    `   GET /recommendations -> 200 {"items":[{"sku":"sku-7","title":"Trail shoes"},...],"source":"catalog"}`
  ],
  "health-checks.ts": [
    "1. The provider answers: the service is ready.",
    "GET /health/ready -> 200",
    "2. The provider is down and the breaker opened: not ready (503), still live.",
    "GET /health/ready -> 503",
    "GET /health/live -> 200",
    "GET /health/breakers -> 200",
    "3. The break is over, a probe succeeded, the breaker closed: ready again.",
    "GET /health/ready -> 200"
  ],
  "llm-stream.ts": [
    "Resilience is a ...",
    "...stream that keeps its place.",
    "whole reply, no token twice: true",
    "usage reported to the limiter at the end: 20 tokens (100 were reserved)"
  ],
  "observability.ts": [
    `The call answered {"ok":true} after a 429 and a 503.`,
    "  payments GET /v1/ping...",
    `...resilience_retry_retries_total{policy="payments"...`
  ],
  "policy-provider.ts": [
    "   charged ch_1; the provider saw 4 requests",
    "   Timeout: reports did not answer within 1s (attempt timeout)",
    "   Timeout, CircuitOpen (the second call was rejected at once)"
  ],
  "provider-wrapper.ts": [
    "EU card, in our words: c-eu-1 (todo, due 2027-01-15)",
    "US card, with the US account: c-us-1 (doing, no due date)",
    "moved after one 401 and one refresh: c-eu-1 (doing, due 2027-01-15)",
    "read with the new key: c-eu-1 (doing, due 2027-01-15)",
    "a card Boardly sends in a shape we do not accept: boardly answered 200 with a body that does not match its schema: ...",
    "quota exhausted is not retried: boardly rejected the request with 429: daily quota exhausted"
  ]
}

describe.concurrent("examples", () => {
  let programs: ReadonlyMap<string, string> = new Map()
  beforeAll(async () => {
    programs = await compile("examples", Object.keys(examples).map((example) => `examples/${example}`))
  })

  it("every example is run here", () => {
    const files = fs.readdirSync(path.join(root, "examples")).filter((name) => name.endsWith(".ts"))
    expect(files.filter((name) => !(name in examples))).toEqual([])
  })

  for (const [example, lines] of Object.entries(examples)) {
    it(`examples/${example} runs and prints its story`, async () => {
      const { code, stderr, stdout } = await run(programs.get(`examples/${example}`)!, runTimeout)
      expect(stderr, stdout).toBe("")
      expect(code).toBe(0)
      expect(missingLine(stdout, lines), stdout).toBeUndefined()
      // what a person reads: no raw Effect data structures
      expect(stdout).not.toMatch(/_id: '|"_id":/)
    }, queueTimeout(Object.keys(examples).length))
  }
})
