/**
 * A typed client for one third-party API: every failure is a tagged error, every body crosses a
 * Schema, and one guard chain (`policy`) wraps every request.
 *
 * Why a wrapper per provider? The rest of the program should see "charge this order", not status
 * codes, socket errors and the provider's JSON. The client is the anti-corruption layer: what goes
 * out is encoded with its Schema before anything is sent (`InvalidRequest`), what comes back is
 * decoded (`InvalidResponse`), and each answer becomes one of the documented errors:
 *
 * | answer                                   | error                                            |
 * |------------------------------------------|--------------------------------------------------|
 * | 2xx whose body does not match            | `InvalidResponse { status, issue }`              |
 * | 408                                      | `Timeout { scope: "attempt" }`                   |
 * | 429                                      | `RateLimited { reason: "provider", retryAfter }` |
 * | 5xx                                      | `Unavailable { reason: "status", status }` (a Retry-After kept) |
 * | other 4xx (401 after one refresh)        | `ClientError { status, body: <short excerpt> }`  |
 * | refused / reset / DNS / other transport  | `Unavailable { reason }`                         |
 * | our own attempt timeout (in the policy)  | `Timeout { scope: "attempt" }`                   |
 * | a stream's first byte / gap / whole time | `Timeout { scope: "first-byte" / "idle" / "total" }` |
 *
 * A `classify` hook sees each answer first, for providers whose bodies say more than their status
 * (a 429 that means "quota exhausted for the month" is a `ClientError`, not a reason to wait).
 *
 * **Idempotency.** A write sent with `idempotent: true` or an `idempotencyKey` carries an
 * `Idempotency-Key` header made once per logical call, before the policy, so every retry re-sends the
 * same key and the provider can dedupe. A POST or PATCH without one is a *non-idempotent write*: it may
 * be sent again only when the previous attempt provably was not processed (connection refused, DNS,
 * 429, 503). The client enforces this below the policy, so it holds for any retry a user composes:
 * once an attempt of such a write may have reached the provider (a timeout, a reset mid-request, a
 * 500), the next attempt is refused before anything is sent and the call fails with that attempt's
 * error (for an attempt the policy timed out, a `Timeout { scope: "attempt" }` with the measured time).
 * The refusal travels through the policy as a defect, which retries do not retry and breakers do not
 * count (the provider never saw it), and is turned back into the error above the policy. That error
 * is the earlier attempt's, as the provider-facing code produced it: a handler *inside the policy*
 * (above the retry) sees the defect, not the error, so an error such a handler maps to another type can
 * still reach the caller as itself, outside the client's `E`. Keep handlers that change error types
 * around the request, outside the policy, as the recommended order does. PUT, DELETE and GET are idempotent by HTTP semantics and retried freely;
 * pass `idempotent: false` to treat them as unsafe.
 *
 * **Credentials** come from a `Credentials` service, per attempt (a rotation is picked up at once),
 * selected by `credentialsKey` (tenant, region). A 401 asks the source for a fresh secret once and
 * re-sends once (a 401 proves nothing was processed). Secrets stay `Redacted`: the auth header is in
 * the redacted header names, no span carries headers or query strings, and provider text quoted in an
 * error has the secret cut out should a provider echo it, in every common encoding (see `credentials`).
 *
 * **One pooled connection set per provider.** `make` takes the `HttpClient` once and every call
 * shares it; `maxConnections` bounds this provider's requests in flight (waiting callers queue). Give
 * each provider its own pooled client (`HttpProviderNode.layerPool`) rather than a client per call:
 * a client per call leaks sockets (the HttpClientFactory lesson).
 *
 * **Deadline propagation.** With `deadlineHeader`, each attempt sends the time left of the enclosing
 * `Timeout.total` in milliseconds, so the provider can give up when the caller has.
 *
 * **Streams.** `client.stream` answers as an Effect `Stream` of bytes, lines, server-sent events or
 * Schema-decoded items (NDJSON, SSE data as JSON), pulled from the socket as the consumer asks, under
 * the same errors, credentials, idempotency and policy, with three limits of their own: first byte,
 * idle gap and total. A stream is retried only before its first item; after that it is resumed
 * (`resume: "range"` for bytes, `resume: "last-event-id"` for events) or fails. The policy sees the
 * whole stream as one call. See {@link Streams} and docs/Streaming.md.
 *
 * **Observability.** A span per attempt (`<provider> <METHOD> <route template>`, kind client) with the
 * method, route template, status, attempt number and provider, and no headers, query strings or body;
 * a counter `resilience_http_provider_attempts_total` tagged `provider` and `outcome`; one info line
 * when a 401 refreshed the credentials.
 *
 * @since 0.1.0
 */
