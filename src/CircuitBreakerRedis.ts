/**
 * A Redis store for `CircuitBreaker`: replicas of a service share one breaker, so they open, probe and
 * close together instead of each paying its own failures before its breaker opens.
 *
 * Provide `layerStore` where breakers are built, and every breaker (and every key of a keyed breaker)
 * keeps its state in one Redis record instead of in memory. Policies, `openFor` schedules, half-open
 * probes, `changes`, metrics and logs work as they do in memory; see `CircuitBreaker.Store` and the
 * "Shared across replicas" section of the breaker's docs for how events are shared.
 *
 * - **One state machine, one compare-and-set.** Each admission and outcome applies the breaker's
 *   pure transitions to the shared state and commits them only if no other replica wrote meanwhile
 *   (a version checked in a Lua script); on a conflict it is applied again to what the other replica
 *   wrote. A call costs two round trips (admission and outcome), a write only when something changed:
 *   a failure, any outcome of a `failureRate` window, a probe, a transition. Rejections while open
 *   write nothing.
 * - **Time is the callers' `Clock`**, as in memory, so keep replicas on NTP: a skew of d ms moves a
 *   break's end or a probe's `maxWait` by d ms. Redis's clock only expires a record that has been at
 *   rest (no break or probe pending) for `idleTimeToLive`; an isolated breaker's record never expires.
 * - **Redis down.** Every command is bounded by `timeout`, connecting by `connectTimeout`; the
 *   breaker then applies its `onStoreError` option (`"local"`: this replica's own breaker, from the
 *   last shared state it saw; `"allow"`; `"reject"`), with one warning per outage.
 *
 * This is its own entry point so that `effect-resilience/CircuitBreaker` does not load `ioredis`.
 *
 * @since 0.1.0
 */
import type * as Duration from "effect/Duration"
import type * as Layer from "effect/Layer"
import type * as CircuitBreaker from "./CircuitBreaker.js"
import type { InvalidOptions } from "./Errors.js"
import type { ConnectionOptions } from "./internal/redisClient.js"
import * as internal from "./internal/circuitBreaker/redisStore.js"

/**
 * @since 0.1.0
 * @category models
 */
export interface Options extends ConnectionOptions {
  /**
   * Prefix of every key (followed by the breaker's name and policy), non-empty. Defaults to
   * `"resilience:breaker:"`.
   */
  readonly prefix?: string | undefined
  /**
   * How long a breaker's record is kept once nothing is pending (no break, no probe), after its last
   * write. A forgotten record reads as a closed breaker. Defaults to `"1 day"`.
   */
  readonly idleTimeToLive?: Duration.DurationInput | undefined
}

/**
 * The shared breaker store: one connection, closed with the layer's scope whatever state Redis is in.
 * Fails with `InvalidOptions` for a bad URL, prefix, timeout or time to live.
 *
 * @example
 * ```ts
 * import { Context, Layer, Redacted } from "effect"
 * import * as CircuitBreaker from "effect-resilience/CircuitBreaker"
 * import * as CircuitBreakerRedis from "effect-resilience/CircuitBreakerRedis"
 *
 * class PaymentsBreaker extends Context.Tag("app/PaymentsBreaker")<PaymentsBreaker, CircuitBreaker.CircuitBreaker>() {}
 *
 * const PaymentsBreakerLive = CircuitBreaker.layer(PaymentsBreaker, { onStoreError: "local" }).pipe(
 *   Layer.provide(CircuitBreakerRedis.layerStore({ url: Redacted.make("redis://:secret@redis:6379/0") }))
 * ) // Layer<PaymentsBreaker, InvalidOptions>
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerStore: (options?: Options) => Layer.Layer<CircuitBreaker.Store, InvalidOptions> =
  internal.layerStore
