/**
 * Isolates a dependency behind a fixed number of concurrent calls and a bounded, FIFO queue.
 *
 * Why: a slow dependency holds on to whatever its callers hold (fibers, sockets, memory, the
 * caller's own deadline). Without a limit, one degraded provider absorbs the whole process and
 * takes healthy paths down with it. A bulkhead caps what that provider can hold, and sheds the
 * excess at once with a typed `BulkheadFull` instead of letting it pile up.
 *
 * How it behaves:
 * - Up to `maxConcurrent` calls run at once. Past that, up to `maxQueued` callers wait in a queue,
 *   admitted strictly first in, first out: a freed slot is handed to the oldest waiter directly, so a
 *   caller arriving at that moment cannot take it first. With the queue full the call fails with
 *   `BulkheadFull { reason: "queue-full" }` without running. The default `maxQueued` is 0: reject as
 *   soon as every slot is busy (load shedding, as Polly and resilience4j default to).
 * - `queueTimeout` bounds the wait, measured on the `Clock` (so `TestClock` drives it to the
 *   millisecond); past it the caller fails with `BulkheadFull { reason: "queue-timeout" }`.
 * - Interruption is a normal outcome. An interrupted waiter leaves the queue and can never be
 *   handed a slot later; a running call frees its slot on success, failure, defect and
 *   interruption; a slot handed to a waiter in the very instant it is interrupted is passed on to
 *   the next one. Nothing is lost and nothing starves.
 *
 * Why not effect's `Semaphore`: its `withPermits` wakes every waiter when a permit frees and lets
 * the first to run win (neither FIFO nor starvation-free under load), and it has no bounded queue
 * nor queue timeout. The bulkhead keeps its own intrusive FIFO of waiting fibers, which is also
 * cheaper with thousands of waiters (see `bench/Bulkhead.bench.ts`).
 *
 * A bulkhead is a value, `Effect -> Effect`, built in a `Scope` (the scope owns the one fiber that
 * enforces `queueTimeout`). Per downstream, declare your own tag and build it with `layer`.
 * `keyed` gives one bulkhead per key (a tenant, a region), evicting idle ones.
 *
 * Observability: gauges `resilience_bulkhead_active` and `resilience_bulkhead_queued` and the
 * counter `resilience_bulkhead_rejected_total` (with a `reason` tag), all tagged `bulkhead` (a keyed
 * group is one series under its name, with no `key` tag, so cardinality stays bounded); one warning log when it starts rejecting and one info log when it has
 * a free slot again.
 *
 * @since 0.1.0
 */
import type * as Context from "effect/Context"
import type { DurationInput } from "effect/Duration"
import type { Effect } from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Metric from "effect/Metric"
import type { Scope } from "effect/Scope"
import type { BulkheadFull, InvalidOptions } from "./Errors.js"
import * as internal from "./internal/bulkhead.js"

/**
 * @since 0.1.0
 * @category models
 */
export const TypeId: unique symbol = internal.TypeId

/**
 * @since 0.1.0
 * @category models
 */
export type TypeId = typeof TypeId

/**
 * A bulkhead: apply it to an effect to run that effect in one of its slots. The result may also
 * fail with `BulkheadFull`.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Bulkhead } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const storage = yield* Bulkhead.make({ name: "storage", maxConcurrent: 10, maxQueued: 100 })
 *   const upload = Effect.succeed("stored").pipe(storage) // Effect<string, BulkheadFull>
 *   const { active, queued } = yield* storage.stats // 0 running, 0 waiting before the upload
 *   yield* Effect.log(`storage: ${active} running, ${queued} waiting`)
 *   return yield* upload
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Bulkhead {
  <A, E, R>(self: Effect<A, E, R>): Effect<A, E | BulkheadFull, R>
  readonly [TypeId]: TypeId
  /** The name in errors, logs and the `bulkhead` metric tag. */
  readonly name: string
  /** A snapshot of the bulkhead's counters. */
  readonly stats: Effect<Bulkhead.Stats>
}

