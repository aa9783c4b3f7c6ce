/**
 * An `HttpClient` that answers from a script, for tests of code built on `@effect/platform`'s
 * `HttpClient` (an `HttpProvider`, a hand-written client, a retry policy).
 *
 * Why a script and not a mock server: the interesting behaviour of a resilient client is in the
 * *sequence* of answers (a 429 with `Retry-After: 2`, then a 503, then a 200) and in *time* (the retry
 * waited two seconds). A script states the sequence in one line, `delay` and `hang` run on the
 * `Clock`, so `TestClock.adjust` drives them to the millisecond, and every request is recorded with
 * the `Clock` time it was sent, so a test asserts "the second attempt went out 2 seconds after the
 * first, with the same Idempotency-Key".
 *
 * Transport failures (`connectionRefused`, `connectionReset`, `dnsFailure`) have the exact shape
 * `@effect/platform-node`'s `NodeHttpClient` produces on Node 20:
 * `HttpClientError.RequestError { reason: "Transport", cause: Error { code, errno, syscall } }`, with
 * `cause.code` `"ECONNREFUSED"`, `"ECONNRESET"` or `"ENOTFOUND"`. (`FetchHttpClient` nests the same
 * error one level deeper, `cause.cause.code`; code that maps transport errors should look at both.)
 *
 * For tests over real sockets, see `FakeProvider`.
 *
 * @since 0.1.0
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as internal from "../internal/testing/scriptedHttpClient.js"

/**
 * One scripted answer. Build steps with {@link ok}, {@link status}, {@link delay}, {@link hang},
 * {@link connectionRefused}, ...; the variants are public so a test can inspect a script.
 *
 * @since 0.1.0
 * @category models
 */
export type Step = Respond | Delay | Hang | TransportFailure | Dynamic | Streamed

/**
 * Answer with a status and headers at once, then send the body part by part: chunks, pauses on the
 * `Clock` (so `TestClock` drives them), and an end that may be a cut connection or a stall. The body
 * is produced as the client reads it, so a test sees back-pressure as a real socket would give it.
 *
 * @since 0.1.0
 * @category models
 */
export interface Streamed {
  readonly _tag: "Streamed"
  readonly status: number
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>
  readonly parts: ReadonlyArray<Part>
}

/**
 * One part of a {@link Streamed} body: bytes, a pause, a cut connection (the read fails as Node
 * reports a reset: `ECONNRESET`) or a stall (nothing more, ever).
 *
 * @since 0.1.0
 * @category models
 */
export type Part =
  | { readonly _tag: "Chunk"; readonly bytes: Uint8Array }
  | { readonly _tag: "Pause"; readonly duration: Duration.Duration }
  | { readonly _tag: "Cut" }
  | { readonly _tag: "Stall" }

/**
 * @since 0.1.0
 * @category models
 */
export interface StreamedOptions {
  /** Defaults to `200`. */
  readonly status?: number | undefined
  /** Extra response headers. Defaults to none (plus `content-type`). */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** The content type. Defaults to `"application/octet-stream"`. */
  readonly contentType?: string | undefined
}

/**
 * Answer with a status, headers and a body.
 *
 * @since 0.1.0
 * @category models
 */
export interface Respond {
  readonly _tag: "Respond"
  readonly status: number
  /** Lower-case header names. */
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | undefined
}

/**
 * Wait `duration` on the `Clock`, then run `step`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Delay {
  readonly _tag: "Delay"
  readonly duration: Duration.Duration
  readonly step: Step
}

/**
 * Never answer.
 *
 * @since 0.1.0
 * @category models
 */
export interface Hang {
  readonly _tag: "Hang"
}

/**
 * Fail with `HttpClientError.RequestError { reason: "Transport" }` whose `cause` is an `Error` carrying
 * these fields, as Node's system errors do.
 *
 * @since 0.1.0
 * @category models
 */
export interface TransportFailure {
  readonly _tag: "TransportFailure"
  /** `"ECONNREFUSED"`, `"ECONNRESET"`, `"ENOTFOUND"`, `"ETIMEDOUT"`, `"UND_ERR_SOCKET"`, ... */
  readonly code: string
  readonly errno?: number | undefined
  readonly syscall?: string | undefined
  /** The error's message. Defaults to Node's wording for the code, e.g. `"read ECONNRESET"`. */
  readonly message?: string | undefined
}