import type * as HttpClient from "@effect/platform/HttpClient"
import type * as UrlParams from "@effect/platform/UrlParams"
import type * as Context from "effect/Context"
import type { Duration, DurationInput } from "effect/Duration"
import type { Effect } from "effect/Effect"
import type { Layer } from "effect/Layer"
import type { Option } from "effect/Option"
import type { Schema } from "effect/Schema"
import type { Scope } from "effect/Scope"
import type { Stream } from "effect/Stream"
import type { Credentials } from "./Credentials.js"
import type {
  BulkheadFull,
  CircuitOpen,
  ClientError,
  InvalidOptions,
  InvalidRequest,
  InvalidResponse,
  RateLimited,
  Timeout,
  Unavailable
} from "./Errors.js"
import * as internal from "./internal/httpProvider.js"
import * as transport from "./internal/httpProviderTransport.js"

/**
 * Every error a request can fail with, before the policy adds its own.
 *
 * @since 0.1.0
 * @category models
 */
export type RequestError = RateLimited | Unavailable | Timeout | ClientError | InvalidRequest | InvalidResponse

/**
 * Every error a request can fail with under the default policy, `Policy.provider(name)`: the
 * {@link RequestError}s plus its breaker's `CircuitOpen` and its bulkhead's `BulkheadFull`.
 *
 * @since 0.1.0
 * @category models
 */
export type DefaultError = RequestError | CircuitOpen | BulkheadFull

/**
 * What a policy sees in place of the response: an opaque value it can only pass through. A policy
 * guards the request (retries, breaks, times out); it cannot invent a response. A fallback value
 * belongs to the caller, who knows which request it stands in for.
 *
 * @since 0.1.0
 * @category models
 */
export interface Attempt {
  readonly _: unique symbol
}

/**
 * A guard chain applied to every request, e.g.
 * `(self) => self.pipe(Timeout.attempt("2 seconds"), CircuitBreaker.protect(Breaker), Retry.transient())`.
 * It receives one attempt, failing with {@link RequestError}, and returns the guarded call: `E` is the
 * error channel every request then has (the documented union plus what the guards add, minus what
 * they handle), `R` what the guards need (a breaker's tag), provided once when the client is built.
 *
 * A generic guard (`<A, E, R>(self: Effect<A, E, R>) => ...`) fits as is; TypeScript instantiates it
 * for this signature, so nothing needs annotating.
 *
 * @since 0.1.0
 * @category models
 */
export type Policy<E = RequestError, R = never> = (self: Effect<Attempt, RequestError>) => Effect<Attempt, E, R>

/**
 * The errors an answer's status maps to: what {@link classify} gives, and what a `classify` hook may
 * return in place of it.
 *
 * @since 0.1.0
 * @category models
 */
export type Classified = RateLimited | Unavailable | Timeout | ClientError

/**
 * Response headers as any client gives them, names in any case: a record (`@effect/platform`,
 * undici, Node's `IncomingHttpHeaders`; a repeated field as an array) or name-value pairs (fetch's
 * `Headers`).
 *
 * @since 0.1.0
 * @category models
 */
