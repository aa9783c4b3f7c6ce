import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpRouter from "@effect/platform/HttpRouter"
import * as HttpServer from "@effect/platform/HttpServer"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import * as NodeHttpServer from "@effect/platform-node/NodeHttpServer"
import { describe, expect, it } from "@effect/vitest"
import { Deferred, Effect, Exit, Fiber, Layer, Scope, TestClock } from "effect"
import * as Bulkhead from "../src/Bulkhead.js"
import * as CircuitBreaker from "../src/CircuitBreaker.js"
import { Unavailable } from "../src/Errors.js"
import * as Health from "../src/Health.js"
import * as HealthNode from "../src/HealthNode.js"
import * as Policy from "../src/Policy.js"
import * as RateLimit from "../src/RateLimit.js"

const down = Effect.fail(new Unavailable({ provider: "p", reason: "connection-refused" }))

/** A breaker that opens on its first failure, for 10 seconds. */
const oneFailureBreaker = (name: string) =>
  CircuitBreaker.make({ name, policy: CircuitBreaker.consecutive(1), openFor: "10 seconds" })

const readiness = Effect.flatMap(Health.Registry, (registry) => registry.readiness)
const checkNamed = (name: string) =>
  Effect.map(readiness, (ready) => ready.checks.find((check) => check.name === name))

/** GET `path` on the test server: status and JSON body. */
const get = (path: string) =>
  Effect.flatMap(HttpClient.HttpClient, (client) =>
    client.get(path).pipe(
      Effect.flatMap((response) => Effect.map(response.json, (body) => ({ status: response.status, body: body as any }))),
      Effect.scoped
    ))

const served = (options?: Health.Registry.Options) =>
  HttpServer.serve(Health.router).pipe(
    Layer.provideMerge(NodeHttpServer.layerTest),
    Layer.provideMerge(Health.layer(options))
  )

