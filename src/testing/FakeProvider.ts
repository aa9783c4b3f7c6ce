/**
 * A real HTTP server that plays a third-party provider having a bad day, for integration tests and
 * demos.
 *
 * Why a real server when `ScriptedHttpClient` exists: some failures only exist on a socket. A write
 * that the provider commits and then loses the connection on is the case idempotency keys exist for,
 * and only a real connection reset shows whether the client re-sends the same key and the provider
 * charges once. Real sockets also exercise the connection pool, timeouts that abort in-flight
 * requests, and real `Retry-After` waits.
 *
 * The server listens on 127.0.0.1 on a free port for the life of a `Scope`. It serves a small
 * payments-like API (`GET /v1/ping`, `POST /v1/charges`, `GET /v1/charges/:id`) plus any `routes` you
 * give, and answers according to its current phase:
 *
 * | phase             | answer                                                                      |
 * |-------------------|-----------------------------------------------------------------------------|
 * | `normal`          | the route's reply                                                           |
 * | `rateLimited`     | 429 `{"error":"rate_limited"}` with `Retry-After` (1 second by default)      |
 * | `outage`          | 503 (or 500/502/504) `{"error":"unavailable"}`, `Retry-After` if given       |
 * | `slow(latency)`   | the route's reply after `latency`                                           |
 * | `dropAfterCommit` | runs the route (a write commits) and then resets the connection (RST)      |
 *
 * `sequence` chains phases by request count or duration; when the last one ends the provider has
 * recovered and answers normally again.
 *
 * Writes (POST, PUT, PATCH, DELETE) that carry an `Idempotency-Key` are deduplicated as Stripe does:
 * the same key gets the stored reply (with `idempotent-replayed: true`) and the handler does not run
 * again; a key still in flight gets 409, a key reused for a different request 422. 5xx replies are not
 * stored. `sideEffects` counts write handlers that answered 2xx, replays excluded, so a test asserts
 * "exactly one charge" after any number of retries.
 *
 * Time (latency, phase durations, `at` stamps) runs on the `Clock`: use `it.live` in tests.
 *
 * The server is `@effect/platform-node`'s: install that optional peer to use `FakeProvider`. It is loaded
 * when a fake provider starts (`make`, `layer`), so the rest of `effect-resilience/testing` runs without it.
 *
 * @since 0.1.0
 */
import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type { InvalidOptions } from "../Errors.js"
import * as internal from "../internal/testing/fakeProvider.js"

/**
 * How the provider behaves right now. Build phases with {@link normal}, {@link rateLimited},
 * {@link outage}, {@link slow} and {@link dropAfterCommit}.
 *
 * @since 0.1.0
 * @category models
 */
export type Phase =
  | { readonly _tag: "Normal" }
  | { readonly _tag: "RateLimited"; readonly headers: Readonly<Record<string, string>> }
  | { readonly _tag: "Outage"; readonly status: number; readonly headers: Readonly<Record<string, string>> }
  | { readonly _tag: "Slow"; readonly latency: Duration.Duration }
  | { readonly _tag: "DropAfterCommit" }

/**
 * One step of `FakeProvider.sequence`: a phase that lasts for a number of requests or a
 * duration (whichever ends first), or for ever when neither is given.
 *
 * @since 0.1.0
 * @category models
 */
export interface PhaseStep {
  readonly phase: Phase
  /** How many requests this phase answers. Defaults to no limit. */
  readonly requests?: number | undefined
  /**
   * How long this phase lasts, from the end of the previous one (for a phase ended by its `requests`,
   * the request that used its last one). Defaults to no limit.
   */
  readonly duration?: Duration.DurationInput | undefined
}

/**
 * A request as the server received it.
 *
 * @since 0.1.0
 * @category models
 */
export interface ReceivedRequest {
  readonly method: string
  /** Path and query, e.g. `"/v1/charges?expand=customer"`. */
  readonly url: string
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | undefined
  /** When it arrived, in `Clock` milliseconds. */
  readonly at: number
  /** The phase that answered it. */
  readonly phase: Phase["_tag"]
}