/**
 * @since 0.1.0
 */
export declare namespace Bulkhead {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Options {
    /** Names the bulkhead in `BulkheadFull`, logs and metrics. Required, not empty. */
    readonly name: string
    /** How many calls may run at once: an integer >= 1. Required. */
    readonly maxConcurrent: number
    /** How many calls may wait for a slot (an integer >= 0); 0 rejects as soon as every slot is busy. Defaults to `0`. */
    readonly maxQueued?: number | undefined
    /** How long a call may wait in the queue before it fails with `"queue-timeout"` (> 0). Defaults to `undefined` (waits until a slot frees or the caller is interrupted). */
    readonly queueTimeout?: DurationInput | undefined
  }

  /**
   * The options of {@link keyed}: one bulkhead with these options per key.
   *
   * @since 0.1.0
   * @category models
   */
  export interface KeyedOptions extends Options {
    /** How long a key's bulkhead is kept once no call holds it; 0 evicts it as soon as it is idle. Required. */
    readonly idleTimeToLive: DurationInput
  }

  /**
   * @since 0.1.0
   * @category models
   */
  export interface Stats {
    /** Calls running now. */
    readonly active: number
    /** Calls waiting for a slot now. */
    readonly queued: number
    /** Calls rejected since the bulkhead was made, for either reason. */
    readonly rejected: number
    readonly maxConcurrent: number
    readonly maxQueued: number
  }
}

/**
 * One bulkhead per key (per tenant, per region), each with the same options, so a tenant that
 * floods its own pool does not take slots from the others. A key's bulkhead lives while a call holds
 * it and for `idleTimeToLive` after the last one ends; one sweeper fiber per keyed bulkhead evicts idle
 * keys (no fiber per key). Keys are compared as JS `Map` keys.
 *
 * The bulkhead of key `k` is named `${name}/${k}` in errors and logs. Metrics are the group's: one
 * series tagged `bulkhead=name` whose gauges sum over the live keys (Effect's metric registry never
 * forgets a series, so a series per tenant would grow with every tenant ever seen); `get(k).stats`
 * gives one key's figures.
 *
 * @since 0.1.0
 * @category models
 */
export interface KeyedBulkhead<K extends string | number = string> {
  readonly name: string
  /** Runs `self` in the bulkhead of `key`, creating it if needed; dual. */
  readonly protect: {
    (key: K): <A, E, R>(self: Effect<A, E, R>) => Effect<A, E | BulkheadFull, R>
    <A, E, R>(self: Effect<A, E, R>, key: K): Effect<A, E | BulkheadFull, R>
  }
  /** The bulkhead of `key`, held (not evicted) until the scope closes. */
  readonly get: (key: K) => Effect<Bulkhead, never, Scope>
  /** The keys that have a bulkhead now (held or idle but not yet evicted). */
  readonly keys: Effect<Array<K>>
}

