/**
 * Provider scenarios: the same workload through a naive client (the README's hand-made stack:
 * attempt timeout, 4 jittered retries, a 10 s total deadline) and through the default provider
 * policy (`HttpProvider.make` without `policy`), side by side in one run.
 *
 * 1. A real HTTP server on 127.0.0.1 allowing 5 requests/s (burst 2), 429 + `Retry-After: 1`;
 *    50 concurrent logical calls. Real time: about 10 s per client.
 * 2. A tokens-per-minute provider (10,000 tokens/min, calls of 500-2,000 tokens, OpenAI-style headers),
 *    8 callers in a loop for 5 minutes of virtual time.
 * 3. Throttled for 20 s (`Retry-After: 2`) within 100 s of traffic, 1000 calls, virtual time.
 * 4. A 100% outage, 1000 calls over 100 s, virtual time.
 *
 * Run: `node --import tsx bench/scenarios/run.ts [--full]` (part of `npm run bench`). By default only
 * scenarios 1 and 2 run and the table is printed, not written (scenarios 3 and 4 are most of the CPU
 * time, and the run must fit in 5 minutes on a busy 2-core machine). With `--full` all four run and
 * the table goes to bench/results/provider-scenarios.{json,md}, which the docs quote.
 */
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { Clock, Duration, Effect, Fiber, Metric, Random, Schema, type Scope } from "effect"
import * as HttpClient from "@effect/platform/HttpClient"
import { Backoff, HttpProvider, RateLimit, Retry, Timeout } from "effect-resilience"
import { FakeProvider } from "effect-resilience/testing"
import * as Models from "./providers.js"
import { markdownTable, type Row, writeResults } from "./results.js"
import { runVirtual } from "./virtualTime.js"

const Ok = Schema.Struct({ ok: Schema.Boolean })

type Client = "naive" | "library"

const full = process.argv.includes("--full")

/** The README's hand-made stack, as a new user would write it. */
const naivePolicy: HttpProvider.Policy<HttpProvider.RequestError> = (self) =>
  self.pipe(
    Timeout.attempt("2 seconds"),
    Retry.transient({
      times: 4,
      backoff: Backoff.exponential({ base: "200 millis", cap: "5 seconds" }).pipe(Backoff.fullJitter)
    }),
    Timeout.total("10 seconds")
  )
const naiveTotalMillis = 10_000
/** `Policy.provider`'s default total deadline (docs/Policy.md). */
const libraryTotalMillis = 30_000

const makeClient = (client: Client, name: string, baseUrl: string) =>
  client === "naive"
    ? HttpProvider.make({ name, baseUrl, policy: naivePolicy })
    : HttpProvider.make({ name, baseUrl })

interface Outcome {
  readonly startedAt: number
  readonly endedAt: number
  readonly ok: boolean
}

const timed = <E, R>(call: Effect.Effect<unknown, E, R>): Effect.Effect<Outcome, never, R> =>
  Effect.gen(function*() {
    const startedAt = yield* Clock.currentTimeMillis
    const ok = yield* call.pipe(Effect.as(true), Effect.catchAll(() => Effect.succeed(false)))
    return { startedAt, endedAt: yield* Clock.currentTimeMillis, ok }
  })

/** Runs `program` in virtual time (see virtualTime.ts). */
const virtually = <A, E>(program: Effect.Effect<A, E, Scope.Scope>): Effect.Effect<A, E> =>
  Effect.flatten(Effect.promise(() => runVirtual(Effect.scoped(program))))

const breakerOpenings = (provider: string): Effect.Effect<number> =>
  Effect.map(Metric.snapshot, (pairs) => {
    let opened = 0
    for (const pair of pairs) {
      if (pair.metricKey.name !== "resilience_breaker_transitions_total") continue
      const tags = Object.fromEntries(pair.metricKey.tags.map((label) => [label.key, label.value]))
      if (tags.to === "open" && String(tags.breaker).startsWith(provider)) {
        opened += (pair.metricState as unknown as { count: number }).count
      }
    }
    return opened
  })

