import type * as HttpClientError from "@effect/platform/HttpClientError"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { identity } from "effect/Function"
import * as Option from "effect/Option"
import * as ParseResult from "effect/ParseResult"
import * as Predicate from "effect/Predicate"
import { ClientError, InvalidRequest, RateLimited, Timeout, Unavailable } from "../Errors.js"
import type { UnavailableReason } from "../Errors.js"
import type * as HttpProvider from "../HttpProvider.js"
import type { HeaderLookup } from "../RateLimit.js"
import { hintMillis, retryAfterMillis } from "./rateLimitHeaders.js"

/**
 * How one answer or transport failure becomes a tagged error, and whether it proves the provider did
 * not process the request. Pure, so every row of the mapping is a plain unit test.
 */

/** Node error codes found in the cause chain of a transport failure, by what they prove. */
const reasons: Readonly<Record<string, UnavailableReason>> = {
  ECONNREFUSED: "connection-refused",
  ENOTFOUND: "dns",
  EAI_AGAIN: "dns",
  EAI_NONAME: "dns",
  ECONNRESET: "connection-reset",
  EPIPE: "connection-reset",
  UND_ERR_SOCKET: "connection-reset",
  ECONNABORTED: "connection-reset"
}

/**
 * The first error code in a cause chain. NodeHttpClient and the undici client put it on the cause
 * itself (`Error { code: "ECONNREFUSED" }`); the fetch client wraps it (`TypeError("fetch failed")`
 * whose `cause` has the code); Node's happy-eyeballs connect gives an `AggregateError` with `errors`.
 */
export const errorCode = (cause: unknown, depth = 0): string | undefined => {
  if (depth > 5 || !Predicate.isObject(cause)) return undefined
  if (Predicate.hasProperty(cause, "code") && typeof cause.code === "string") return cause.code
  if (Predicate.hasProperty(cause, "errors") && Array.isArray(cause.errors)) {
    for (const inner of cause.errors) {
      const code = errorCode(inner, depth + 1)
      if (code !== undefined) return code
    }
  }
  return Predicate.hasProperty(cause, "cause") ? errorCode(cause.cause, depth + 1) : undefined
}

/**
 * Codes of an HTTP client refusing our own request before sending it (a header it will not write, a
 * bad method or path): the request's fault, so not `Unavailable`, and sending it again fails the same.
 */
const refusedAsInvalid: ReadonlySet<string> = new Set([
  "UND_ERR_INVALID_ARG",
  "UND_ERR_NOT_SUPPORTED",
  "ERR_INVALID_HTTP_TOKEN",
  "ERR_INVALID_CHAR",
  "ERR_HTTP_INVALID_HEADER_VALUE",
  "ERR_UNESCAPED_CHARACTERS",
  "ERR_INVALID_ARG_TYPE",
  "ERR_INVALID_ARG_VALUE"
])

/** A platform client failure as our error. Invalid URLs and encoding failures mean nothing was sent. */
export const fromClientError = (
  provider: string,
  error: HttpClientError.HttpClientError
): Unavailable | InvalidRequest => {
  if (error._tag === "RequestError" && error.reason !== "Transport") {
    return new InvalidRequest({ provider, issue: `${error.reason}: ${error.description ?? "the request was refused"}` })
  }
  const code = errorCode(error.cause)
  if (error._tag === "RequestError" && code !== undefined && refusedAsInvalid.has(code)) {
    // The code only: Node's messages quote the offending header value, which may be a secret.
    return new InvalidRequest({ provider, issue: `the HTTP client refused the request as invalid (${code})` })
  }
  const reason = code === undefined ? undefined : reasons[code]
  if (error._tag === "ResponseError") {
    // The answer started and then broke: the provider saw the request.
    return new Unavailable({
      provider,
      reason: reason === "connection-reset" ? reason : "transport",
      ...(code === undefined ? {} : { detail: code })
    })
  }
  return new Unavailable({ provider, reason: reason ?? "transport", ...(code === undefined ? {} : { detail: code }) })
}

/**
 * Whether a failure proves the provider did not process the request, so even a non-idempotent write
 * may be sent again.
 */
export const provablyNotProcessed = (error: unknown): boolean => {
  if (Predicate.isTagged(error, "RateLimited")) return true
  if (error instanceof Unavailable) {
    return error.reason === "connection-refused" || error.reason === "dns" ||
      (error.reason === "status" && error.status === 503)
  }
  // Nothing was sent.
  return Predicate.isTagged(error, "InvalidRequest")
}

const whitespace = /\s+/g

