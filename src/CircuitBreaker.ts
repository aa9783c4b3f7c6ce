/**
 * A circuit breaker stops calling a downstream that is failing, gives it time to recover, then lets a
 * few probe calls find out whether it has.
 *
 * ```text
 *            policy trips                       break elapses (noticed lazily)
 *   closed ───────────────▶ open ───────────────────────────────▶ half-open
 *     ▲                      ▲                                      │  │
 *     │                      └── a probe fails, or hangs past ──────┘  │
 *     │                          maxWait (next break is longer)         │
 *     └──────────────────────── all probes succeed ─────────────────────┘
 *   isolate: any state ──▶ isolated (rejects everything)   reset: any state ──▶ closed
 * ```
 *
 * Why it is built this way:
 *
 * - **The policy is a pure function.** Whether the breaker trips is decided by a `Policy`: its state,
 *   the outcome of a call and the time go in, the new state and a verdict come out (cockatiel's
 *   `IBreaker` idea, in Effect form). Policies are unit-testable without fibers, swappable, and their
 *   state is plain JSON, so a serverless instance can export its breaker and the next one restore it.
 * - **One atomic state machine.** The whole breaker is one immutable value in a `Ref`, changed only by
 *   pure transitions inside `Ref.modify`. The common path (closed, no transition) is a single
 *   `Ref.modify` before and after the call; transitions additionally take a short lock so they are
 *   published, logged and counted in the order they happened. The lock never spans a user's effect.
 * - **Generations.** Every transition bumps a generation and each call remembers the one it started
 *   in. A failure that lands after the breaker opened, a success that lands after it re-opened, a probe
 *   that outlived `maxWait`: their outcomes change nothing. Resilience4j's and Polly's trackers are
 *   full of bugs where such late outcomes flip the state.
 * - **Lazy time.** There is no timer per breaker. Open becomes half-open when the next call or state
 *   read finds the break over; a hung probe sends the breaker back to open when someone next looks.
 *   A breaker costs nothing while idle, which is what lets keyed breakers scale to many keys.
 * - **Shared across replicas, optionally.** With a {@link Store} in the context (e.g.
 *   `CircuitBreakerRedis.layerStore`), the same pure transitions apply to one state that every replica
 *   shares, committed with a compare-and-set, so replicas open, probe and close together; each replica
 *   publishes the transitions it observes. Without one, the state stays in memory at no extra cost.
 * - **Probe slots always come back.** A probe that is interrupted, or ends in a way that proves
 *   nothing (a defect, an inner guard's rejection), frees its slot for the next caller; a probe that
 *   hangs is timed out by `maxWait`. The breaker cannot sit in half-open with no slot forever.
 *
 * What counts: by default only outages ({@link isOutage}: `Unavailable`, and a `Timeout` of one
 * attempt) are failures. Successes and every other error count as successes: the downstream answered.
 * That includes a provider's `RateLimited` (a 429 is the provider answering and telling us to slow
 * down: the retry, the gate and the limiter own it; counting it turned a 2 s throttle into about 306
 * rejected calls after the provider had recovered, and Envoy's outlier detection does not count 429
 * either) and a `Timeout` of the whole call (the caller's own deadline ran out: a few impatient callers
 * must not open a breaker every caller shares). Calls that prove nothing are ignored: an inner guard's
 * rejection (`CircuitOpen`, `BulkheadFull`, a local limiter's or gate's `RateLimited`), a defect, an
 * interruption. `isFailure` overrides the first rule (`isFailure: Errors.isTransient` counts every
 * transient error, as before 0.1.0).
 *
 * @since 0.1.0
 */
