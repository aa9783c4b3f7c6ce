import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Context,
  Duration,
  Effect,
  Exit,
  Fiber,
  Layer,
  Logger,
  LogLevel,
  Metric,
  Option,
  Random,
  Redacted,
  Ref,
  Schema,
  TestClock
} from "effect"
import * as Backoff from "../src/Backoff.js"
import * as CircuitBreaker from "../src/CircuitBreaker.js"
import * as Credentials from "../src/Credentials.js"
import {
  ClientError,
  InvalidOptions,
  InvalidRequest,
  type InvalidResponse,
  isTransient,
  RateLimited,
  Timeout,
  Unavailable
} from "../src/Errors.js"
import * as HttpProvider from "../src/HttpProvider.js"
import { currentDeadline } from "../src/internal/deadline.js"
import { attempts } from "../src/internal/httpProvider.js"
import * as Retry from "../src/Retry.js"
import * as ScriptedHttpClient from "../src/testing/ScriptedHttpClient.js"
import * as TimeoutGuard from "../src/Timeout.js"
import { recordingTracer } from "./support/recordingTracer.js"

const Charge = Schema.Struct({ id: Schema.String, amount: Schema.Number })
const NewCharge = Schema.Struct({ amount: Schema.Positive, currency: Schema.String })
const charge = { id: "ch_1", amount: 500 }
const newCharge = { amount: 500, currency: "eur" }

const baseOptions = { name: "payments", baseUrl: "https://payments.test" } as const

/** Retries transient failures up to `times` times, immediately: the retry policy a user would compose. */
const retrying = (times: number): HttpProvider.Policy => (self) => Effect.retry(self, { times, while: isTransient })

/** An attempt timeout followed by retries, as `Timeout.attempt` + `Retry.transient` would give. */
const timedRetrying = (times: number): HttpProvider.Policy => (self) =>
  self.pipe(
    Effect.timeoutFail({
      duration: "1 second",
      onTimeout: () => new Timeout({ provider: "payments", scope: "attempt", after: Duration.seconds(1) })
    }),
    Effect.retry({ times, while: isTransient })
  )

/** No guard at all: one attempt, as tests of the client itself (not of a policy) need. */
const unguarded: HttpProvider.Policy = (self) => self

const scripted = <A, E, PE = HttpProvider.RequestError>(
  steps: Iterable<ScriptedHttpClient.Step>,
  use: (
    provider: HttpProvider.HttpProvider<PE>,
    script: ScriptedHttpClient.Service
  ) => Effect.Effect<A, E>,
  { policy = unguarded as HttpProvider.Policy<any>, ...options }: Partial<HttpProvider.Options<PE>> = {}
) =>
  Effect.gen(function*() {
    const script = yield* ScriptedHttpClient.ScriptedHttpClient
    const provider = yield* HttpProvider.make<PE>({ ...baseOptions, policy, ...options })
    return yield* use(provider, script)
  }).pipe(Effect.provide(ScriptedHttpClient.layer(steps)))

const getCharge = (p: HttpProvider.HttpProvider<any>) =>
  p.get("/v1/charges/{id}", { params: { id: "ch_1" }, response: Charge })
const postCharge = (p: HttpProvider.HttpProvider<any>, extra: Partial<HttpProvider.RequestOptions<any, any>> = {}) =>
  p.post("/v1/charges", { request: NewCharge, body: newCharge, response: Charge, ...extra })