/**
 * What a route handler sees.
 *
 * @since 0.1.0
 * @category models
 */
export interface RouteRequest {
  readonly method: string
  readonly path: string
  readonly query: URLSearchParams
  /** The `:name` segments of the route's path. */
  readonly params: Readonly<Record<string, string>>
  readonly headers: Readonly<Record<string, string>>
  /** The body as text (`""` when there is none). */
  readonly text: string
  /** The body parsed as JSON, or `undefined` when it is empty or not JSON. */
  readonly body: unknown
}

/**
 * What a route handler answers. The body is JSON-encoded.
 *
 * @since 0.1.0
 * @category models
 */
export interface Reply {
  /** Defaults to `200`. */
  readonly status?: number | undefined
  /** Defaults to none. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Defaults to no body. */
  readonly body?: unknown
}

/**
 * A route of the fake API. `path` segments starting with `:` are parameters.
 *
 * @since 0.1.0
 * @category models
 */
export interface Route {
  readonly method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE"
  readonly path: string
  readonly handler: (request: RouteRequest) => Reply | Effect.Effect<Reply>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** More routes; one with the method and path of a built-in route replaces it. Defaults to none. */
  readonly routes?: ReadonlyArray<Route> | undefined
  /** The phase at start. Defaults to `normal`. */
  readonly phase?: Phase | undefined
  /** Defaults to `"127.0.0.1"`. */
  readonly host?: string | undefined
  /** Defaults to `0` (a free port). */
  readonly port?: number | undefined
}

/**
 * A running fake provider.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The base URL, e.g. `"http://127.0.0.1:41234"`, without a trailing slash. */
  readonly url: string
  /** Switch to a phase until told otherwise. */
  readonly setPhase: (phase: Phase) => Effect.Effect<void>
  /**
   * Run phases one after the other; after the last one ends, the provider is `normal` again. Fails with
   * `InvalidOptions` (and changes nothing) for a `requests` that is not an integer >= 0 or a `duration`
   * that is not a finite duration >= 0.
   */
  readonly sequence: (steps: Iterable<PhaseStep>) => Effect.Effect<void, InvalidOptions>
  /** The phase the next request will get, if it comes now. Reading it changes nothing. */
  readonly phase: Effect.Effect<Phase>
  /** Every request received, in arrival order. */
  readonly requests: Effect.Effect<ReadonlyArray<ReceivedRequest>>
  /** How many writes a handler performed with a 2xx reply (idempotent replays excluded). */
  readonly sideEffects: Effect.Effect<number>
}

/**
 * The service tag for a fake provider provided by {@link layer}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { FakeProvider } from "effect-resilience/testing"
 *
 * const program = Effect.gen(function*() {
 *   const provider = yield* FakeProvider.FakeProvider
 *   yield* provider.setPhase(FakeProvider.outage())
 *   return provider.url
 * }).pipe(Effect.provide(FakeProvider.layer()))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class FakeProvider extends Context.Tag("effect-resilience/testing/FakeProvider")<FakeProvider, Service>() {}

/**
 * Answer from the routes: the provider is healthy (or has recovered).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { FakeProvider } from "effect-resilience/testing"
 *
 * const recover = Effect.flatMap(FakeProvider.FakeProvider, (provider) => provider.setPhase(FakeProvider.normal))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const normal: Phase = internal.normal

/**
 * @since 0.1.0
 * @category models
 */