import type * as Context from "effect/Context"
import type * as DateTime from "effect/DateTime"
import type * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import type * as Layer from "effect/Layer"
import type * as Schedule from "effect/Schedule"
import type * as Schema from "effect/Schema"
import type * as Scope from "effect/Scope"
import type * as Stream from "effect/Stream"
import type { CircuitOpen, InvalidOptions, Timeout, Unavailable } from "./Errors.js"
import * as internal from "./internal/circuitBreaker.js"
import * as policies from "./internal/circuitBreaker/policy.js"
import * as store from "./internal/circuitBreaker/store.js"

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
 * A circuit breaker for one downstream. Build it with {@link make} (or {@link layer} for your own
 * tag) and guard effects with {@link protect}.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const breaker = yield* CircuitBreaker.make({ name: "payments" })
 *   const charge = Effect.succeed("ch_1").pipe(CircuitBreaker.protect(breaker))
 *   yield* charge
 *   return yield* breaker.state // "closed"
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface CircuitBreaker {
  readonly [TypeId]: TypeId
  /** The name used in errors, logs, metrics and state changes. */
  readonly name: string
  /** Runs `self` if the breaker admits it, else fails with `CircuitOpen` without running it. */
  readonly protect: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CircuitOpen, R>
  /** The current state, after any transition the passage of time implies. */
  readonly state: Effect.Effect<State>
  /** Every transition from the moment the stream is run, each exactly once, in order. */
  readonly changes: Stream.Stream<StateChange>
  /** Counts and rates for a health endpoint. */
  readonly snapshot: Effect.Effect<Snapshot>
  /** Opens the breaker until {@link CircuitBreaker.reset}: every call is rejected with reason `"isolated"`. */
  readonly isolate: Effect.Effect<void>
  /** Closes the breaker, forgets its counts and restarts the `openFor` schedule. */
  readonly reset: Effect.Effect<void>
  /** The breaker's state as plain JSON (see {@link Exported}), to persist and restore elsewhere. */
  readonly exportState: Effect.Effect<Exported>
  /** Adopts an exported state. Fails when it was exported by a breaker with another policy. */
  readonly restore: (exported: Exported) => Effect.Effect<void, InvalidOptions>
}

/**
 * @since 0.1.0
 * @category models
 */
export declare namespace CircuitBreaker {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Options {
    /** Name used in `CircuitOpen`, logs, metrics (tag `breaker`) and state changes. Defaults to `"circuit-breaker"` (to the tag's key in `layer`). */
    readonly name?: string | undefined
    /** When the breaker trips. Defaults to `consecutive(5)`. */
    readonly policy?: Policy<any> | undefined
    /**
     * How long the breaker stays open: a duration (at most 24 days), or a `Schedule` whose outputs are
     * the successive break durations (e.g. `Backoff.exponential(...)`), restarted when the breaker
     * closes. Once a finite schedule is done its last delay repeats (`Schedule.fromDelays("1 second",
     * "2 seconds")` breaks for 1 s, 2 s, 2 s, ...); a break the schedule makes longer than 24 days, the
     * longest timer, is cut to 24 days. Defaults to `"30 seconds"`.
     */
    readonly openFor?: Duration.DurationInput | Schedule.Schedule<Duration.Duration, unknown> | undefined
    /**
     * The longest break a failure's `retryAfter` hint may impose: a hint longer than `openFor` lengthens
     * the break up to this. Defaults to `"1 minute"` (`Backoff.defaultMaxRetryAfter`, shared by every module).
     */
    readonly maxRetryAfter?: Duration.DurationInput | undefined
    /** Half-open behaviour. Defaults to `{ probes: 1 }`. */
    readonly halfOpen?: HalfOpenOptions | undefined
    /**
     * Which errors count as failures; any other error counts as a success (the downstream answered).
     * Extend the default with `(e) => CircuitBreaker.isOutage(e) || isMine(e)`; `Errors.isTransient`
     * also counts a provider's `RateLimited` and a total `Timeout`. Defaults to {@link isOutage}.
     */
    readonly isFailure?: ((error: unknown) => boolean) | undefined
    /**
     * A state exported by {@link CircuitBreaker.exportState} to start from. With a shared {@link Store},
     * only this replica's fallback breaker starts from it (use `breaker.restore` to write it to the
     * shared state). Defaults to a closed breaker.
     */
    readonly restore?: Exported | undefined
    /**
     * With a shared {@link Store} in the context: what the breaker does while the store does not answer.
     * `"local"` goes on with this replica's own breaker, from the last shared state it saw; `"allow"`
     * lets every call through; `"reject"` rejects every call (`CircuitOpen`, reason `"open"`). One
     * warning per outage. Ignored without a store. Defaults to `"local"`.
     */
    readonly onStoreError?: "local" | "allow" | "reject" | undefined
  }

