import * as HttpClient from "@effect/platform/HttpClient"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as Undici from "@effect/platform-node/Undici"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type { InvalidOptions } from "../Errors.js"
import type * as HttpProviderNode from "../HttpProviderNode.js"
import { integerAtLeast, optionsObject, positiveDuration, validated } from "./options.js"

const defaults = {
  connections: 50,
  keepAlive: "4 seconds",
  connectTimeout: "10 seconds"
} as const

/** @internal */
export const makePool = (
  options: HttpProviderNode.PoolOptions = {}
): Effect.Effect<HttpClient.HttpClient, InvalidOptions, Scope.Scope> => makePoolAs("HttpProviderNode.makePool", options)

/** `makePool`, its errors labelled with the function the user called. */
const makePoolAs = (
  module: string,
  options: HttpProviderNode.PoolOptions
): Effect.Effect<HttpClient.HttpClient, InvalidOptions, Scope.Scope> =>
  Effect.gen(function*() {
    const check = (option: string) => ({ module, option })
    const config = yield* validated(() => {
      const o = optionsObject(check("options"), options)
      return {
        connections: integerAtLeast(check("connections"), o.connections ?? defaults.connections, 1),
        keepAlive: positiveDuration(check("keepAlive"), o.keepAlive ?? defaults.keepAlive),
        connectTimeout: positiveDuration(check("connectTimeout"), o.connectTimeout ?? defaults.connectTimeout)
      }
    })
    // One undici Agent per pool: keep-alive sockets are reused across calls, at most `connections` per
    // origin, and all of them are closed when the scope (the provider's layer) closes.
    const agent = yield* Effect.acquireRelease(
      Effect.sync(() =>
        new Undici.Agent({
          connections: config.connections,
          // an upper bound, as documented: undici otherwise follows a server's longer `Keep-Alive: timeout`
          // hint (up to 10 minutes), past what a load balancer that drops idle connections allows
          keepAliveTimeout: Duration.toMillis(config.keepAlive),
          keepAliveMaxTimeout: Duration.toMillis(config.keepAlive),
          connect: { timeout: Duration.toMillis(config.connectTimeout) }
        })
      ),
      (agent) => Effect.promise(() => agent.destroy())
    )
    return NodeHttpClient.makeUndici(agent)
  })

/** @internal */
export const layerPool = (
  options?: HttpProviderNode.PoolOptions
): Layer.Layer<HttpClient.HttpClient, InvalidOptions> =>
  Layer.scoped(HttpClient.HttpClient, makePoolAs("HttpProviderNode.layerPool", options ?? {}))
