/**
 * The typed failures of effect-resilience.
 *
 * Every failure a caller can see is one of these tagged errors in the error channel, so a fallback
 * is a `catchTag` / `catchTags` that the compiler checks. They are `Schema.TaggedError` classes:
 * they encode to plain JSON and decode back (a dead-letter queue, a log pipeline or an RPC boundary
 * keeps them intact), and each has a one-line `message` a person can act on.
 *
 * | tag               | meaning                                          | retried by default            |
 * |-------------------|--------------------------------------------------|-------------------------------|
 * | `RateLimited`     | the provider (429) or a local limit said slow down | yes, after max(backoff, hint) |
 * | `Unavailable`     | 5xx, connection refused / reset, DNS             | yes                           |
 * | `Timeout`         | an attempt, a stream's first byte or idle gap, or the whole budget ran out | attempt, first-byte, idle: yes; total: never |
 * | `CircuitOpen`     | a breaker rejected without calling               | no                            |
 * | `BulkheadFull`    | no slot and no queue room, or the queue wait ran out | no                        |
 * | `ClientError`     | the provider rejected the request (other 4xx)    | never                         |
 * | `InvalidRequest`  | our own request failed its Schema; nothing sent  | never                         |
 * | `InvalidResponse` | the provider's body did not match its Schema     | never                         |
 *
 * @since 0.1.0
 */
import * as Duration from "effect/Duration"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"

const hint = (retryAfter: Duration.Duration | undefined): string =>
  retryAfter === undefined ? "" : `; retry after ${Duration.format(retryAfter)}`

/**
 * The provider answered 429, or a local limit refused the call. `retryAfter` is the provider's hint
 * (`Retry-After`, `RateLimit-Reset`, ...) or the local limiter's wait, when known.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { RateLimited } from "effect-resilience/Errors"
 *
 * const e = new RateLimited({ provider: "stripe", reason: "provider", retryAfter: Duration.seconds(2) })
 * e.message // "stripe rate limited the call (provider); retry after 2s"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class RateLimited extends Schema.TaggedError<RateLimited>()("RateLimited", {
  provider: Schema.String,
  reason: Schema.Literal("provider", "local"),
  retryAfter: Schema.optional(Schema.Duration)
}) {
  override get message(): string {
    const who = this.reason === "local" ? `local rate limit for ${this.provider}` : this.provider
    return `${who} rate limited the call (${this.reason})${hint(this.retryAfter)}`
  }
}

/**
 * Why a provider was unavailable. `"status"` means it answered with a 5xx (see `status`); the others
 * are transport failures. `"connection-refused"` and `"dns"` prove the request was never processed,
 * which matters when deciding whether a non-idempotent write may be re-sent.
 *
 * @since 0.1.0
 * @category models
 */
export const UnavailableReason = Schema.Literal("status", "connection-refused", "connection-reset", "dns", "transport")

/**
 * @since 0.1.0
 * @category models
 */
export type UnavailableReason = typeof UnavailableReason.Type

/**
 * The provider failed: a 5xx answer or a transport failure. A 503's `Retry-After` is kept as
 * `retryAfter`.
 *
 * @example
 * ```ts
 * import { Unavailable } from "effect-resilience/Errors"
 *
 * new Unavailable({ provider: "s3", reason: "status", status: 503 }).message
 * // "s3 is unavailable: answered 503"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class Unavailable extends Schema.TaggedError<Unavailable>()("Unavailable", {
  provider: Schema.String,
  reason: UnavailableReason,
  status: Schema.optional(Schema.Int),
  detail: Schema.optional(Schema.String),
  retryAfter: Schema.optional(Schema.Duration)
}) {
  override get message(): string {
    const what = this.reason === "status" ? `answered ${this.status ?? "5xx"}` : this.reason.replace("-", " ")
    const detail = this.detail === undefined ? "" : ` (${this.detail})`
    return `${this.provider} is unavailable: ${what}${detail}${hint(this.retryAfter)}`
  }
}

/**
 * Which time limit ran out: `"attempt"`, one attempt's limit; `"total"`, the whole call's deadline;
 * and, for a streamed answer, `"first-byte"` (the request got no first byte of its body in time) and
 * `"idle"` (the body stopped arriving in the middle).
 *
 * @since 0.1.0
 * @category models
 */
export const TimeoutScope = Schema.Literal("attempt", "total", "first-byte", "idle")

/**
 * @since 0.1.0
 * @category models
 */
export type TimeoutScope = typeof TimeoutScope.Type

