import { HttpClient, HttpClientError, HttpClientRequest } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Chunk, type Duration, Effect, Exit, Fiber, Option, Stream, TestClock } from "effect"
import { ScriptedHttpClient } from "../src/testing/index.js"
import { InvalidOptions } from "../src/Errors.js"
import { thrown, untyped } from "./support/invalidOptions.js"

const S = ScriptedHttpClient

const get = (url: string) => HttpClient.get(url)

const transportCause = (error: HttpClientError.HttpClientError) => {
  expect(error._tag).toBe("RequestError")
  expect(error.reason).toBe("Transport")
  const cause = error.cause as Error & { code?: string; errno?: number; syscall?: string }
  expect(cause).toBeInstanceOf(Error)
  return cause
}

const fields = (error: HttpClientError.HttpClientError) => {
  const cause = transportCause(error)
  return [cause.code, cause.errno, cause.syscall, cause.message]
}

describe("ScriptedHttpClient", () => {
  it.effect("ok - answers 200 with the JSON-encoded body and a JSON content-type", () =>
    Effect.gen(function*() {
      const response = yield* get("https://api.test/v1/users/1")
      expect(response.status).toBe(200)
      expect(response.headers["content-type"]).toBe("application/json")
      expect(yield* response.json).toEqual({ id: 1, name: "Ada" })
    }).pipe(Effect.provide(S.layer([S.ok({ id: 1, name: "Ada" })]))))

  it.effect("ok - status and headers options; 204 has no body", () =>
    Effect.gen(function*() {
      const created = yield* get("https://api.test/a")
      expect(created.status).toBe(201)
      expect(created.headers["x-request-id"]).toBe("r1")
      const empty = yield* get("https://api.test/b")
      expect(empty.status).toBe(204)
      expect(yield* empty.text).toBe("")
    }).pipe(
      Effect.provide(S.layer([
        S.ok({ id: 1 }, { status: 201, headers: { "X-Request-Id": "r1" } }),
        S.ok(undefined, { status: 204 })
      ]))
    ))

  it.effect("status - Retry-After from a duration is delta-seconds, a string is sent verbatim", () =>
    Effect.gen(function*() {
      const headers = []
      for (let i = 0; i < 4; i++) headers.push((yield* get("https://api.test/x")).headers["retry-after"])
      expect(headers).toEqual(["2", "1.5", "Wed, 21 Oct 2015 07:28:00 GMT", undefined])
    }).pipe(Effect.provide(S.layer([
      S.status(429, { retryAfter: "2 seconds" }),
      S.status(503, { retryAfter: "1500 millis" }),
      S.status(503, { retryAfter: "Wed, 21 Oct 2015 07:28:00 GMT" }),
      S.status(500)
    ]))))

  it.effect("status - a code no Response can carry is refused when the script is written", () =>
    Effect.sync(() => {
      for (const code of [101, 199, 600, 700, 200.5, Number.NaN]) {
        expect(() => ScriptedHttpClient.status(code)).toThrow(InvalidOptions)
      }
      expect(() => ScriptedHttpClient.ok({}, { status: 99 })).toThrow(/an HTTP status from 200 to 599/)
    }))

  it.effect("delay and retryAfter - a bad, negative or NaN duration is refused when the script is written", () =>
    Effect.sync(() => {
      const step = ScriptedHttpClient.ok({})
      for (const bad of ["3s", "-1 seconds", -1, Number.NaN, null, {}]) {
        const error = thrown(() => ScriptedHttpClient.delay(untyped(bad), step))
        expect([error.module, error.option]).toEqual(["ScriptedHttpClient.delay", "duration"])
      }
      expect(() => ScriptedHttpClient.delay("3s" as Duration.DurationInput, step)).toThrow(
        "ScriptedHttpClient.delay: option duration must be a finite duration >= 0 " +
          "(e.g. \"100 millis\", \"2 seconds\"), got \"3s\""
      )
      for (const bad of [-1000, Number.NaN, "-2 seconds", {}]) {
        const error = thrown(() => ScriptedHttpClient.status(429, { retryAfter: untyped(bad) }))
        expect([error.module, error.option]).toEqual(["ScriptedHttpClient.status", "retryAfter"])
      }
      // a string that is not a duration is still sent verbatim, to script HTTP-dates and garbage
      expect(() => ScriptedHttpClient.status(429, { retryAfter: "soon" })).not.toThrow()
    }))

  it.effect("status - carries a JSON body and extra headers", () =>
    Effect.gen(function*() {
      const response = yield* get("https://api.test/x")
      expect(response.status).toBe(422)
      expect(response.headers["ratelimit-reset"]).toBe("7")
      expect(yield* response.json).toEqual({ error: "email taken" })
    }).pipe(Effect.provide(S.layer([
      S.status(422, { body: { error: "email taken" }, headers: { "RateLimit-Reset": "7" } })
    ]))))

  it.effect("script - answers requests in order and records method, url, headers, body and Clock time", () =>
    Effect.gen(function*() {
      const request = HttpClientRequest.post("https://api.test/v1/charges").pipe(
        HttpClientRequest.setUrlParam("expand", "customer"),
        HttpClientRequest.setHeader("Idempotency-Key", "key-1"),
        HttpClientRequest.bodyUnsafeJson({ amount: 500 })
      )
      const client = yield* HttpClient.HttpClient
      expect((yield* client.execute(request)).status).toBe(503)
      yield* TestClock.adjust("2 seconds")
      expect((yield* client.execute(request)).status).toBe(200)
      yield* client.execute(HttpClientRequest.get("https://api.test/v1/charges/ch_1"))

      const requests = yield* (yield* S.ScriptedHttpClient).requests
      expect(requests.map((r) => [r.method, r.url, r.body, r.at])).toEqual([
        ["POST", "https://api.test/v1/charges?expand=customer", "{\"amount\":500}", 0],
        ["POST", "https://api.test/v1/charges?expand=customer", "{\"amount\":500}", 2000],
        ["GET", "https://api.test/v1/charges/ch_1", undefined, 2000]
      ])
      expect(requests[0]?.headers["idempotency-key"]).toBe("key-1")
      expect(requests[0]?.headers["content-type"]).toBe("application/json")
    }).pipe(Effect.provide(S.layer([S.status(503), S.ok({ id: "ch_1" }), S.ok({ id: "ch_1" })]))))

  it.effect("script - records text and stream bodies", () =>
    Effect.gen(function*() {
      const client = yield* HttpClient.HttpClient
      yield* client.execute(HttpClientRequest.post("https://api.test/a").pipe(HttpClientRequest.bodyText("plain")))
      yield* client.execute(
        HttpClientRequest.post("https://api.test/b").pipe(
          HttpClientRequest.bodyStream(Stream.make("ab", "cd").pipe(Stream.encodeText))
        )
      )
      const requests = yield* (yield* S.ScriptedHttpClient).requests
      expect(requests.map((r) => r.body)).toEqual(["plain", "abcd"])
    }).pipe(Effect.provide(S.layer([S.ok(null), S.ok(null)]))))

  it.effect("script - concurrent requests each take their own step", () =>
    Effect.gen(function*() {
      const statuses = yield* Effect.forEach(
        Chunk.range(1, 20),
        (i) => Effect.map(get(`https://api.test/${i}`), (r) => r.status),
        { concurrency: "unbounded" }
      )
      expect([...statuses].sort()).toEqual(Array.from({ length: 20 }, (_, i) => 200 + i).sort())
      expect(yield* (yield* S.ScriptedHttpClient).remaining).toBe(0)
    }).pipe(Effect.provide(S.layer(Array.from({ length: 20 }, (_, i) => S.ok(null, { status: 200 + i }))))))

  it.effect("exhausted - dies with a message naming the request by default", () =>
    Effect.gen(function*() {
      yield* get("https://api.test/one")
      const exit = yield* Effect.exit(get("https://api.test/two"))
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      expect(Exit.isFailure(exit) && Cause.pretty(exit.cause)).toContain(
        "request #2 (GET https://api.test/two) but the script has 1 step(s)"
      )
    }).pipe(Effect.provide(S.layer([S.ok(null)]))))

  it.effect("exhausted - repeat-last answers with the last step again", () =>
    Effect.gen(function*() {
      const statuses = []
      for (let i = 0; i < 4; i++) statuses.push((yield* get("https://api.test/x")).status)
      expect(statuses).toEqual([429, 503, 503, 503])
      expect(yield* (yield* S.ScriptedHttpClient).remaining).toBe(0)
    }).pipe(Effect.provide(S.layer([S.status(429), S.status(503)], { onExhausted: "repeat-last" }))))

  it.effect("delay - answers only after the TestClock passes the delay", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(get("https://api.test/slow"))
      yield* TestClock.adjust("2999 millis")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("1 millis")
      const response = yield* Fiber.join(fiber)
      expect(response.status).toBe(200)
    }).pipe(Effect.provide(S.layer([S.delay("3 seconds", S.ok({ slow: true }))]))))

  it.effect("delay - is interruptible by a timeout", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(get("https://api.test/slow").pipe(Effect.timeout("1 second")))
      yield* TestClock.adjust("1 second")
      const exit = yield* Fiber.await(fiber)
      expect(Exit.isFailure(exit) && Cause.isFailType(exit.cause) && exit.cause.error._tag).toBe("TimeoutException")
      const next = yield* get("https://api.test/next")
      expect(next.status).toBe(200)
    }).pipe(Effect.provide(S.layer([S.delay("1 minute", S.ok(null)), S.ok(null)]))))

  it.effect("hang - never answers; interruption ends it", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(get("https://api.test/hang"))
      yield* TestClock.adjust("1 hour")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      const exit = yield* Fiber.interrupt(fiber)
      expect(Exit.isInterrupted(exit)).toBe(true)
      expect((yield* (yield* S.ScriptedHttpClient).requests).length).toBe(1)
    }).pipe(Effect.provide(S.layer([S.hang]))))

  it.effect("connectionRefused - RequestError Transport with Node's ECONNREFUSED cause", () =>
    Effect.gen(function*() {
      expect(fields(yield* Effect.flip(get("https://api.test/x")))).toEqual(
        ["ECONNREFUSED", -111, "connect", "connect ECONNREFUSED api.test:443"]
      )
      const local = transportCause(yield* Effect.flip(get("http://127.0.0.1:8080/x")))
      expect(local.message).toBe("connect ECONNREFUSED 127.0.0.1:8080")
    }).pipe(Effect.provide(S.layer([S.connectionRefused], { onExhausted: "repeat-last" }))))

  it.effect("connectionReset and dnsFailure - ECONNRESET and ENOTFOUND causes", () =>
    Effect.gen(function*() {
      expect(fields(yield* Effect.flip(get("http://api.test/x")))).toEqual(
        ["ECONNRESET", -104, "read", "read ECONNRESET"]
      )
      expect(fields(yield* Effect.flip(get("http://does-not-exist.invalid/x")))).toEqual(
        ["ENOTFOUND", -3008, "getaddrinfo", "getaddrinfo ENOTFOUND does-not-exist.invalid"]
      )
      const socket = transportCause(yield* Effect.flip(get("http://api.test/x")))
      expect([socket.code, socket.message]).toEqual(["UND_ERR_SOCKET", "other side closed"])
    }).pipe(Effect.provide(S.layer([
      S.connectionReset,
      S.dnsFailure,
      S.transportError({ code: "UND_ERR_SOCKET", message: "other side closed" })
    ]))))

  it.effect("respondWith - chooses the answer from the recorded request", () =>
    Effect.gen(function*() {
      const response = yield* HttpClient.HttpClient.pipe(
        Effect.flatMap((client) =>
          client.execute(
            HttpClientRequest.post("https://api.test/x").pipe(HttpClientRequest.setHeader("idempotency-key", "k9"))
          )
        )
      )
      expect(yield* response.json).toEqual({ key: "k9" })
    }).pipe(Effect.provide(S.layer([S.respondWith((r) => S.ok({ key: r.headers["idempotency-key"] }))]))))

  it.effect("layer - each build starts the script afresh", () =>
    Effect.gen(function*() {
      const layer = S.layer([S.status(503)])
      const first = yield* get("https://api.test/x").pipe(Effect.provide(layer))
      const second = yield* get("https://api.test/x").pipe(Effect.provide(layer))
      expect([first.status, second.status]).toEqual([503, 503])
    }))
})
