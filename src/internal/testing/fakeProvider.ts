import type * as HttpServerError from "@effect/platform/HttpServerError"
import * as HttpServerRequest from "@effect/platform/HttpServerRequest"
import * as HttpServerResponse from "@effect/platform/HttpServerResponse"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Ref from "effect/Ref"
import type * as Scope from "effect/Scope"
import * as Http from "node:http"
import type * as Api from "../../testing/FakeProvider.js"
import { integerAtLeast, invalid, nonNegativeDuration, validated } from "../options.js"
import { retryAfterHeader } from "./scriptedHttpClient.js"

// Phases -------------------------------------------------------------------------------------------

export const normal: Api.Phase = { _tag: "Normal" }

export const rateLimited = (options?: Api.RateLimitedOptions): Api.Phase => ({
  _tag: "RateLimited",
  headers: {
    ...options?.headers,
    "retry-after": retryAfterHeader(
      { module: "FakeProvider.rateLimited", option: "retryAfter" },
      options?.retryAfter ?? "1 second"
    )
  }
})

const outageStatus = (status: number): number =>
  Number.isInteger(status) && status >= 500 && status <= 599
    ? status
    : invalid({ module: "FakeProvider.outage", option: "status" }, status, "a 5xx status (500 to 599)")

export const outage = (options?: Api.OutageOptions): Api.Phase => ({
  _tag: "Outage",
  status: outageStatus(options?.status ?? 503),
  headers: options?.retryAfter === undefined ? {} : {
    "retry-after": retryAfterHeader({ module: "FakeProvider.outage", option: "retryAfter" }, options.retryAfter)
  }
})

export const slow = (latency: Duration.DurationInput): Api.Phase => ({
  _tag: "Slow",
  latency: nonNegativeDuration({ module: "FakeProvider.slow", option: "latency" }, latency)
})

export const dropAfterCommit: Api.Phase = { _tag: "DropAfterCommit" }

// Phase schedule -----------------------------------------------------------------------------------

interface Scheduled {
  readonly phase: Api.Phase
  readonly requests: number | undefined
  readonly millis: number | undefined
}

interface Schedule {
  // The first entry is the current phase; an empty queue is the recovered provider (normal).
  readonly queue: ReadonlyArray<Scheduled>
  readonly served: number
  readonly since: number
}

const sequenceCheck = (option: string) => ({ module: "FakeProvider.sequence", option })

// Checked when the sequence is set, so a bad step is an InvalidOptions there, not a defect (or a phase
// that never ends) at some later request.
const scheduledOf = (steps: Iterable<Api.PhaseStep>): ReadonlyArray<Scheduled> =>
  Array.from(steps, (step) => ({
    phase: step.phase,
    requests: step.requests === undefined ? undefined : integerAtLeast(sequenceCheck("requests"), step.requests, 0),
    millis: step.duration === undefined
      ? undefined
      : Duration.toMillis(nonNegativeDuration(sequenceCheck("duration"), step.duration, Duration.infinity))
  }))

const scheduleOf = (queue: ReadonlyArray<Scheduled>, now: number): Schedule => ({ queue, served: 0, since: now })

const advance = (schedule: Schedule, now: number): Schedule => {
  let { queue, served, since } = schedule
  for (;;) {
    const head = queue[0]
    if (head === undefined) break
    if (head.requests !== undefined && served >= head.requests) {
      since = now
    } else if (head.millis !== undefined && now - since >= head.millis) {
      // Time-limited phases end at their exact deadline, however late the next request arrives.
      since = since + head.millis
    } else {
      break
    }
    queue = queue.slice(1)
    served = 0
  }
  return { queue, served, since }
}

const currentPhase = (schedule: Schedule): Api.Phase => schedule.queue[0]?.phase ?? normal

// Routes -------------------------------------------------------------------------------------------

const matchPath = (pattern: string, path: string): Record<string, string> | undefined => {
  const expected = pattern.split("/")
  const actual = path.split("/")
  if (expected.length !== actual.length) return undefined
  const params: Record<string, string> = {}
  for (let i = 0; i < expected.length; i++) {
    const segment = expected[i]!
    const value = actual[i]!
    if (segment.startsWith(":")) {
      // a malformed %-escape matches no route (a 404), as on a real server
      try {
        params[segment.slice(1)] = decodeURIComponent(value)
      } catch {
        return undefined
      }
    } else if (segment !== value) return undefined
  }
  return params
}

const isWrite = (method: string): boolean =>
  method === "POST" || method === "PUT" || method === "PATCH" || method === "DELETE"

const parseJson = (text: string): unknown => {
  if (text === "") return undefined
  try {
    return JSON.parse(text)
  } catch {
    return undefined
  }
}