// 1 ------------------------------------------------------------------------------------------------

const realRateLimited = (client: Client) =>
  Effect.gen(function*() {
    const model = Models.requestBucket({ rate: 5, burst: 2, retryAfterSeconds: 1 })
    const server = yield* FakeProvider.make({
      routes: [{
        method: "GET",
        path: "/v1/quote",
        handler: () => Effect.map(Clock.currentTimeMillis, (now) => model.answer(now, 1))
      }]
    })
    const provider = yield* makeClient(client, `s1-${client}`, server.url)
    const started = yield* Clock.currentTimeMillis
    const outcomes = yield* Effect.forEach(
      Array.from({ length: 50 }, () => provider.get("/v1/quote", { response: Ok })),
      timed,
      { concurrency: "unbounded" }
    )
    const wallMillis = (yield* Clock.currentTimeMillis) - started
    return { model, outcomes, wallMillis }
  }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layerUndici))

// 2 ------------------------------------------------------------------------------------------------

const tokensPerMinute = (client: Client) =>
  virtually(Effect.gen(function*() {
    const perMinute = 10_000
    const minutes = 5
    const model = Models.tokensPerMinute({ perMinute })
    const origin = yield* Clock.currentTimeMillis
    const provider = yield* makeClient(client, `s2-${client}`, "http://llm.test").pipe(
      Effect.provideService(HttpClient.HttpClient, Models.virtualClient(model, "200 millis", origin))
    )
    const end = origin + minutes * 60_000
    const caller = Effect.gen(function*() {
      const outcomes: Array<Outcome> = []
      while ((yield* Clock.currentTimeMillis) < end) {
        const cost = yield* Random.nextIntBetween(500, 2001)
        const call = provider.post("/v1/complete", {
          request: Schema.Struct({ tokens: Schema.Number }),
          body: { tokens: cost },
          headers: { [Models.costHeader]: String(cost) },
          response: Ok
        })
        const outcome = yield* timed(client === "library" ? call.pipe(RateLimit.withCost(cost)) : call)
        outcomes.push(outcome)
        // a caller told "not now" (a local refusal fails at once) comes back a second later, not in a
        // busy loop at the same instant
        if (!outcome.ok) yield* Effect.sleep("1 second")
      }
      return outcomes
    })
    const outcomes = (yield* Effect.all(Array.from({ length: 8 }, () => caller), { concurrency: "unbounded" })).flat()
    // The bucket starts full: the most a client can get is that plus the refill over the run.
    return { model, outcomes, throughput: model.tally.unitsServed / (perMinute * (minutes + 1)) }
  }).pipe(Effect.withRandom(Random.make(2026))))

// 3 and 4 ------------------------------------------------------------------------------------------

/** 1000 calls, one every 100 ms of virtual time, against `model`. */
const steadyTraffic = (client: Client, name: string, model: Models.Model) =>
  virtually(Effect.gen(function*() {
    const origin = yield* Clock.currentTimeMillis
    const provider = yield* makeClient(client, name, "http://provider.test").pipe(
      Effect.provideService(HttpClient.HttpClient, Models.virtualClient(model, "50 millis", origin))
    )
    const fibers = []
    for (let i = 0; i < 1000; i++) {
      fibers.push(yield* Effect.fork(timed(provider.get("/v1/item", { response: Ok }))))
      yield* Effect.sleep("100 millis")
    }
    const outcomes = (yield* Fiber.joinAll(fibers)).map((o) => ({ ...o, startedAt: o.startedAt - origin }))
    return { model, outcomes, opened: yield* breakerOpenings(name) }
  }).pipe(Effect.withRandom(Random.make(7))))

const throttle = { from: 20_000, to: 40_000, retryAfterSeconds: 2 }

// -------------------------------------------------------------------------------------------------

const failed = (outcomes: ReadonlyArray<Outcome>) => outcomes.filter((o) => !o.ok).length

/** One figure of a scenario, naive client and provider policy side by side. */
const row = (scenario: string, figure: string, naive: string | number, library: string | number, target = ""): Row => ({
  scenario,
  figure,
  naive,
  library,
  target
})

