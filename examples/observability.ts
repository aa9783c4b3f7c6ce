/**
 * Seeing what the guards do: the library reports through Effect's own `Metric`s and spans, so any
 * Effect telemetry setup picks them up. Here `@effect/opentelemetry` hands them to the OpenTelemetry
 * SDK: spans to a span processor (in memory here; an OTLP exporter in production) and metrics to the
 * OpenTelemetry Prometheus exporter, whose text is what a `/metrics` endpoint serves.
 *
 * A payments provider on 127.0.0.1 (FakeProvider) answers one 429 with `Retry-After: 1`, then one 503,
 * then normally; one call through `HttpProvider`'s default policy rides it out. The program prints the
 * spans and the `resilience_*` metric lines that call produced. The names are listed, per module, in
 * docs/Observability.md.
 *
 *   npx tsx examples/observability.ts
 */
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus"
import { InMemorySpanExporter, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Console, Effect, Layer, Logger, LogLevel, Schema } from "effect"
import { HttpProvider } from "effect-resilience"
import * as HttpProviderNode from "effect-resilience/HttpProviderNode"
import { FakeProvider } from "effect-resilience/testing"

const Pong = Schema.Struct({ ok: Schema.Boolean })

const spans = new InMemorySpanExporter()
const metrics = new PrometheusExporter({ preventServerStart: true })

// One layer for all telemetry: swap the processor and the reader for your exporters.
const TelemetryLive = NodeSdk.layer(() => ({
  resource: { serviceName: "observability-example" },
  spanProcessor: new SimpleSpanProcessor(spans),
  metricReader: metrics
}))

/** The metrics in the Prometheus text format, as a `/metrics` route would serve them. */
const prometheusText = Effect.promise(() => metrics.collect()).pipe(
  Effect.map(({ resourceMetrics }) => new PrometheusSerializer().serialize(resourceMetrics))
)

const program = Effect.gen(function*() {
  const fake = yield* FakeProvider.FakeProvider
  yield* fake.sequence([
    { phase: FakeProvider.rateLimited({ retryAfter: "1 second" }), requests: 1 },
    { phase: FakeProvider.outage(), requests: 1 }
  ])
  const payments = yield* HttpProvider.make({ name: "payments", baseUrl: fake.url })
  const pong = yield* payments.get("/v1/ping", { response: Pong }).pipe(Effect.withSpan("checkout"))
  yield* Console.log(`The call answered ${JSON.stringify(pong)} after a 429 and a 503.\n`)

  yield* Console.log("Spans (name: events):")
  // the fake provider's own server spans (`http.server GET`) are left out
  for (const span of spans.getFinishedSpans().filter((span) => !span.name.startsWith("http.server"))) {
    const events = span.events.map((event) => event.name).join(", ")
    yield* Console.log(`  ${span.name}${events === "" ? "" : `: ${events}`}`)
  }

  yield* Console.log("\nMetrics (the resilience_* lines of /metrics):")
  const text = yield* prometheusText
  for (const line of text.split("\n")) {
    if (line.startsWith("resilience_") && !line.includes("_bucket{")) yield* Console.log(`  ${line}`)
  }
})

program.pipe(
  Effect.scoped,
  Effect.provide(Layer.mergeAll(HttpProviderNode.layerPool(), FakeProvider.layer())),
  Effect.provide(TelemetryLive),
  Logger.withMinimumLogLevel(LogLevel.None),
  Effect.runPromise
)
