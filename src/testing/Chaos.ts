/**
 * Seeded fault injection: make a share of calls fail, or slow them down, to see the resilience
 * around them work.
 *
 * Why a service that is off unless provided: the injection point (`Chaos.inject`) can stay in
 * production code, around a provider call, at the cost of one context lookup, and a test, a staging
 * deployment or a demo turns it on by providing `Chaos.layer`. Nothing is injected anywhere the layer
 * is not provided.
 *
 * Why seeded: a fault pattern that cannot be replayed cannot be debugged. Every decision draws from
 * Effect's `Random` (fault first, then latency, one draw each per call), so
 * `Effect.withRandom(Random.make(seed))` replays the same faults and delays, and latency is an
 * `Effect.sleep`, so `TestClock` drives it.
 *
 * The injected failures are `Transient` errors (by default
 * `Unavailable { provider: "chaos", reason: "transport", detail: "chaos" }`): the failures a
 * resilience policy is there to absorb. Every fault and delay is counted in the metrics
 * `resilience_chaos_faults_total` and `resilience_chaos_delays_total`, and each fault is logged at
 * debug level.
 *
 * @since 0.1.0
 */
import * as Context from "effect/Context"
import type * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type { InvalidOptions, Transient } from "../Errors.js"
import * as internal from "../internal/testing/chaos.js"

/**
 * How long to delay each call: a uniform range, or a function from a uniform sample in [0, 1) to a
 * duration (an inverse CDF: `(u) => Duration.millis(-Math.log(1 - u) * 50)` is exponential with a
 * 50 ms mean).
 *
 * @since 0.1.0
 * @category models
 */
export type Latency =
  | { readonly min: Duration.DurationInput; readonly max: Duration.DurationInput }
  | ((u: number) => Duration.DurationInput)

/**
 * @since 0.1.0
 * @category models
 */
export interface Options {
  /** The share of calls that fail, in [0, 1]. */
  readonly errorRate: number
  /** A delay added to every call, faulty or not. Defaults to none. */
  readonly latency?: Latency | undefined
  /**
   * The error of a faulty call; `call` is its 0-based index among all injected calls. Defaults to
   * `Unavailable { provider, reason: "transport", detail: "chaos" }`.
   */
  readonly error?: ((call: number) => Transient) | undefined
  /** The `provider` of the default error. Defaults to `"chaos"`. */
  readonly provider?: string | undefined
  /**
   * `"before"`: a faulty call fails without running the effect (the request never left).
   * `"after"`: the effect runs, then the call fails anyway (the provider committed and the answer
   * was lost). Defaults to `"before"`.
   */
  readonly when?: "before" | "after" | undefined
}

/**
 * A running chaos injector.
 *
 * @since 0.1.0
 * @category models
 */
export interface Service {
  /** Run `self` through this injector. */
  readonly inject: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | Transient, R>
  /** How many calls went through. */
  readonly calls: Effect.Effect<number>
  /** How many of them were made to fail. */
  readonly faults: Effect.Effect<number>
}

/**
 * The optional chaos service that {@link inject} looks for.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Chaos } from "effect-resilience/testing"
 *
 * const faultsSoFar = Effect.flatMap(Chaos.Chaos, (chaos) => chaos.faults)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export class Chaos extends Context.Tag("effect-resilience/testing/Chaos")<Chaos, Service>() {}

/**
 * Build an injector without providing it (to wrap one call site explicitly). Fails with
 * `InvalidOptions` for an `errorRate` outside [0, 1], a bad latency range, an `error` that is not a
 * function or a `when` other than `"before"` and `"after"`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Chaos } from "effect-resilience/testing"
 *
 * const program = Effect.gen(function*() {
 *   const chaos = yield* Chaos.make({ errorRate: 0.5 })
 *   return yield* chaos.inject(Effect.succeed("maybe"))
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: Options) => Effect.Effect<Service, InvalidOptions> = internal.make

/**
 * Turn chaos on for every {@link inject} that runs with this layer.
 *
 * @example
 * ```ts
 * import { Chaos } from "effect-resilience/testing"
 *
 * const ChaosLive = Chaos.layer({ errorRate: 0.2, latency: { min: "50 millis", max: "400 millis" } })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer = (options: Options): Layer.Layer<Chaos, InvalidOptions> => internal.layer(Chaos, options)

/**
 * Run `self` through the provided {@link Chaos} service, if any: with it, some calls are delayed or
 * fail with a `Transient` error; without it, `self` runs unchanged.
 *
 * @example
 * ```ts
 * import { Effect, Random } from "effect"
 * import { Chaos } from "effect-resilience/testing"
 *
 * const call = Effect.succeed("charged").pipe(Chaos.inject)
 *
 * const unchanged = call // no layer: always "charged"
 * const faulty = call.pipe(
 *   Effect.provide(Chaos.layer({ errorRate: 0.3 })),
 *   Effect.withRandom(Random.make("seed-1")) // the same faults on every run
 * )
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const inject: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | Transient, R> = internal
  .inject(Effect.serviceOption(Chaos))