const builtInRoutes = (): ReadonlyArray<Api.Route> => {
  const charges = new Map<string, Record<string, unknown>>()
  return [
    {
      method: "GET",
      path: "/v1/ping",
      handler: () => ({ body: { ok: true } })
    },
    {
      method: "POST",
      path: "/v1/charges",
      handler: (request) => {
        const input = request.body as { readonly amount?: unknown; readonly currency?: unknown } | undefined
        if (typeof input?.amount !== "number" || !(input.amount > 0)) {
          return { status: 400, body: { error: "invalid_request", detail: "amount must be a positive number" } }
        }
        const charge = {
          id: `ch_${charges.size + 1}`,
          amount: input.amount,
          currency: typeof input.currency === "string" ? input.currency : "usd",
          status: "succeeded"
        }
        charges.set(charge.id, charge)
        return { status: 201, body: charge }
      }
    },
    {
      method: "GET",
      path: "/v1/charges/:id",
      handler: (request) => {
        const charge = charges.get(request.params.id ?? "")
        return charge === undefined ? { status: 404, body: { error: "not_found" } } : { body: charge }
      }
    }
  ]
}

// Server -------------------------------------------------------------------------------------------

interface StoredReply {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: string | undefined
}

type Idempotency = { readonly fingerprint: string; readonly reply: StoredReply | undefined }

const stored = (reply: Api.Reply): StoredReply => ({
  status: reply.status ?? 200,
  headers: reply.headers ?? {},
  body: reply.body === undefined ? undefined : JSON.stringify(reply.body)
})

const refusedBeforeExecution = new Set([401, 403, 429])

const isKept = (status: number): boolean => status < 500 && !refusedBeforeExecution.has(status)

const toResponse = (reply: StoredReply): HttpServerResponse.HttpServerResponse =>
  reply.body === undefined
    ? HttpServerResponse.empty({ status: reply.status, headers: reply.headers })
    : HttpServerResponse.text(reply.body, {
      status: reply.status,
      headers: reply.headers,
      contentType: reply.headers["content-type"] ?? "application/json"
    })

const error = (status: number, code: string, headers: Readonly<Record<string, string>> = {}): StoredReply =>
  stored({ status, headers, body: { error: code } })

/**
 * `@effect/platform-node` is an optional peer that only the fake provider needs: it is loaded when one
 * starts, so that the rest of `effect-resilience/testing` runs without it.
 */
const platformNode = Effect.tryPromise({
  try: () =>
    Promise.all([
      import("@effect/platform-node/NodeHttpServer"),
      import("@effect/platform-node/NodeHttpServerRequest")
    ]),
  catch: (cause) =>
    new Error("FakeProvider needs @effect/platform-node: npm install --save-dev @effect/platform-node", { cause })
}).pipe(Effect.orDie)