  /**
   * @since 0.1.0
   * @category models
   */
  export interface HalfOpenOptions {
    /**
     * How many probe calls run in half-open; all must succeed to close. Every other call is
     * rejected at once with reason `"half-open-full"`. Defaults to `1`.
     */
    readonly probes?: number | undefined
    /**
     * How long a probe may run before the breaker gives up on it and opens again (its late outcome
     * is ignored). Defaults to the current break duration, and at least 1 second (a zero or
     * jittered-tiny break would otherwise call every probe hung).
     */
    readonly maxWait?: Duration.DurationInput | undefined
  }

  /**
   * @since 0.1.0
   * @category models
   */
  export interface KeyedOptions<K> extends Options {
    /** How long a key's breaker lives after its last call ends (or its last `get` scope closes). Required. */
    readonly idleTimeToLive: Duration.DurationInput
    /** The name of a key's breaker. Defaults to `` `${name}/${String(key)}` ``. */
    readonly nameOf?: ((key: K) => string) | undefined
  }

  /**
   * @since 0.1.0
   * @category models
   */
  export interface FailureRateOptions {
    /** The failure rate in (0, 1] at or above which the breaker opens. Required. */
    readonly threshold: number
    /**
     * `{ calls: 100 }` is a count window (the last 100 calls); a duration (`"30 seconds"`, `Duration`) is
     * a time window, split in `buckets`. A bare number is refused: it reads as calls to some and as
     * milliseconds to others. Required.
     */
    readonly window: { readonly calls: number } | Exclude<Duration.DurationInput, number>
    /** Buckets of a time window; rejected with a count window. Defaults to `10`. */
    readonly buckets?: number | undefined
    /** Calls in the window before any rate is judged. Defaults to the window size (count) or `10` (time). */
    readonly minimumThroughput?: number | undefined
    /**
     * Also open when the rate of calls slower than `slowerThan` reaches `threshold` (in (0, 1]).
     * A slow probe counts as a failed probe. Defaults to no slow-call rule.
     */
    readonly slowCall?: {
      readonly slowerThan: Duration.DurationInput
      readonly threshold: number
    } | undefined
  }
}

/**
 * @since 0.1.0
 * @category models
 */
export type State = "closed" | "open" | "half-open" | "isolated"

/**
 * Why a transition happened: the policy tripped on `"failures"` or `"slow-calls"`, a `"probe-failed"`
 * or a `"probe-hung"` past `maxWait`, the `"break-elapsed"`, all `"probes-succeeded"`, or an
 * operator's `"isolated"`, `"reset"` or `"restored"`.
 *
 * @since 0.1.0
 * @category models
 */
export type Why =
  | Trip
  | "break-elapsed"
  | "probe-failed"
  | "probe-hung"
  | "probes-succeeded"
  | "isolated"
  | "reset"
  | "restored"

/**
 * One transition of a breaker. `breakFor` is set when `to` is `"open"`.
 *
 * @since 0.1.0
 * @category models
 */
export interface StateChange {
  readonly breaker: string
  readonly from: State
  readonly to: State
  readonly when: DateTime.Utc
  readonly why: Why
  readonly breakFor?: Duration.Duration | undefined
}

