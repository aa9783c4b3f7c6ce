import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import type { ServeError } from "@effect/platform/HttpServerError"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import * as Layer from "effect/Layer"
import { createServer } from "node:http"
import type { Registry } from "../Health.js"
import type * as Api from "../HealthNode.js"
import { router as healthRouter } from "./health/routes.js"

const defaults = { host: "127.0.0.1", port: 9464 } as const

export const layerServer = (
  options: Api.ServerOptions = {}
): Layer.Layer<HttpServer.HttpServer, ServeError, Registry> => {
  const routes: HttpRouter.HttpRouter<unknown, Registry> = options.routes === undefined
    ? healthRouter
    : HttpRouter.concat(healthRouter, options.routes)
  return HttpServer.serve(routes).pipe(
    Layer.provideMerge(
      NodeHttpServer.layer(createServer, { host: options.host ?? defaults.host, port: options.port ?? defaults.port })
    ),
    Layer.project(HttpServer.HttpServer, HttpServer.HttpServer, (server) => server)
  )
}
