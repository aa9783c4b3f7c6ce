/**
 * One pooled HTTP client per provider, for Node.
 *
 * Why: a client made per call (or per class) opens new sockets every time and leaves them in
 * TIME_WAIT; under load the process runs out of ports or file descriptors long before the provider
 * is slow. .NET learnt this as "use HttpClientFactory"; the fix is the same here: build one client
 * with a keep-alive pool when the provider's layer is built, share it for every call, and close it
 * with the layer. Each provider gets its own pool, so a slow provider that holds all of its
 * connections cannot starve another one (a bulkhead at the socket level).
 *
 * `layerPool` is an undici `Agent` (via `@effect/platform-node`) with at most `connections` sockets
 * per origin; requests beyond that wait in the agent's queue. Pair it with the same
 * `maxConnections` on `HttpProvider.make`, which bounds the provider's requests in flight whatever
 * client it is given.
 *
 * A request undici refuses as invalid (a header it writes itself, a CR or LF in a value) must never
 * reach the pool: with `connections` of 2 or more, undici 7 keeps one of the pool's slots for each one
 * it refused, so after `connections` of them every later request on the pool, for any provider, waits
 * forever.
 * `HttpProvider` checks headers before sending for this reason.
 *
 * Kept out of `HttpProvider` so that module does not require `@effect/platform-node` (an optional peer).
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type { DurationInput } from "effect/Duration"
import type { Effect } from "effect/Effect"
import type { Layer } from "effect/Layer"
import type { Scope } from "effect/Scope"
import type { InvalidOptions } from "./Errors.js"
import * as internal from "./internal/httpProviderNode.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface PoolOptions {
  /** The most sockets open to one origin at once. Defaults to `50`. */
  readonly connections?: number | undefined
  /** How long an idle socket is kept for reuse. Defaults to `"4 seconds"`. */
  readonly keepAlive?: DurationInput | undefined
  /** How long establishing a connection may take. Defaults to `"10 seconds"`. */
  readonly connectTimeout?: DurationInput | undefined
}

/**
 * A pooled `HttpClient` that lives as long as the scope. Fails with `InvalidOptions` for a
 * `connections` that is not an integer >= 1 or a duration that is not finite and > 0.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HttpProvider } from "effect-resilience"
 * import * as HttpProviderNode from "effect-resilience/HttpProviderNode"
 * import { HttpClient } from "@effect/platform"
 *
 * const payments = Effect.gen(function*() {
 *   const client = yield* HttpProviderNode.makePool({ connections: 20 })
 *   return yield* HttpProvider.make({ name: "payments", baseUrl: "https://payments.example.com" }).pipe(
 *     Effect.provideService(HttpClient.HttpClient, client)
 *   )
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const makePool: (options?: PoolOptions) => Effect<HttpClient.HttpClient, InvalidOptions, Scope> =
  internal.makePool

/**
 * The pooled client as a Layer: provide one to each provider's layer.
 *
 * @example
 * ```ts
 * import { Context, Layer } from "effect"
 * import { HttpProvider } from "effect-resilience"
 * import * as HttpProviderNode from "effect-resilience/HttpProviderNode"
 *
 * class Payments extends Context.Tag("app/Payments")<Payments, HttpProvider.HttpProvider>() {}
 *
 * const PaymentsLive = HttpProvider.layer(Payments, {
 *   name: "payments",
 *   baseUrl: "https://payments.example.com",
 *   maxConnections: 20
 * }).pipe(Layer.provide(HttpProviderNode.layerPool({ connections: 20 })))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerPool: (options?: PoolOptions) => Layer<HttpClient.HttpClient, InvalidOptions> = internal.layerPool
