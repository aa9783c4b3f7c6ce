/**
 * Health checks for the guards of a service: a registry that breakers, bulkheads and 429 gates join
 * when they are built, and the HTTP routes an orchestrator or a person asks:
 *
 * | route | answer |
 * |---|---|
 * | `GET /health/live` | 200 `{"status":"live"}` while the process serves |
 * | `GET /health/ready` | 200 when every required check is up or degraded, 503 while one is down; the body lists each check |
 * | `GET /health/breakers` | every registered breaker: name, state, failure rate, counts, `openUntil` |
 *
 * Why it is built this way:
 *
 * - **Guards register themselves, when a registry is there.** A breaker, keyed breakers, a bulkhead or
 *   a gate (with a fixed key) looks up {@link Registry} with `Effect.serviceOption` while it is built,
 *   as breakers look up their `Store`: provide {@link layer} below your guard layers (or around
 *   `Policy.provider`, `HttpProvider.make`) and they appear, for as long as their scope lives. Without
 *   a registry nothing is registered and nothing is paid; with one, the cost is one entry per guard.
 *   No call ever touches the registry: checks read the guards' own `snapshot`, `stats` and
 *   `closedFor` when an endpoint is asked.
 * - **Required is the deployment's choice, by name.** Whether an open breaker should take an instance
 *   out of the load balancer depends on the service, not on the breaker: name the required guards in
 *   `layer({ required: ["payments"] })` (the guards `Policy.provider` builds are named after the
 *   provider), or pass `{ required: true }` to {@link register}. A required name that nothing
 *   registered is reported down, so a typo fails readiness instead of passing it.
 * - **Down is rare.** An open or isolated breaker is `down`; a half-open breaker, a gate closed by a
 *   `Retry-After`, a bulkhead shedding load and keyed breakers with open keys are `degraded` (the
 *   instance still serves). Liveness ignores checks: restarting a process does not fix a provider.
 *
 * @since 0.1.0
 */
import type * as HttpRouter from "@effect/platform/HttpRouter"
import type * as Context from "effect/Context"
import type { DurationInput } from "effect/Duration"
import type { Effect } from "effect/Effect"
import type { Layer } from "effect/Layer"
import type { Scope } from "effect/Scope"
import type { Bulkhead } from "./Bulkhead.js"
import type * as CircuitBreaker from "./CircuitBreaker.js"
import type { InvalidOptions } from "./Errors.js"
import * as internal from "./internal/health.js"
import * as routes from "./internal/health/routes.js"
import type { Gate } from "./RateLimit.js"

/**
 * `up`: working. `degraded`: serving, with a guard holding calls back (half-open, a closed gate, a
 * full bulkhead). `down`: the guard rejects calls (an open or isolated breaker) or a check failed.
 *
 * @since 0.1.0
 * @category models
 */
export type Status = "up" | "degraded" | "down"

/**
 * @since 0.1.0
 * @category models
 */
export type Kind = "breaker" | "keyed-breakers" | "bulkhead" | "gate" | "custom"

/**
 * What a check reads now: a status and a short line for a person.
 *
 * @since 0.1.0
 * @category models
 */
export interface Observed {
  readonly status: Status
  readonly detail?: string | undefined
}

/**
 * A check: a name and how to read its status. Guards build theirs; write one for anything else the
 * service needs to be ready (a database ping, a warmed cache).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import type { Health } from "effect-resilience"
 *
 * declare const ping: Effect.Effect<void, Error>
 *
 * const database: Health.Check = {
 *   name: "database",
 *   required: true,
 *   status: ping.pipe(
 *     Effect.as<Health.Observed>({ status: "up" }),
 *     Effect.orElseSucceed((): Health.Observed => ({ status: "down", detail: "ping failed" }))
 *   )
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Check {
  readonly name: string
  /** Defaults to `"custom"`. */
  readonly kind?: Kind | undefined
  /** A required check that is down makes readiness fail. Defaults to `false` (unless the registry names it). */
  readonly required?: boolean | undefined
  readonly status: Effect<Observed>
  /** Breaker snapshots for `/health/breakers`. Defaults to none. */
  readonly breakers?: Effect<ReadonlyArray<CircuitBreaker.Snapshot>> | undefined
}

/**
 * One line of the readiness body.
 *
 * @since 0.1.0
 * @category models
 */