export interface RateLimitedOptions {
  /** A duration is sent as delta-seconds; any other string verbatim. Defaults to `"1 second"`. */
  readonly retryAfter?: Duration.DurationInput | string | undefined
  /** Extra headers, e.g. `RateLimit-Reset`. Defaults to none. */
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/**
 * Answer every request with 429 and a `Retry-After` header. Throws `InvalidOptions` for a `retryAfter`
 * that is a negative or NaN duration (a string that is not a duration is sent verbatim).
 *
 * @example
 * ```ts
 * import { FakeProvider } from "effect-resilience/testing"
 *
 * FakeProvider.rateLimited({ retryAfter: "2 seconds" })
 * FakeProvider.rateLimited({ retryAfter: "Wed, 21 Oct 2015 07:28:00 GMT" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const rateLimited: (options?: RateLimitedOptions) => Phase = internal.rateLimited

/**
 * @since 0.1.0
 * @category models
 */
export interface OutageOptions {
  /** Defaults to `503`. */
  readonly status?: 500 | 502 | 503 | 504 | undefined
  /** A `Retry-After` header: a duration as delta-seconds, a string verbatim. Defaults to none. */
  readonly retryAfter?: Duration.DurationInput | string | undefined
}

/**
 * Answer every request with a 5xx. Throws `InvalidOptions` for a `status` that is not a 5xx (500 to 599)
 * or a `retryAfter` that is a negative or NaN duration.
 *
 * @example
 * ```ts
 * import { FakeProvider } from "effect-resilience/testing"
 *
 * FakeProvider.outage()                                        // 503, no Retry-After
 * FakeProvider.outage({ status: 503, retryAfter: "5 seconds" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const outage: (options?: OutageOptions) => Phase = internal.outage

/**
 * Answer from the routes after `latency`. A client that gives up first aborts the request, and the
 * handler does not run. Throws `InvalidOptions` when `latency` is not a finite duration >= 0 (`"2s"`,
 * `-1`, NaN).
 *
 * @example
 * ```ts
 * import { FakeProvider } from "effect-resilience/testing"
 *
 * FakeProvider.slow("2 seconds")
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const slow: (latency: Duration.DurationInput) => Phase = internal.slow

/**
 * Run the route (a write commits and counts as a side effect), then reset the connection before
 * answering. The client sees `RequestError { reason: "Transport" }` with `ECONNRESET` and cannot know
 * whether the write happened: the case idempotency keys exist for.
 *
 * @example
 * ```ts
 * import { FakeProvider } from "effect-resilience/testing"
 *
 * const steps = [{ phase: FakeProvider.dropAfterCommit, requests: 1 }] // then normal again
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const dropAfterCommit: Phase = internal.dropAfterCommit

/**
 * Start a fake provider for the life of the `Scope`. Fails with `ServeError` if the port cannot be
 * bound.
 *
 * @example
 * ```ts
 * import { HttpClient, HttpClientRequest } from "@effect/platform"
 * import { NodeHttpClient } from "@effect/platform-node"
 * import { Effect } from "effect"
 * import { FakeProvider } from "effect-resilience/testing"
 *
 * const program = Effect.gen(function*() {
 *   const provider = yield* FakeProvider.make()
 *   yield* provider.sequence([
 *     { phase: FakeProvider.rateLimited({ retryAfter: "1 second" }), requests: 1 },
 *     { phase: FakeProvider.outage(), duration: "2 seconds" }
 *   ]) // then normal
 *   const response = yield* HttpClient.execute(
 *     HttpClientRequest.post(`${provider.url}/v1/charges`).pipe(HttpClientRequest.bodyUnsafeJson({ amount: 500 }))
 *   )
 *   return response.status // 429
 * }).pipe(Effect.scoped, Effect.provide(NodeHttpClient.layer))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Options) => Effect.Effect<Service, HttpServerError.ServeError, Scope.Scope> =
  internal.make

/**
 * Provide a {@link FakeProvider} that runs as long as the layer.
 *
 * @example
 * ```ts
 * import { FakeProvider } from "effect-resilience/testing"
 *
 * const Provider = FakeProvider.layer({ phase: FakeProvider.slow("200 millis") })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options?: Options): Layer.Layer<FakeProvider, HttpServerError.ServeError> =>
  Layer.scoped(FakeProvider, internal.make(options))
