import * as Headers from "@effect/platform/Headers"
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as HttpTraceContext from "@effect/platform/HttpTraceContext"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as Credentials from "../Credentials.js"
import { InvalidRequest, InvalidResponse, Timeout } from "../Errors.js"
import type { ClientError, InvalidOptions, RateLimited, Unavailable } from "../Errors.js"
import type * as HttpProvider from "../HttpProvider.js"
import { remaining } from "./deadline.js"
import { isCredentials, problemOf } from "./credentials.js"
import {
  defaultExcerptLength,
  excerpt,
  formatIssue,
  fromClientError,
  fromStatus,
  provablyNotProcessed,
  retryAfterAt
} from "./httpProviderTransport.js"
import {
  type Check,
  fn,
  headerName,
  headerNameRule,
  headerValueFault,
  integerAtLeast,
  invalid,
  invalidDescribed,
  isHeaderName,
  kindOf,
  nonEmptyString,
  validated
} from "./options.js"
import { streams } from "./httpProviderStream.js"
import * as Policy from "./policy.js"
import { observe } from "./rateLimit/adaptiveSink.js"
import { redactor } from "./redact.js"

const defaults = {
  // The platform's CSPRNG (122 random bits), not Effect's default `Random`: that one is seeded with 32
  // bits, so among tens of thousands of process starts two would draw the same keys, and a provider
  // would answer the second charge with the first one's stored reply.
  newIdempotencyKey: Effect.sync(() => globalThis.crypto.randomUUID()),
  credentialsHeader: "authorization",
  credentialsScheme: "Bearer",
  maxConnections: 50,
  idempotencyHeader: "Idempotency-Key",
  excerptLength: defaultExcerptLength
}

/** @internal */
export const attempts = Metric.counter("resilience_http_provider_attempts_total", {
  description: "Attempts sent to a provider, by outcome (status code or failure reason)",
  incremental: true
})

/**
 * An attempt of a non-idempotent write was refused because an earlier attempt may have been
 * processed. It travels through the policy as a defect (retries do not retry defects) and is turned
 * back into `error` above the policy.
 */
class ReplayRefused {
  constructor(readonly error: HttpProvider.RequestError) {}
}

type Failure = HttpProvider.RequestError

/**
 * What an attempt does with a 2xx answer in place of reading and decoding its body: a stream pumps
 * it to its consumer (see httpProviderStream.ts). Everything else (credentials, the 401 refresh,
 * idempotency, the span, the connection permit, the metric, the policy) stays the same.
 * @internal
 */
export interface Receiver<A> {
  /** The `accept` header sent unless the request sets its own. */
  readonly accept: string
  /** The limit from sending to the first byte of the body (or of an error answer's body). */
  readonly firstByte: Duration.Duration
  /** Called as each attempt starts: `Some(error)` refuses it (output already delivered cannot be resumed). */
  readonly refusal: Effect.Effect<Option.Option<Failure>>
  /** Headers of this attempt that override every other (a resume point). */
  readonly resumeHeaders: Effect.Effect<Readonly<Record<string, string>>>
  /**
   * Consumes a 2xx answer; `firstByteLeft` is what remains of `firstByte`. `clean` makes provider text
   * quotable in an error, as for a whole response: the credentials cut out, one line, `excerptLength`.
   */
  readonly receive: (
    response: HttpClientResponse.HttpClientResponse,
    firstByteLeft: Duration.Duration,
    clean: (line: string) => string
  ) => Effect.Effect<A, Failure>
}

/**
 * A request run through the policy with a receiver in place of the body decoding.
 * @internal
 */
export type RunWith<E> = <A>(
  method: HttpProvider.Method,
  path: string,
  options: HttpProvider.StreamOptions<any, any>,
  receiver: Receiver<A>
) => Effect.Effect<A, E | InvalidRequest>