const program = Effect.gen(function*() {
  const rows: Array<Row> = []
  // real seconds per scenario, so a slow one shows in the log
  const pair = <A>(scenario: number, f: (client: Client) => Effect.Effect<A, unknown>) =>
    Effect.all([f("naive"), f("library")] as const).pipe(
      Effect.timed,
      Effect.map(([elapsed, both]) => {
        console.log(`scenario ${scenario}: ${(Duration.toMillis(elapsed) / 1000).toFixed(1)} s`)
        return both
      })
    )

  const [n1, l1] = yield* pair(1, realRateLimited)
  const minimum = ((50 - 2) / 5) * 1000
  const after429 = (tally: Models.Tally) => Math.max(0, tally.rateLimited - 1)
  rows.push(
    row(
      "1. 5 req/s, burst 2, 429 + Retry-After: 1; 50 concurrent calls (real HTTP)",
      "succeeded / 50",
      50 - failed(n1.outcomes),
      50 - failed(l1.outcomes),
      "50"
    ),
    row("", "requests the server saw", n1.model.tally.requests, l1.model.tally.requests),
    row("", "429s after the first", after429(n1.model.tally), after429(l1.model.tally), "<= 3"),
    row(
      "",
      `wall time / minimum (${minimum / 1000} s)`,
      ratio(n1.wallMillis / minimum),
      ratio(l1.wallMillis / minimum),
      "<= 1.15"
    )
  )

  const [n2, l2] = yield* pair(2, tokensPerMinute)
  const okFailed = (outcomes: ReadonlyArray<Outcome>) =>
    `${outcomes.length - failed(outcomes)} / ${failed(outcomes)}`
  rows.push(
    row(
      "2. 10,000 tokens/min, calls of 500-2,000 tokens, 8 callers, 5 min (virtual time)",
      "429s after the first headers",
      n2.model.tally.rateLimitedAfterHeaders,
      l2.model.tally.rateLimitedAfterHeaders,
      "0"
    ),
    row("", "throughput / limit", percent(n2.throughput), percent(l2.throughput), ">= 90%"),
    row("", "logical calls ok / failed", okFailed(n2.outcomes), okFailed(l2.outcomes))
  )
  if (!full) {
    console.log(`\n${markdownTable(rows)}\n`)
    console.log("Scenarios 1 and 2 only, not written: `npm run bench -- --full` runs all four and writes them.")
    return
  }

  const [n3, l3] = yield* pair(3, (client) => steadyTraffic(client, `s3-${client}`, Models.throttledBetween(throttle)))
  const failedWithRoom = (outcomes: ReadonlyArray<Outcome>, totalMillis: number) =>
    outcomes.filter((o) => !o.ok && o.startedAt + totalMillis >= throttle.to + throttle.retryAfterSeconds * 1000).length
  rows.push(
    row(
      "3. throttled 20 s with Retry-After: 2, 1000 calls over 100 s (virtual time)",
      "calls failed whose deadline allowed the wait",
      failedWithRoom(n3.outcomes, naiveTotalMillis),
      failedWithRoom(l3.outcomes, libraryTotalMillis),
      "0"
    ),
    row("", "breaker openings", "no breaker", l3.opened, "0"),
    row("", "calls failed (all)", failed(n3.outcomes), failed(l3.outcomes)),
    row("", "requests the provider saw", n3.model.tally.requests, l3.model.tally.requests)
  )

  const [n4, l4] = yield* pair(4, (client) => steadyTraffic(client, `s4-${client}`, Models.outage()))
  rows.push(
    row(
      "4. 100% outage, 1000 calls over 100 s (virtual time)",
      "provider calls per logical call",
      (n4.model.tally.requests / 1000).toFixed(3),
      (l4.model.tally.requests / 1000).toFixed(3),
      "<= 0.02"
    )
  )
  yield* Effect.promise(() => writeResults("provider-scenarios", rows))
})

const ratio = (x: number) => `${x.toFixed(2)}x`
const percent = (x: number) => `${(x * 100).toFixed(1)}%`

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