describe("Health", () => {
  describe("registry", () => {
    it.effect("a breaker built with a registry registers itself, and leaves with its scope", () =>
      Effect.gen(function*() {
        const scope = yield* Scope.make()
        yield* Scope.extend(oneFailureBreaker("payments"), scope)
        expect(yield* checkNamed("payments")).toEqual({ name: "payments", kind: "breaker", required: false, status: "up" })
        yield* Scope.close(scope, Exit.void)
        expect(yield* checkNamed("payments")).toBeUndefined()
      }).pipe(Effect.provide(Health.layer())))

    it.effect("required - an open breaker fails readiness, a half-open one does not", () =>
      Effect.gen(function*() {
        const breaker = yield* oneFailureBreaker("payments")
        yield* Effect.either(down.pipe(breaker.protect))
        const open = yield* readiness
        expect(open.ready).toBe(false)
        expect(open.checks[0]).toMatchObject({ name: "payments", required: true, status: "down" })
        expect(open.checks[0]?.detail).toMatch(/^open, next probe in 10s/)
        yield* TestClock.adjust("10 seconds")
        const probing = yield* readiness
        expect(probing.ready).toBe(true)
        expect(probing.checks[0]).toMatchObject({ status: "degraded", detail: "half-open: probing" })
      }).pipe(Effect.scoped, Effect.provide(Health.layer({ required: ["payments"] }))))

    it.effect("not required - an isolated breaker is listed down, readiness holds", () =>
      Effect.gen(function*() {
        const breaker = yield* oneFailureBreaker("search")
        yield* breaker.isolate
        const ready = yield* readiness
        expect(ready.ready).toBe(true)
        expect(ready.checks).toEqual([{ name: "search", kind: "breaker", required: false, status: "down", detail: "isolated" }])
      }).pipe(Effect.scoped, Effect.provide(Health.layer())))

    it.effect("a required name that nothing registered is down", () =>
      Effect.gen(function*() {
        const ready = yield* readiness
        expect(ready.ready).toBe(false)
        expect(ready.checks).toEqual([{
          name: "paymnets",
          kind: "custom",
          required: true,
          status: "down",
          detail: "required, but no guard or check has this name"
        }])
      }).pipe(Effect.provide(Health.layer({ required: ["paymnets"] }))))

    it.effect("register - a breaker built without the registry, marked required", () =>
      Effect.gen(function*() {
        const breaker = yield* oneFailureBreaker("storage")
        const registry = yield* Health.make()
        yield* Health.register(breaker, { required: true }).pipe(Effect.provideService(Health.Registry, registry))
        yield* breaker.isolate
        expect((yield* registry.readiness).ready).toBe(false)
      }).pipe(Effect.scoped))

    it.effect("a check that dies or hangs is down, and does not hang readiness", () =>
      Effect.gen(function*() {
        yield* Health.register({ name: "dies", status: Effect.dieMessage("boom") })
        yield* Health.register({ name: "hangs", required: true, status: Effect.never })
        // uninterruptible for an hour (a store's transaction): the answer still comes at the timeout
        yield* Health.register({ name: "holds", status: Effect.uninterruptible(Effect.as(Effect.sleep("1 hour"), { status: "up" as const })) })
        const fiber = yield* Effect.fork(readiness)
        yield* TestClock.adjust("1 second")
        const ready = yield* Fiber.join(fiber)
        expect(ready.ready).toBe(false)
        expect(ready.checks).toEqual([
          { name: "dies", kind: "custom", required: false, status: "down", detail: "the check failed" },
          { name: "hangs", kind: "custom", required: true, status: "down", detail: "no answer within 1s" },
          { name: "holds", kind: "custom", required: false, status: "down", detail: "no answer within 1s" }
        ])
      }).pipe(Effect.scoped, Effect.provide(Health.layer({ checkTimeout: "1 second" }))))

    it.effect("breakers - a check whose breakers die or hang lists none, and the others are listed", () =>
      Effect.gen(function*() {
        // registers itself: the registry is in context
        yield* oneFailureBreaker("payments")
        yield* Health.register({ name: "dies", status: Effect.succeed({ status: "up" }), breakers: Effect.dieMessage("boom") })
        yield* Health.register({ name: "holds", status: Effect.succeed({ status: "up" }), breakers: Effect.uninterruptible(Effect.never) })
        const fiber = yield* Effect.fork(Effect.flatMap(Health.Registry, (registry) => registry.breakers))
        yield* TestClock.adjust("1 second")
        expect((yield* Fiber.join(fiber)).map((view) => view.name)).toEqual(["payments"])
      }).pipe(Effect.scoped, Effect.provide(Health.layer({ checkTimeout: "1 second" }))))

    it.effect("keyed breakers are one check, degraded while a key is open", () =>
      Effect.gen(function*() {
        const perHost = yield* CircuitBreaker.keyed<string>({
          name: "hosts",
          idleTimeToLive: "1 minute",
          policy: CircuitBreaker.consecutive(1)
        })
        yield* Effect.succeed(1).pipe(perHost.protect("a.example"))
        yield* Effect.either(down.pipe(perHost.protect("b.example")))
        expect(yield* checkNamed("hosts")).toMatchObject({ kind: "keyed-breakers", status: "degraded", detail: "1 of 2 keys not closed" })
        const registry = yield* Health.Registry
        const views = yield* registry.breakers
        expect(views.map((view) => [view.name, view.state])).toEqual([["hosts/a.example", "closed"], ["hosts/b.example", "open"]])
        // an evicted key leaves the check
        yield* TestClock.adjust("2 minutes")
        expect(yield* checkNamed("hosts")).toMatchObject({ status: "up", detail: "0 keys" })
      }).pipe(Effect.scoped, Effect.provide(Health.layer())))

    it.effect("a gate closed by Retry-After and a full bulkhead are degraded", () =>
      Effect.gen(function*() {
        const gate = yield* RateLimit.gate({ name: "crm", key: "crm" }).pipe(Effect.provide(RateLimit.layerGateMemory))
        const bulkhead = yield* Bulkhead.make({ name: "uploads", maxConcurrent: 1, maxQueued: 0 })
        expect(yield* checkNamed("crm")).toEqual({ name: "crm", kind: "gate", required: false, status: "up" })
        yield* gate.close("5 seconds")
        expect(yield* checkNamed("crm")).toMatchObject({ status: "degraded", detail: "closed by Retry-After for 5s" })
        const started = yield* Deferred.make<void>()
        const holder = yield* Effect.fork(bulkhead(Effect.zipRight(Deferred.succeed(started, undefined), Effect.never)))
        yield* Deferred.await(started)
        expect(yield* checkNamed("uploads")).toMatchObject({ status: "degraded", detail: "full: 1/1 active, 0/0 queued" })
        yield* Fiber.interrupt(holder)
        expect(yield* checkNamed("uploads")).toMatchObject({ status: "up" })
      }).pipe(Effect.scoped, Effect.provide(Health.layer())))

    it.effect("Policy.provider's guards register under the provider's name", () =>
      Effect.gen(function*() {
        yield* Policy.provider("billing")
        const checks = yield* Effect.flatMap(Health.Registry, (registry) => registry.checks)
        expect(checks.map((check) => [check.kind, check.name])).toEqual([
          ["breaker", "billing"],
          ["gate", "billing"],
          ["bulkhead", "billing"]
        ])
      }).pipe(Effect.scoped, Effect.provide(Health.layer())))

    it.effect("without a registry, guards build and run as before", () =>
      Effect.gen(function*() {
        const breaker = yield* oneFailureBreaker("alone")
        expect(yield* Effect.succeed("ok").pipe(breaker.protect)).toBe("ok")
      }).pipe(Effect.scoped))

    it.effect("make - an empty required name is refused", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Health.make({ required: [""] }))
        expect(error.message).toMatch(/Health\.make.*required/)
      }))
  })

  describe("routes over HTTP", () => {
    it.effect("live, ready (503 while a required breaker is open), breakers; ready again once half-open", () =>
      Effect.gen(function*() {
        const breaker = yield* oneFailureBreaker("payments")
        expect(yield* get("/health/live")).toEqual({ status: 200, body: { status: "live" } })
        expect(yield* get("/health/ready")).toEqual({
          status: 200,
          body: { status: "ready", checks: [{ name: "payments", kind: "breaker", required: true, status: "up" }] }
        })
        yield* Effect.either(down.pipe(breaker.protect))
        const notReady = yield* get("/health/ready")
        expect(notReady.status).toBe(503)
        expect(notReady.body.status).toBe("not ready")
        expect(notReady.body.checks[0]).toMatchObject({ name: "payments", status: "down" })
        const breakers = yield* get("/health/breakers")
        expect(breakers.status).toBe(200)
        expect(breakers.body.breakers).toEqual([{
          name: "payments",
          state: "open",
          policy: "consecutive(1)",
          since: "1970-01-01T00:00:00.000Z",
          failureRate: 0,
          calls: 0,
          failures: 0,
          slow: 0,
          rejected: 0,
          opens: 1,
          probesInFlight: 0,
          openUntil: "1970-01-01T00:00:10.000Z"
        }])
        yield* TestClock.adjust("10 seconds")
        expect((yield* get("/health/ready")).status).toBe(200)
        expect((yield* get("/health/breakers")).body.breakers[0].state).toBe("half-open")
        expect((yield* get("/health/nothing-here")).status).toBe(404)
      }).pipe(Effect.scoped, Effect.provide(served({ required: ["payments"] }))))

    it.live("HealthNode.layerServer serves the routes and extra ones on 127.0.0.1", () =>
      Effect.gen(function*() {
        const address = (yield* HttpServer.HttpServer).address
        if (address._tag !== "TcpAddress") return yield* Effect.dieMessage("not a TCP server")
        expect(address.hostname).toBe("127.0.0.1")
        const client = yield* HttpClient.HttpClient
        const text = (path: string) =>
          client.get(`http://127.0.0.1:${address.port}${path}`).pipe(
            Effect.flatMap((response) => Effect.map(response.text, (body) => [response.status, body])),
            Effect.scoped
          )
        expect(yield* text("/health/live")).toEqual([200, "{\"status\":\"live\"}"])
        expect(yield* text("/metrics")).toEqual([200, "up 1"])
      }).pipe(
        Effect.provide(
          HealthNode.layerServer({ port: 0, routes: HttpRouter.empty.pipe(HttpRouter.get("/metrics", HttpServerResponse.text("up 1"))) })
            .pipe(Layer.provide(Health.layer()))
        ),
        Effect.provide(NodeHttpClient.layerUndici)
      ))
  })
})
