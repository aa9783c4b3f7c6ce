/**
 * `/metrics` in the Prometheus text format, from the library's Effect metrics, through OpenTelemetry:
 * `@effect/opentelemetry` hands Effect's metrics to an OpenTelemetry reader, and the OpenTelemetry
 * Prometheus exporter writes them out. No exporter server of its own: the route is served next to
 * the health routes.
 */
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Metrics from "@effect/opentelemetry/Metrics"
import * as Resource from "@effect/opentelemetry/Resource"
import { PrometheusExporter, PrometheusSerializer } from "@opentelemetry/exporter-prometheus"
import { Effect, Layer } from "effect"

export const make = () => {
  const exporter = new PrometheusExporter({ preventServerStart: true })
  const serializer = new PrometheusSerializer()
  const text = Effect.map(
    Effect.promise(() => exporter.collect()),
    ({ resourceMetrics }) => serializer.serialize(resourceMetrics)
  )
  return {
    /** Feeds Effect's metrics to the exporter for the life of the layer. */
    layer: Metrics.layer(() => exporter).pipe(Layer.provide(Resource.layer({ serviceName: "effect-resilience-demo" }))),
    text,
    router: HttpRouter.empty.pipe(
      HttpRouter.get("/metrics", Effect.map(text, (body) => HttpServerResponse.text(body, { contentType: "text/plain; version=0.0.4" })))
    )
  }
}