export interface CheckResult {
  readonly name: string
  readonly kind: Kind
  readonly required: boolean
  readonly status: Status
  readonly detail?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Readiness {
  /** False while a required check is down. */
  readonly ready: boolean
  readonly checks: ReadonlyArray<CheckResult>
}

/**
 * A breaker as `/health/breakers` shows it: its {@link CircuitBreaker.Snapshot} with times as ISO
 * strings, and `openUntil` (when a probe may run) while it is open.
 *
 * @since 0.1.0
 * @category models
 */
export interface BreakerView {
  readonly name: string
  readonly state: CircuitBreaker.State
  readonly policy: string
  readonly since: string
  readonly failureRate: number
  readonly calls: number
  readonly failures: number
  readonly slow: number
  readonly rejected: number
  readonly opens: number
  readonly probesInFlight: number
  readonly openUntil?: string | undefined
}

/**
 * The checks of one service. Guards built while it is in the context register themselves.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker, Health } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const breaker = yield* CircuitBreaker.make({ name: "payments" })
 *   yield* breaker.isolate
 *   const registry = yield* Health.Registry
 *   return yield* registry.readiness // { ready: false, checks: [{ name: "payments", status: "down", ... }] }
 * }).pipe(Effect.scoped, Effect.provide(Health.layer({ required: ["payments"] })))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Registry {
  /** Adds a check for the life of the scope. */
  readonly register: (check: Check) => Effect<void, never, Scope>
  /** Every check, read now (concurrently; a check that dies or hangs past `checkTimeout` is down). */
  readonly checks: Effect<ReadonlyArray<CheckResult>>
  readonly readiness: Effect<Readiness>
  readonly breakers: Effect<ReadonlyArray<BreakerView>>
}

/**
 * @since 0.1.0
 */
export declare namespace Registry {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Options {
    /** Names of guards or checks whose `down` fails readiness. Defaults to none. */
    readonly required?: Iterable<string> | undefined
    /** How long a check may take before it counts as down. Defaults to `"2 seconds"`. */
    readonly checkTimeout?: DurationInput | undefined
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RegisterOptions {
  /** Defaults to `false` (unless the registry names the check, or the check says so). */
  readonly required?: boolean | undefined
}

/**
 * The tag guards look up when they are built.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Health } from "effect-resilience"
 *
 * const breakers = Effect.flatMap(Health.Registry, (registry) => registry.breakers)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const Registry: Context.Tag<Registry, Registry> = internal.Registry

/**
 * Builds a registry. Fails with `InvalidOptions` for an empty required name or a bad `checkTimeout`.
 *
 * @example
 * ```ts
 * import { Health } from "effect-resilience"
 *
 * const registry = Health.make({ required: ["payments"] }) // Effect<Registry, InvalidOptions>
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: Registry.Options) => Effect<Registry, InvalidOptions> = internal.make

/**
 * The registry as a Layer. Provide it to the layers that build your guards, so they register.
 *
 * @example
 * ```ts
 * import { Context, Layer } from "effect"
 * import { CircuitBreaker, Health } from "effect-resilience"
 *
 * class PaymentsBreaker extends Context.Tag("app/PaymentsBreaker")<PaymentsBreaker, CircuitBreaker.CircuitBreaker>() {}
 *
 * const HealthLive = Health.layer({ required: ["payments"] })
 * const BreakersLive = CircuitBreaker.layer(PaymentsBreaker, { name: "payments" }).pipe(
 *   Layer.provideMerge(HealthLive)
 * ) // Layer<PaymentsBreaker | Health.Registry, InvalidOptions>
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: (options?: Registry.Options) => Layer<Registry, InvalidOptions> = internal.layer

/**
 * Registers a guard built without a registry in its context (a breaker, a bulkhead, a gate with a
 * fixed key), or your own {@link Check}, for the life of the scope. `{ required: true }` makes its
 * `down` fail readiness.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker, Health } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const breaker = yield* CircuitBreaker.make({ name: "storage" })
 *   yield* Health.register(breaker, { required: true })
 * }) // Effect<void, InvalidOptions, Scope | Health.Registry>
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const register: (
  guard: Check | CircuitBreaker.CircuitBreaker | Bulkhead | Gate,
  options?: RegisterOptions
) => Effect<void, never, Registry | Scope> = internal.register

/**
 * The three routes, on `@effect/platform`'s `HttpRouter`: mount them in your own router
 * (`HttpRouter.concat`) or serve them alone with `HealthNode.layerServer`.
 *
 * @example
 * ```ts
 * import { HttpRouter, HttpServerResponse } from "@effect/platform"
 * import { Health } from "effect-resilience"
 *
 * const app = HttpRouter.empty.pipe(
 *   HttpRouter.get("/", HttpServerResponse.text("hello")),
 *   HttpRouter.concat(Health.router)
 * ) // HttpRouter<never, Health.Registry>
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const router: HttpRouter.HttpRouter<never, Registry> = routes.router