/**
 * What a health endpoint shows. `calls`, `failures`, `slow` and the rates are over the policy's current
 * window (for `consecutive`, the current run of failures); `rejected` and `opens` count every rejection
 * and every opening since the breaker was made (they only grow: closing and `reset` keep them; a
 * restore adopts the exported counts; with a `Store`, `opens` is the shared record's count, which a
 * replica that writes a record forgotten at rest starts again from its own); `retryAfter` is the time until a probe may run, when the breaker
 * is open.
 *
 * @since 0.1.0
 * @category models
 */
export interface Snapshot {
  readonly breaker: string
  readonly state: State
  readonly since: DateTime.Utc
  readonly policy: string
  readonly calls: number
  readonly failures: number
  readonly slow: number
  readonly failureRate: number
  readonly slowRate: number
  readonly rejected: number
  readonly opens: number
  readonly probesInFlight: number
  readonly probesSucceeded: number
  readonly retryAfter?: Duration.Duration | undefined
}

/**
 * A breaker's state as plain JSON: what to persist (a KV store, a cache) and hand to `restore` or to
 * the `restore` option of {@link make}. Times are epoch milliseconds of the `Clock`.
 *
 * @since 0.1.0
 * @category models
 */
export const Exported: Schema.Schema<Exported> = internal.Exported

/**
 * @since 0.1.0
 * @category models
 */
export interface Exported {
  readonly version: 1
  readonly policy: string
  readonly state: State
  readonly since: number
  readonly until: number
  readonly breakMillis: number
  /** Openings in the breaker's life. */
  readonly opens: number
  /** Openings since the breaker last closed: where the `openFor` schedule resumes. */
  readonly streak: number
  readonly succeeded: number
  readonly rejected: number
  readonly books: unknown
}

/**
 * What a policy trips on.
 *
 * @since 0.1.0
 * @category models
 */
export type Trip = "failures" | "slow-calls"

/**
 * How a counted call ended: `failure` per `isFailure`, and how long it ran (milliseconds).
 *
 * @since 0.1.0
 * @category models
 */
export interface Outcome {
  readonly failure: boolean
  readonly millis: number
}

/**
 * A policy's answer to an outcome: its new state and, when the breaker must open, why.
 *
 * @since 0.1.0
 * @category models
 */
export interface Verdict<S> {
  readonly state: S
  readonly trip?: Trip | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface Stats {
  readonly calls: number
  readonly failures: number
  readonly slow: number
}

/**
 * When a breaker trips: a pure function of (state, outcome, now) over a state that is plain JSON
 * (`schema` encodes and decodes it for export and restore). The breaker keeps the state while closed,
 * restarts it from `initial` each time it closes, and asks `healthy` whether a probe passed.
 *
 * @example
 * ```ts
 * import { Schema } from "effect"
 * import type { CircuitBreaker } from "effect-resilience"
 *
 * // opens on the first failure slower than 5 seconds
 * const firstSlowFailure: CircuitBreaker.Policy<boolean> = {
 *   name: "firstSlowFailure",
 *   initial: false,
 *   schema: Schema.Boolean,
 *   record: (_, outcome) =>
 *     outcome.failure && outcome.millis > 5000 ? { state: true, trip: "failures" } : { state: false },
 *   healthy: (outcome) => !outcome.failure,
 *   stats: (state) => ({ calls: state ? 1 : 0, failures: state ? 1 : 0, slow: 0 })
 * }
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Policy<S> {
  /** Identifies the policy and its parameters; a restore checks it matches. */
  readonly name: string
  readonly initial: S
  readonly schema: Schema.Schema<S, any>
  readonly record: (state: S, outcome: Outcome, now: number) => Verdict<S>
  readonly healthy: (outcome: Outcome) => boolean
  readonly stats: (state: S, now: number) => Stats
}

