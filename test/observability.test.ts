import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Equal, Fiber, HashMap, Metric, Option, Schema, TestClock } from "effect"
import { readdirSync, readFileSync } from "node:fs"
import * as Backoff from "../src/Backoff.js"
import * as Bulkhead from "../src/Bulkhead.js"
import * as CircuitBreaker from "../src/CircuitBreaker.js"
import { Unavailable } from "../src/Errors.js"
import * as Hedge from "../src/Hedge.js"
import * as HttpProvider from "../src/HttpProvider.js"
import * as LastKnownGood from "../src/LastKnownGood.js"
import * as QueueForLater from "../src/QueueForLater.js"
import * as RateLimit from "../src/RateLimit.js"
import * as Retry from "../src/Retry.js"
import * as Chaos from "../src/testing/Chaos.js"
import * as ScriptedHttpClient from "../src/testing/ScriptedHttpClient.js"
import * as Timeout from "../src/Timeout.js"
import { recordingTracer } from "./support/recordingTracer.js"

/** The names docs/Observability.md promises, read from its tables. */
const page = readFileSync("docs/Observability.md", "utf8")
const rowsOf = (pattern: RegExp) => Array.from(page.matchAll(pattern), (match) => match[1]!)
const documentedMetrics = rowsOf(/^\| `(resilience_[a-z_]+)` \|/gm)
const documentedSpans = rowsOf(/^\| span `([^`]+)` \|/gm)
const documentedEvents = rowsOf(/^\| event `([^`]+)` \|/gm)

const down = new Unavailable({ provider: "p", reason: "connection-refused" })

/** A store that never answers, as Redis down would. */
const failingBreakerStore: CircuitBreaker.Store = {
  sync: () => Effect.fail(new CircuitBreaker.StoreError({ operation: "sync" }))
}
const failingGateStore: RateLimit.GateStore = {
  closedFor: () => Effect.fail(new RateLimit.GateStoreError({ operation: "closedFor", cause: "down" })),
  close: () => Effect.fail(new RateLimit.GateStoreError({ operation: "close", cause: "down" }))
}

/** Runs `self` in a fiber while the TestClock moves by `adjust`, and returns its exit. */
const drive = <A, E, R>(self: Effect.Effect<A, E, R>, adjust: Duration.DurationInput = "2 minutes") =>
  Effect.gen(function*() {
    const fiber = yield* Effect.fork(Effect.exit(self))
    yield* TestClock.adjust(adjust)
    return yield* Fiber.join(fiber)
  })

/** Every guard once, so each documented metric, span and event gets its chance to appear. */
const everyGuard = Effect.gen(function*() {
  // A provider through the default policy: a 429, a 503, then an answer (retries, the gate, the
  // adaptive limiter, the breaker, the bulkhead, the attempt span).
  const payments = yield* HttpProvider.make({ name: "obs-payments", baseUrl: "https://payments.test" })
  yield* drive(
    payments.get("/v1/ping", { response: Schema.Struct({ ok: Schema.Boolean }) }).pipe(Effect.withSpan("checkout"))
  )

  // breaker transitions, and a breaker whose shared store is down
  const breaker = yield* CircuitBreaker.make({ name: "obs-ledger" })
  yield* breaker.isolate
  const shared = yield* CircuitBreaker.make({ name: "obs-shared" }).pipe(
    Effect.provideService(CircuitBreaker.Store, failingBreakerStore)
  )
  yield* Effect.exit(Effect.void.pipe(shared.protect))

  // a caller waiting at a closed gate, and a gate whose store is down
  const gate = yield* RateLimit.gate({ name: "obs-crm", key: "crm" }).pipe(Effect.provide(RateLimit.layerGateMemory))
  yield* gate.close("1 second")
  yield* drive(gate.protect(Effect.void), "2 seconds")
  const blind = yield* RateLimit.gate({ name: "obs-blind", key: "blind", onStoreError: "allow" }).pipe(
    Effect.provideService(RateLimit.GateStore, failingGateStore)
  )
  yield* blind.protect(Effect.void)

  // fixed limiters: one call admitted, one refused, one that would wait too long (its token refunded),
  // one that waits
  const limiter = yield* RateLimit.make({ name: "obs-api", key: "k", limit: 1, window: "1 minute", onExceeded: "fail" })
  yield* limiter.protect(Effect.void)
  yield* Effect.exit(limiter.protect(Effect.void))
  const patient = yield* RateLimit.make({
    name: "obs-patient",
    key: "k",
    limit: 1,
    window: "1 minute",
    onExceeded: "delay",
    maxWait: "1 second"
  })
  yield* patient.protect(Effect.void)
  yield* drive(patient.protect(Effect.void))
  const waits = yield* RateLimit.make({ name: "obs-waits", key: "k", limit: 1, window: "1 second", onExceeded: "delay" })
  yield* waits.protect(Effect.void)
  yield* drive(waits.protect(Effect.void))

  // a retry that runs out, an attempt timeout inside a traced span
  yield* drive(Effect.fail(down).pipe(Retry.transient({ times: 1, backoff: Backoff.constant("1 second") })))
  yield* drive(Effect.never.pipe(Timeout.attempt("1 second"), Effect.withSpan("slow call")))

  // a full bulkhead: one caller waits in the queue (inside a span), the next is refused
  const bulkhead = yield* Bulkhead.make({ name: "obs-uploads", maxConcurrent: 1, maxQueued: 1 })
  const holder = yield* Effect.fork(bulkhead(Effect.never))
  const waiter = yield* Effect.fork(bulkhead(Effect.void).pipe(Effect.withSpan("upload")))
  yield* Effect.yieldNow()
  yield* Effect.exit(bulkhead(Effect.void))
  yield* Fiber.interrupt(waiter)
  yield* Fiber.interrupt(holder)

  // a hedge: one call answered by its hedge, then hedges started until the budget's reserve runs out
  const hedge = yield* Hedge.make({ name: "obs-search", delay: "10 millis", maxHedged: 20 })
  let searches = 0
  const search = Effect.suspend(() => (searches++ === 0 ? Effect.sleep("1 second") : Effect.void))
  yield* drive(hedge(search).pipe(Effect.withSpan("search")), "1 second")
  yield* drive(hedge(Effect.sleep("1 second")), "2 seconds")

  // a last-known-good cache: a fresh answer, then a stale one
  const plans = yield* LastKnownGood.make({ name: "obs-plans", schema: Schema.String, maxStale: "1 minute" })
  yield* Effect.succeed("pro").pipe(plans.serve("acme"))
  yield* Effect.exit(Effect.fail(down).pipe(plans.serve("acme")))

  // a queue for later: a write that fails is queued, then delivered by the worker
  let writes = 0
  const charges = yield* QueueForLater.make({
    name: "obs-charges",
    schema: Schema.String,
    write: (_: string, key: string) => Effect.suspend(() => (writes++ === 0 ? Effect.fail(down) : Effect.succeed(key)))
  })
  const worker = yield* Effect.fork(charges.worker)
  yield* charges.submit("o-1", "order-1")
  yield* drive(Effect.void, "2 seconds")
  yield* Fiber.interrupt(worker)

  // chaos: a delayed fault
  yield* drive(
    Effect.void.pipe(Chaos.inject, Effect.provide(Chaos.layer({ errorRate: 1, latency: { min: "1 millis", max: "1 millis" } })))
  )
}).pipe(
  Effect.scoped,
  Effect.provide(
    ScriptedHttpClient.layer([
      ScriptedHttpClient.status(429, { retryAfter: "1 second" }),
      ScriptedHttpClient.status(503),
      ScriptedHttpClient.ok({ ok: true })
    ])
  ),
  Effect.provide(RateLimit.layerStoreMemory)
)

describe("observability", () => {
  it("the page lists every resilience_* name the docs mention", () => {
    const mentioned = new Set(
      readdirSync("docs").filter((file) => file.endsWith(".md")).flatMap((file) =>
        Array.from(readFileSync(`docs/${file}`, "utf8").matchAll(/resilience_[a-z_]+[a-z]/g), (match) => match[0])
      )
    )
    expect(documentedMetrics.length).toBeGreaterThan(20)
    expect([...mentioned].filter((name) => !documentedMetrics.includes(name))).toEqual([])
  })

  it.effect("every documented metric, span and span event is emitted", () =>
    Effect.gen(function*() {
      const { recording, spans } = yield* recordingTracer
      // Test files share a worker and its metric registry: a series counts as emitted here only if this
      // test created it (the guards' names are this file's own) or changed it (the untagged ones).
      const before = HashMap.fromIterable((yield* Metric.snapshot).map((pair) => [pair.metricKey, pair.metricState]))
      yield* everyGuard.pipe(Effect.withTracer(recording))

      const emitted = new Set(
        (yield* Metric.snapshot)
          .filter((pair) => !Equal.equals(HashMap.get(before, pair.metricKey), Option.some(pair.metricState)))
          .map((pair) => pair.metricKey.name)
      )
      expect(documentedMetrics.filter((name) => !emitted.has(name))).toEqual([])

      const spanNames = new Set(spans.map((span) => span.name))
      const spanFor = (documented: string) => documented === "<provider> <METHOD> <route template>" ? "obs-payments GET /v1/ping" : documented
      expect(documentedSpans.map(spanFor).filter((name) => !spanNames.has(name))).toEqual([])

      const attempt = spans.find((span) => span.name === "obs-payments GET /v1/ping")
      expect([...attempt.attributes.keys()]).toEqual(expect.arrayContaining([
        "resilience.provider",
        "resilience.attempt",
        "resilience.idempotent",
        "http.request.method",
        "http.route",
        "http.response.status_code"
      ]))
      expect(spans.find((span) => span.name === "Bulkhead.wait").attributes.get("bulkhead.name")).toBe("obs-uploads")

      const eventNames = new Set(spans.flatMap((span) => span.events.map(([name]: [string]) => name)))
      expect(documentedEvents.filter((name) => !eventNames.has(name))).toEqual([])
    }))
})
