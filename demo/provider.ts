/**
 * The fake quotes API: a real HTTP server on 127.0.0.1 that plays `script.ts`. During the refused
 * part of the outage it stops listening (and drops open connections), so clients see a real
 * "connection refused", then it listens again on the same port.
 */
import { Effect, type Scope } from "effect"
import { createServer, type IncomingMessage, type ServerResponse } from "node:http"
import type { AddressInfo } from "node:net"
import { behaviour, phaseAt } from "./script.js"

/** What the provider saw: the requests that reached it. */
export interface Tally {
  requests: number
  ok: number
  rateLimited: number
  unavailable: number
  /** 429s answered after the first one, which already told the client when to come back. */
  rateLimitedAfterFirst: number
}

export interface Provider {
  readonly url: string
  readonly tally: Tally
  /** Starts the script at `startedAt` (epoch millis); until then the provider is steady. */
  readonly play: (startedAt: number) => void
}

const reply = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) => {
  res.writeHead(status, { "content-type": "application/json", ...headers })
  res.end(JSON.stringify(body))
}

export const start = (options: {
  readonly durationMillis: number
  readonly users: number
}): Effect.Effect<Provider, never, Scope.Scope> =>
  Effect.gen(function*() {
    const tally: Tally = { requests: 0, ok: 0, rateLimited: 0, unavailable: 0, rateLimitedAfterFirst: 0 }
    const quota = { window: -1, used: 0 }
    let startedAt: number | undefined
    const elapsed = () => startedAt === undefined ? 0 : Date.now() - startedAt

    const handle = (_req: IncomingMessage, res: ServerResponse) => {
      tally.requests++
      const now = elapsed()
      const phase = phaseAt(now, options.durationMillis).name
      if (phase === "outage: 503s" || phase === "outage: refused") {
        tally.unavailable++
        return reply(res, 503, { error: "unavailable" })
      }
      const window = Math.floor(now / behaviour.quotaWindowMillis)
      if (window !== quota.window) Object.assign(quota, { window, used: 0 })
      const limit = options.users * (phase === "429 storm" ? behaviour.stormQuotaPerUser : behaviour.quotaPerUser)
      const resetSeconds = String(Math.ceil(((window + 1) * behaviour.quotaWindowMillis - now) / 1000))
      const headers = (remaining: number) => ({
        "x-ratelimit-limit": String(limit),
        "x-ratelimit-remaining": String(remaining),
        "x-ratelimit-reset": resetSeconds
      })
      if (quota.used >= limit) {
        if (tally.rateLimited > 0) tally.rateLimitedAfterFirst++
        tally.rateLimited++
        return reply(res, 429, { error: "rate_limited" }, { ...headers(0), "retry-after": resetSeconds })
      }
      quota.used++
      const quotaHeaders = headers(limit - quota.used)
      const latency = phase === "slow" ? behaviour.slowLatencyMillis : behaviour.latencyMillis
      const timer = setTimeout(() => {
        tally.ok++
        reply(res, 200, { symbol: "ACME", price: 42 }, quotaHeaders)
      }, latency)
      res.on("close", () => clearTimeout(timer))
    }

    const server = createServer(handle)
    const listen = (port: number) =>
      Effect.async<number>((resume) => {
        server.listen(port, "127.0.0.1", () => resume(Effect.succeed((server.address() as AddressInfo).port)))
      })
    const stopListening = Effect.async<void>((resume) => {
      server.close(() => resume(Effect.void))
      server.closeAllConnections()
    })
    const port = yield* listen(0)
    yield* Effect.addFinalizer(() => server.listening ? stopListening : Effect.void)

    // Follows the script: closed during the refused part of the outage, listening otherwise.
    yield* Effect.forkScoped(Effect.forever(Effect.gen(function*() {
      const refusing = phaseAt(elapsed(), options.durationMillis).name === "outage: refused"
      if (refusing && server.listening) yield* stopListening
      if (!refusing && !server.listening) yield* listen(port)
      yield* Effect.sleep("25 millis")
    })))

    return { url: `http://127.0.0.1:${port}`, tally, play: (at) => void (startedAt = at) }
  })