/**
 * Opens after `failures` failures in a row; a success starts the count again.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "effect-resilience"
 *
 * const policy = CircuitBreaker.consecutive(5)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const consecutive: (failures: number) => Policy<number> = policies.consecutive

/**
 * Opens when the failure rate (or, with `slowCall`, the slow-call rate) over a window reaches its
 * threshold, once the window holds `minimumThroughput` calls. The window is the last N calls
 * (`{ calls: N }`), or a time span (a duration) split in buckets. Throws `InvalidOptions` for a
 * threshold outside (0, 1], a bare number as the window, a window or bucket count below 1, or a
 * `minimumThroughput` below 1 or above a count window.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "effect-resilience"
 *
 * const byCount = CircuitBreaker.failureRate({ threshold: 0.5, window: { calls: 20 }, minimumThroughput: 10 })
 * const byTime = CircuitBreaker.failureRate({
 *   threshold: 0.5,
 *   window: "30 seconds",
 *   minimumThroughput: 10,
 *   slowCall: { slowerThan: "2 seconds", threshold: 0.8 }
 * })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const failureRate: (options: CircuitBreaker.FailureRateOptions) => Policy<any> = policies.failureRate

/**
 * What a breaker counts as a failure by default: an outage, that is an `Unavailable` (5xx, connection
 * refused or reset, DNS) or a `Timeout` of one attempt (for a streamed answer also a `"first-byte"` or
 * `"idle"` one: a provider that stalls is failing). Not a provider's `RateLimited` (it answered, and
 * the retry, the gate and the limiter own a 429) and not a total `Timeout` (the caller's own deadline).
 * Extend it in the `isFailure` option.
 *
 * @example
 * ```ts
 * import { Predicate } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 *
 * // also count the provider's 429s
 * const breaker = CircuitBreaker.make({
 *   isFailure: (error) => CircuitBreaker.isOutage(error) || Predicate.isTagged(error, "RateLimited")
 * })
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isOutage: (u: unknown) => u is Unavailable | Timeout = internal.isOutage

/**
 * Builds a breaker that lives as long as the scope. Fails with `InvalidOptions` naming the option when
 * the options cannot work.
 *
 * @example
 * ```ts
 * import { Schedule } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 *
 * const breaker = CircuitBreaker.make({
 *   name: "storage",
 *   policy: CircuitBreaker.failureRate({ threshold: 0.5, window: "1 minute", minimumThroughput: 20 }),
 *   openFor: Schedule.exponential("10 seconds"),
 *   halfOpen: { probes: 3 }
 * }) // Effect<CircuitBreaker, InvalidOptions, Scope>
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const make: (options?: CircuitBreaker.Options) => Effect.Effect<CircuitBreaker, InvalidOptions, Scope.Scope> =
  internal.make

/**
 * A Layer that provides a breaker under your own tag: one tag per downstream. The name defaults to the
 * tag's key.
 *
 * @example
 * ```ts
 * import { Context } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 *
 * class PaymentsBreaker extends Context.Tag("app/PaymentsBreaker")<PaymentsBreaker, CircuitBreaker.CircuitBreaker>() {}
 *
 * const PaymentsBreakerLive = CircuitBreaker.layer(PaymentsBreaker, {
 *   policy: CircuitBreaker.failureRate({ threshold: 0.5, window: "30 seconds", minimumThroughput: 10 }),
 *   halfOpen: { probes: 3 }
 * }) // Layer<PaymentsBreaker, InvalidOptions>
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layer: <I>(
  tag: Context.Tag<I, CircuitBreaker>,
  options?: CircuitBreaker.Options
) => Layer.Layer<I, InvalidOptions> = internal.layer

/**
 * Guards an effect with a breaker, given as a value or as a tag. Adds `CircuitOpen` to the error
 * channel, and the tag to the requirements when given a tag. A rejected call never runs `self`.
 *
 * @example
 * ```ts
 * import { Context, Effect } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 * import type { Unavailable } from "effect-resilience/Errors"
 *
 * class AuthBreaker extends Context.Tag("app/AuthBreaker")<AuthBreaker, CircuitBreaker.CircuitBreaker>() {}
 * declare const introspect: (token: string) => Effect.Effect<{ readonly sub: string }, Unavailable>
 *
 * const validate = (token: string) =>
 *   introspect(token).pipe(
 *     CircuitBreaker.protect(AuthBreaker)
 *   ) // Effect<{ sub: string }, Unavailable | CircuitOpen, AuthBreaker>
 * ```
 *
 * @since 0.1.0
 * @category combinators
 */