describe("HttpProvider", () => {
  describe("status mapping", () => {
    it.effect("2xx - the body is decoded with the response schema", () =>
      Effect.gen(function*() {
        const result = yield* scripted([ScriptedHttpClient.ok(charge)], getCharge)
        expect(result).toEqual(charge)
      }))

    it.effect("2xx - an empty body decodes as undefined (Schema.Void)", () =>
      Effect.gen(function*() {
        const result = yield* scripted(
          [ScriptedHttpClient.status(204)],
          (p) => p.delete("/v1/charges/{id}", { params: { id: "ch_1" }, response: Schema.Void })
        )
        expect(result).toBeUndefined()
      }))

    it.effect("2xx - a body that does not match is InvalidResponse with status and issue", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(scripted([ScriptedHttpClient.ok({ id: 1 }, { status: 201 })], getCharge))
        expect(error._tag).toBe("InvalidResponse")
        if (error._tag !== "InvalidResponse") return
        expect(error.status).toBe(201)
        expect(error.issue).toBe("id: Expected string, actual 1; amount: is missing")
      }))

    it.effect("2xx - a body that is not JSON is InvalidResponse", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(scripted([ScriptedHttpClient.text("<html>oops</html>")], getCharge))
        expect(error).toMatchObject({ _tag: "InvalidResponse", status: 200, issue: "the body is not JSON" })
      }))

    it.effect("408 - Timeout with scope attempt", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(scripted([ScriptedHttpClient.status(408)], getCharge))
        expect(error).toBeInstanceOf(Timeout)
        expect(error).toMatchObject({ provider: "payments", scope: "attempt" })
      }))

    it.effect("429 - RateLimited from the provider with the Retry-After hint", () =>
      Effect.gen(function*() {
        const step = ScriptedHttpClient.status(429, { retryAfter: "1500 millis" })
        const error = yield* Effect.flip(scripted([step], getCharge))
        expect(error).toEqual(
          new RateLimited({ provider: "payments", reason: "provider", retryAfter: Duration.millis(1500) })
        )
      }))

    it.effect("429 - an HTTP-date hint is read against the Clock", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(Date.UTC(2026, 10, 23, 10, 0, 0))
        const error = yield* Effect.flip(
          scripted([ScriptedHttpClient.status(429, { retryAfter: "Mon, 23 Nov 2026 10:00:30 GMT" })], getCharge)
        )
        expect(error).toMatchObject({ _tag: "RateLimited", retryAfter: Duration.seconds(30) })
      }))

    it.effect("429 - garbage hints give no retryAfter; RateLimit headers are read", () =>
      Effect.gen(function*() {
        const garbage = yield* Effect.flip(scripted([ScriptedHttpClient.status(429, { retryAfter: "-5" })], getCharge))
        expect(garbage).toEqual(new RateLimited({ provider: "payments", reason: "provider" }))
        const ietf = yield* Effect.flip(
          scripted([ScriptedHttpClient.status(429, { headers: { ratelimit: "\"default\";r=0;t=7" } })], getCharge)
        )
        expect(ietf).toMatchObject({ retryAfter: Duration.seconds(7) })
      }))

    it.effect.each([500, 502, 503, 504, 507])("%d - Unavailable with the status", (code) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(scripted([ScriptedHttpClient.status(code)], getCharge))
        expect(error).toEqual(new Unavailable({ provider: "payments", reason: "status", status: code }))
      }))

    it.effect("503 - a Retry-After is kept as the hint", () =>
      Effect.gen(function*() {
        const step = ScriptedHttpClient.status(503, { retryAfter: "2 seconds" })
        const error = yield* Effect.flip(scripted([step], getCharge))
        expect(error).toMatchObject({ _tag: "Unavailable", status: 503, retryAfter: Duration.seconds(2) })
      }))

    it.effect.each([400, 403, 404, 409, 422, 302])("%d - ClientError with a body excerpt", (code) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          scripted([ScriptedHttpClient.status(code, { body: { error: "nope" } })], getCharge)
        )
        expect(error).toEqual(new ClientError({ provider: "payments", status: code, body: "{\"error\":\"nope\"}" }))
      }))

    it.effect("ClientError - the excerpt is one line and cut to excerptLength", () =>
      Effect.gen(function*() {
        const long = `line one\n\n  line two ${"x".repeat(500)}`
        const error = yield* Effect.flip(
          scripted([{ _tag: "Respond", status: 400, headers: {}, body: long }], getCharge, { excerptLength: 30 })
        )
        expect(error._tag === "ClientError" && error.body).toBe(`line one line two ${"x".repeat(12)}...`)
      }))

    it.effect("InvalidResponse - a large invalid body gives a bounded issue: ten lines, then a count", () =>
      Effect.gen(function*() {
        const Charges = Schema.Array(Charge)
        const error = yield* Effect.flip(
          scripted([ScriptedHttpClient.ok(Array.from({ length: 1000 }, () => ({ id: 1 })))], (p) =>
            p.get("/v1/charges", { response: Charges }))
        )
        expect(error._tag).toBe("InvalidResponse")
        const issue = (error as InvalidResponse).issue
        expect(issue.split("; ")).toHaveLength(11)
        expect(issue).toMatch(/; and 1990 more$/)
      }))

    it.effect("a secret with a quote or a backslash is cut out of a quoted JSON body too", () =>
      Effect.gen(function*() {
        const secret = `k"e\\y`
        const error = yield* Effect.flip(
          scripted(
            [ScriptedHttpClient.ok({ id: { echoed: secret }, amount: 1 })],
            getCharge,
            { credentials: Credentials.fixed(secret) }
          )
        )
        expect(error.message).not.toContain(JSON.stringify(secret).slice(1, -1))
        expect(error.message).not.toContain(secret)
        expect(error.message).toContain("<redacted>")
      }))

    it.effect.each([
      ["connection refused", ScriptedHttpClient.connectionRefused, "connection-refused", "ECONNREFUSED"],
      ["connection reset", ScriptedHttpClient.connectionReset, "connection-reset", "ECONNRESET"],
      ["DNS failure", ScriptedHttpClient.dnsFailure, "dns", "ENOTFOUND"],
      [
        "socket closed (undici)",
        ScriptedHttpClient.transportError({ code: "UND_ERR_SOCKET" }),
        "connection-reset",
        "UND_ERR_SOCKET"
      ],
      ["another transport error", ScriptedHttpClient.transportError({ code: "ETIMEDOUT" }), "transport", "ETIMEDOUT"]
    ] as const)("%s - Unavailable with reason", ([, step, reason, code]) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(scripted([step], getCharge))
        expect(error).toEqual(new Unavailable({ provider: "payments", reason, detail: code }))
      }))

    it.effect("classify - a provider's own 429 body becomes a ClientError", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(scripted(
          [ScriptedHttpClient.status(429, { body: { code: "quota_exhausted" } })],
          getCharge,
          {
            classify: (answer) =>
              answer.status === 429 && answer.body.includes("quota_exhausted")
                ? new ClientError({ provider: answer.provider, status: 429, body: "monthly quota exhausted" })
                : undefined
          }
        ))
        expect(error).toEqual(new ClientError({ provider: "payments", status: 429, body: "monthly quota exhausted" }))
      }))

    it.effect("classify - undefined keeps the default mapping", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(
          scripted([ScriptedHttpClient.status(503)], getCharge, { classify: () => undefined })
        )
        expect(error).toMatchObject({ _tag: "Unavailable", status: 503 })
      }))
  })

  describe("requests", () => {
    it.effect("an invalid body is InvalidRequest and nothing is sent", () =>
      Effect.gen(function*() {
        const [error, sent] = yield* scripted([], (p, script) =>
          Effect.all([
            Effect.flip(
              p.post("/v1/charges", { request: NewCharge, body: { amount: -5, currency: "eur" }, response: Charge })
            ),
            script.requests
          ]))
        expect(error._tag).toBe("InvalidRequest")
        if (error._tag === "InvalidRequest") expect(error.issue).toContain("amount")
        expect(sent).toHaveLength(0)
      }))

    it.effect.each([
      [
        "a value with CR LF",
        { "x-request": "r1\r\nx-admin: 1" },
        "headers[\"x-request\"] must be a header value, got <redacted> (contains CR)"
      ],
      ["a name with a space", { "x request": "r1" }, "headers must be a header name"],
      ["a value that is no string", { "x-request": 1 as any }, "got <redacted> (is a number, not a string)"]
    ] as const)("request headers - %s is InvalidRequest and nothing is sent", ([, headers, issue]) =>
      Effect.gen(function*() {
        const [error, sent] = yield* scripted(
          [ScriptedHttpClient.ok(charge)],
          (p, script) =>
            Effect.all([Effect.flip(p.get("/v1/charges/1", { response: Charge, headers })), script.requests])
        )
        expect(error).toMatchObject({ _tag: "InvalidRequest", provider: "payments" })
        expect((error as InvalidRequest).issue).toContain(issue)
        expect((error as InvalidRequest).issue).not.toContain("r1")
        expect(sent).toEqual([])
      }))

    it.effect("an HTTP client that refuses the request as invalid - InvalidRequest, not retried", () =>
      Effect.gen(function*() {
        const [error, sent] = yield* scripted(
          [
            ScriptedHttpClient.transportError({ code: "UND_ERR_INVALID_ARG", message: "invalid upgrade header" }),
            ScriptedHttpClient.ok(charge)
          ],
          (p, script) => Effect.all([Effect.flip(getCharge(p)), script.requests]),
          { policy: retrying(3) }
        )
        expect(error).toEqual(
          new InvalidRequest({
            provider: "payments",
            issue: "the HTTP client refused the request as invalid (UND_ERR_INVALID_ARG)"
          })
        )
        expect(sent).toHaveLength(1)
      }))

    it.effect("the body is sent encoded by its schema, as JSON", () =>
      Effect.gen(function*() {
        const Payload = Schema.Struct({ at: Schema.DateFromString })
        const sent = yield* scripted([ScriptedHttpClient.ok(charge)], (p, script) =>
          p.put("/v1/things/1", { request: Payload, body: { at: new Date(0) }, response: Charge }).pipe(
            Effect.zipRight(script.requests)
          ))
        expect(sent[0]!.body).toBe(JSON.stringify({ at: "1970-01-01T00:00:00.000Z" }))
        expect(sent[0]!.headers["content-type"]).toBe("application/json")
        expect(sent[0]!.method).toBe("PUT")
      }))

    it.effect("path params are URI-encoded; a missing one is InvalidRequest", () =>
      Effect.gen(function*() {
        const sent = yield* scripted([ScriptedHttpClient.ok(charge)], (p, script) =>
          p.get("/v1/charges/{id}", { params: { id: "a b/c" }, urlParams: { expand: "customer" }, response: Charge })
            .pipe(Effect.zipRight(script.requests)))
        expect(sent[0]!.url).toBe("https://payments.test/v1/charges/a%20b%2Fc?expand=customer")
        const error = yield* Effect.flip(scripted([], (p) => p.get("/v1/charges/{id}", { response: Charge })))
        expect(error).toEqual(new InvalidRequest({ provider: "payments", issue: "path parameter {id} has no value" }))
      }))

    it.effect("default headers, request headers and the credentials header are sent", () =>
      Effect.gen(function*() {
        const sent = yield* scripted(
          [ScriptedHttpClient.ok(charge)],
          (p, script) =>
            p.get("/v1/charges/1", { response: Charge, headers: { "x-request": "r1" } }).pipe(
              Effect.zipRight(script.requests)
            ),
          { headers: { "x-client": "shop" }, credentials: Credentials.fixed("sk_live_secret") }
        )
        expect(sent[0]!.headers).toMatchObject({
          "x-client": "shop",
          "x-request": "r1",
          authorization: "Bearer sk_live_secret"
        })
      }))

    it.effect("deadlineHeader - the time left of the total budget is sent", () =>
      Effect.gen(function*() {
        const sent = yield* scripted(
          [ScriptedHttpClient.ok(charge)],
          (p, script) =>
            getCharge(p).pipe(
              Effect.zipRight(script.requests),
              Effect.locally(currentDeadline, Option.some(4_250))
            ),
          { deadlineHeader: "X-Request-Timeout-Ms" }
        )
        expect(sent[0]!.headers["x-request-timeout-ms"]).toBe("4250")
      }))

    it.effect("deadlineHeader - not sent without a total budget", () =>
      Effect.gen(function*() {
        const sent = yield* scripted(
          [ScriptedHttpClient.ok(charge)],
          (p, script) => getCharge(p).pipe(Effect.zipRight(script.requests)),
          { deadlineHeader: "X-Request-Timeout-Ms" }
        )
        expect(sent[0]!.headers["x-request-timeout-ms"]).toBeUndefined()
      }))

    it.effect("maxConnections - at most N requests in flight, the rest wait their turn", () =>
      Effect.gen(function*() {
        const fiber = yield* scripted(
          Array.from({ length: 5 }, () => ScriptedHttpClient.delay("1 second", ScriptedHttpClient.ok(charge))),
          (p, script) =>
            Effect.all(Array.from({ length: 5 }, () => getCharge(p)), { concurrency: "unbounded" }).pipe(
              Effect.zipRight(script.requests)
            ),
          { maxConnections: 2 }
        ).pipe(Effect.fork)
        yield* TestClock.adjust("3 seconds")
        const sent = yield* Fiber.join(fiber)
        expect(sent.map((r) => r.at)).toEqual([0, 0, 1000, 1000, 2000])
      }))

    it.effect("maxConnections - an interrupted request gives its connection back", () =>
      Effect.gen(function*() {
        const result = yield* scripted(
          [ScriptedHttpClient.hang, ScriptedHttpClient.ok(charge)],
          (p) =>
            Effect.gen(function*() {
              const stuck = yield* Effect.fork(getCharge(p))
              yield* Effect.yieldNow()
              yield* Fiber.interrupt(stuck)
              return yield* getCharge(p)
            }),
          { maxConnections: 1 }
        )
        expect(result).toEqual(charge)
      }))
  })

  describe("idempotency", () => {
    const keyHeader = "idempotency-key"

    it.effect("idempotent - one key per logical call, identical on every retry", () =>
      Effect.gen(function*() {
        const sent = yield* scripted(
          [
            ScriptedHttpClient.status(503),
            ScriptedHttpClient.connectionReset,
            ScriptedHttpClient.status(500),
            ScriptedHttpClient.ok(charge)
          ],
          (p, script) => postCharge(p, { idempotent: true }).pipe(Effect.zipRight(script.requests)),
          { policy: retrying(3) }
        )
        expect(sent).toHaveLength(4)
        const keys = sent.map((r) => r.headers[keyHeader])
        expect(new Set(keys).size).toBe(1)
        expect(keys[0]).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      }))

    it.effect("idempotent - two logical calls get two random v4 UUIDs, whatever the Random seed", () =>
      Effect.gen(function*() {
        const twice = scripted(
          [ScriptedHttpClient.ok(charge), ScriptedHttpClient.ok(charge)],
          (p, script) =>
            postCharge(p, { idempotent: true }).pipe(
              Effect.zipRight(postCharge(p, { idempotent: true })),
              Effect.zipRight(script.requests)
            )
        ).pipe(Effect.withRandom(Random.make("seed")))
        const keys = [...(yield* twice), ...(yield* twice)].map((r) => r.headers[keyHeader])
        expect(new Set(keys).size).toBe(4)
        for (const key of keys) expect(key).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
      }))

    it.effect("idempotent - idempotencyKeyFromRandom under a seeded Random makes keys exact", () =>
      Effect.gen(function*() {
        const expected = yield* HttpProvider.idempotencyKeyFromRandom.pipe(Effect.withRandom(Random.make("seed")))
        const sent = yield* scripted(
          [ScriptedHttpClient.ok(charge), ScriptedHttpClient.ok(charge)],
          (p, script) =>
            postCharge(p, { idempotent: true }).pipe(
              Effect.zipRight(postCharge(p, { idempotent: true })),
              Effect.zipRight(script.requests)
            ),
          { newIdempotencyKey: HttpProvider.idempotencyKeyFromRandom }
        ).pipe(Effect.withRandom(Random.make("seed")))
        expect(sent[0]!.headers[keyHeader]).toBe(expected)
        expect(sent[1]!.headers[keyHeader]).not.toBe(expected)
      }))

    it.effect("idempotencyKey - an empty key is an InvalidRequest; nothing is sent", () =>
      Effect.gen(function*() {
        const [error, sent] = yield* scripted(
          [ScriptedHttpClient.ok(charge)],
          (p, script) => Effect.all([Effect.flip(postCharge(p, { idempotencyKey: " " })), script.requests])
        )
        expect(error).toMatchObject({ _tag: "InvalidRequest", issue: "the idempotency key is empty" })
        expect(sent).toEqual([])
      }))

    it.effect("idempotencyKey - a key with LF is an InvalidRequest; nothing is sent", () =>
      Effect.gen(function*() {
        const [error, sent] = yield* scripted(
          [ScriptedHttpClient.ok(charge)],
          (p, script) => Effect.all([Effect.flip(postCharge(p, { idempotencyKey: "order-42\n" })), script.requests])
        )
        expect(error).toMatchObject({ _tag: "InvalidRequest" })
        expect((error as InvalidRequest).issue).toMatch(/^the idempotency key contains LF/)
        expect(sent).toEqual([])
      }))

    it.effect("idempotencyKey - an explicit key is sent as is, under a custom header name", () =>
      Effect.gen(function*() {
        const sent = yield* scripted(
          [ScriptedHttpClient.status(502), ScriptedHttpClient.ok(charge)],
          (p, script) => postCharge(p, { idempotencyKey: "order-42" }).pipe(Effect.zipRight(script.requests)),
          { policy: retrying(2), idempotencyHeader: "X-Idempotency-Key" }
        )
        expect(sent.map((r) => r.headers["x-idempotency-key"])).toEqual(["order-42", "order-42"])
      }))

    it.effect("reads carry no key", () =>
      Effect.gen(function*() {
        const sent = yield* scripted(
          [ScriptedHttpClient.ok(charge)],
          (p, script) =>
            p.get("/v1/charges/1", { response: Charge, idempotent: true }).pipe(Effect.zipRight(script.requests))
        )
        expect(sent[0]!.headers[keyHeader]).toBeUndefined()
      }))

    it.effect.each([
      ["429", ScriptedHttpClient.status(429)],
      ["503", ScriptedHttpClient.status(503)],
      ["connection refused", ScriptedHttpClient.connectionRefused],
      ["DNS failure", ScriptedHttpClient.dnsFailure]
    ] as const)("non-idempotent write - re-sent after %s (provably not processed)", ([, step]) =>
      Effect.gen(function*() {
        const [result, sent] = yield* scripted(
          [step, ScriptedHttpClient.ok(charge)],
          (p, script) => Effect.all([postCharge(p), script.requests]),
          { policy: retrying(3) }
        )
        expect(result).toEqual(charge)
        expect(sent).toHaveLength(2)
        expect(sent[0]!.headers[keyHeader]).toBeUndefined()
      }))

    it.effect.each([
      ["a reset", ScriptedHttpClient.connectionReset, { _tag: "Unavailable", reason: "connection-reset" }],
      ["a 500", ScriptedHttpClient.status(500), { _tag: "Unavailable", status: 500 }],
      ["a 502", ScriptedHttpClient.status(502), { _tag: "Unavailable", status: 502 }],
      ["a 408", ScriptedHttpClient.status(408), { _tag: "Timeout", scope: "attempt" }]
    ] as const)("non-idempotent write - never re-sent after %s; the call fails with it", ([, step, expected]) =>
      Effect.gen(function*() {
        const [exit, sent] = yield* scripted(
          [step, ScriptedHttpClient.ok(charge)],
          (p, script) => Effect.all([Effect.exit(postCharge(p)), script.requests]),
          { policy: retrying(3) }
        )
        expect(sent).toHaveLength(1)
        expect(Exit.isFailure(exit) && Option.getOrUndefined(Cause.failureOption(exit.cause))).toMatchObject(expected)
      }))

    it.effect("non-idempotent write - never re-sent after our own attempt timeout", () =>
      Effect.gen(function*() {
        const fiber = yield* scripted(
          [ScriptedHttpClient.hang, ScriptedHttpClient.ok(charge)],
          (p, script) => Effect.all([Effect.flip(postCharge(p)), script.requests]),
          { policy: timedRetrying(3) }
        ).pipe(Effect.fork)
        yield* TestClock.adjust("5 seconds")
        const [error, sent] = yield* Fiber.join(fiber)
        expect(sent).toHaveLength(1)
        expect(error).toEqual(new Timeout({ provider: "payments", scope: "attempt", after: Duration.seconds(1) }))
      }))

    it.effect("non-idempotent write - a safe failure then an unsafe one stops there", () =>
      Effect.gen(function*() {
        const [error, sent] = yield* scripted(
          [ScriptedHttpClient.status(503), ScriptedHttpClient.connectionReset, ScriptedHttpClient.ok(charge)],
          (p, script) => Effect.all([Effect.flip(postCharge(p)), script.requests]),
          { policy: retrying(5) }
        )
        expect(sent).toHaveLength(2)
        expect(error).toMatchObject({ _tag: "Unavailable", reason: "connection-reset" })
      }))

    it.effect("idempotent: false - a PUT is treated as unsafe", () =>
      Effect.gen(function*() {
        const sent = yield* scripted(
          [ScriptedHttpClient.status(500), ScriptedHttpClient.ok(charge)],
          (p, script) =>
            p.put("/v1/charges/1", { request: NewCharge, body: newCharge, response: Charge, idempotent: false }).pipe(
              Effect.exit,
              Effect.zipRight(script.requests)
            ),
          { policy: retrying(3) }
        )
        expect(sent).toHaveLength(1)
      }))

    it.effect("a PUT is retried freely by default", () =>
      Effect.gen(function*() {
        const sent = yield* scripted(
          [ScriptedHttpClient.status(500), ScriptedHttpClient.ok(charge)],
          (p, script) =>
            p.put("/v1/charges/1", { request: NewCharge, body: newCharge, response: Charge }).pipe(
              Effect.zipRight(script.requests)
            ),
          { policy: retrying(3) }
        )
        expect(sent).toHaveLength(2)
      }))
  })

  describe("credentials", () => {
    const rotatingSource = Effect.gen(function*() {
      const version = yield* Ref.make(0)
      const credentials = yield* Credentials.rotating({
        fetch: Effect.map(Ref.updateAndGet(version, (n) => n + 1), (n) => `secret-v${n}`),
        every: "1 hour"
      })
      return { credentials, version }
    })

    it.scoped("401 - refreshes once and re-sends once, then succeeds", () =>
      Effect.gen(function*() {
        const { credentials, version } = yield* rotatingSource
        const [result, sent] = yield* scripted(
          [ScriptedHttpClient.status(401), ScriptedHttpClient.ok(charge)],
          (p, script) => Effect.all([postCharge(p), script.requests]),
          { credentials }
        )
        expect(result).toEqual(charge)
        expect(sent.map((r) => r.headers.authorization)).toEqual(["Bearer secret-v1", "Bearer secret-v2"])
        expect(yield* Ref.get(version)).toBe(2)
      }))

    it.scoped("a rotated secret with CR LF is not sent - InvalidRequest, without the secret", () =>
      Effect.gen(function*() {
        const credentials = yield* Credentials.rotating({ fetch: Effect.succeed("sk_live_abc\r\n"), every: "1 hour" })
        const [error, sent] = yield* scripted(
          [ScriptedHttpClient.ok(charge)],
          (p, script) => Effect.all([Effect.flip(getCharge(p)), script.requests]),
          { credentials, policy: retrying(3) }
        )
        expect(error).toMatchObject({ _tag: "InvalidRequest", provider: "payments" })
        expect((error as InvalidRequest).issue).toMatch(/^the credentials' secret contains CR/)
        expect(error.message).not.toContain("sk_live_abc")
        expect(sent).toEqual([])
      }))

    it.scoped("401 - a refreshed secret with LF is not sent - InvalidRequest after the one 401", () =>
      Effect.gen(function*() {
        const version = yield* Ref.make(0)
        const credentials = yield* Credentials.rotating({
          fetch: Effect.map(Ref.updateAndGet(version, (n) => n + 1), (n) => n === 1 ? "secret-v1" : "secret-v2\n"),
          every: "1 hour"
        })
        const [error, sent] = yield* scripted(
          [ScriptedHttpClient.status(401), ScriptedHttpClient.ok(charge)],
          (p, script) => Effect.all([Effect.flip(getCharge(p)), script.requests]),
          { credentials }
        )
        expect(error).toMatchObject({ _tag: "InvalidRequest" })
        expect(sent.map((r) => r.headers.authorization)).toEqual(["Bearer secret-v1"])
      }))

    it.scoped("401 twice - ClientError 401, refreshed only once", () =>
      Effect.gen(function*() {
        const { credentials, version } = yield* rotatingSource
        const [error, sent] = yield* scripted(
          [ScriptedHttpClient.status(401), ScriptedHttpClient.status(401), ScriptedHttpClient.ok(charge)],
          (p, script) => Effect.all([Effect.flip(getCharge(p)), script.requests]),
          { credentials }
        )
        expect(error).toMatchObject({ _tag: "ClientError", status: 401 })
        expect(sent).toHaveLength(2)
        expect(yield* Ref.get(version)).toBe(2)
      }))

    it.effect("401 with fixed credentials - ClientError at once, nothing re-sent", () =>
      Effect.gen(function*() {
        const [error, sent] = yield* scripted(
          [ScriptedHttpClient.status(401), ScriptedHttpClient.ok(charge)],
          (p, script) => Effect.all([Effect.flip(getCharge(p)), script.requests]),
          { credentials: Credentials.fixed("k") }
        )
        expect(error).toMatchObject({ _tag: "ClientError", status: 401 })
        expect(sent).toHaveLength(1)
      }))

    it.effect("byKey - each request uses its region's secret, under a custom header", () =>
      Effect.gen(function*() {
        const sent = yield* scripted(
          [ScriptedHttpClient.ok(charge), ScriptedHttpClient.ok(charge), ScriptedHttpClient.ok(charge)],
          (p, script) =>
            Effect.all([
              p.get("/x", { response: Charge, credentialsKey: "eu" }),
              p.get("/x", { response: Charge, credentialsKey: "us" }),
              p.get("/x", { response: Charge })
            ]).pipe(Effect.zipRight(script.requests)),
          {
            credentials: Credentials.byKey(
              { eu: Credentials.fixed("key-eu"), us: Credentials.fixed("key-us") },
              { default: "us" }
            ),
            credentialsHeader: "X-Api-Key",
            credentialsScheme: ""
          }
        )
        expect(sent.map((r) => r.headers["x-api-key"])).toEqual(["key-eu", "key-us", "key-us"])
      }))

    it.effect("byKey - an unknown key is InvalidRequest and nothing is sent", () =>
      Effect.gen(function*() {
        const [error, sent] = yield* scripted(
          [ScriptedHttpClient.ok(charge)],
          (p, script) =>
            Effect.all([Effect.flip(p.get("/x", { response: Charge, credentialsKey: "apac" })), script.requests]),
          { credentials: Credentials.byKey({ eu: Credentials.fixed("key-eu") }) }
        )
        expect(error).toEqual(new InvalidRequest({ provider: "payments", issue: "no credentials for key \"apac\"" }))
        expect(sent).toHaveLength(0)
      }))

    it.scoped("the secret never appears in a log line, an error message or a span attribute", () =>
      Effect.gen(function*() {
        const secret = "sk_live_TOPSECRET"
        const lines: Array<string> = []
        const logger = Logger.make(({ annotations, cause, message }) => {
          lines.push(JSON.stringify({ message, cause: Cause.pretty(cause), annotations: [...annotations] }))
        })
        const { recording, spans } = yield* recordingTracer
        const credentials = yield* Credentials.rotating({ fetch: Effect.succeed(secret), every: "1 hour" })
        const errors = yield* scripted(
          [
            ScriptedHttpClient.status(401),
            // a provider that echoes the key back in its error body
            ScriptedHttpClient.status(401, { body: { error: `invalid key ${secret}` } }),
            ScriptedHttpClient.status(400, { body: `Authorization: Bearer ${secret}` }),
            ScriptedHttpClient.connectionReset,
            // a 2xx that echoes the request headers and fails its Schema: the issue quotes the value
            ScriptedHttpClient.ok({ id: { authorization: `Bearer ${secret}` }, amount: 1 })
          ],
          (p) =>
            Effect.all([
              Effect.flip(getCharge(p)),
              Effect.flip(p.get("/x", { response: Charge, urlParams: { token: secret } })),
              Effect.flip(postCharge(p)),
              Effect.flip(getCharge(p))
            ]),
          { credentials, policy: retrying(2) }
        ).pipe(
          Effect.withTracer(recording),
          Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
          Logger.withMinimumLogLevel(LogLevel.All)
        )
        expect(lines.some((line) => line.includes("refreshed"))).toBe(true)
        for (const line of lines) expect(line).not.toContain(secret)
        expect(errors.map((error) => error._tag)).toContain("InvalidResponse")
        for (const error of errors) {
          expect(error.message).not.toContain(secret)
          expect(JSON.stringify(error)).not.toContain(secret)
        }
        expect(spans.length).toBeGreaterThan(0)
        for (const span of spans) {
          expect(span.name).not.toContain(secret)
          expect(JSON.stringify([...(span as any).attributes])).not.toContain(secret)
        }
      }))
  })

  describe("spans", () => {
    it.effect("one span per attempt with method, route template, status, attempt number and provider", () =>
      Effect.gen(function*() {
        const { recording, spans } = yield* recordingTracer
        const sent = yield* scripted(
          [ScriptedHttpClient.status(503), ScriptedHttpClient.ok(charge)],
          (p, script) =>
            p.get("/v1/charges/{id}", { params: { id: "ch_1" }, urlParams: { q: "x" }, response: Charge }).pipe(
              Effect.zipRight(script.requests)
            ),
          { policy: retrying(2) }
        ).pipe(Effect.withTracer(recording))
        const attemptSpans = spans.filter((s) => s.name === "payments GET /v1/charges/{id}")
        expect(attemptSpans).toHaveLength(2)
        expect(attemptSpans.map((s) => Object.fromEntries(s.attributes))).toEqual([
          {
            "http.request.method": "GET",
            "http.route": "/v1/charges/{id}",
            "resilience.provider": "payments",
            "resilience.idempotent": true,
            "resilience.attempt": 1,
            "http.response.status_code": 503
          },
          {
            "http.request.method": "GET",
            "http.route": "/v1/charges/{id}",
            "resilience.provider": "payments",
            "resilience.idempotent": true,
            "resilience.attempt": 2,
            "http.response.status_code": 200
          }
        ])
        expect(attemptSpans[0].kind).toBe("client")
        // trace context is propagated to the provider
        expect(sent[0]!.headers.traceparent).toContain(attemptSpans[0].spanId)
      }))
  })

  describe("metrics", () => {
    it.effect("resilience_http_provider_attempts_total counts attempts by provider and outcome", () =>
      Effect.gen(function*() {
        const counter = (outcome: string) =>
          attempts.pipe(
            Metric.tagged("provider", "metrics-test"),
            Metric.tagged("outcome", outcome)
          )
        yield* scripted(
          [ScriptedHttpClient.status(503), ScriptedHttpClient.connectionRefused, ScriptedHttpClient.ok(charge)],
          getCharge,
          { name: "metrics-test", policy: retrying(2) }
        )
        expect((yield* Metric.value(counter("503"))).count).toBe(1)
        expect((yield* Metric.value(counter("connection-refused"))).count).toBe(1)
        expect((yield* Metric.value(counter("success"))).count).toBe(1)
      }))
  })

  describe("with the library's guards", () => {
    const guards: HttpProvider.Policy = (self) =>
      self.pipe(
        TimeoutGuard.attempt("1 second", { provider: "payments" }),
        Retry.transient({ times: 3 }),
        TimeoutGuard.total("30 seconds", { provider: "payments" })
      )

    it.effect("Retry.transient waits for the provider's Retry-After before re-sending", () =>
      Effect.gen(function*() {
        const fiber = yield* scripted(
          [ScriptedHttpClient.status(429, { retryAfter: "2 seconds" }), ScriptedHttpClient.ok(charge)],
          (p, script) => getCharge(p).pipe(Effect.zipRight(script.requests)),
          { policy: guards }
        ).pipe(Effect.fork)
        yield* TestClock.adjust("1 minute")
        const sent = yield* Fiber.join(fiber)
        expect(sent).toHaveLength(2)
        expect(sent[1]!.at).toBeGreaterThanOrEqual(2000)
      }).pipe(Effect.withRandom(Random.make("jitter"))))

    it.effect("Timeout.attempt then Retry.transient - a hung non-idempotent write is sent once", () =>
      Effect.gen(function*() {
        const fiber = yield* scripted(
          [ScriptedHttpClient.hang, ScriptedHttpClient.ok(charge)],
          (p, script) => Effect.all([Effect.flip(postCharge(p)), script.requests]),
          { policy: guards }
        ).pipe(Effect.fork)
        yield* TestClock.adjust("1 minute")
        const [error, sent] = yield* Fiber.join(fiber)
        expect(sent).toHaveLength(1)
        expect(error).toMatchObject({ _tag: "Timeout", scope: "attempt" })
      }))

    it.effect("Timeout.attempt then Retry.transient - a hung idempotent write is re-sent with its key", () =>
      Effect.gen(function*() {
        const fiber = yield* scripted(
          [ScriptedHttpClient.hang, ScriptedHttpClient.ok(charge)],
          (p, script) => Effect.all([postCharge(p, { idempotent: true }), script.requests]),
          { policy: guards }
        ).pipe(Effect.fork)
        yield* TestClock.adjust("1 minute")
        const [result, sent] = yield* Fiber.join(fiber)
        expect(result).toEqual(charge)
        expect(sent).toHaveLength(2)
        expect(sent[1]!.headers["idempotency-key"]).toBe(sent[0]!.headers["idempotency-key"])
      }))

    it.scoped("a breaker below the retry counts the failed write once, not the refused re-send", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({ name: "payments", policy: CircuitBreaker.consecutive(2) })
        const policy = (self: Effect.Effect<HttpProvider.Attempt, HttpProvider.RequestError>) =>
          self.pipe(CircuitBreaker.protect(breaker), Retry.transient({ times: 3 }))
        const fiber = yield* scripted(
          [ScriptedHttpClient.status(500), ScriptedHttpClient.ok(charge)],
          (p, script) => Effect.all([Effect.flip(postCharge(p)), script.requests]),
          { policy }
        ).pipe(Effect.fork)
        yield* TestClock.adjust("1 minute")
        const [error, sent] = yield* Fiber.join(fiber)
        expect(error).toMatchObject({ _tag: "Unavailable", status: 500 })
        expect(sent).toHaveLength(1)
        expect(yield* breaker.state).toBe("closed")
        expect((yield* breaker.snapshot).failures).toBe(1)
      }))

    it.effect("the deadline header carries the total budget left at each attempt", () =>
      Effect.gen(function*() {
        const fiber = yield* scripted(
          [ScriptedHttpClient.delay("1 second", ScriptedHttpClient.status(503)), ScriptedHttpClient.ok(charge)],
          (p, script) => getCharge(p).pipe(Effect.zipRight(script.requests)),
          {
            deadlineHeader: "X-Request-Timeout-Ms",
            policy: (self) =>
              self.pipe(
                Retry.transient({ times: 2, backoff: Backoff.constant("500 millis") }),
                TimeoutGuard.total("10 seconds")
              )
          }
        ).pipe(Effect.fork)
        yield* TestClock.adjust("1 minute")
        const sent = yield* Fiber.join(fiber)
        expect(sent.map((r) => r.headers["x-request-timeout-ms"])).toEqual(["10000", "8500"])
      }))
  })

  describe("default policy", () => {
    it.effect("without a policy, Policy.provider(name) guards every request: a 503 is retried", () =>
      Effect.gen(function*() {
        const script = yield* ScriptedHttpClient.ScriptedHttpClient
        const provider = yield* HttpProvider.make(baseOptions)
        const fiber = yield* Effect.fork(getCharge(provider))
        yield* TestClock.adjust("30 seconds")
        expect(yield* Fiber.join(fiber)).toEqual(charge)
        expect((yield* script.requests).length).toBe(2)
      }).pipe(
        Effect.scoped,
        Effect.provide(ScriptedHttpClient.layer([ScriptedHttpClient.status(503), ScriptedHttpClient.ok(charge)]))
      ))

    it.effect("without a policy, an attempt that hangs fails with the default attempt Timeout (10 s)", () =>
      Effect.gen(function*() {
        const provider = yield* HttpProvider.make({ ...baseOptions, name: "slow" })
        const fiber = yield* Effect.fork(Effect.flip(postCharge(provider)))
        // the attempt times out at 10 s; the retry after a backoff is refused (the write may have been processed)
        yield* TestClock.adjust("11 seconds")
        const error = yield* Fiber.join(fiber)
        expect(error).toMatchObject({ _tag: "Timeout", scope: "attempt", provider: "slow" })
      }).pipe(Effect.scoped, Effect.provide(ScriptedHttpClient.layer([ScriptedHttpClient.hang]))))
  })

  describe("construction", () => {
    // a policy of their own (unguarded, or a bad one), so the default's Scope is not needed
    const refused = (bad: Partial<HttpProvider.Options<any, any>>) =>
      Effect.flip(
        HttpProvider.make({ ...baseOptions, policy: unguarded, ...bad } as HttpProvider.Options<any> & {
          readonly policy: HttpProvider.Policy<any>
        }).pipe(Effect.provide(ScriptedHttpClient.layer([])))
      )

    it.effect.each([
      ["name", { name: "" }],
      ["baseUrl", { baseUrl: "not a url" }],
      ["baseUrl", { baseUrl: "ftp://files.test" }],
      ["baseUrl", { baseUrl: "https://api.test/?token=abc" }],
      ["maxConnections", { maxConnections: 0 }],
      ["maxConnections", { maxConnections: 1.5 }],
      ["excerptLength", { excerptLength: 0 }]
    ] as const)("fails with InvalidOptions for a bad %s", ([option, bad]) =>
      Effect.gen(function*() {
        const error = yield* refused(bad)
        expect(error).toBeInstanceOf(InvalidOptions)
        expect(error.option).toBe(option)
        expect(error.message).not.toContain("abc")
      }))

    it.effect.each([
      ["a header name with a space", { headers: { "x client": "shop" } }, "headers", "a header named \"x client\""],
      [
        "a header value with CR LF",
        { headers: { "x-client": "shop\r\nx-admin: 1" } },
        "headers[\"x-client\"]",
        "<redacted> (contains CR)"
      ],
      ["headers that are not a record", { headers: "x-client: shop" as any }, "headers", "a string"],
      // described, not quoted: a scheme that is no token is most likely a whole "Bearer <key>"
      ["a scheme with LF", { credentialsScheme: "Bearer\n" }, "credentialsScheme", "<redacted> (not a token)"],
      ["a scheme with a key in it", { credentialsScheme: "Bearer sk_abc" }, "credentialsScheme", "<redacted> (not a token)"],
      ["a scheme that is no string", { credentialsScheme: 5 as any }, "credentialsScheme", "a number"],
      ["a credentials header with spaces", { credentialsHeader: "x api key" }, "credentialsHeader", "\"x api key\""],
      ["an idempotency header with a colon", { idempotencyHeader: "Idem-Key:" }, "idempotencyHeader", "\"Idem-Key:\""],
      ["a header the client writes itself", { headers: { Upgrade: "h2c" } }, "headers", "a header named \"Upgrade\""],
      [
        "a deadline header the client writes",
        { deadlineHeader: "Content-Length" },
        "deadlineHeader",
        "\"Content-Length\""
      ],
      ["a deadline header with LF", { deadlineHeader: "x-deadline\n" }, "deadlineHeader", "\"x-deadline\\n\""],
      ["a base URL with a bare ?", { baseUrl: "https://api.test/?" }, "baseUrl", "\"https://api.test/?<query>\""],
      [
        "a base URL with a fragment",
        { baseUrl: "https://api.test/v1#token=abc" },
        "baseUrl",
        "\"https://api.test/v1#<fragment>\""
      ],
      [
        "a base URL with user info",
        { baseUrl: "https://me:abc@api.test" },
        "baseUrl",
        "\"https://<user info>@api.test/\""
      ],
      // a URL that does not parse, or is no http(s), is shown without what may hold a token
      [
        "a base URL with a bad port and a key",
        { baseUrl: "https://api.test:44x3/v1?key=abc" },
        "baseUrl",
        "\"https://api.test:44x3/v1?<query>\""
      ],
      ["a base URL without a scheme", { baseUrl: "me:abc@api.test/v1#abc" }, "baseUrl", "\"<user info>@api.test/v1#<fragment>\""],
      ["a base URL of another scheme", { baseUrl: "ftp://me:abc@files.test" }, "baseUrl", "\"ftp://<user info>@files.test\""],
      // a password with a "/" or a "@" does not parse: all of it is still cut
      ["a base URL whose password has a slash", { baseUrl: "https://me:ab/c@api.test" }, "baseUrl", "\"https://<user info>@api.test\""],
      ["a base URL whose password has an @", { baseUrl: "https://me:a@bc@api.test:9x" }, "baseUrl", "\"https://<user info>@api.test:9x\""],
      ["a base URL that is no string", { baseUrl: undefined as any }, "baseUrl", "undefined"],
      ["a policy that is no function", { policy: "retry" as any }, "policy", "\"retry\""],
      ["a classify that is no function", { classify: 5 as any }, "classify", "5"],
      ["a newIdempotencyKey that is no Effect", { newIdempotencyKey: "x" as any }, "newIdempotencyKey", "a string"],
      ["credentials that are no Credentials", { credentials: {} as any }, "credentials", "an object"]
    ] as const)("InvalidOptions naming the option and the value - %s", ([, bad, option, value]) =>
      Effect.gen(function*() {
        const error = yield* refused(bad)
        expect(error).toBeInstanceOf(InvalidOptions)
        expect(error).toMatchObject({ module: "HttpProvider.make", option, value })
        expect(error.message).not.toContain("abc")
      }))

    it.effect.each([
      ["fixed(\"\")", () => Credentials.fixed(""), "Credentials.fixed", "secret", "\"\""],
      ["fixed(5)", () => Credentials.fixed(5 as any), "Credentials.fixed", "secret", "a number"],
      ["fixed(Redacted.make(\"\"))", () => Credentials.fixed(Redacted.make("")), "Credentials.fixed", "secret", "\"\""],
      [
        "a trailing LF",
        () => Credentials.fixed("sk_live_abc\n"),
        "Credentials.fixed",
        "secret",
        "<redacted> (contains LF)"
      ],
      ["byKey(null)", () => Credentials.byKey(null as any), "Credentials.byKey", "credentials", "null"],
      [
        "a bare string",
        () => Credentials.byKey({ eu: "sk_live_abc" as any }),
        "Credentials.byKey",
        "credentials.eu",
        "a string"
      ],
      [
        "byKey over a bad fixed",
        () => Credentials.byKey({ eu: Credentials.fixed("") }),
        "Credentials.fixed",
        "secret",
        "\"\""
      ],
      [
        "byKey with an unknown default",
        () => Credentials.byKey({ eu: Credentials.fixed("k") }, { default: "us" }),
        "Credentials.byKey",
        "default",
        "\"us\""
      ]
    ] as const)("bad credentials - InvalidOptions when the client is built: %s", ([, make, module, option, value]) =>
      Effect.gen(function*() {
        const error = yield* refused({ credentials: make() })
        expect(error).toBeInstanceOf(InvalidOptions)
        expect(error).toMatchObject({ module, option, value })
        expect(error.message).not.toContain("abc")
      }))

    it.effect("layer - InvalidOptions name HttpProvider.layer, the function called", () =>
      Effect.gen(function*() {
        class Payments extends Context.Tag("test/Payments")<Payments, HttpProvider.HttpProvider>() {}
        const error = yield* Effect.flip(
          Layer.build(HttpProvider.layer(Payments, { ...baseOptions, maxConnections: 0 })).pipe(
            Effect.provide(ScriptedHttpClient.layer([])),
            Effect.scoped
          )
        )
        expect(error).toBeInstanceOf(InvalidOptions)
        expect(error).toMatchObject({ module: "HttpProvider.layer", option: "maxConnections" })
      }))

    it.effect("baseUrl - a trailing slash is dropped and the path appended once", () =>
      Effect.gen(function*() {
        const sent = yield* scripted(
          [ScriptedHttpClient.ok(charge)],
          (p, script) => Effect.zipRight(getCharge(p), script.requests),
          { baseUrl: "https://payments.test/api/" }
        )
        expect(sent[0]!.url).toBe("https://payments.test/api/v1/charges/ch_1")
      }))

    it.effect("layer - built from an effect of options, for the user's own tag", () =>
      Effect.gen(function*() {
        class Payments extends Context.Tag("test/Payments")<Payments, HttpProvider.HttpProvider>() {}
        const live = HttpProvider.layer(Payments, Effect.succeed(baseOptions))
        const result = yield* Effect.flatMap(Payments, getCharge).pipe(
          Effect.provide(live.pipe(Layer.provide(ScriptedHttpClient.layer([ScriptedHttpClient.ok(charge)]))))
        )
        expect(result).toEqual(charge)
      }))

    it.effect("credentials are Redacted when printed", () =>
      Effect.gen(function*() {
        const secret = yield* Credentials.fixed("k-123").get()
        expect(String(Option.getOrThrow(secret))).toBe("<redacted>")
        expect(Redacted.value(Option.getOrThrow(secret))).toBe("k-123")
      }))
  })
})