export type HeadersInput =
  | Readonly<Record<string, string | ReadonlyArray<string> | undefined>>
  | Iterable<readonly [string, string]>

/**
 * One answer of a client you call yourself, for {@link classify}.
 *
 * @since 0.1.0
 * @category models
 */
export interface ClassifyInput {
  /** The provider's name, carried by the error. Required. */
  readonly provider: string
  /** The HTTP status. Required. */
  readonly status: number
  /** The response headers, read for the provider's wait hint. Defaults to none. */
  readonly headers?: HeadersInput | undefined
  /**
   * The body as text; a `ClientError` keeps a one-line excerpt of at most 200 characters. Cut your
   * secrets out of it first if the provider may echo them. Defaults to `""`.
   */
  readonly body?: string | undefined
  /** How long the attempt took: the `after` of the `Timeout` a 408 gives. Defaults to `Duration.zero`. */
  readonly elapsed?: Duration | undefined
}

/**
 * What a `classify` hook sees: one answer, its body read as text, and the parsed rate-limit hint.
 *
 * @since 0.1.0
 * @category models
 */
export interface Answer {
  readonly provider: string
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string
  readonly retryAfter: Duration | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Options<E = DefaultError, R = never> {
  /** The provider's name, in every error, span and metric. Required. */
  readonly name: string
  /**
   * The URL request paths are appended to, e.g. `"https://api.stripe.com"`: absolute http(s), without
   * query string, fragment or user info. Required.
   */
  readonly baseUrl: string
  /**
   * Headers sent with every request: names are RFC 9110 tokens, values hold no control character,
   * and the headers the HTTP client writes itself are not allowed. Defaults to `{}`.
   */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /**
   * Where the secret comes from. A provider that echoes the secret a request carried has it cut out of
   * `ClientError.body` and `InvalidResponse.issue`, and so of every log line, span and encoded error made
   * from them, in these forms: as sent (a run of whitespace in it matching any run), JSON-escaped up to
   * three levels (`\"`, `\u0022`), URL-encoded (`encodeURIComponent` or form style with `+`, hex in
   * either case), HTML-escaped, and base64 or base64url (padded or not) of the secret, of the header
   * value `"<scheme> <secret>"` and of the secret inside a longer base64 text (there one character each
   * side, at most 4 bits of the secret, stays). Not cut: a hash, a part or a hex dump of the secret,
   * other nestings of encodings (base64 of a URL-encoded secret), and whatever a `classify` of yours
   * copies from `answer.body`. Defaults to `undefined` (no auth header).
   */
  readonly credentials?: Credentials | undefined
  /** The header the secret is sent in. Defaults to `"authorization"`. */
  readonly credentialsHeader?: string | undefined
  /** Written before the secret, e.g. `"Bearer"`; `""` sends the bare secret. Defaults to `"Bearer"`. */
  readonly credentialsScheme?: string | undefined
  /**
   * The guard chain applied to every request; `(self) => self` for none. Defaults to `Policy.provider(name)`
   * (attempt timeout, deadline, retry with budget, breaker, 429 gate, limiter, bulkhead; see `Policy`),
   * built with the client, which then needs a `Scope`.
   */
  readonly policy?: Policy<E, R> | undefined
  /**
   * The guard chain applied to each streaming call, which it sees as one call from the request to the
   * stream's end. Defaults to `policy` when one is given, else `Policy.provider(name)` without its
   * attempt and total timeouts, sharing the breaker, gate, limiter and bulkhead of `policy`'s default.
   */
  readonly streamPolicy?: NoInfer<Policy<E, R>> | undefined
  /** The most requests of this provider in flight at once; more wait their turn. Defaults to `50`. */
  readonly maxConnections?: number | undefined
  /**
   * Sees every answer before the default mapping; return an error to use it instead, `undefined` to
   * keep the default. Defaults to `undefined`.
   */
  readonly classify?: ((answer: Answer) => Classified | undefined) | undefined
  /** A header carrying the time left of the enclosing `Timeout.total` in ms. Defaults to `undefined` (off). */
  readonly deadlineHeader?: string | undefined
  /** The header an idempotency key is sent in. Defaults to `"Idempotency-Key"`. */
  readonly idempotencyHeader?: string | undefined
  /**
   * Makes the idempotency key of each logical call that has none of its own. Defaults to
   * `crypto.randomUUID()`. In tests, {@link idempotencyKeyFromRandom} under a seeded `Random` makes
   * keys reproducible.
   */
  readonly newIdempotencyKey?: Effect<string> | undefined
  /** The longest body excerpt kept in a `ClientError`, and the longest line of an `InvalidResponse` issue. Defaults to `200`. */
  readonly excerptLength?: number | undefined
}

/**
 * Options of a request without a body.
 *
 * @since 0.1.0
 * @category models
 */
export interface RequestOptions<A, I> extends SendOptions {
  /** The Schema a 2xx body is decoded with (an empty body is decoded as `undefined`). Required. */
  readonly response: Schema<A, I>
}

/**
 * What every request and stream may say about how it is sent: path parameters, query, headers, the
 * credential and whether re-sending is safe.
 *
 * @since 0.1.0
 * @category models
 */
export interface SendOptions {
  /** Values for `{name}` placeholders in the path, URI-encoded. Defaults to `{}`. */
  readonly params?: Readonly<Record<string, string | number>> | undefined
  /** The query string. Never recorded in spans. Defaults to none. */
  readonly urlParams?: UrlParams.Input | undefined
  /** Extra headers for this request, under the rules of `Options.headers` (else `InvalidRequest`). Defaults to `{}`. */
  readonly headers?: Readonly<Record<string, string>> | undefined
  /** Which credential to use (tenant, region). Defaults to the credentials' default. */
  readonly credentialsKey?: string | undefined
  /**
   * Whether re-sending is safe. `true` on a write also sends an idempotency key. Defaults to `true`
   * for GET, PUT and DELETE and `false` for POST and PATCH.
   */
  readonly idempotent?: boolean | undefined
  /**
   * An idempotency key of your own (an order id); implies `idempotent`. Defaults to a new key
   * (`newIdempotencyKey`, a random UUID) when idempotent. An empty key fails with `InvalidRequest`.
   */
  readonly idempotencyKey?: string | undefined
}

/**
 * Options of a request with a body: the body and the Schema it is encoded with.
 *
 * @since 0.1.0
 * @category models
 */
export interface BodyOptions<A, I, B, BI> extends RequestOptions<A, I> {
  /** The Schema the body is encoded and validated with before anything is sent. Required. */
  readonly request: Schema<B, BI>
  /** The body, sent as JSON. Required. */
  readonly body: NoInfer<B>
}

/**
 * Options of a streaming request: what is sent (as for {@link RequestOptions}, with an optional body)
 * and the three time limits of a streamed answer. Each limit fails the stream with a `Timeout` of its
 * own scope: `"first-byte"` and `"idle"` are retried by the policy's retry and counted by its breaker
 * like an attempt timeout (before the first item a retry sends the request again; after it, a retry
 * resumes the stream where `resume` allows and is refused otherwise); `"total"` is never retried nor
 * counted.
 *
 * @since 0.1.0
 * @category models
 */
export interface StreamOptions<B = never, BI = never> extends SendOptions {
  /** The method. Defaults to `"POST"` when a `body` is given, else `"GET"`. */
  readonly method?: Method | undefined
  /** The Schema the body is encoded and validated with before anything is sent. Defaults to no body. */
  readonly request?: Schema<B, BI> | undefined
  /** The body, sent as JSON (with `request`). Defaults to no body. */
  readonly body?: NoInfer<B> | undefined
  /**
   * The longest wait from sending the request to the first byte of the body (an LLM's first token).
   * Defaults to `"10 seconds"`.
   */
  readonly firstByte?: DurationInput | undefined
  /** The longest gap between two chunks of the body once it has started. Defaults to `"30 seconds"`. */
  readonly idle?: DurationInput | undefined
  /**
   * The longest the whole stream may last, resumes and a slow consumer included. Defaults to
   * `undefined` (no limit: a download takes as long as it takes while bytes keep coming).
   */
  readonly total?: DurationInput | undefined
}

/**
 * Options of a byte stream: a download that `resume: "range"` continues after a cut with
 * `Range: bytes=<delivered>-` (and `If-Range` with the first answer's strong `ETag` or its
 * `Last-Modified`): a `206` from that offset continues the stream, a `200` to a request without a
 * validator is skipped up to that offset, and a `200` to one with a validator (the file changed) or a
 * `206` from another offset fails with `InvalidResponse`.
 *
 * @since 0.1.0
 * @category models
 */
export interface BytesOptions<B = never, BI = never> extends StreamOptions<B, BI> {
  /** How to continue after a cut once bytes were delivered. Defaults to `undefined` (fail). */
  readonly resume?: "range" | undefined
}

/**
 * Reads the usage a stream reports (an LLM's token count, sent last) from one item: the last number
 * it gives is reported to the adaptive limiter around the call (`RateLimit.reportUsage`) when the
 * stream ends, so a `RateLimit.withCost` reservation is settled to what the call really cost.
 *
 * @since 0.1.0
 * @category models
 */
export interface UsageOptions<A> {
  /** The usage in the limiter's units an item reports, or `undefined`. Defaults to none. */
  readonly usage?: ((item: A) => number | undefined) | undefined
}

/**
 * Options of a server-sent event stream: `resume: "last-event-id"` reconnects after a cut with the
 * `Last-Event-ID` of the last event delivered, once an event with an `id` was delivered.
 *
 * @since 0.1.0
 * @category models
 */
export interface EventsOptions<B = never, BI = never> extends StreamOptions<B, BI>, UsageOptions<ServerSentEvent> {
  /** How to continue after a cut once events were delivered. Defaults to `undefined` (fail). */
  readonly resume?: "last-event-id" | undefined
}

/**
 * Options of a stream of JSON items: NDJSON lines, or the `data` of server-sent events.
 *
 * @since 0.1.0
 * @category models
 */
export interface ItemsOptions<A, I, B = never, BI = never> extends StreamOptions<B, BI>, UsageOptions<A> {
  /** The Schema each item is decoded with; one that does not match fails with `InvalidResponse`. Required. */
  readonly item: Schema<A, I>
}

/**
 * Options of a stream of server-sent events whose `data` is JSON. An event whose data is `[DONE]`
 * (OpenAI's end marker) ends the stream.
 *
 * @since 0.1.0
 * @category models
 */
export interface EventItemsOptions<A, I, B = never, BI = never> extends ItemsOptions<A, I, B, BI> {
  /** How to continue after a cut once events were delivered. Defaults to `undefined` (fail). */
  readonly resume?: "last-event-id" | undefined
}

/**
 * One server-sent event: its `event` name (`"message"` when the server gave none), its `id` if it had
 * one, and its `data` lines joined with newlines.
 *
 * @since 0.1.0
 * @category models
 */
export interface ServerSentEvent {
  readonly event: string
  readonly id: string | undefined
  readonly data: string
}

/**
 * The streaming requests of a provider client. Each returns a `Stream` that sends nothing until it is
 * run, pulls the body from the socket only as fast as the consumer pulls items (a slow consumer holds
 * at most a few chunks), and fails with the client's error channel `E` plus `InvalidRequest` (bad
 * request or stream options; nothing sent) and `Timeout` (the stream's `total` limit, applied outside
 * the policy, so it is there even when the policy handles every `Timeout` of its own). An error in
 * the middle of a stream that cannot be resumed ends the stream at once, as the attempt's error.
 *
 * The policy sees a stream as one call: its bulkhead slot, breaker permit and connection are held
 * until the stream ends; the outcome is the stream's (a success when it ends, the failure when it
 * fails); a consumer that stops early (`Stream.take`, an interruption) is neither, and gives every
 * slot back. The default policy is `Policy.provider(name)` without its attempt and total timeouts (the
 * stream's own limits replace them), sharing the breaker, gate, limiter and bulkhead of the client's
 * requests; a `policy` of your own applies as given, so an attempt timeout in it bounds every stream:
 * give streams their own with `streamPolicy`.
 *
 * @since 0.1.0
 * @category models
 */
export interface Streams<E> {
  /** The body as byte chunks as they arrive; `resume: "range"` continues a cut download. */
  readonly bytes: <B = never, BI = never>(
    path: string,
    options?: BytesOptions<B, BI>
  ) => Stream<Uint8Array, E | InvalidRequest | Timeout>
  /** The body as UTF-8 text lines, without their line ends. */
  readonly lines: <B = never, BI = never>(
    path: string,
    options?: StreamOptions<B, BI> & UsageOptions<string>
  ) => Stream<string, E | InvalidRequest | Timeout>
  /** The body as server-sent events (`text/event-stream`); `resume: "last-event-id"` reconnects after a cut. */
  readonly events: <B = never, BI = never>(
    path: string,
    options?: EventsOptions<B, BI>
  ) => Stream<ServerSentEvent, E | InvalidRequest | Timeout>
  /** Newline-delimited JSON, each non-blank line decoded with `item`. */
  readonly ndjson: <A, I, B = never, BI = never>(
    path: string,
    options: ItemsOptions<A, I, B, BI>
  ) => Stream<A, E | InvalidRequest | Timeout>
  /** Server-sent events whose `data` is JSON decoded with `item`, until a `[DONE]` event. */
  readonly eventsJson: <A, I, B = never, BI = never>(
    path: string,
    options: EventItemsOptions<A, I, B, BI>
  ) => Stream<A, E | InvalidRequest | Timeout>
}

/**
 * The HTTP methods a provider request can use.
 *
 * @since 0.1.0
 * @category models
 */
export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE"

/**
 * A provider client. `E` is every request's error channel: {@link DefaultError} without a policy,
 * the policy's errors with one (plus `InvalidRequest`, which fails before the policy runs: nothing
 * was sent, so there is nothing to guard).
 *
 * @since 0.1.0
 * @category models
 */
export interface HttpProvider<E = DefaultError> {
  /** The provider's name, as in its errors, spans and metrics. */
  readonly name: string
  /** A GET (idempotent: retried freely, no idempotency key). */
  readonly get: <A, I>(path: string, options: RequestOptions<A, I>) => Effect<A, E | InvalidRequest>
  /** A DELETE (idempotent by HTTP semantics unless `idempotent: false`). */
  readonly delete: <A, I>(path: string, options: RequestOptions<A, I>) => Effect<A, E | InvalidRequest>
  /** A POST: non-idempotent unless `idempotent: true` or an `idempotencyKey` is given. */
  readonly post: <A, I, B, BI>(path: string, options: BodyOptions<A, I, B, BI>) => Effect<A, E | InvalidRequest>
  /** A PUT (idempotent by HTTP semantics unless `idempotent: false`). */
  readonly put: <A, I, B, BI>(path: string, options: BodyOptions<A, I, B, BI>) => Effect<A, E | InvalidRequest>
  /** A PATCH: non-idempotent unless `idempotent: true` or an `idempotencyKey` is given. */
  readonly patch: <A, I, B, BI>(path: string, options: BodyOptions<A, I, B, BI>) => Effect<A, E | InvalidRequest>
  /** Streaming requests: the answer as a `Stream` of bytes, lines, events or decoded items. */
  readonly stream: Streams<E>
  /** Any of the above by method name; a body needs `request` and `body`. */
  readonly request: <A, I, B = never, BI = never>(
    method: Method,
    path: string,
    options: RequestOptions<A, I> | BodyOptions<A, I, B, BI>
  ) => Effect<A, E | InvalidRequest>
}

/**
 * Builds a provider client over the `HttpClient` in context, taken once and shared by every call.
 * What the policy needs (`R`) is taken from the context here too, so requests need nothing. Without a
 * `policy`, the client builds `Policy.provider(name)` in the `Scope` (its breaker, gate and bulkhead
 * live as long as the client).
 *
 * Fails with `InvalidOptions` for an empty name; a base URL that is not an absolute http(s) URL or
 * carries a query string (even a bare `?`), a fragment or user info; a header name that is not an
 * RFC 9110 token, or one the HTTP client writes itself (`connection`, `content-length`, `expect`,
 * `keep-alive`, `transfer-encoding`, `upgrade`); a header value or `credentialsScheme` holding CR,
 * LF or another control character; a `policy` or `classify` that is not a function, a
 * `newIdempotencyKey` that is not an Effect, `credentials` that are not a Credentials value, or
 * credentials built from bad input (`Credentials.fixed("")` fails here, with its own
 * `InvalidOptions`); a `maxConnections` / `excerptLength` that is not an integer >= 1. Header values
 * are never quoted in the error: one may be a secret.
 *
 * A request whose own headers or idempotency key break the same rules, or whose secret (a rotated
 * one, known only when it is used) holds a control character, fails with `InvalidRequest` and nothing
 * is sent. So does one an HTTP client refuses as invalid (undici's `UND_ERR_INVALID_ARG`): sending it
 * again would fail the same, so it is not `Unavailable` and no retry re-sends it.
 *
 * @example
 * ```ts
 * import { Effect, Schema } from "effect"
 * import { Credentials, HttpProvider, Retry, Timeout } from "effect-resilience"
 *
 * const Charge = Schema.Struct({ id: Schema.String, amount: Schema.Number })
 * const NewCharge = Schema.Struct({ amount: Schema.Positive, currency: Schema.String })
 *
 * const program = Effect.gen(function*() {
 *   const payments = yield* HttpProvider.make({
 *     name: "payments",
 *     baseUrl: "https://payments.example.com",
 *     credentials: Credentials.fixed("sk_test"),
 *     policy: (self) => self.pipe(Timeout.attempt("2 seconds"), Retry.transient({ times: 3 }))
 *   })
 *   return yield* payments.post("/v1/charges", {
 *     request: NewCharge,
 *     body: { amount: 500, currency: "eur" },
 *     response: Charge,
 *     idempotent: true
 *   })
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: {
  <E, R = never>(
    options: Options<E, R> & { readonly policy: Policy<E, R> }
  ): Effect<HttpProvider<E>, InvalidOptions, HttpClient.HttpClient | R>
  (
    options: Options & { readonly policy?: undefined }
  ): Effect<HttpProvider<DefaultError>, InvalidOptions, HttpClient.HttpClient | Scope>
} = internal.make

/**
 * A version 4 UUID drawn from Effect's `Random`: pass it as `newIdempotencyKey` so that a seeded
 * `Random` (`Effect.withRandom(Random.make(seed))`) makes the keys of a test exact. Not for
 * production: Effect's default `Random` is seeded with 32 bits, so two processes can draw the same
 * keys; the default `crypto.randomUUID()` cannot.
 *
 * @example
 * ```ts
 * import { HttpProvider } from "effect-resilience"
 *
 * const options = { name: "psp", baseUrl: "https://psp.test", newIdempotencyKey: HttpProvider.idempotencyKeyFromRandom }
 * ```
 *
 * @since 0.1.0
 * @category idempotency
 */
export const idempotencyKeyFromRandom: Effect<string> = internal.idempotencyKeyFromRandom

/**
 * A Layer for your own provider tag. The options may be an Effect (read from config, with a
 * `Credentials.rotating` built inside), whose errors and requirements the Layer then carries.
 *
 * @example
 * ```ts
 * import { Context } from "effect"
 * import { HttpProvider } from "effect-resilience"
 *
 * class Partner extends Context.Tag("app/Partner")<Partner, HttpProvider.HttpProvider>() {}
 *
 * // Layer<Partner, InvalidOptions, HttpClient>
 * const PartnerLive = HttpProvider.layer(Partner, { name: "partner", baseUrl: "https://partner.example.com" })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: {
  <I, E, R = never>(
    tag: Context.Tag<I, HttpProvider<E>>,
    options: Options<E, R> & { readonly policy: Policy<E, R> }
  ): Layer<I, InvalidOptions, HttpClient.HttpClient | R>
  <I>(
    tag: Context.Tag<I, HttpProvider<DefaultError>>,
    options: Options & { readonly policy?: undefined }
  ): Layer<I, InvalidOptions, HttpClient.HttpClient>
  <I, E, E2, R2, R = never>(
    tag: Context.Tag<I, HttpProvider<E>>,
    options: Effect<Options<E, R> & { readonly policy: Policy<E, R> }, E2, R2>
  ): Layer<I, InvalidOptions | E2, HttpClient.HttpClient | R | Exclude<R2, Scope>>
  <I, E2, R2>(
    tag: Context.Tag<I, HttpProvider<DefaultError>>,
    options: Effect<Options & { readonly policy?: undefined }, E2, R2>
  ): Layer<I, InvalidOptions | E2, HttpClient.HttpClient | Exclude<R2, Scope>>
} = internal.layer

/**
 * The status mapping every provider client uses, for a client you call yourself (fetch, undici, a
 * gRPC status mapped to HTTP): `undefined` for a 2xx, else the error the table at the top of this
 * module gives, with the provider's hint as `retryAfter`: for a 429 `Retry-After` or the rate-limit
 * headers (see {@link retryAfter}), for a 5xx `Retry-After` only. An HTTP-date is read against `Clock`, so `TestClock` controls it. Statuses outside
 * 2xx that the table does not name (1xx, 3xx, 425) are a `ClientError`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { HttpProvider } from "effect-resilience"
 *
 * const search = (query: string) =>
 *   Effect.gen(function*() {
 *     const response = yield* Effect.promise(() => fetch(`https://search.example.com/?q=${encodeURIComponent(query)}`))
 *     const body = yield* Effect.promise(() => response.text())
 *     // RateLimited | Unavailable | Timeout | ClientError | undefined
 *     const error = yield* HttpProvider.classify({
 *       provider: "search",
 *       status: response.status,
 *       headers: response.headers,
 *       body
 *     })
 *     if (error !== undefined) return yield* Effect.fail(error)
 *     return body
 *   })
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const classify: (answer: ClassifyInput) => Effect<Classified | undefined> = transport.classify

/**
 * The provider's "wait this long" hint in response headers (names in any case): `Retry-After` in
 * seconds or as an HTTP-date (read against `Clock`), else the `RateLimit` header, else
 * `RateLimit-Reset` / `X-RateLimit-Reset` when the matching `*-Remaining` is 0 or absent (a reset sent
 * with quota left is no wait). `None` when no header gives a believable hint (garbage,
 * negative, more than a day). The parser {@link classify} and every provider client use.
 *
 * @example
 * ```ts
 * import { Duration, Effect, Option } from "effect"
 * import { HttpProvider } from "effect-resilience"
 *
 * // 5000 (millis); 0 when the provider gave no hint
 * const waitMillis = HttpProvider.retryAfter({ "Retry-After": "5" }).pipe(
 *   Effect.map(Option.match({ onNone: () => 0, onSome: Duration.toMillis }))
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const retryAfter: (headers: HeadersInput) => Effect<Option<Duration>> = transport.retryAfter
