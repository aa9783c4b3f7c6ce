import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Effect from "effect/Effect"
import type * as Api from "../../Health.js"
import { Registry } from "./registry.js"

const noStore = { "cache-control": "no-store" }

const json = (body: unknown, status = 200) => HttpServerResponse.unsafeJson(body, { status, headers: noStore })

export const router: HttpRouter.HttpRouter<never, Api.Registry> = HttpRouter.empty.pipe(
  // Live while the process can answer at all: a breaker's state never makes it restart.
  HttpRouter.get("/health/live", Effect.succeed(json({ status: "live" }))),
  HttpRouter.get(
    "/health/ready",
    Effect.flatMap(Registry, (registry) =>
      Effect.map(registry.readiness, (readiness) =>
        json({ status: readiness.ready ? "ready" : "not ready", checks: readiness.checks }, readiness.ready ? 200 : 503)))
  ),
  HttpRouter.get(
    "/health/breakers",
    Effect.flatMap(Registry, (registry) => Effect.map(registry.breakers, (breakers) => json({ breakers })))
  )
)
