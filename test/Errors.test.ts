import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Exit, Schema } from "effect"
import {
  BulkheadFull,
  CircuitOpen,
  ClientError,
  InvalidOptions,
  InvalidRequest,
  InvalidResponse,
  isRejected,
  isResilienceError,
  isTransient,
  RateLimited,
  Rejected,
  retryAfterOf,
  Timeout,
  Transient,
  Unavailable
} from "../src/Errors.js"

const every = [
  new RateLimited({ provider: "stripe", reason: "provider", retryAfter: Duration.seconds(2) }),
  new RateLimited({ provider: "search", reason: "local" }),
  new Unavailable({ provider: "s3", reason: "status", status: 503, retryAfter: Duration.millis(1500) }),
  new Unavailable({ provider: "s3", reason: "connection-refused", detail: "ECONNREFUSED 127.0.0.1:9" }),
  new Timeout({ provider: "auth", scope: "attempt", after: Duration.seconds(2) }),
  new Timeout({ scope: "total", after: Duration.seconds(10) }),
  new CircuitOpen({ breaker: "payments", reason: "open", retryAfter: Duration.seconds(30) }),
  new CircuitOpen({ breaker: "payments", reason: "isolated" }),
  new BulkheadFull({ bulkhead: "storage", reason: "queue-timeout" }),
  new ClientError({ provider: "crm", status: 422, body: "email taken" }),
  new InvalidRequest({ provider: "payments", issue: "amount: Expected a positive number, actual -5" }),
  new InvalidResponse({ provider: "partner", status: 200, issue: "id: is missing" }),
  new InvalidOptions({ module: "Backoff.exponential", option: "factor", value: "0.5", expected: "a number >= 1" })
] as const

describe("Errors", () => {
  it("messages - name the provider, the cause and the hint", () => {
    expect(every.map((e) => e.message)).toEqual([
      "stripe rate limited the call (provider); retry after 2s",
      "local rate limit for search rate limited the call (local)",
      "s3 is unavailable: answered 503; retry after 1s 500ms",
      "s3 is unavailable: connection refused (ECONNREFUSED 127.0.0.1:9)",
      "auth did not answer within 2s (attempt timeout)",
      "the call did not answer within 10s (total timeout)",
      "circuit breaker payments is open; retry after 30s",
      "circuit breaker payments is isolated by an operator",
      "bulkhead storage is full: the call waited in its queue past the queue timeout",
      "crm rejected the request with 422: email taken",
      "request to payments failed its schema and was not sent: amount: Expected a positive number, actual -5",
      "partner answered 200 with a body that does not match its schema: id: is missing",
      "Backoff.exponential: option factor must be a number >= 1, got 0.5"
    ])
  })

  it("serialisation - every error survives a JSON round trip with its tag and hint", () => {
    const Any = Schema.Union(
      Transient,
      Rejected,
      ClientError,
      InvalidRequest,
      InvalidResponse,
      InvalidOptions
    )
    for (const error of every) {
      const wire = JSON.parse(JSON.stringify(Schema.encodeSync(Any)(error)))
      const back = Schema.decodeUnknownSync(Any)(wire)
      expect(back).toBeInstanceOf(error.constructor)
      expect(back).toEqual(error)
      expect(back.message).toBe(error.message)
    }
  })

  it("guards - sort errors into transient and rejected by tag", () => {
    expect(every.map((e) => [e._tag, isTransient(e), isRejected(e)])).toEqual([
      ["RateLimited", true, false],
      ["RateLimited", true, false],
      ["Unavailable", true, false],
      ["Unavailable", true, false],
      ["Timeout", true, false],
      ["Timeout", true, false],
      ["CircuitOpen", false, true],
      ["CircuitOpen", false, true],
      ["BulkheadFull", false, true],
      ["ClientError", false, false],
      ["InvalidRequest", false, false],
      ["InvalidResponse", false, false],
      ["InvalidOptions", false, false]
    ])
    expect(isTransient(new Error("boom"))).toBe(false)
    expect(isTransient("Timeout")).toBe(false)
    expect(isTransient(null)).toBe(false)
  })

  it("isResilienceError - true for every error of this library, InvalidOptions included, and nothing else", () => {
    expect(every.filter((e) => !isResilienceError(e))).toEqual([])
    const decoded = JSON.parse(JSON.stringify(every[2]))
    expect(isResilienceError(decoded)).toBe(true)
    class UserError {
      readonly _tag = "UserError"
    }
    for (const other of [new UserError(), new Error("Timeout"), "Timeout", null, undefined, { _tag: 5 }, {}]) {
      expect(isResilienceError(other)).toBe(false)
    }
  })

  it("retryAfterOf - reads a Duration hint and nothing else", () => {
    expect(retryAfterOf(every[0])).toEqual(Duration.seconds(2))
    expect(retryAfterOf(every[1])).toBeUndefined()
    expect(retryAfterOf({ retryAfter: 5 })).toBeUndefined()
    expect(retryAfterOf({ retryAfter: Duration.millis(5) })).toEqual(Duration.millis(5))
    expect(retryAfterOf(undefined)).toBeUndefined()
  })

  it.effect("yieldable - an error fails the effect it is yielded in, matched by catchTag", () =>
    Effect.gen(function*() {
      const exit = yield* Effect.exit(new ClientError({ provider: "crm", status: 404, body: "" }))
      expect(Exit.isFailure(exit)).toBe(true)
      const handled = yield* new Unavailable({ provider: "s3", reason: "dns" }).pipe(
        Effect.catchTag("Unavailable", (e) => Effect.succeed(e.reason))
      )
      expect(handled).toBe("dns")
    }))
})
