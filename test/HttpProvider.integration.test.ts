import { describe, expect, it } from "@effect/vitest"
import { HttpClient } from "@effect/platform"
import { Clock, Duration, Effect, Layer, Schedule, Schema } from "effect"
import * as http from "node:http"
import * as net from "node:net"
import * as Backoff from "../src/Backoff.js"
import * as Credentials from "../src/Credentials.js"
import { InvalidOptions, isTransient, Timeout, Unavailable } from "../src/Errors.js"
import * as HttpProvider from "../src/HttpProvider.js"
import * as HttpProviderNode from "../src/HttpProviderNode.js"
import * as FakeProvider from "../src/testing/FakeProvider.js"

// Real sockets and real time: these run with it.live against FakeProvider on 127.0.0.1.

const Ping = Schema.Struct({ ok: Schema.Boolean })
const NewCharge = Schema.Struct({ amount: Schema.Positive, currency: Schema.String })
const Charge = Schema.Struct({ id: Schema.String, amount: Schema.Number, currency: Schema.String })

/** Retries transient failures, waiting at least the provider's Retry-After. */
const honouring: HttpProvider.Policy = (self) =>
  Effect.retry(self, {
    schedule: Backoff.constant("20 millis").pipe(Backoff.honorRetryAfter(), Schedule.intersect(Schedule.recurs(3))),
    while: isTransient
  })

const withAttemptTimeout: HttpProvider.Policy = (self) =>
  self.pipe(
    Effect.timeoutFail({
      duration: "150 millis",
      onTimeout: () => new Timeout({ provider: "fake", scope: "attempt", after: Duration.millis(150) })
    }),
    honouring
  )

const provider = (
  baseUrl: string,
  { policy = honouring, ...options }: Partial<HttpProvider.Options<HttpProvider.RequestError>> = {}
) =>
  Effect.flatMap(HttpProviderNode.makePool({ connections: 4 }), (client) =>
    HttpProvider.make({ name: "fake", baseUrl, policy, ...options }).pipe(
      Effect.provideService(HttpClient.HttpClient, client)
    ))