/**
 * Choose the step from the request (echo a header, answer by path).
 *
 * @since 0.1.0
 * @category models
 */
export interface Dynamic {
  readonly _tag: "Dynamic"
  readonly f: (request: RecordedRequest) => Step
}

/**
 * A request as the client sent it.
 *
 * @since 0.1.0
 * @category models
 */
export interface RecordedRequest {
  readonly method: string
  /** The full URL, with query parameters. */
  readonly url: string
  /** The headers as sent (lower-case names), including `content-type` and any trace headers. */
  readonly headers: Readonly<Record<string, string>>
  /** The body as text; `undefined` for no body (and for `FormData` bodies). */
  readonly body: string | undefined
  /** When it was sent, in `Clock` milliseconds (`TestClock` time in tests). */
  readonly at: number
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /**
   * What a request after the last step gets: `"fail"` dies with a message naming the request (a
   * script that ran out is a bug in the test, and a defect cannot be retried away silently);
   * `"repeat-last"` answers with the last step again. Defaults to `"fail"`.
   */
  readonly onExhausted?: "fail" | "repeat-last" | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface OkOptions {
  /** Defaults to `200`. */
  readonly status?: number | undefined
  /** Extra response headers. Defaults to none (plus `content-type` for a body). */
  readonly headers?: Readonly<Record<string, string>> | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface StatusOptions {
  /**
   * A `Retry-After` header: a duration is sent as delta-seconds (`"1500 millis"` as `1.5`; a bare
   * number is milliseconds, as everywhere in Effect); any other string is sent verbatim (an HTTP-date,
   * `"120"`, garbage). Defaults to none.
   */
  readonly retryAfter?: Duration.DurationInput | string | undefined
  /** Extra response headers. Defaults to none. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** A body, JSON-encoded. Defaults to none. */
  readonly body?: unknown
}

/**
 * What the layer provides besides the `HttpClient`: the recorded requests.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** The client that answers from the script. */
  readonly client: HttpClient.HttpClient
  /** Every request so far, in the order the script answered them. */
  readonly requests: Effect.Effect<ReadonlyArray<RecordedRequest>>
  /** How many steps have not been used yet (0 once exhausted, also with `"repeat-last"`). */
  readonly remaining: Effect.Effect<number>
}

/**
 * The recorder of the scripted client provided by {@link layer}.
 *
 * @example
 * ```ts
 * import { HttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 * import { ScriptedHttpClient } from "effect-resilience/testing"
 *
 * const program = Effect.gen(function*() {
 *   yield* HttpClient.get("https://api.example.com/v1/users/1")
 *   const scripted = yield* ScriptedHttpClient.ScriptedHttpClient
 *   const [request] = yield* scripted.requests
 *   return request?.url // "https://api.example.com/v1/users/1"
 * }).pipe(Effect.provide(ScriptedHttpClient.layer([ScriptedHttpClient.ok({ id: 1 })])))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class ScriptedHttpClient extends Context.Tag("effect-resilience/testing/ScriptedHttpClient")<
  ScriptedHttpClient,
  Service
>() {}

/**
 * Answer 200 (or `options.status`) with `body` JSON-encoded and `content-type: application/json`.
 * `undefined` sends no body.
 *
 * @example
 * ```ts
 * import { ScriptedHttpClient } from "effect-resilience/testing"
 *
 * ScriptedHttpClient.ok({ id: "ch_1", amount: 500 })
 * ScriptedHttpClient.ok({ id: "ch_1" }, { status: 201, headers: { "x-request-id": "r1" } })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const ok: (body: unknown, options?: OkOptions) => Step = internal.ok

/**
 * Answer 200 (or `options.status`) with a text body as is and `content-type: text/plain` (a
 * non-JSON body, an HTML error page).
 *
 * @example
 * ```ts
 * import { ScriptedHttpClient } from "effect-resilience/testing"
 *
 * ScriptedHttpClient.text("<html>Bad gateway</html>", { status: 502, headers: { "content-type": "text/html" } })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const text: (body: string, options?: OkOptions) => Step = internal.text

/**
 * Answer with a status code, optionally a `Retry-After` header and a JSON body. Throws
 * `InvalidOptions` for a code outside 200 to 599 (no fetch `Response` can carry it), as do `ok` and
 * `text` for such an `options.status`, and for a `retryAfter` that is a negative or NaN duration.
 *
 * @example
 * ```ts
 * import { ScriptedHttpClient } from "effect-resilience/testing"
 *
 * ScriptedHttpClient.status(429, { retryAfter: "2 seconds" })          // Retry-After: 2
 * ScriptedHttpClient.status(503, { retryAfter: "Wed, 21 Oct 2015 07:28:00 GMT" })
 * ScriptedHttpClient.status(422, { body: { error: "email taken" } })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const status: (code: number, options?: StatusOptions) => Step = internal.status

/**
 * Wait `duration` on the `Clock` (so `TestClock.adjust` drives it), then run `step`. Interruptible:
 * an attempt timeout or an interrupted fiber ends the wait. Throws `InvalidOptions` when `duration` is
 * not a finite duration >= 0 (`"3s"`, `-1`, NaN) when the script is written.
 *
 * @example
 * ```ts
 * import { ScriptedHttpClient } from "effect-resilience/testing"
 *
 * ScriptedHttpClient.delay("3 seconds", ScriptedHttpClient.ok({ slow: true }))
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const delay: (duration: Duration.DurationInput, step: Step) => Step = internal.delay

/**
 * Never answer, like a provider that accepted the connection and went silent. Only interruption (an
 * attempt timeout, a cancelled fiber) ends the request.
 *
 * @example
 * ```ts
 * import { ScriptedHttpClient } from "effect-resilience/testing"
 *
 * ScriptedHttpClient.layer([ScriptedHttpClient.hang, ScriptedHttpClient.ok("second attempt")])
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const hang: Step = internal.hang

/**
 * Fail as a closed port does: a Transport `RequestError` whose `cause.code` is `"ECONNREFUSED"`
 * (`errno` -111, `syscall` `"connect"`, message `"connect ECONNREFUSED <host>:<port>"`). The request
 * provably never reached the provider.
 *
 * @example
 * ```ts
 * import { ScriptedHttpClient } from "effect-resilience/testing"
 *
 * ScriptedHttpClient.layer([ScriptedHttpClient.connectionRefused, ScriptedHttpClient.ok({})])
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const connectionRefused: Step = internal.connectionRefused

/**
 * Fail as a connection reset mid-request does: `cause.code` `"ECONNRESET"` (`errno` -104, `syscall`
 * `"read"`, message `"read ECONNRESET"`). The provider may have processed the request.
 *
 * @example
 * ```ts
 * import { ScriptedHttpClient } from "effect-resilience/testing"
 *
 * ScriptedHttpClient.layer([ScriptedHttpClient.connectionReset])
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const connectionReset: Step = internal.connectionReset

/**
 * Fail as an unresolvable host does: `cause.code` `"ENOTFOUND"` (`errno` -3008, `syscall`
 * `"getaddrinfo"`, message `"getaddrinfo ENOTFOUND <host>"`).
 *
 * @example
 * ```ts
 * import { ScriptedHttpClient } from "effect-resilience/testing"
 *
 * ScriptedHttpClient.layer([ScriptedHttpClient.dnsFailure])
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const dnsFailure: Step = internal.dnsFailure

/**
 * Any other transport failure, e.g. undici's `{ code: "UND_ERR_SOCKET", message: "other side closed" }`
 * or `{ code: "ETIMEDOUT", syscall: "connect" }`.
 *
 * @example
 * ```ts
 * import { ScriptedHttpClient } from "effect-resilience/testing"
 *
 * ScriptedHttpClient.transportError({ code: "UND_ERR_SOCKET", message: "other side closed" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const transportError: (failure: Omit<TransportFailure, "_tag">) => Step = internal.transportError

/**
 * Choose the step from the recorded request: echo a header, answer by path or method.
 *
 * @example
 * ```ts
 * import { ScriptedHttpClient } from "effect-resilience/testing"
 *
 * ScriptedHttpClient.respondWith((request) =>
 *   ScriptedHttpClient.ok({ idempotencyKey: request.headers["idempotency-key"] ?? null })
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const respondWith: (f: (request: RecordedRequest) => Step) => Step = internal.respondWith

/**
 * Build a scripted client and its recorder without a layer (to hold two clients in one test).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { ScriptedHttpClient } from "effect-resilience/testing"
 *
 * const program = Effect.gen(function*() {
 *   const scripted = yield* ScriptedHttpClient.make([ScriptedHttpClient.status(503)])
 *   const response = yield* scripted.client.get("https://api.example.com/health")
 *   return response.status // 503
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (steps: Iterable<Step>, options?: Options) => Effect.Effect<Service> = internal.make

/**
 * Provide an `HttpClient` that answers the n-th request with the n-th step, and the
 * {@link ScriptedHttpClient} recorder. Each build of the layer starts the script afresh.
 *
 * @example
 * ```ts
 * import { HttpClient } from "@effect/platform"
 * import { Effect } from "effect"
 * import { ScriptedHttpClient } from "effect-resilience/testing"
 *
 * const Script = ScriptedHttpClient.layer([
 *   ScriptedHttpClient.status(429, { retryAfter: "1 second" }),
 *   ScriptedHttpClient.connectionRefused,
 *   ScriptedHttpClient.ok({ id: "ch_1" })
 * ])
 *
 * const program = HttpClient.get("https://api.example.com/v1/charges/ch_1").pipe(Effect.provide(Script))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (
  steps: Iterable<Step>,
  options?: Options
): Layer.Layer<HttpClient.HttpClient | ScriptedHttpClient> =>
  Layer.effectContext(
    Effect.map(
      internal.make(steps, options),
      (service) => Context.make(ScriptedHttpClient, service).pipe(Context.add(HttpClient.HttpClient, service.client))
    )
  )

/**
 * Answer with a body sent part by part: a string (UTF-8) or bytes is a chunk, {@link pause} waits on
 * the `Clock`, {@link cut} breaks the connection and {@link stall} stops sending without closing. For
 * streaming requests (`HttpProvider`'s `stream`): scripted first-byte delays, idle gaps, cuts; pair it
 * with {@link respondWith} to answer a resume (`Range`, `Last-Event-ID`) from where it asks. Throws
 * `InvalidOptions` for a status outside 200 to 599.
 *
 * @example
 * ```ts
 * import { ScriptedHttpClient } from "effect-resilience/testing"
 *
 * // two events, a 5 s gap, one more, then the connection drops
 * ScriptedHttpClient.streamed(
 *   ["data: a\n\n", "data: b\n\n", ScriptedHttpClient.pause("5 seconds"), "data: c\n\n", ScriptedHttpClient.cut],
 *   { contentType: "text/event-stream" }
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const streamed: (parts: Iterable<Part | string | Uint8Array>, options?: StreamedOptions) => Step =
  internal.streamed

/**
 * A pause in a {@link streamed} body. Throws `InvalidOptions` for a negative or NaN duration.
 *
 * @example
 * ```ts
 * import { ScriptedHttpClient } from "effect-resilience/testing"
 *
 * ScriptedHttpClient.streamed(["a", ScriptedHttpClient.pause("31 seconds"), "b"])
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const pause: (duration: Duration.DurationInput) => Part = internal.pause

/**
 * The connection breaks in the middle of a {@link streamed} body (a reset, `ECONNRESET`).
 *
 * @example
 * ```ts
 * import { ScriptedHttpClient } from "effect-resilience/testing"
 *
 * ScriptedHttpClient.streamed(["first half", ScriptedHttpClient.cut])
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const cut: Part = internal.cut

/**
 * A {@link streamed} body stops sending and never ends: what an idle timeout is for.
 *
 * @example
 * ```ts
 * import { ScriptedHttpClient } from "effect-resilience/testing"
 *
 * ScriptedHttpClient.streamed(["data: a\n\n", ScriptedHttpClient.stall])
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const stall: Part = internal.stall