/**
 * A short, single-line excerpt of a body, `cut` (the secrets' redactor) applied first: before
 * whitespace is collapsed, since a secret may hold a run of it, and before truncating, so a secret
 * across the boundary does not leave its prefix.
 */
export const excerpt = (body: string, maxLength: number, cut: (text: string) => string): string => {
  const text = cut(body).replace(whitespace, " ").trim()
  return text.length > maxLength ? `${text.slice(0, maxLength)}...` : text
}

/**
 * The default mapping of a non-2xx answer: 408 -> Timeout, 429 -> RateLimited with the hint of any
 * rate-limit header, 5xx -> Unavailable with its `Retry-After` (quota headers describe the quota, not
 * an outage: a 502 sent with GitHub's hourly reset must not wait for it), every other status ->
 * ClientError with a short excerpt.
 */
export const fromStatus = (
  answer: { readonly provider: string; readonly status: number; readonly headers: HttpProvider.HeadersInput },
  nowMillis: number,
  attemptElapsed: Duration.Duration,
  bodyExcerpt: string
): Timeout | RateLimited | Unavailable | ClientError => {
  const { provider, status } = answer
  if (status === 408) return new Timeout({ provider, scope: "attempt", after: attemptElapsed })
  if (status === 429) {
    const retryAfter = retryAfterAt(answer.headers, nowMillis)
    return new RateLimited({ provider, reason: "provider", ...(retryAfter === undefined ? {} : { retryAfter }) })
  }
  if (status >= 500 && status <= 599) {
    const retryAfter = retryAfterMillis(lookup(answer.headers), nowMillis)
    return new Unavailable({
      provider,
      reason: "status",
      status,
      ...(retryAfter === undefined ? {} : { retryAfter: Duration.millis(retryAfter) })
    })
  }
  return new ClientError({ provider, status, body: bodyExcerpt })
}

/** The longest body excerpt kept in a `ClientError`, unless a provider's `excerptLength` says otherwise. */
export const defaultExcerptLength = 200

/**
 * Headers as the hint parsers read them: names lower-cased, repeated fields kept together. Accepts a
 * record (platform, undici, Node) or pairs (fetch's `Headers`), in any case.
 */
const lookup = (headers: HttpProvider.HeadersInput): HeaderLookup => {
  const found: Record<string, Array<string>> = {}
  const add = (name: string, value: unknown) => {
    const values = Array.isArray(value) ? value : [value]
    const strings = values.filter(Predicate.isString)
    if (strings.length > 0) (found[name.toLowerCase()] ??= []).push(...strings)
  }
  if (Predicate.isIterable(headers)) {
    for (const [name, value] of headers) add(name, value)
  } else {
    for (const [name, value] of Object.entries(headers)) add(name, value)
  }
  return found
}

/** The provider's "wait this long" hint at `nowMillis` (Retry-After, RateLimit, X-RateLimit-Reset). */
export const retryAfterAt = (headers: HttpProvider.HeadersInput, nowMillis: number): Duration.Duration | undefined => {
  const hint = hintMillis(lookup(headers), nowMillis)
  return hint === undefined ? undefined : Duration.millis(hint)
}

/** @internal */
export const retryAfter = (headers: HttpProvider.HeadersInput): Effect.Effect<Option.Option<Duration.Duration>> =>
  Effect.map(Clock.currentTimeMillis, (now) => Option.fromNullable(retryAfterAt(headers, now)))

/** @internal */
export const classify = (
  answer: HttpProvider.ClassifyInput
): Effect.Effect<HttpProvider.Classified | undefined> =>
  Effect.map(Clock.currentTimeMillis, (now) => {
    const { provider, status } = answer
    if (status >= 200 && status < 300) return undefined
    return fromStatus(
      { provider, status, headers: answer.headers ?? {} },
      now,
      answer.elapsed ?? Duration.zero,
      excerpt(answer.body ?? "", defaultExcerptLength, identity)
    )
  })

/**
 * One line per issue, `path: message`, joined: "amount: Expected a positive number, actual -5". Each
 * line goes through `clean`, since a message quotes the value it got (a provider's reply may echo
 * our credentials, and a whole body can be the "actual").
 */
export const formatIssue = (error: ParseResult.ParseError, clean: (line: string) => string = (line) => line): string => {
  const issues = ParseResult.ArrayFormatter.formatErrorSync(error)
  const lines = issues.slice(0, maxIssues)
    .map((issue) => clean(issue.path.length === 0 ? issue.message : `${issue.path.join(".")}: ${issue.message}`))
  if (issues.length > maxIssues) lines.push(`and ${issues.length - maxIssues} more`)
  return lines.join("; ")
}

/** Issues quoted in an error: a large invalid array must not make a message of any length. */
const maxIssues = 10
