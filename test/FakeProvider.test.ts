import { HttpClient, HttpClientError, HttpClientRequest } from "@effect/platform"
import { NodeHttpClient } from "@effect/platform-node"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Deferred, type Duration, Effect, Exit, Fiber, Scope } from "effect"
import * as Net from "node:net"
import { FakeProvider, ScriptedHttpClient } from "../src/testing/index.js"
import { thrown, untyped } from "./support/invalidOptions.js"

// Real sockets and real time: every test here is `scopedLive` and runs against a server on 127.0.0.1.

const withClient = <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.provide(effect, NodeHttpClient.layer)

const send = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.flatMap(HttpClient.HttpClient, (client) => client.execute(request))

const charge = (url: string, body: unknown, key?: string) =>
  HttpClientRequest.post(`${url}/v1/charges`).pipe(
    HttpClientRequest.bodyUnsafeJson(body),
    key === undefined ? (r) => r : HttpClientRequest.setHeader("Idempotency-Key", key)
  )

const statusOf = (request: HttpClientRequest.HttpClientRequest) =>
  Effect.map(send(request), (response) => response.status)

const statuses = (request: HttpClientRequest.HttpClientRequest, n: number) =>
  Effect.forEach(Array.from({ length: n }), () => statusOf(request))

const closedPort = Effect.async<number>((resume) => {
  const server = Net.createServer()
  server.listen(0, "127.0.0.1", () => {
    const port = (server.address() as Net.AddressInfo).port
    server.close(() => resume(Effect.succeed(port)))
  })
})

type SystemError = Error & { code?: string; errno?: number; syscall?: string }

const transportCause = (error: HttpClientError.HttpClientError): SystemError => {
  expect(error._tag).toBe("RequestError")
  expect(error.reason).toBe("Transport")
  return error.cause as SystemError
}