export const protect: {
  (breaker: CircuitBreaker): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CircuitOpen, R>
  <I>(
    tag: Context.Tag<I, CircuitBreaker>
  ): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CircuitOpen, R | I>
  <A, E, R>(self: Effect.Effect<A, E, R>, breaker: CircuitBreaker): Effect.Effect<A, E | CircuitOpen, R>
  <A, E, R, I>(
    self: Effect.Effect<A, E, R>,
    tag: Context.Tag<I, CircuitBreaker>
  ): Effect.Effect<A, E | CircuitOpen, R | I>
} = internal.protect

/**
 * Whether `u` is a {@link CircuitBreaker}.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "effect-resilience"
 *
 * CircuitBreaker.isCircuitBreaker({}) // false
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isCircuitBreaker: (u: unknown) => u is CircuitBreaker = internal.isCircuitBreaker

/**
 * A breaker per key (host, tenant, model), created on first use and evicted `idleTimeToLive` after
 * its last use (a key in use is never evicted; an open one stays until its break is over, and up to one
 * `idleTimeToLive` more; an isolated one until it is reset). Keys share one lock for transitions, one `changes`
 * stream and the metrics of `name` (no per-key metric tags, so cardinality stays bounded).
 *
 * An idle key costs about 400 bytes (measured at 100,000 keys): a key is an entry in one map, and a
 * single sweeper fiber per `keyed` evicts them all. A closed (or half-open) key is gone exactly at its
 * time to live (`keys` omits it, its next call gets a new, closed breaker); the sweeper frees its
 * memory at most half a time to live later. Keys are compared like JS `Map` keys: use strings or numbers, not structurally
 * equal objects.
 *
 * @since 0.1.0
 * @category models
 */
export interface Keyed<K> {
  /** The key's breaker, held (not evicted) for the scope, and kept `idleTimeToLive` after. */
  readonly get: (key: K) => Effect.Effect<CircuitBreaker, never, Scope.Scope>
  /** Guards `self` with the key's breaker. */
  readonly protect: {
    (key: K): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CircuitOpen, R>
    <A, E, R>(self: Effect.Effect<A, E, R>, key: K): Effect.Effect<A, E | CircuitOpen, R>
  }
  /** Transitions of every key's breaker. */
  readonly changes: Stream.Stream<StateChange>
  /** The keys that currently have a breaker. */
  readonly keys: Effect.Effect<Array<K>>
}

/**
 * Builds keyed breakers: every key gets its own breaker with the same options.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 *
 * const program = Effect.gen(function*() {
 *   const perHost = yield* CircuitBreaker.keyed<string>({ name: "hosts", idleTimeToLive: "10 minutes" })
 *   return yield* Effect.succeed("ok").pipe(perHost.protect("api.example.com"))
 * }).pipe(Effect.scoped)
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const keyed: <K = string>(
  options: CircuitBreaker.KeyedOptions<K>
) => Effect.Effect<Keyed<K>, InvalidOptions, Scope.Scope> = internal.keyed

/**
 * A Layer that provides keyed breakers under your own tag.
 *
 * @example
 * ```ts
 * import { Context } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 *
 * class TenantBreakers extends Context.Tag("app/TenantBreakers")<TenantBreakers, CircuitBreaker.Keyed<string>>() {}
 *
 * const TenantBreakersLive = CircuitBreaker.layerKeyed(TenantBreakers, { idleTimeToLive: "15 minutes" })
 * ```
 *
 * @since 0.1.0
 * @category layers
 */
