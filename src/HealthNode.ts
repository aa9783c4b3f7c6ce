/**
 * Serves the `Health` routes over Node's HTTP server.
 *
 * Kept out of `Health` so the main entry does not require `@effect/platform-node` (an optional peer):
 * `Health.router` runs on any `@effect/platform` server; this module is the one-liner for Node.
 *
 * @since 0.1.0
 */
import type * as HttpRouter from "@effect/platform/HttpRouter"
import type * as HttpServer from "@effect/platform/HttpServer"
import type { ServeError } from "@effect/platform/HttpServerError"
import type { Layer } from "effect/Layer"
import type { Registry } from "./Health.js"
import * as internal from "./internal/healthNode.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface ServerOptions {
  /** Defaults to `"127.0.0.1"`: a health port is for the orchestrator and the operator, not the internet. */
  readonly host?: string | undefined
  /** Defaults to `9464`; `0` picks a free port (read it from `HttpServer.HttpServer`'s `address`). */
  readonly port?: number | undefined
  /**
   * More routes served next to the health routes (a `/metrics` endpoint, say), with their own
   * requirements provided (`HttpRouter.provideService`) except the registry. Defaults to none.
   */
  readonly routes?: HttpRouter.HttpRouter<unknown, Registry> | undefined
}

/**
 * A Node HTTP server with `/health/live`, `/health/ready`, `/health/breakers` (and your `routes`), for
 * the life of the layer. It needs the {@link Registry}; it provides the `HttpServer` (its address).
 *
 * @example
 * ```ts
 * import { Layer } from "effect"
 * import { Health } from "effect-resilience"
 * import * as HealthNode from "effect-resilience/HealthNode"
 *
 * const HealthServerLive = HealthNode.layerServer({ port: 9464 }).pipe(
 *   Layer.provide(Health.layer({ required: ["payments"] }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerServer: (
  options?: ServerOptions
) => Layer<HttpServer.HttpServer, ServeError, Registry> = internal.layerServer