describe("FakeProvider", () => {
  it.scopedLive("normal - serves the charges API and records requests", () =>
    withClient(Effect.gen(function*() {
      const provider = yield* FakeProvider.make()
      expect(provider.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      const created = yield* send(charge(provider.url, { amount: 500, currency: "eur" }))
      expect(created.status).toBe(201)
      const body = yield* created.json
      expect(body).toEqual({ id: "ch_1", amount: 500, currency: "eur", status: "succeeded" })
      const fetched = yield* send(HttpClientRequest.get(`${provider.url}/v1/charges/ch_1?expand=x`))
      expect(yield* fetched.json).toEqual(body)
      expect(yield* statusOf(HttpClientRequest.get(`${provider.url}/v1/charges/ch_9`))).toBe(404)
      expect(yield* statusOf(HttpClientRequest.get(`${provider.url}/nowhere`))).toBe(404)
      expect(yield* statusOf(HttpClientRequest.get(`${provider.url}/v1/charges/%E0%A4%A`))).toBe(404)
      expect(yield* statusOf(charge(provider.url, { amount: -1 }))).toBe(400)

      const requests = yield* provider.requests
      expect(requests.map((r) => [r.method, r.url, r.phase])).toEqual([
        ["POST", "/v1/charges", "Normal"],
        ["GET", "/v1/charges/ch_1?expand=x", "Normal"],
        ["GET", "/v1/charges/ch_9", "Normal"],
        ["GET", "/nowhere", "Normal"],
        ["GET", "/v1/charges/%E0%A4%A", "Normal"],
        ["POST", "/v1/charges", "Normal"]
      ])
      expect(requests[0]?.body).toBe("{\"amount\":500,\"currency\":\"eur\"}")
      expect(requests[0]?.headers["content-type"]).toBe("application/json")
      expect(yield* provider.sideEffects).toBe(1)
    })))

  it.scopedLive("rateLimited - 429 with Retry-After, 1 second by default", () =>
    withClient(Effect.gen(function*() {
      const provider = yield* FakeProvider.make({ phase: FakeProvider.rateLimited() })
      const first = yield* send(charge(provider.url, { amount: 1 }))
      expect([first.status, first.headers["retry-after"]]).toEqual([429, "1"])
      expect(yield* first.json).toEqual({ error: "rate_limited" })
      yield* provider.setPhase(
        FakeProvider.rateLimited({ retryAfter: "2500 millis", headers: { "RateLimit-Reset": "3" } })
      )
      const second = yield* send(HttpClientRequest.get(`${provider.url}/v1/ping`))
      expect([second.status, second.headers["retry-after"], second.headers["ratelimit-reset"]]).toEqual([
        429,
        "2.5",
        "3"
      ])
      expect(yield* provider.sideEffects).toBe(0)
    })))

  it.scopedLive("outage - 503 without Retry-After by default; status and Retry-After when given", () =>
    withClient(Effect.gen(function*() {
      const provider = yield* FakeProvider.make({ phase: FakeProvider.outage() })
      const ping = HttpClientRequest.get(`${provider.url}/v1/ping`)
      const plain = yield* send(ping)
      expect([plain.status, plain.headers["retry-after"]]).toEqual([503, undefined])
      yield* provider.setPhase(FakeProvider.outage({ status: 503, retryAfter: "Wed, 21 Oct 2015 07:28:00 GMT" }))
      const hinted = yield* send(ping)
      expect([hinted.status, hinted.headers["retry-after"]]).toEqual([503, "Wed, 21 Oct 2015 07:28:00 GMT"])
      yield* provider.setPhase(FakeProvider.outage({ status: 502 }))
      expect(yield* statusOf(ping)).toBe(502)
      yield* provider.setPhase(FakeProvider.normal)
      expect(yield* statusOf(ping)).toBe(200)
    })))

  it("phases - a bad latency, Retry-After or outage status is refused when the phase is written", () => {
    const refused = (build: () => unknown) => {
      const error = thrown(build)
      return `${error.module} ${error.option}`
    }
    for (const bad of ["2s", -1, Number.NaN, null]) {
      expect(refused(() => FakeProvider.slow(untyped(bad)))).toBe("FakeProvider.slow latency")
    }
    for (const bad of [-1, Number.NaN, "-5 seconds", {}]) {
      expect(refused(() => FakeProvider.rateLimited({ retryAfter: untyped(bad) }))).toBe(
        "FakeProvider.rateLimited retryAfter"
      )
      expect(refused(() => FakeProvider.outage({ retryAfter: untyped(bad) }))).toBe("FakeProvider.outage retryAfter")
    }
    for (const bad of [200, 99, 404, 600, 503.5, Number.NaN]) {
      expect(refused(() => FakeProvider.outage({ status: bad as 503 }))).toBe("FakeProvider.outage status")
    }
    expect(thrown(() => FakeProvider.outage({ status: 200 as 503 })).message).toBe(
      "FakeProvider.outage: option status must be a 5xx status (500 to 599), got 200"
    )
  })

  it.scopedLive("slow - answers after the latency; a client that gives up first causes no side effect", () =>
    withClient(Effect.gen(function*() {
      // A latency far above the client's 30 ms limit: on a loaded machine the server may notice the
      // abort late, and the test is about the abort, not about how fast it travels.
      const provider = yield* FakeProvider.make({ phase: FakeProvider.slow("1 second") })
      const start = yield* Clock.currentTimeMillis
      expect(yield* statusOf(HttpClientRequest.get(`${provider.url}/v1/ping`))).toBe(200)
      expect((yield* Clock.currentTimeMillis) - start).toBeGreaterThanOrEqual(990)

      const timedOut = yield* Effect.exit(
        statusOf(charge(provider.url, { amount: 5 })).pipe(Effect.timeout("30 millis"))
      )
      expect(Exit.isFailure(timedOut)).toBe(true)
      yield* Effect.sleep("1200 millis")
      expect(yield* provider.sideEffects).toBe(0)
    })))

  it.scopedLive("sequence - phases by request count, then recovery", () =>
    withClient(Effect.gen(function*() {
      const provider = yield* FakeProvider.make()
      yield* provider.sequence([
        { phase: FakeProvider.rateLimited(), requests: 1 },
        { phase: FakeProvider.outage(), requests: 2 }
      ])
      expect((yield* provider.phase)._tag).toBe("RateLimited")
      expect(yield* statuses(charge(provider.url, { amount: 1 }), 5)).toEqual([429, 503, 503, 201, 201])
      expect((yield* provider.phase)._tag).toBe("Normal")
      expect((yield* provider.requests).map((r) => r.phase)).toEqual([
        "RateLimited",
        "Outage",
        "Outage",
        "Normal",
        "Normal"
      ])
    })))

  it.scopedLive("sequence - a phase with a duration ends on time", () =>
    withClient(Effect.gen(function*() {
      const provider = yield* FakeProvider.make()
      yield* provider.sequence([{ phase: FakeProvider.outage(), duration: "200 millis" }])
      const ping = HttpClientRequest.get(`${provider.url}/v1/ping`)
      expect(yield* statusOf(ping)).toBe(503)
      yield* Effect.sleep("250 millis")
      expect(yield* statusOf(ping)).toBe(200)
    })))

  it.scopedLive("sequence - a timed phase after a counted one starts with the request that ended it; reading phase changes nothing", () =>
    withClient(Effect.gen(function*() {
      const ping = (provider: FakeProvider.Service) => statusOf(HttpClientRequest.get(`${provider.url}/v1/ping`))
      for (const look of [false, true]) {
        const provider = yield* FakeProvider.make()
        yield* provider.sequence([
          { phase: FakeProvider.outage(), requests: 1 },
          { phase: FakeProvider.rateLimited(), duration: "200 millis" }
        ])
        expect(yield* ping(provider)).toBe(503)
        if (look) expect((yield* provider.phase)._tag).toBe("RateLimited")
        // the rate-limited phase ran from the first request for 200 ms: over by now, looked at or not
        yield* Effect.sleep("300 millis")
        expect(yield* ping(provider)).toBe(200)
      }
    })))

  it.scopedLive("sequence - a bad step count or duration fails with InvalidOptions and changes nothing", () =>
    Effect.gen(function*() {
      const provider = yield* FakeProvider.make({ phase: FakeProvider.outage() })
      const bad: ReadonlyArray<[FakeProvider.PhaseStep, string]> = [
        [{ phase: FakeProvider.normal, duration: "2s" as Duration.DurationInput }, "duration"],
        [{ phase: FakeProvider.normal, duration: -1 }, "duration"],
        [{ phase: FakeProvider.normal, requests: -1 }, "requests"],
        [{ phase: FakeProvider.normal, requests: 1.5 }, "requests"],
        [{ phase: FakeProvider.normal, requests: Number.NaN }, "requests"]
      ]
      for (const [step, option] of bad) {
        const error = yield* Effect.flip(provider.sequence([{ phase: FakeProvider.rateLimited(), requests: 1 }, step]))
        expect([error.module, error.option]).toEqual(["FakeProvider.sequence", option])
      }
      expect((yield* provider.phase)._tag).toBe("Outage")
    }))

  it.scopedLive("idempotency - the same key replays the stored reply without a second side effect", () =>
    withClient(Effect.gen(function*() {
      const provider = yield* FakeProvider.make()
      const first = yield* send(charge(provider.url, { amount: 700 }, "key-1"))
      const second = yield* send(charge(provider.url, { amount: 700 }, "key-1"))
      expect([first.status, second.status]).toEqual([201, 201])
      expect(yield* second.json).toEqual(yield* first.json)
      expect([first.headers["idempotent-replayed"], second.headers["idempotent-replayed"]]).toEqual([undefined, "true"])
      expect(yield* provider.sideEffects).toBe(1)

      expect(yield* statusOf(charge(provider.url, { amount: 700 }, "key-2"))).toBe(201)
      expect(yield* statusOf(charge(provider.url, { amount: 700 }))).toBe(201)
      expect(yield* statusOf(charge(provider.url, { amount: 700 }))).toBe(201)
      expect(yield* provider.sideEffects).toBe(4)

      const reused = yield* send(charge(provider.url, { amount: 999 }, "key-1"))
      expect(reused.status).toBe(422)
      expect(yield* reused.json).toEqual({ error: "idempotency_key_reused" })
      expect(yield* provider.sideEffects).toBe(4)
    })))

  it.scopedLive("idempotency - a key in flight answers 409; a 5xx is not stored", () =>
    withClient(Effect.gen(function*() {
      const started = yield* Deferred.make<void>()
      const release = yield* Deferred.make<void>()
      let failures = 1
      const provider = yield* FakeProvider.make({
        routes: [
          {
            method: "POST",
            path: "/v1/transfers/:id",
            handler: (request) =>
              Deferred.succeed(started, undefined).pipe(
                Effect.zipRight(Deferred.await(release)),
                Effect.as({ status: 201, body: { id: request.params.id } })
              )
          },
          {
            method: "PUT",
            path: "/v1/flaky",
            handler: () => failures-- > 0 ? { status: 500 } : { body: { ok: true } }
          }
        ]
      })
      const transfer = HttpClientRequest.post(`${provider.url}/v1/transfers/t1`).pipe(
        HttpClientRequest.setHeader("Idempotency-Key", "k"),
        HttpClientRequest.bodyUnsafeJson({})
      )
      const first = yield* Effect.fork(send(transfer))
      yield* Deferred.await(started)
      const concurrent = yield* send(transfer)
      expect(concurrent.status).toBe(409)
      expect(yield* concurrent.json).toEqual({ error: "idempotency_key_in_use" })
      yield* Deferred.succeed(release, undefined)
      const done = yield* Fiber.join(first)
      expect(done.status).toBe(201)
      expect(yield* done.json).toEqual({ id: "t1" })

      const flaky = HttpClientRequest.put(`${provider.url}/v1/flaky`).pipe(
        HttpClientRequest.setHeader("Idempotency-Key", "f")
      )
      expect(yield* statuses(flaky, 3)).toEqual([500, 200, 200])
      expect(yield* provider.sideEffects).toBe(2)
    })))

  it.scopedLive("idempotency - a refusal before execution (401) is not stored, so the retry runs", () =>
    withClient(Effect.gen(function*() {
      const provider = yield* FakeProvider.make({
        routes: [{
          method: "POST",
          path: "/v1/secure",
          handler: (request) =>
            request.headers["authorization"] === "Bearer fresh"
              ? { status: 201, body: { ok: true } }
              : { status: 401, body: { error: "expired_token" } }
        }]
      })
      const secure = (token: string) =>
        HttpClientRequest.post(`${provider.url}/v1/secure`).pipe(
          HttpClientRequest.setHeader("Idempotency-Key", "same"),
          HttpClientRequest.setHeader("Authorization", `Bearer ${token}`),
          HttpClientRequest.bodyUnsafeJson({ amount: 1 })
        )
      expect(yield* statusOf(secure("stale"))).toBe(401)
      const retried = yield* send(secure("fresh"))
      expect(retried.status).toBe(201)
      expect(retried.headers["idempotent-replayed"]).toBeUndefined()
      expect(yield* statusOf(secure("fresh"))).toBe(201)
      expect(yield* provider.sideEffects).toBe(1)
    })))

  it.scopedLive("dropAfterCommit - the client sees ECONNRESET, the retry replays, exactly one side effect", () =>
    withClient(Effect.gen(function*() {
      const provider = yield* FakeProvider.make()
      yield* provider.sequence([{ phase: FakeProvider.dropAfterCommit, requests: 1 }])
      const request = charge(provider.url, { amount: 4200 }, "order-17")
      const error = yield* Effect.flip(send(request))
      const cause = transportCause(error)
      expect(cause.code).toBe("ECONNRESET")
      expect(yield* provider.sideEffects).toBe(1)

      const retried = yield* send(request)
      expect(retried.status).toBe(201)
      expect(retried.headers["idempotent-replayed"]).toBe("true")
      expect(yield* retried.json).toEqual({ id: "ch_1", amount: 4200, currency: "usd", status: "succeeded" })
      expect(yield* provider.sideEffects).toBe(1)
    })))

  it.scopedLive("dropAfterCommit - without a key, a re-send is a second side effect", () =>
    withClient(Effect.gen(function*() {
      const provider = yield* FakeProvider.make({ phase: FakeProvider.dropAfterCommit })
      yield* Effect.flip(send(charge(provider.url, { amount: 1 })))
      yield* provider.setPhase(FakeProvider.normal)
      expect(yield* statusOf(charge(provider.url, { amount: 1 }))).toBe(201)
      expect(yield* provider.sideEffects).toBe(2)
    })))

  it.scopedLive("routes - a custom route replaces the built-in one with the same method and path", () =>
    withClient(Effect.gen(function*() {
      const provider = yield* FakeProvider.make({
        routes: [{
          method: "GET",
          path: "/v1/charges/:id",
          handler: (request) => ({
            body: { id: request.params.id, q: request.query.get("q") },
            headers: { "x-custom": "1" }
          })
        }]
      })
      const response = yield* send(HttpClientRequest.get(`${provider.url}/v1/charges/a%20b?q=2`))
      expect(response.headers["x-custom"]).toBe("1")
      expect(yield* response.json).toEqual({ id: "a b", q: "2" })
    })))

  it.scopedLive("scope - closing it stops the server even with a request in flight", () =>
    withClient(Effect.gen(function*() {
      const scope = yield* Scope.make()
      const provider = yield* FakeProvider.make({ phase: FakeProvider.slow("1 minute") }).pipe(Scope.extend(scope))
      const inFlight = yield* Effect.fork(send(HttpClientRequest.get(`${provider.url}/v1/ping`)))
      yield* Effect.sleep("50 millis")
      yield* Scope.close(scope, Exit.void).pipe(Effect.timeout("2 seconds"))
      const exit = yield* Fiber.await(inFlight)
      expect(Exit.isFailure(exit)).toBe(true)
      const refused = yield* Effect.flip(send(HttpClientRequest.get(`${provider.url}/v1/ping`)))
      expect(transportCause(refused).code).toBe("ECONNREFUSED")
    })))
})

describe("transport errors", () => {
  // The scripted steps must look exactly like NodeHttpClient's failures, so code that maps transport
  // errors can be tested with either.
  it.scopedLive("connectionRefused - the scripted step has NodeHttpClient's shape", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const url = `http://127.0.0.1:${port}/v1/ping`
      const real = yield* Effect.flip(withClient(send(HttpClientRequest.get(url))))
      const scripted = yield* Effect.flip(
        send(HttpClientRequest.get(url)).pipe(
          Effect.provide(ScriptedHttpClient.layer([ScriptedHttpClient.connectionRefused]))
        )
      )
      const shape = (error: HttpClientError.HttpClientError) => {
        const cause = transportCause(error)
        return [error.message, cause.constructor, cause.code, cause.errno, cause.syscall, cause.message]
      }
      expect(shape(scripted)).toEqual(shape(real))
    }))

  it.scopedLive("connectionReset - the scripted step has NodeHttpClient's shape for a reset socket", () =>
    Effect.gen(function*() {
      const provider = yield* FakeProvider.make({ phase: FakeProvider.dropAfterCommit })
      const request = HttpClientRequest.get(`${provider.url}/v1/ping`)
      const real = transportCause(yield* Effect.flip(withClient(send(request))))
      const scripted = transportCause(
        yield* Effect.flip(
          send(request).pipe(Effect.provide(ScriptedHttpClient.layer([ScriptedHttpClient.connectionReset])))
        )
      )
      expect([scripted.code, scripted.errno, scripted.syscall, scripted.message]).toEqual([
        real.code,
        real.errno,
        real.syscall,
        real.message
      ])
    }))
})