export const layerKeyed: <I, K>(
  tag: Context.Tag<I, Keyed<K>>,
  options: CircuitBreaker.KeyedOptions<K>
) => Layer.Layer<I, InvalidOptions> = internal.layerKeyed

/**
 * Where breakers keep their state when replicas share it. Provide one (e.g.
 * `CircuitBreakerRedis.layerStore`) to the layer or scope that builds a breaker, and the breaker keeps
 * its core there instead of in memory: every replica applies its admissions and outcomes to one core,
 * so they open, probe and close together. Without a store in the context, breakers stay in memory
 * (the default; no extra cost).
 *
 * A store is one compare-and-set over opaque records: `sync` replaces the record under `key` with
 * `write.record` (and its version with `write.version`) only if the record's version is `version`
 * (0: no record), and answers `committed: true`; without `write`, it only checks the version.
 * On a mismatch it changes nothing and answers the record it holds (`record` undefined and
 * `version` 0 when there is none). A written record may be forgotten once it has been at rest
 * (`pendingMillis` past the write, plus the store's own grace); `pendingMillis` undefined means keep
 * it. Failures are {@link StoreError}s.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 *
 * // a single-process store, e.g. for tests: one Map of records
 * const records = new Map<string, { version: number; record: string }>()
 * const store: CircuitBreaker.Store = {
 *   sync: ({ key, version, write }) =>
 *     Effect.sync((): CircuitBreaker.Store.Response => {
 *       const held = records.get(key)
 *       if ((held?.version ?? 0) !== version) {
 *         return { committed: false, version: held?.version ?? 0, record: held?.record }
 *       }
 *       if (write !== undefined) records.set(key, { version: write.version, record: write.record })
 *       return { committed: true }
 *     })
 * }
 * const breaker = CircuitBreaker.make({ name: "payments" }).pipe(Effect.provideService(CircuitBreaker.Store, store))
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export interface Store {
  readonly sync: (request: Store.Request) => Effect.Effect<Store.Response, StoreError>
}

/**
 * @since 0.1.0
 * @category models
 */
export declare namespace Store {
  /**
   * @since 0.1.0
   * @category models
   */
  export interface Request {
    readonly key: string
    /** The version the caller last saw; 0 for no record. */
    readonly version: number
    /** The replacement, if any: a larger version, the record, and how long it holds something pending. */
    readonly write?: {
      readonly version: number
      readonly record: string
      readonly pendingMillis: number | undefined
    } | undefined
  }

  /**
   * @since 0.1.0
   * @category models
   */
  export type Response =
    | { readonly committed: true }
    | { readonly committed: false; readonly version: number; readonly record: string | undefined }
}

/**
 * The tag under which a breaker finds its {@link Store}. Optional: breakers built without it in the
 * context keep their state in memory.
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { CircuitBreaker } from "effect-resilience"
 *
 * const shared = Effect.serviceOption(CircuitBreaker.Store) // Effect<Option<Store>>
 * ```
 *
 * @since 0.1.0
 * @category models
 */
export const Store: Context.Tag<Store, Store> = store.Store

/**
 * A {@link Store} operation that failed (Redis unreachable, a timeout). It never reaches a caller: the
 * breaker applies its `onStoreError` instead.
 *
 * @example
 * ```ts
 * import { CircuitBreaker } from "effect-resilience"
 *
 * const error = new CircuitBreaker.StoreError({ operation: "read the breaker" })
 * error.message // "the circuit breaker store could not read the breaker"
 * ```
 *
 * @since 0.1.0
 * @category errors
 */
export const StoreError: typeof store.StoreError = store.StoreError

/**
 * @since 0.1.0
 * @category errors
 */
export type StoreError = store.StoreError