export const make = (
  options?: Api.Options
): Effect.Effect<Api.Service, HttpServerError.ServeError, Scope.Scope> =>
  Effect.gen(function*() {
    const [NodeHttpServer, NodeHttpServerRequest] = yield* platformNode
    const custom = options?.routes ?? []
    const routes = [
      ...custom,
      ...builtInRoutes().filter((route) => !custom.some((c) => c.method === route.method && c.path === route.path))
    ]
    const startedAt = yield* Clock.currentTimeMillis
    const initial = options?.phase === undefined ? [] : [{ phase: options.phase }]
    const schedule = yield* Ref.make(scheduleOf(scheduledOf(initial), startedAt))
    const received = yield* Ref.make<ReadonlyArray<Api.ReceivedRequest>>([])
    const sideEffects = yield* Ref.make(0)
    const keys = yield* Ref.make(new Map<string, Idempotency>())

    const route = (request: Api.RouteRequest): Effect.Effect<StoredReply> => {
      for (const candidate of routes) {
        if (candidate.method !== request.method) continue
        const params = matchPath(candidate.path, request.path)
        if (params === undefined) continue
        return Effect.suspend(() => {
          const reply = candidate.handler({ ...request, params })
          return Effect.isEffect(reply) ? reply : Effect.succeed(reply)
        }).pipe(
          Effect.map(stored),
          Effect.tap((reply) =>
            isWrite(request.method) && reply.status >= 200 && reply.status < 300
              ? Ref.update(sideEffects, (n) => n + 1)
              : Effect.void
          )
        )
      }
      return Effect.succeed(error(404, "not_found"))
    }

    // Same key: the stored reply, without running the handler again. A key still in flight answers 409 and
    // a key reused for another request 422, as Stripe does. Like Stripe, a reply is kept only when the
    // endpoint ran: a 5xx, an interrupted handler, or a refusal before execution (401, 403, 429) is not
    // stored, so a retry after a credential refresh or a back-off runs it again.
    const idempotent = (key: string, request: Api.RouteRequest): Effect.Effect<StoredReply> => {
      const fingerprint = `${request.method} ${request.path} ${request.text}`
      return Effect.flatten(Ref.modify(keys, (map): [Effect.Effect<StoredReply>, Map<string, Idempotency>] => {
        const entry = map.get(key)
        if (entry === undefined) {
          const run = route(request).pipe(
            Effect.onExit((exit) =>
              Ref.update(keys, (current) => {
                const next = new Map(current)
                if (Exit.isSuccess(exit) && isKept(exit.value.status)) next.set(key, { fingerprint, reply: exit.value })
                else next.delete(key)
                return next
              })
            )
          )
          return [run, new Map(map).set(key, { fingerprint, reply: undefined })]
        }
        if (entry.fingerprint !== fingerprint) return [Effect.succeed(error(422, "idempotency_key_reused")), map]
        if (entry.reply === undefined) return [Effect.succeed(error(409, "idempotency_key_in_use")), map]
        const replay = { ...entry.reply, headers: { ...entry.reply.headers, "idempotent-replayed": "true" } }
        return [Effect.succeed(replay), map]
      }))
    }

    const serve = (request: Api.RouteRequest, headers: Readonly<Record<string, string>>) => {
      const key = headers["idempotency-key"]
      return key !== undefined && isWrite(request.method) ? idempotent(key, request) : route(request)
    }

    const app = Effect.gen(function*() {
      const request = yield* HttpServerRequest.HttpServerRequest
      const text = yield* Effect.orElseSucceed(request.text, () => "")
      const now = yield* Clock.currentTimeMillis
      // Advanced again once served: a phase whose last request this was ends now, and the next phase's
      // duration counts from this request, whenever the one after it comes.
      const phase = yield* Ref.modify(schedule, (s) => {
        const current = advance(s, now)
        return [currentPhase(current), advance({ ...current, served: current.served + 1 }, now)]
      })
      const url = new URL(request.url, "http://fake.invalid")
      const headers: Record<string, string> = { ...request.headers }
      yield* Ref.update(received, (all) => [...all, {
        method: request.method,
        url: request.url,
        headers,
        body: text === "" ? undefined : text,
        at: now,
        phase: phase._tag
      }])
      const routeRequest: Api.RouteRequest = {
        method: request.method,
        path: url.pathname,
        query: url.searchParams,
        params: {},
        headers,
        text,
        body: parseJson(text)
      }
      switch (phase._tag) {
        case "RateLimited":
          return toResponse(error(429, "rate_limited", phase.headers))
        case "Outage":
          return toResponse(error(phase.status, "unavailable", phase.headers))
        case "Slow":
          yield* Effect.sleep(phase.latency)
          return toResponse(yield* serve(routeRequest, headers))
        case "DropAfterCommit": {
          yield* serve(routeRequest, headers)
          // RST rather than FIN: every Node client (node:http, undici, fetch) reports it as ECONNRESET.
          // Closing the socket interrupts this fiber.
          NodeHttpServerRequest.toIncomingMessage(request).socket.resetAndDestroy()
          return yield* Effect.never
        }
        case "Normal":
          return toResponse(yield* serve(routeRequest, headers))
      }
    })

    const nodeServer = Http.createServer()
    const server = yield* NodeHttpServer.make(() => nodeServer, {
      host: options?.host ?? "127.0.0.1",
      port: options?.port ?? 0
    })
    // Registered after the server's own close finalizer, so it runs first: a slow or hanging request must
    // not keep `server.close` waiting when the scope ends.
    yield* Effect.addFinalizer(() => Effect.sync(() => nodeServer.closeAllConnections()))
    // The platform runs handlers uninterruptibly; this one opts back in, so a client that aborts (a timeout
    // during a slow phase) interrupts it before the route runs, and a dropped connection ends it.
    yield* server.serve(Effect.interruptible(app))
    const address = server.address
    const url = address._tag === "TcpAddress" ? `http://${address.hostname}:${address.port}` : address.path

    const setQueue = (queue: ReadonlyArray<Scheduled>) =>
      Effect.flatMap(Clock.currentTimeMillis, (now) => Ref.set(schedule, scheduleOf(queue, now)))

    return {
      url,
      setPhase: (phase) => setQueue(scheduledOf([{ phase }])),
      sequence: (steps) => Effect.flatMap(validated(() => scheduledOf(steps)), setQueue),
      // read only: looking at the phase must not change what the next request gets
      phase: Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.map(Ref.get(schedule), (s) => currentPhase(advance(s, now)))),
      requests: Ref.get(received),
      sideEffects: Ref.get(sideEffects)
    }
  })
