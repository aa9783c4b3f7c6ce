/**
 * One run of the demo: two fake providers playing the same script, the same users against each, one
 * through the naive client and one through the library, at the same time. Side by side rather than
 * one after the other, so the live display compares them at the same moment of the story; each client
 * has its own provider, so the naive client's retry storm does not eat the library's quota.
 *
 * The library's side runs with a `Health` registry (its guards register themselves) and the health
 * and metrics routes on 127.0.0.1; with `redisUrl` its gate, limiter and breaker keep their state in
 * Redis instead of memory.
 */
import { Clock, Duration, Effect, Fiber, Layer } from "effect"
import * as CircuitBreakerRedis from "effect-resilience/CircuitBreakerRedis"
import { Health } from "effect-resilience"
import * as HealthNode from "effect-resilience/HealthNode"
import * as HttpProviderNode from "effect-resilience/HttpProviderNode"
import * as RateLimitRedis from "effect-resilience/RateLimitRedis"
import * as HttpServer from "@effect/platform/HttpServer"
import type { View } from "./display.js"
import { compute, type Figures } from "./figures.js"
import * as Metrics from "./metrics.js"
import * as NaiveClient from "./naiveClient.js"
import * as PolicyClient from "./policyClient.js"
import * as Provider from "./provider.js"
import { outageEndMillis, phaseAt } from "./script.js"
import * as Workload from "./workload.js"

export interface Options {
  readonly users: number
  readonly durationSeconds: number
  readonly redisUrl?: string | undefined
  /** Where the health and metrics routes listen; 0 picks a free port. */
  readonly port: number
  /** Told the URL of the health and metrics routes once they serve. */
  readonly onServing?: ((url: string) => void) | undefined
  /** Called four times a second with the state of the run. */
  readonly onTick?: ((view: View) => void) | undefined
}

export interface Result {
  readonly users: number
  readonly durationSeconds: number
  readonly stores: "memory" | "redis"
  readonly naive: Figures
  readonly library: Figures
}

/** The shared stores of the library's guards: in memory (the default, nothing to provide) or in Redis. */
const storesLayer = (redisUrl: string | undefined) => {
  if (redisUrl === undefined) return Layer.empty
  // one prefix per run, so runs never read each other's state
  const prefix = `effect-resilience-demo:${process.pid}:${Date.now()}:`
  const options = { url: redisUrl, prefix, connectTimeout: "2 seconds" } as const
  return Layer.mergeAll(
    RateLimitRedis.layerGate(options),
    RateLimitRedis.layerAdaptive(options),
    CircuitBreakerRedis.layerStore(options)
  )
}

export const run = (options: Options) => {
  const metrics = Metrics.make()
  const durationMillis = options.durationSeconds * 1000
  const program = Effect.gen(function*() {
    const address = (yield* HttpServer.HttpServer).address
    if (address._tag === "TcpAddress") options.onServing?.(`http://127.0.0.1:${address.port}`)
    const registry = yield* Health.Registry
    const providerOptions = { durationMillis, users: options.users }
    const naiveProvider = yield* Provider.start(providerOptions)
    const libraryProvider = yield* Provider.start(providerOptions)
    const libraryCall = yield* PolicyClient.make(libraryProvider.url)
    // Everything is built: both providers start the story now, with the traffic.
    const startedAt = yield* Clock.currentTimeMillis
    naiveProvider.play(startedAt)
    libraryProvider.play(startedAt)
    const naive = { record: Workload.emptyRecord(), tally: naiveProvider.tally }
    const library = { record: Workload.emptyRecord(), tally: libraryProvider.tally }

    // What the library's guards for the provider say now, read from the health registry they joined.
    const guards = Effect.map(registry.checks, (checks) =>
      checks
        .filter((check) => check.name === PolicyClient.providerName && (check.kind === "breaker" || check.kind === "gate"))
        .map((check) => `${check.kind} ${check.kind === "breaker" ? check.detail ?? "closed" : check.detail ?? "open"}`)
        .join(", "))
    const tick = Effect.gen(function*() {
      const elapsedMillis = Math.min(durationMillis, (yield* Clock.currentTimeMillis) - startedAt)
      const phase = phaseAt(elapsedMillis, durationMillis)
      options.onTick?.({ elapsedMillis, durationMillis, phase, guards: yield* guards, naive, library })
    })
    const ticker = yield* Effect.fork(Effect.forever(Effect.zipRight(tick, Effect.sleep(Duration.millis(250)))))

    const workload = { users: options.users, startedAt, durationMillis }
    yield* Effect.all([
      Workload.run({ ...workload, call: Effect.as(NaiveClient.make(naiveProvider.url), "ok" as const), record: naive.record }),
      Workload.run({ ...workload, call: libraryCall, record: library.record })
    ], { concurrency: "unbounded", discard: true })
    yield* Fiber.interrupt(ticker)
    yield* tick

    const outageEnd = outageEndMillis(durationMillis)
    return {
      users: options.users,
      durationSeconds: options.durationSeconds,
      stores: options.redisUrl === undefined ? "memory" : "redis",
      naive: compute(naive.record, naive.tally, outageEnd),
      library: compute(library.record, library.tally, outageEnd)
    } satisfies Result
  })

  const health = Health.layer({ required: [PolicyClient.providerName] })
  const server = HealthNode.layerServer({ port: options.port, routes: metrics.router })
  return program.pipe(
    Effect.scoped,
    Effect.provide(Layer.mergeAll(server, HttpProviderNode.layerPool(), storesLayer(options.redisUrl), metrics.layer)),
    Effect.provide(health)
  )
}