interface Config {
  readonly name: string
  readonly baseUrl: string
  readonly headers: Readonly<Record<string, string>>
  readonly credentials: Credentials.Credentials | undefined
  readonly credentialsHeader: string
  readonly credentialsScheme: string
  readonly maxConnections: number
  readonly classify: HttpProvider.Options["classify"]
  readonly deadlineHeader: string | undefined
  readonly idempotencyHeader: string
  readonly newIdempotencyKey: Effect.Effect<string>
  readonly excerptLength: number
}

/**
 * The base URL as shown in an error: scheme, host and path only. A query, a fragment or user info may
 * hold a token (an OAuth implicit grant puts one in the fragment).
 */
const shownUrl = (raw: string, parsed: URL): string => {
  const userInfo = parsed.username !== "" || parsed.password !== "" ? "<user info>@" : ""
  const query = raw.includes("?") ? "?<query>" : ""
  const fragment = raw.includes("#") ? "#<fragment>" : ""
  return `${parsed.protocol}//${userInfo}${parsed.host}${parsed.pathname}${query}${fragment}`
}

/**
 * A base URL that is no http(s) URL, as shown in an error: what `shownUrl` hides, cut out of the text
 * itself. Such a URL may not parse (a password with a "/" reads as a bad port), so everything up to the
 * last "@" after the scheme is user info (a "@" in a path or query hides more than it must: never less).
 */