/**
 * A time limit ran out. `scope: "attempt"` is one attempt's limit (retried by default);
 * `scope: "total"` is the whole call's deadline (never retried: there is no time left). A streamed
 * answer adds `"first-byte"` (retried by default: nothing was delivered yet) and `"idle"` (retried by
 * default, which for a stream means resumed where it supports resuming, else refused: see
 * `HttpProvider` streams). A breaker counts every scope but `"total"` as an outage.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { Timeout } from "effect-resilience/Errors"
 *
 * new Timeout({ provider: "auth", scope: "attempt", after: Duration.seconds(2) }).message
 * // "auth did not answer within 2s (attempt timeout)"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class Timeout extends Schema.TaggedError<Timeout>()("Timeout", {
  provider: Schema.optional(Schema.String),
  scope: TimeoutScope,
  after: Schema.Duration
}) {
  override get message(): string {
    const who = this.provider ?? "the call"
    return this.scope === "idle"
      ? `${who} sent nothing for ${Duration.format(this.after)} in the middle of its answer (idle timeout)`
      : `${who} did not answer within ${Duration.format(this.after)} (${this.scope} timeout)`
  }
}

/**
 * A circuit breaker rejected the call without running it. `retryAfter` is the time until a probe may
 * run (absent when the breaker was isolated by hand).
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { CircuitOpen } from "effect-resilience/Errors"
 *
 * new CircuitOpen({ breaker: "payments", reason: "open", retryAfter: Duration.seconds(30) }).message
 * // "circuit breaker payments is open; retry after 30s"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class CircuitOpen extends Schema.TaggedError<CircuitOpen>()("CircuitOpen", {
  breaker: Schema.String,
  reason: Schema.Literal("open", "half-open-full", "isolated"),
  retryAfter: Schema.optional(Schema.Duration)
}) {
  override get message(): string {
    const state = this.reason === "half-open-full"
      ? "half-open and all probe slots are taken"
      : this.reason === "isolated"
      ? "isolated by an operator"
      : "open"
    return `circuit breaker ${this.breaker} is ${state}${hint(this.retryAfter)}`
  }
}

/**
 * A bulkhead had no free slot and no queue room (`"queue-full"`), or the call waited in the queue
 * longer than `queueTimeout` (`"queue-timeout"`).
 *
 * @example
 * ```ts
 * import { BulkheadFull } from "effect-resilience/Errors"
 *
 * new BulkheadFull({ bulkhead: "storage", reason: "queue-full" }).message
 * // "bulkhead storage is full: no free slot and no room in its queue"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class BulkheadFull extends Schema.TaggedError<BulkheadFull>()("BulkheadFull", {
  bulkhead: Schema.String,
  reason: Schema.Literal("queue-full", "queue-timeout")
}) {
  override get message(): string {
    return this.reason === "queue-full"
      ? `bulkhead ${this.bulkhead} is full: no free slot and no room in its queue`
      : `bulkhead ${this.bulkhead} is full: the call waited in its queue past the queue timeout`
  }
}

/**
 * The provider rejected the request with a 4xx other than 408 and 429. Re-sending the same request
 * will not help. `body` is a short excerpt of the answer, for the log.
 *
 * @example
 * ```ts
 * import { ClientError } from "effect-resilience/Errors"
 *
 * new ClientError({ provider: "crm", status: 422, body: "{\"error\":\"email taken\"}" }).message
 * // "crm rejected the request with 422: {\"error\":\"email taken\"}"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class ClientError extends Schema.TaggedError<ClientError>()("ClientError", {
  provider: Schema.String,
  status: Schema.Int,
  body: Schema.String
}) {
  override get message(): string {
    return `${this.provider} rejected the request with ${this.status}${this.body === "" ? "" : `: ${this.body}`}`
  }
}

/**
 * Our own request did not pass its Schema, so nothing was sent. `issue` is the formatted parse issue.
 *
 * @example
 * ```ts
 * import { InvalidRequest } from "effect-resilience/Errors"
 *
 * new InvalidRequest({ provider: "payments", issue: "amount: Expected a positive number, actual -5" }).message
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidRequest extends Schema.TaggedError<InvalidRequest>()("InvalidRequest", {
  provider: Schema.String,
  issue: Schema.String
}) {
  override get message(): string {
    return `request to ${this.provider} failed its schema and was not sent: ${this.issue}`
  }
}

/**
 * The provider answered, but its body did not match the response Schema (the anti-corruption layer
 * refused it). `issue` is the formatted parse issue.
 *
 * @example
 * ```ts
 * import { InvalidResponse } from "effect-resilience/Errors"
 *
 * new InvalidResponse({ provider: "partner", status: 200, issue: "id: is missing" }).message
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidResponse extends Schema.TaggedError<InvalidResponse>()("InvalidResponse", {
  provider: Schema.String,
  status: Schema.Int,
  issue: Schema.String
}) {
  override get message(): string {
    return `${this.provider} answered ${this.status} with a body that does not match its schema: ${this.issue}`
  }
}

/**
 * A guard was built with options that cannot work (a negative duration, NaN, a ratio above 1, ...).
 * Pure constructors (`Backoff.exponential`, `Retry.transient`, `Timeout.attempt`) throw it when the
 * value is built, so a misconfiguration shows at startup rather than on the first failure; effectful
 * constructors (`make`, `layer`) fail with it, so a Layer that cannot be built says why in its type.
 *
 * @example
 * ```ts
 * import { InvalidOptions } from "effect-resilience/Errors"
 *
 * new InvalidOptions({ module: "Backoff.exponential", option: "factor", value: "0.5", expected: "a number >= 1" })
 *   .message // "Backoff.exponential: option factor must be a number >= 1, got 0.5"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export class InvalidOptions extends Schema.TaggedError<InvalidOptions>()("InvalidOptions", {
  module: Schema.String,
  option: Schema.String,
  value: Schema.String,
  expected: Schema.String
}) {
  override get message(): string {
    return `${this.module}: option ${this.option} must be ${this.expected}, got ${this.value}`
  }
}

/**
 * Failures that may pass if the call is tried again later.
 *
 * @since 0.1.0
 * @category models
 */