const closedPort = Effect.promise(() =>
  new Promise<number>((resolve) => {
    const server = net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
)

const charge = { amount: 500, currency: "eur" }

describe("HttpProvider over real HTTP", () => {
  it.live("429 with Retry-After: 1, then 200 - succeeds after at least 1 s", () =>
    Effect.gen(function*() {
      const fake = yield* FakeProvider.make()
      yield* fake.sequence([{ phase: FakeProvider.rateLimited({ retryAfter: "1 second" }), requests: 1 }])
      const p = yield* provider(fake.url)
      const start = yield* Clock.currentTimeMillis
      const result = yield* p.get("/v1/ping", { response: Ping })
      const elapsed = (yield* Clock.currentTimeMillis) - start
      expect(result).toEqual({ ok: true })
      expect(elapsed).toBeGreaterThanOrEqual(1000)
      expect(yield* fake.requests).toHaveLength(2)
    }).pipe(Effect.scoped), { timeout: 8000 })

  it.live("a closed port - Unavailable { reason: connection-refused }", () =>
    Effect.gen(function*() {
      const port = yield* closedPort
      const p = yield* provider(`http://127.0.0.1:${port}`, { policy: (self) => self })
      const error = yield* Effect.flip(p.get("/v1/ping", { response: Ping }))
      expect(error).toEqual(new Unavailable({ provider: "fake", reason: "connection-refused", detail: "ECONNREFUSED" }))
    }).pipe(Effect.scoped))

  it.live("a name that does not resolve - Unavailable { reason: dns }", () =>
    Effect.gen(function*() {
      // .invalid never resolves (RFC 6761); without a resolver at all the lookup fails with EAI_AGAIN,
      // which maps to the same reason
      const p = yield* provider("http://no-such-provider.invalid", { policy: (self) => self })
      const error = yield* Effect.flip(p.get("/v1/ping", { response: Ping }))
      expect(error).toMatchObject({ _tag: "Unavailable", provider: "fake", reason: "dns" })
      expect(["ENOTFOUND", "EAI_AGAIN", "EAI_NONAME"]).toContain((error as Unavailable).detail)
    }).pipe(Effect.scoped), { timeout: 30_000 })

  it.live("commit then drop - a non-idempotent POST is not re-sent: exactly one side effect", () =>
    Effect.gen(function*() {
      const fake = yield* FakeProvider.make()
      yield* fake.sequence([{ phase: FakeProvider.dropAfterCommit, requests: 1 }])
      const p = yield* provider(fake.url)
      const error = yield* Effect.flip(p.post("/v1/charges", { request: NewCharge, body: charge, response: Charge }))
      expect(error).toMatchObject({ _tag: "Unavailable", reason: "connection-reset" })
      expect(yield* fake.requests).toHaveLength(1)
      expect(yield* fake.sideEffects).toBe(1)
    }).pipe(Effect.scoped))

  it.live("commit then drop - an idempotent POST is re-sent with the same key and charged once", () =>
    Effect.gen(function*() {
      const fake = yield* FakeProvider.make()
      yield* fake.sequence([{ phase: FakeProvider.dropAfterCommit, requests: 1 }])
      const p = yield* provider(fake.url)
      const result = yield* p.post("/v1/charges", {
        request: NewCharge,
        body: charge,
        response: Charge,
        idempotent: true
      })
      expect(result).toMatchObject({ amount: 500, currency: "eur" })
      const received = yield* fake.requests
      expect(received).toHaveLength(2)
      expect(received[0]!.headers["idempotency-key"]).toBeDefined()
      expect(received[1]!.headers["idempotency-key"]).toBe(received[0]!.headers["idempotency-key"])
      expect(yield* fake.sideEffects).toBe(1)
    }).pipe(Effect.scoped))

  it.live("a slow provider - a non-idempotent POST that timed out is not re-sent", () =>
    Effect.gen(function*() {
      const fake = yield* FakeProvider.make()
      yield* fake.setPhase(FakeProvider.slow("400 millis"))
      const p = yield* provider(fake.url, { policy: withAttemptTimeout })
      const error = yield* Effect.flip(p.post("/v1/charges", { request: NewCharge, body: charge, response: Charge }))
      expect(error).toMatchObject({ _tag: "Timeout", scope: "attempt" })
      yield* Effect.sleep("500 millis")
      expect(yield* fake.requests).toHaveLength(1)
    }).pipe(Effect.scoped))

  it.live("maxConnections - 8 calls through 2 connections to a 100 ms provider take at least 400 ms", () =>
    Effect.gen(function*() {
      const fake = yield* FakeProvider.make()
      yield* fake.setPhase(FakeProvider.slow("100 millis"))
      const p = yield* provider(fake.url, { maxConnections: 2 })
      const start = yield* Clock.currentTimeMillis
      const results = yield* Effect.all(Array.from({ length: 8 }, () => p.get("/v1/ping", { response: Ping })), {
        concurrency: "unbounded"
      })
      expect(results).toHaveLength(8)
      expect((yield* Clock.currentTimeMillis) - start).toBeGreaterThanOrEqual(400)
    }).pipe(Effect.scoped))

  it.live("bad header input on a shared pool - refused before sending; the pool serves every provider after", () =>
    Effect.gen(function*() {
      const fake = yield* FakeProvider.make()
      const pool = yield* HttpProviderNode.makePool({ connections: 2 })
      const on = (options: HttpProvider.Options<HttpProvider.RequestError> & { readonly policy: HttpProvider.Policy }) =>
        HttpProvider.make(options).pipe(Effect.provideService(HttpClient.HttpClient, pool))

      for (
        const bad of [
          { headers: { "x-client": "shop\r\nx-admin: 1" } },
          { headers: { "x client": "shop" } },
          { credentialsScheme: "Bearer\n", credentials: Credentials.fixed("k") },
          { idempotencyHeader: "Idempotency Key" },
          // a valid header undici will not send
          { headers: { upgrade: "websocket" } }
        ]
      ) {
        const error = yield* Effect.flip(on({ name: "bad", baseUrl: fake.url, policy: honouring, ...bad }))
        expect(error).toBeInstanceOf(InvalidOptions)
      }

      const a = yield* on({ name: "a", baseUrl: fake.url, policy: honouring })
      const rotated = yield* Credentials.rotating({ fetch: Effect.succeed("sk_live_1\n"), every: "1 hour" })
      const c = yield* on({ name: "c", baseUrl: fake.url, policy: honouring, credentials: rotated })
      const refused: Array<Effect.Effect<unknown, HttpProvider.RequestError>> = [
        // ours to refuse: CR LF in a header of the request
        a.get("/v1/ping", { response: Ping, headers: { "x-request": "r1\r\nx-admin: 1" } }),
        a.post("/v1/charges", { request: NewCharge, body: charge, response: Charge, idempotencyKey: "order-1\n" }),
        // a valid header undici will not send; each one it refused used to leak one of the pool's 2 slots
        a.get("/v1/ping", { response: Ping, headers: { upgrade: "websocket" } }),
        a.get("/v1/ping", { response: Ping, headers: { "Transfer-Encoding": "chunked" } }),
        // a rotated secret that would split its header
        c.get("/v1/ping", { response: Ping })
      ]
      for (const request of [...refused, ...refused]) {
        const error = yield* Effect.flip(request.pipe(Effect.timeout("2 seconds")))
        expect(error).toMatchObject({ _tag: "InvalidRequest" })
      }
      expect(yield* fake.requests).toHaveLength(0)

      const b = yield* on({ name: "b", baseUrl: fake.url, policy: honouring })
      const served = yield* Effect.all([a.get("/v1/ping", { response: Ping }), b.get("/v1/ping", { response: Ping })], {
        concurrency: "unbounded"
      }).pipe(Effect.timeout("2 seconds"))
      expect(served).toEqual([{ ok: true }, { ok: true }])
      expect(yield* fake.requests).toHaveLength(2)
    }).pipe(Effect.scoped), { timeout: 8000 })

  it.live("makePool - keepAlive bounds how long an idle socket is reused, whatever the server advertises", () =>
    Effect.gen(function*() {
      const sockets = new Set<unknown>()
      const server = http.createServer((request, response) => {
        sockets.add(request.socket)
        response.end("ok")
      })
      // node:http advertises `Keep-Alive: timeout=60`
      server.keepAliveTimeout = 60_000
      const port = yield* Effect.acquireRelease(
        Effect.promise(() => new Promise<number>((resolve) => server.listen(0, "127.0.0.1", () => resolve((server.address() as net.AddressInfo).port)))),
        () => Effect.sync(() => { server.closeAllConnections(); server.close() })
      )
      const client = yield* HttpProviderNode.makePool({ keepAlive: "100 millis" })
      const get = Effect.scoped(Effect.flatMap(client.get(`http://127.0.0.1:${port}/`), (response) => response.text))
      yield* get
      yield* Effect.sleep("400 millis")
      yield* get
      expect(sockets.size).toBe(2)
    }).pipe(Effect.scoped))

  it.scoped.each([
    ["connections", { connections: 0 }],
    ["keepAlive", { keepAlive: -1 }],
    ["connectTimeout", { connectTimeout: "soon" }],
    ["options", null]
  ] as const)("makePool - InvalidOptions for a bad %s", ([option, bad]) =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(HttpProviderNode.makePool(bad as HttpProviderNode.PoolOptions))
      expect(error).toBeInstanceOf(InvalidOptions)
      expect(error).toMatchObject({ module: "HttpProviderNode.makePool", option })
    }))

  it.effect("layerPool - InvalidOptions name HttpProviderNode.layerPool, the function called", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(Layer.build(HttpProviderNode.layerPool({ connections: 0 })).pipe(Effect.scoped))
      expect(error).toBeInstanceOf(InvalidOptions)
      expect(error).toMatchObject({ module: "HttpProviderNode.layerPool", option: "connections" })
    }))
})