const shownRaw = (raw: string): string => {
  const scheme = raw.indexOf("://")
  const start = scheme < 0 ? 0 : scheme + 3
  const at = raw.lastIndexOf("@")
  const withoutUser = at < start ? raw : `${raw.slice(0, start)}<user info>@${raw.slice(at + 1)}`
  return withoutUser.replace(/[?#][^]*$/, (rest) => rest.startsWith("?") ? "?<query>" : "#<fragment>")
}

const baseUrlOf = (check: Check, raw: string): string => {
  let parsed: URL | undefined
  try {
    parsed = new URL(raw)
  } catch {
    parsed = undefined
  }
  if (parsed === undefined || (parsed.protocol !== "http:" && parsed.protocol !== "https:")) {
    // not a string at all (a missing environment variable): described by its kind
    const shown = typeof (raw as unknown) === "string" ? JSON.stringify(shownRaw(raw)) : kindOf(raw)
    return invalidDescribed(check, shown, "an absolute http(s) URL")
  }
  // A bare "?" or "#" parses to an empty search or hash, yet the raw string used to be prefixed to
  // every path ("POST /?/v1/things"): refuse the characters themselves. A token in the base URL would
  // end up in every log line that prints a URL.
  if (raw.includes("?") || raw.includes("#") || parsed.username !== "" || parsed.password !== "") {
    invalidDescribed(
      check,
      JSON.stringify(shownUrl(raw, parsed)),
      "an absolute http(s) URL without query string, fragment or user info"
    )
  }
  // the parsed form: no stray whitespace, a lower-case host
  return parsed.href.replace(/\/+$/, "")
}

/** What is wrong with a set of headers, in the words of an `InvalidOptions`; the values are never shown. */
interface HeadersFault {
  readonly option: string
  readonly value: string
  readonly expected: string
}

/**
 * Headers the HTTP client writes itself (framing, connection management). undici refuses a request
 * that sets one, and undici 7 leaks a pool slot with every such refusal: after `connections` of them,
 * every request on that pool waits forever. So they are refused before a request reaches the pool.
 */
const clientOwned: ReadonlySet<string> = new Set([
  "connection",
  "content-length",
  "expect",
  "keep-alive",
  "transfer-encoding",
  "upgrade"
])

const clientOwnedRule = `a header the HTTP client does not write itself (${[...clientOwned].join(", ")})`

const headersFault = (headers: unknown): HeadersFault | undefined => {
  if (typeof headers !== "object" || headers === null || Array.isArray(headers)) {
    return { option: "headers", value: kindOf(headers), expected: "a record of header names to values" }
  }
  for (const [name, value] of Object.entries(headers)) {
    if (!isHeaderName(name) || clientOwned.has(name.toLowerCase())) {
      const expected = isHeaderName(name) ? clientOwnedRule : headerNameRule
      return { option: "headers", value: `a header named ${JSON.stringify(name)}`, expected }
    }
    const fault = headerValueFault(value)
    if (fault !== undefined) {
      return { option: `headers[${JSON.stringify(name)}]`, value: `<redacted> (${fault})`, expected: "a header value" }
    }
  }
  return undefined
}

const validate = (options: HttpProvider.Options<any, any>, module: string): Config => {
  const check = (option: string) => ({ module, option })
  const name = nonEmptyString(check("name"), options.name)
  const ownHeader = (option: string, value: string) =>
    clientOwned.has(headerName(check(option), value).toLowerCase())
      ? invalid(check(option), value, clientOwnedRule)
      : value
  const header = (option: string, value: string | undefined, fallback: string) =>
    value === undefined ? fallback : ownHeader(option, value)
  const scheme = options.credentialsScheme ?? defaults.credentialsScheme
  // described, not quoted: a scheme that is not a token is most likely a whole "Bearer <key>"
  if (scheme !== "" && !isHeaderName(scheme)) {
    invalidDescribed(
      check("credentialsScheme"),
      typeof (scheme as unknown) === "string" ? "<redacted> (not a token)" : kindOf(scheme),
      "an auth scheme (an RFC 9110 token: \"Bearer\"), or \"\" for none"
    )
  }
  const credentials = options.credentials
  if (credentials !== undefined) {
    if (!isCredentials(credentials)) {
      invalidDescribed(check("credentials"), kindOf(credentials), "a Credentials value (fixed, rotating, byKey)")
    }
    const problem = problemOf(credentials)
    if (problem !== undefined) throw problem
  }
  if (options.policy !== undefined) fn(check("policy"), options.policy)
  if (options.streamPolicy !== undefined) fn(check("streamPolicy"), options.streamPolicy)
  if (options.classify !== undefined) fn(check("classify"), options.classify)
  if (options.newIdempotencyKey !== undefined && !Effect.isEffect(options.newIdempotencyKey)) {
    invalidDescribed(
      check("newIdempotencyKey"),
      kindOf(options.newIdempotencyKey),
      "an Effect<string> (e.g. HttpProvider.idempotencyKeyFromRandom)"
    )
  }
  const headers = options.headers ?? {}
  const fault = headersFault(headers)
  if (fault !== undefined) invalidDescribed(check(fault.option), fault.value, fault.expected)
  return {
    name,
    baseUrl: baseUrlOf(check("baseUrl"), options.baseUrl),
    headers,
    credentials,
    credentialsHeader: header("credentialsHeader", options.credentialsHeader, defaults.credentialsHeader)
      .toLowerCase(),
    credentialsScheme: scheme,
    maxConnections: integerAtLeast(check("maxConnections"), options.maxConnections ?? defaults.maxConnections, 1),
    classify: options.classify,
    deadlineHeader: options.deadlineHeader === undefined
      ? undefined
      : ownHeader("deadlineHeader", options.deadlineHeader),
    idempotencyHeader: header("idempotencyHeader", options.idempotencyHeader, defaults.idempotencyHeader),
    newIdempotencyKey: options.newIdempotencyKey ?? defaults.newIdempotencyKey,
    excerptLength: integerAtLeast(check("excerptLength"), options.excerptLength ?? defaults.excerptLength, 1)
  }
}

const hex = (n: number) => n.toString(16).padStart(2, "0")

/** A version 4 UUID from Effect's `Random`, so a seeded Random makes keys reproducible in tests. */
export const idempotencyKeyFromRandom: Effect.Effect<string> = Effect.map(
  Effect.all(Array.from({ length: 16 }, () => Random.nextIntBetween(0, 256))),
  (bytes) => {
    bytes[6] = (bytes[6]! & 0x0f) | 0x40
    bytes[8] = (bytes[8]! & 0x3f) | 0x80
    const h = bytes.map(hex).join("")
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
  }
)

const placeholder = /\{([A-Za-z0-9_]+)\}/g

/** Everything decided once per logical call, before the policy. */
interface Prepared {
  readonly method: HttpProvider.Method
  readonly route: string
  readonly url: string
  readonly body: string | undefined
  readonly idempotencyKey: string | undefined
  readonly retrySafe: boolean
}

const prepare = (
  config: Config,
  method: HttpProvider.Method,
  path: string,
  options:
    | HttpProvider.RequestOptions<any, any>
    | HttpProvider.BodyOptions<any, any, any, any>
    | HttpProvider.StreamOptions<any, any>
): Effect.Effect<Prepared, InvalidRequest> =>
  Effect.gen(function*() {
    const provider = config.name
    const params = options.params ?? {}
    let missing: string | undefined
    const filled = path.replace(placeholder, (_, key: string) => {
      const value = params[key]
      if (value === undefined) missing = key
      return encodeURIComponent(String(value ?? ""))
    })
    if (missing !== undefined) {
      return yield* new InvalidRequest({ provider, issue: `path parameter {${missing}} has no value` })
    }
    // Refused before anything is sent: an HTTP client refuses them too, but with the request under way.
    const fault = headersFault(options.headers ?? {})
    if (fault !== undefined) {
      const issue = `${fault.option} must be ${fault.expected}, got ${fault.value}`
      return yield* new InvalidRequest({ provider, issue })
    }
    let body: string | undefined
    if ("request" in options && options.request !== undefined) {
      const encoded = Schema.encodeUnknownEither(options.request)(options.body, { errors: "all" })
      if (Either.isLeft(encoded)) {
        return yield* new InvalidRequest({ provider, issue: formatIssue(encoded.left) })
      }
      try {
        body = JSON.stringify(encoded.right)
      } catch (error) {
        return yield* new InvalidRequest({ provider, issue: `the body cannot be sent as JSON: ${String(error)}` })
      }
    }
    const safeByMethod = method === "GET" || method === "PUT" || method === "DELETE"
    const wantsKey = method !== "GET" && (options.idempotent === true || options.idempotencyKey !== undefined)
    const idempotencyKey = !wantsKey ? undefined : options.idempotencyKey ?? (yield* config.newIdempotencyKey)
    if (idempotencyKey !== undefined && idempotencyKey.trim() === "") {
      // an empty key would dedupe nothing, yet make the write count as safe to re-send
      return yield* new InvalidRequest({ provider, issue: "the idempotency key is empty" })
    }
    const keyFault = idempotencyKey === undefined ? undefined : headerValueFault(idempotencyKey)
    if (keyFault !== undefined) {
      return yield* new InvalidRequest({ provider, issue: `the idempotency key ${keyFault}` })
    }
    return {
      method,
      route: path,
      url: `${config.baseUrl}${filled.startsWith("/") ? "" : "/"}${filled}`,
      body,
      idempotencyKey,
      retrySafe: idempotencyKey !== undefined || (options.idempotent ?? safeByMethod)
    }
  })

const decodeBody = (
  provider: string,
  status: number,
  text: string,
  schema: Schema.Schema<any, any>,
  clean: (line: string) => string
): Either.Either<unknown, InvalidResponse> => {
  let json: unknown = undefined
  if (text.trim() !== "") {
    try {
      json = JSON.parse(text)
    } catch {
      return Either.left(new InvalidResponse({ provider, status, issue: "the body is not JSON" }))
    }
  }
  return Either.mapLeft(
    Schema.decodeUnknownEither(schema)(json, { errors: "all" }),
    (error) => new InvalidResponse({ provider, status, issue: formatIssue(error, clean) })
  )
}

const outcomeOf = (error: Failure): string =>
  error._tag === "Unavailable"
    ? error.status === undefined ? error.reason : String(error.status)
    : error._tag === "ClientError" || error._tag === "InvalidResponse"
    ? String(error.status)
    : error._tag

/** `make`, its errors labelled with the function the user called. */
const makeAs = <E, R>(
  module: string,
  options: HttpProvider.Options<E, R>
): Effect.Effect<HttpProvider.HttpProvider<E>, InvalidOptions, HttpClient.HttpClient | R | Scope.Scope> =>
  Effect.gen(function*() {
    const config = yield* validated(() => validate(options, module))
    const provider = config.name
    // Our own span per attempt replaces the platform's, which records full URLs (query strings) and
    // every header not in the redacted list; trace context is still propagated below.
    const client = HttpClient.withTracerDisabledWhen(yield* HttpClient.HttpClient, () => true)
    const connections = yield* Effect.makeSemaphore(config.maxConnections)
    const policyContext = yield* Effect.context<R>()
    // The policy is typed over an opaque `Attempt` so it cannot invent a response; at run time it
    // guards the real attempt and passes its value through.
    type Guard = <A>(self: Effect.Effect<A, Failure>) => Effect.Effect<A, E, R>
    const defaultPolicies = options.policy === undefined ? yield* Policy.providerWithStream(provider) : undefined
    const policy = (options.policy ?? defaultPolicies!.request) as Guard
    const streamPolicy = (options.streamPolicy ?? options.policy ?? defaultPolicies!.stream) as Guard
    const counter = attempts.pipe(Metric.tagged("provider", provider))

    const authValue = (secret: Redacted.Redacted<string>) =>
      config.credentialsScheme === ""
        ? Redacted.value(secret)
        : `${config.credentialsScheme} ${Redacted.value(secret)}`

    /** One exchange: send, read the body, map the answer. */
    const exchange = (
      prepared: Prepared,
      options: HttpProvider.RequestOptions<any, any> | HttpProvider.StreamOptions<any, any>,
      secret: Redacted.Redacted<string> | undefined,
      markSent: Effect.Effect<void>,
      receiver: Receiver<unknown> | undefined
    ): Effect.Effect<{ readonly status: number; readonly result: Either.Either<unknown, Failure> }, Failure> =>
      Effect.gen(function*() {
        // A rotated secret is only known now; one that would split its header is not sent.
        const secretFault = secret === undefined ? undefined : headerValueFault(Redacted.value(secret))
        if (secretFault !== undefined) {
          const issue = `the credentials' secret ${secretFault}, which cannot be sent in a header`
          return yield* new InvalidRequest({ provider, issue })
        }
        const start = yield* Clock.currentTimeMillis
        const budget = config.deadlineHeader === undefined ? Option.none() : yield* remaining
        const span = yield* Effect.currentSpan.pipe(Effect.option)
        const headers: Record<string, string> = {
          accept: receiver?.accept ?? "application/json",
          ...config.headers,
          ...options.headers,
          ...(receiver === undefined ? {} : yield* receiver.resumeHeaders)
        }
        if (prepared.body !== undefined) headers["content-type"] = "application/json"
        if (prepared.idempotencyKey !== undefined) headers[config.idempotencyHeader] = prepared.idempotencyKey
        if (Option.isSome(budget) && config.deadlineHeader !== undefined) {
          headers[config.deadlineHeader] = String(Math.floor(Duration.toMillis(budget.value)))
        }
        if (secret !== undefined) headers[config.credentialsHeader] = authValue(secret)
        let request = HttpClientRequest.make(prepared.method)(prepared.url, {
          headers,
          ...(options.urlParams === undefined ? {} : { urlParams: options.urlParams })
        })
        if (Option.isSome(span)) request = HttpClientRequest.setHeaders(request, HttpTraceContext.toHeaders(span.value))
        if (prepared.body !== undefined) {
          request = HttpClientRequest.bodyText(request, prepared.body, "application/json")
        }

        // A stream's first-byte limit covers the wait for the answer and for an error answer's body.
        const firstByte = <X>(effect: Effect.Effect<X, Failure>): Effect.Effect<X, Failure> =>
          receiver === undefined ? effect : Effect.flatMap(Clock.currentTimeMillis, (now) =>
            Effect.timeoutFail(effect, {
              duration: Math.max(0, start + Duration.toMillis(receiver.firstByte) - now),
              onTimeout: () => new Timeout({ provider, scope: "first-byte", after: receiver.firstByte })
            }))
        const response = yield* markSent.pipe(
          Effect.zipRight(client.execute(request)),
          Effect.mapError((error) => fromClientError(provider, error)),
          firstByte
        )
        const status = response.status
        const streamed = receiver !== undefined && status >= 200 && status < 300
        const text = streamed ? "" : yield* firstByte(
          Effect.mapError(response.text, (error) => fromClientError(provider, error))
        )
        const now = yield* Clock.currentTimeMillis
        // every answer teaches an adaptive limiter around this call (a no-op without one)
        yield* observe({ status, headers: response.headers })
        const answer: HttpProvider.Answer = {
          provider,
          status,
          headers: response.headers,
          body: text,
          retryAfter: retryAfterAt(response.headers, now)
        }
        const classified: RateLimited | Unavailable | Timeout | ClientError | undefined = config.classify?.(answer)
        if (classified !== undefined) return { status, result: Either.left(classified) }
        const cut = redactor(secret === undefined ? [] : [secret], config.credentialsScheme)
        const clean = (line: string) => excerpt(line, config.excerptLength, cut)
        if (streamed) {
          const left = Duration.millis(Math.max(0, start + Duration.toMillis(receiver.firstByte) - now))
          return { status, result: Either.right(yield* receiver.receive(response, left, clean)) }
        }
        if (status >= 200 && status < 300) {
          return { status, result: decodeBody(provider, status, text, (options as HttpProvider.RequestOptions<any, any>).response, clean) }
        }
        const short = clean(text)
        return { status, result: Either.left(fromStatus(answer, now, Duration.millis(now - start), short)) }
      }).pipe(Effect.locallyWith(Headers.currentRedactedNames, (names) => [...names, config.credentialsHeader]))

    const run = <A>(
      method: HttpProvider.Method,
      path: string,
      options:
        | HttpProvider.RequestOptions<A, any>
        | HttpProvider.BodyOptions<A, any, any, any>
        | HttpProvider.StreamOptions<any, any>,
      receiver?: Receiver<A>
    ): Effect.Effect<A, E | InvalidRequest> =>
      Effect.gen(function*() {
        const prepared = yield* prepare(config, method, path, options)
        const key = options.credentialsKey
        if (config.credentials !== undefined && Option.isNone(yield* config.credentials.get(key))) {
          return yield* new InvalidRequest({
            provider,
            issue: key === undefined ? "no default credentials are configured" : `no credentials for key "${key}"`
          })
        }
        const attemptCount = yield* Ref.make(0)
        // For a write that is not retry-safe: the attempt that may have reached the provider and not
        // provably been refused, with when it was sent. Set before sending, cleared by a proof.
        const unresolved = yield* Ref.make<Option.Option<{ readonly sentAt: number; error?: Failure }>>(Option.none())

        const attempt: Effect.Effect<A, Failure> = Effect.gen(function*() {
          const n = yield* Ref.updateAndGet(attemptCount, (k) => k + 1)
          yield* Effect.annotateCurrentSpan("resilience.attempt", n)
          const refusal = receiver === undefined ? Option.none() : yield* receiver.refusal
          if (Option.isSome(refusal)) {
            yield* Effect.logDebug(`${provider} ${method} ${path}: not re-sent, the stream delivered output it cannot resume`)
            return yield* Effect.die(new ReplayRefused(refusal.value))
          }
          if (!prepared.retrySafe) {
            const previous = yield* Ref.get(unresolved)
            if (Option.isSome(previous)) {
              const now = yield* Clock.currentTimeMillis
              const error = previous.value.error ??
                new Timeout({ provider, scope: "attempt", after: Duration.millis(now - previous.value.sentAt) })
              yield* Effect.logDebug(
                `${provider} ${method} ${path}: not re-sent, an earlier attempt of this non-idempotent write ` +
                  "may have been processed"
              )
              return yield* Effect.die(new ReplayRefused(error))
            }
          }
          const markSent = prepared.retrySafe ? Effect.void : Effect.flatMap(
            Clock.currentTimeMillis,
            (sentAt) => Ref.set(unresolved, Option.some({ sentAt }))
          )
          const secret = config.credentials === undefined
            ? undefined
            : Option.getOrUndefined(yield* config.credentials.get(key))
          let outcome = yield* exchange(prepared, options, secret, markSent, receiver)
          if (
            outcome.status === 401 && secret !== undefined && config.credentials !== undefined &&
            Either.isLeft(outcome.result) && outcome.result.left._tag === "ClientError"
          ) {
            // A 401 proves the request was not processed: refresh once and send once more.
            const fresh = yield* config.credentials.refresh(secret, key)
            if (Option.isSome(fresh)) {
              yield* Effect.logInfo(`${provider} rejected its credentials (401); refreshed them and re-sending once`)
              yield* Effect.annotateCurrentSpan("resilience.credentials_refreshed", true)
              yield* Ref.set(unresolved, Option.none())
              outcome = yield* exchange(prepared, options, fresh.value, markSent, receiver)
            }
          }
          yield* Effect.annotateCurrentSpan("http.response.status_code", outcome.status)
          return yield* outcome.result as Either.Either<A, Failure>
        }).pipe(
          Effect.tapBoth({
            onFailure: (error) =>
              Effect.zipRight(
                Metric.update(counter.pipe(Metric.tagged("outcome", outcomeOf(error))), 1),
                prepared.retrySafe ? Effect.void : Ref.update(unresolved, (state) =>
                  provablyNotProcessed(error)
                    ? Option.none()
                    : Option.map(state, (s) => ({ sentAt: s.sentAt, error })))
              ),
            onSuccess: () => Metric.update(counter.pipe(Metric.tagged("outcome", "success")), 1)
          }),
          connections.withPermits(1),
          Effect.withSpan(`${provider} ${method} ${path}`, {
            kind: "client",
            captureStackTrace: false,
            attributes: {
              "http.request.method": method,
              "http.route": path,
              "resilience.provider": provider,
              "resilience.idempotent": prepared.retrySafe
            }
          })
        )

        const guard = receiver === undefined ? policy : streamPolicy
        const guarded: Effect.Effect<A, E | Failure> = Effect.provide(guard(attempt), policyContext)
        return yield* Effect.catchAllCause(guarded, (cause) => {
          const refused = Cause.find(cause, (reason) =>
            reason._tag === "Die" && reason.defect instanceof ReplayRefused
              ? Option.some(reason.defect.error)
              : Option.none())
          return Option.isSome(refused) ? Effect.fail(refused.value) : Effect.failCause(cause)
        }) as Effect.Effect<A, E | InvalidRequest>
      })

    const withBody = (method: HttpProvider.Method) =>
    (path: string, options: HttpProvider.BodyOptions<any, any, any, any>) => run(method, path, options)
    const withoutBody = (method: HttpProvider.Method) =>
    (path: string, options: HttpProvider.RequestOptions<any, any>) => run(method, path, options)

    return {
      name: provider,
      get: withoutBody("GET"),
      delete: withoutBody("DELETE"),
      post: withBody("POST"),
      put: withBody("PUT"),
      patch: withBody("PATCH"),
      stream: streams<E>(run, provider),
      request: run
    } as HttpProvider.HttpProvider<E>
  })

/** @internal */
export const make: typeof HttpProvider.make = ((options: HttpProvider.Options<any, any>) =>
  makeAs("HttpProvider.make", options)) as typeof HttpProvider.make

/** @internal */
export const layer = <I>(
  tag: Context.Tag<I, HttpProvider.HttpProvider<any>>,
  options: HttpProvider.Options<any, any> | Effect.Effect<HttpProvider.Options<any, any>, any, any>
): Layer.Layer<I, any, any> =>
  Layer.scoped(
    tag,
    Effect.flatMap(
      Effect.isEffect(options) ? options : Effect.succeed(options),
      (resolved) => makeAs("HttpProvider.layer", resolved)
    )
  )