/**
 * Makes a bulkhead. Fails with `InvalidOptions` naming the option when `maxConcurrent` is not an
 * integer >= 1, `maxQueued` not an integer >= 0, `queueTimeout` not a finite duration > 0, or
 * `name` is empty.
 *
 * The scope owns the fiber that enforces `queueTimeout`: once it closes, calls still get slots in
 * order as running ones end, but queued calls no longer time out. Close it when the bulkhead is no
 * longer used (a `layer` does this for you).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Bulkhead } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const search = yield* Bulkhead.make({ name: "search", maxConcurrent: 4, maxQueued: 20, queueTimeout: "2 seconds" })
 *   return yield* Effect.succeed([]).pipe(search)
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options: Bulkhead.Options) => Effect<Bulkhead, InvalidOptions, Scope> = internal.make

/**
 * A `Layer` that provides your own tag with a bulkhead built from `options`.
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import { Bulkhead } from "effect-resilience"
 *
 * class StorageBulkhead extends Context.Tag("app/StorageBulkhead")<StorageBulkhead, Bulkhead.Bulkhead>() {}
 *
 * const StorageBulkheadLive = Bulkhead.layer(StorageBulkhead, { name: "storage", maxConcurrent: 10, maxQueued: 50 })
 *
 * const upload = Effect.succeed("ok").pipe(Bulkhead.protect(StorageBulkhead))
 * const main = upload.pipe(Effect.provide(StorageBulkheadLive))
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: <I>(tag: Context.Tag<I, Bulkhead>, options: Bulkhead.Options) => Layer.Layer<I, InvalidOptions> =
  internal.layer

/**
 * Runs an effect in a bulkhead, given the bulkhead itself or the tag of a service that holds one
 * (then the tag joins the requirements). `BulkheadFull` joins the errors.
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import { Bulkhead } from "effect-resilience"
 *
 * class Payments extends Context.Tag("app/PaymentsBulkhead")<Payments, Bulkhead.Bulkhead>() {}
 *
 * // Effect<string, BulkheadFull, Payments>
 * const charge = Effect.succeed("ch_1").pipe(Bulkhead.protect(Payments))
 * const same = Bulkhead.protect(Effect.succeed("ch_1"), Payments)
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const protect: {
  (bulkhead: Bulkhead): <A, E, R>(self: Effect<A, E, R>) => Effect<A, E | BulkheadFull, R>
  <I>(tag: Context.Tag<I, Bulkhead>): <A, E, R>(self: Effect<A, E, R>) => Effect<A, E | BulkheadFull, R | I>
  <A, E, R>(self: Effect<A, E, R>, bulkhead: Bulkhead): Effect<A, E | BulkheadFull, R>
  <A, E, R, I>(self: Effect<A, E, R>, tag: Context.Tag<I, Bulkhead>): Effect<A, E | BulkheadFull, R | I>
} = internal.protect

/**
 * Makes one bulkhead per key, evicted after `idleTimeToLive` without calls. Fails with
 * `InvalidOptions` as {@link make} does, and when `idleTimeToLive` is negative or not finite.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Bulkhead } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const perTenant = yield* Bulkhead.keyed({ name: "reports", maxConcurrent: 2, maxQueued: 10, idleTimeToLive: "5 minutes" })
 *   // tenant "acme" cannot take the slots of tenant "globex"
 *   return yield* Effect.succeed("report").pipe(perTenant.protect("acme"))
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const keyed: <K extends string | number = string>(
  options: Bulkhead.KeyedOptions
) => Effect<KeyedBulkhead<K>, InvalidOptions, Scope> = internal.keyed

/**
 * Whether `u` is a {@link Bulkhead}.
 *
 * @since 0.1.0
 * @category guards
 */
export const isBulkhead: (u: unknown) => u is Bulkhead = internal.isBulkhead

/**
 * The metrics every bulkhead updates, untagged. Tag them to read one bulkhead's series:
 * `Metric.value(Bulkhead.metrics.active.pipe(Metric.tagged("bulkhead", "storage")))`.
 *
 * @example
 * ```ts
 * import { Metric } from "effect"
 * import { Bulkhead } from "effect-resilience"
 *
 * const queueFull = Metric.value(
 *   Bulkhead.metrics.rejected.pipe(Metric.tagged("bulkhead", "storage"), Metric.tagged("reason", "queue-full"))
 * )
 * ```
 *
 * @since 0.1.0
 * @category accessors
 */
export const metrics: {
  /** `resilience_bulkhead_active`: calls running now. */
  readonly active: Metric.Metric.Gauge<number>
  /** `resilience_bulkhead_queued`: calls waiting for a slot now. */
  readonly queued: Metric.Metric.Gauge<number>
  /** `resilience_bulkhead_rejected_total`: rejected calls, tagged `reason`. */
  readonly rejected: Metric.Metric.Counter<number>
} = internal.metrics