export type Transient = RateLimited | Unavailable | Timeout

/**
 * The schema of {@link Transient}, to encode or decode one (a queue of failed work, say).
 *
 * @since 0.1.0
 * @category models
 */
export const Transient: Schema.Union<[typeof RateLimited, typeof Unavailable, typeof Timeout]> = Schema.Union(
  RateLimited,
  Unavailable,
  Timeout
)

/**
 * Calls a local guard refused without running them.
 *
 * @since 0.1.0
 * @category models
 */
export type Rejected = CircuitOpen | BulkheadFull

/**
 * The schema of {@link Rejected}.
 *
 * @since 0.1.0
 * @category models
 */
export const Rejected: Schema.Union<[typeof CircuitOpen, typeof BulkheadFull]> = Schema.Union(
  CircuitOpen,
  BulkheadFull
)

/**
 * Every error this library can add to an error channel.
 *
 * @since 0.1.0
 * @category models
 */
export type ResilienceError =
  | Transient
  | Rejected
  | ClientError
  | InvalidRequest
  | InvalidResponse

/**
 * Whether `u` is a {@link Transient} error, by its `_tag` (as `catchTag` matches). This is about the kind of failure; whether it is
 * retried also depends on the policy (a total `Timeout` is transient but never retried, since the
 * deadline has passed).
 *
 * @example
 * ```ts
 * import { isTransient, Unavailable } from "effect-resilience/Errors"
 *
 * isTransient(new Unavailable({ provider: "s3", reason: "dns" })) // true
 * isTransient(new Error("boom")) // false
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isTransient = (u: unknown): u is Transient =>
  Predicate.isTagged(u, "RateLimited") || Predicate.isTagged(u, "Unavailable") || Predicate.isTagged(u, "Timeout")

/**
 * Whether `u` is a {@link Rejected} error: a guard refused the call, so the provider never saw it.
 *
 * @example
 * ```ts
 * import { BulkheadFull, isRejected } from "effect-resilience/Errors"
 *
 * isRejected(new BulkheadFull({ bulkhead: "db", reason: "queue-full" })) // true
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isRejected = (u: unknown): u is Rejected =>
  Predicate.isTagged(u, "CircuitOpen") || Predicate.isTagged(u, "BulkheadFull")

const tags: ReadonlySet<string> = new Set<string>(
  [
    RateLimited,
    Unavailable,
    Timeout,
    CircuitOpen,
    BulkheadFull,
    ClientError,
    InvalidRequest,
    InvalidResponse,
    InvalidOptions
  ].map((error) => error._tag)
)

/**
 * Whether `u` is one of this library's errors: a {@link ResilienceError} (what a guarded call can fail
 * with) or an {@link InvalidOptions} (what building a guard can fail with). By its `_tag`, as `catchTag`
 * matches, so a decoded error (from a queue or a log) counts too; use it to tell this library's failures
 * from yours in a catch-all handler. The errors of a store's or a queue's own operations
 * (`QueueStoreError`, `DeadLetterNotFound`, a store's `StoreError`) have tags of their own and are not
 * included.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { isResilienceError } from "effect-resilience/Errors"
 *
 * declare const call: Effect.Effect<string, unknown>
 *
 * const logged = call.pipe(
 *   Effect.tapError((e) => isResilienceError(e) ? Effect.logWarning(e.message) : Effect.logError("unexpected"))
 * )
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isResilienceError = (u: unknown): u is ResilienceError | InvalidOptions =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" && tags.has(u._tag)

/**
 * The `retryAfter` hint an error carries, or `undefined`. Reads any value structurally, so it
 * works for the errors above and for a user's own errors that carry the same field.
 *
 * @example
 * ```ts
 * import { Duration } from "effect"
 * import { RateLimited, retryAfterOf } from "effect-resilience/Errors"
 *
 * retryAfterOf(new RateLimited({ provider: "x", reason: "provider", retryAfter: Duration.seconds(1) }))
 * // Duration.seconds(1); undefined when there is no hint
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const retryAfterOf = (u: unknown): Duration.Duration | undefined =>
  Predicate.hasProperty(u, "retryAfter") && Duration.isDuration(u.retryAfter) ? u.retryAfter : undefined
