import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import { dual } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as MetricKey from "effect/MetricKey"
import type * as MetricKeyType from "effect/MetricKeyType"
import * as MetricLabel from "effect/MetricLabel"
import type * as MetricState from "effect/MetricState"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as PubSub from "effect/PubSub"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as Schema from "effect/Schema"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as api from "../CircuitBreaker.js"
import type { Outcome } from "../CircuitBreaker.js"
import type { Timeout, Unavailable } from "../Errors.js"
import { CircuitOpen, InvalidOptions, isRejected, retryAfterOf } from "../Errors.js"
import * as machine from "./circuitBreaker/machine.js"
import { checked, consecutive } from "./circuitBreaker/policy.js"
import * as replicated from "./circuitBreaker/replicated.js"
import { Store } from "./circuitBreaker/store.js"
import * as healthChecks from "./health/checks.js"
import { Registry as HealthRegistry, whenRegistry } from "./health/registry.js"
import * as FiberNow from "./fiberNow.js"
import * as keyedMap from "./keyedMap.js"
import { onExitMasked } from "./onExitMasked.js"
import * as options from "./options.js"
import { storeKeyOf } from "./storeKey.js"

export const TypeId: api.TypeId = Symbol.for("effect-resilience/CircuitBreaker") as api.TypeId

export const isCircuitBreaker = (u: unknown): u is api.CircuitBreaker => Predicate.hasProperty(u, TypeId)

export const isOutage = (u: unknown): u is Unavailable | Timeout =>
  Predicate.isTagged(u, "Unavailable") ||
  (Predicate.isTagged(u, "Timeout") && Predicate.hasProperty(u, "scope") && u.scope !== "total")

/** A local limiter's or gate's refusal: like an inner guard's rejection, the downstream never saw the call. */
const isLocalRefusal = (u: unknown): boolean =>
  Predicate.isTagged(u, "RateLimited") && Predicate.hasProperty(u, "reason") && u.reason === "local"

const defaults = {
  name: "circuit-breaker",
  openFor: "30 seconds",
  maxRetryAfter: options.defaultMaxRetryAfter,
  probes: 1
} as const

// -----------------------------------------------------------------------------
// options
// -----------------------------------------------------------------------------

interface Cursor {
  readonly state: unknown
  /** The last break the schedule gave; undefined before its first step. */
  readonly last: number | undefined
  readonly done: boolean
}

interface Resolved {
  readonly name: string
  readonly config: machine.Config<any>
  readonly isFailure: (error: unknown) => boolean
  /** Set when `openFor` is a fixed duration; otherwise breaks come from `schedule`. */
  readonly fixed: machine.NextBreak | undefined
  readonly schedule: Schedule.Schedule<Duration.Duration, unknown> | undefined
  readonly restore: api.Exported | undefined
  readonly onStoreError: replicated.OnStoreError
}

const resolve = (module: string, opts: api.CircuitBreaker.Options, name: string): Resolved => {
  const check = (option: string): options.Check => ({ module, option })
  options.nonEmptyString(check("name"), name)
  const policy = opts.policy === undefined ? consecutive(5) : checked(module, opts.policy)
  const isFailure = options.orDefault(opts.isFailure, isOutage, (f) => options.fn(check("isFailure"), f))
  const probes = options.integerAtLeast(check("halfOpen.probes"), opts.halfOpen?.probes ?? defaults.probes, 1)
  const maxWait = opts.halfOpen?.maxWait === undefined
    ? undefined
    : Duration.toMillis(options.positiveDuration(check("halfOpen.maxWait"), opts.halfOpen.maxWait))
  const maxHint = Duration.toMillis(
    options.nonNegativeDuration(check("maxRetryAfter"), opts.maxRetryAfter ?? defaults.maxRetryAfter)
  )
  const openFor: unknown = opts.openFor === undefined ? defaults.openFor : opts.openFor
  const schedule = Schedule.isSchedule(openFor) ? openFor as Schedule.Schedule<Duration.Duration, unknown> : undefined
  if (schedule === undefined && Option.isNone(Duration.decodeUnknown(openFor))) {
    options.invalid(check("openFor"), openFor, "a duration (\"30 seconds\") or a Schedule of durations")
  }
  const fixed = schedule === undefined
    ? {
      millis: Duration.toMillis(options.nonNegativeDuration(check("openFor"), openFor as Duration.DurationInput)),
      schedule: undefined
    }
    : undefined
  const scheduleInitial: Cursor | undefined = schedule === undefined
    ? undefined
    : { state: schedule.initial, last: undefined, done: false }
  if (opts.restore !== undefined && Either.isLeft(decodeExported(opts.restore))) {
    options.invalid(check("restore"), "(not an exported breaker state)", "a value of CircuitBreaker.exportState")
  }
  return {
    name,
    config: { policy, probes, maxWait, maxHint, scheduleInitial },
    isFailure,
    fixed,
    schedule,
    restore: opts.restore,
    onStoreError: options.oneOf(check("onStoreError"), ["local", "allow", "reject"], opts.onStoreError, "local")
  }
}

// -----------------------------------------------------------------------------
// export / restore
// -----------------------------------------------------------------------------

const StateSchema = Schema.Literal("closed", "open", "half-open", "isolated")
const Count = Schema.Int.pipe(Schema.nonNegative())

export const Exported: Schema.Schema<api.Exported> = Schema.Struct({
  version: Schema.Literal(1),
  policy: Schema.String,
  state: StateSchema,
  since: Schema.Number,
  until: Schema.Number,
  breakMillis: Schema.Number.pipe(Schema.nonNegative()),
  opens: Count,
  streak: Count,
  succeeded: Count,
  rejected: Count,
  books: Schema.Unknown
})

/**
 * A state exported before `streak` existed kept `opens` for the openings since the breaker last
 * closed, which is what `streak` now holds: read it so, or an upgrade would refuse a saved state.
 */
const decodeExported = (input: unknown) =>
  Schema.decodeUnknownEither(Exported)(
    Predicate.isRecord(input) && !("streak" in input) ? { ...input, streak: input.opens } : input
  )

// -----------------------------------------------------------------------------
// shared parts of a breaker (one per make, one per keyed group)
// -----------------------------------------------------------------------------

type Counter = Metric.Metric<MetricKeyType.MetricKeyType.Counter<number>, number, MetricState.MetricState.Counter<number>>
type Gauge = Metric.Metric<MetricKeyType.MetricKeyType.Gauge<number>, number, MetricState.MetricState.Gauge<number>>

interface Shared {
  readonly resolved: Resolved
  readonly pubsub: PubSub.PubSub<api.StateChange>
  readonly lock: Effect.Semaphore
  readonly calls: Record<"success" | "failure" | "ignored" | "interrupted" | "rejected", Counter>
  readonly gauges: Record<api.State, Gauge>
  readonly keyed: boolean
}

/**
 * Metrics are built from a fully tagged `MetricKey`: `Metric.tagged` merges its tags on every update,
 * which costs a registry lookup per call, while a tagged key's hook is resolved once.
 */
const metricFor = <Type extends MetricKeyType.MetricKeyType<any, any>>(
  key: MetricKey.MetricKey<Type>,
  tags: Record<string, string>
) =>
  Metric.fromMetricKey(
    MetricKey.taggedWithLabels(key, Object.entries(tags).map(([k, v]) => MetricLabel.make(k, v)))
  )

const callsKey = MetricKey.counter("resilience_breaker_calls_total", {
  description: "Calls through a circuit breaker, by outcome (success, failure, ignored, interrupted, rejected)",
  incremental: true
})
const transitionsKey = MetricKey.counter("resilience_breaker_transitions_total", {
  description: "Circuit breaker state transitions, by from and to state",
  incremental: true
})
const stateKey = MetricKey.gauge("resilience_breaker_state", {
  description: "Circuit breakers in each state (1/0 for a single breaker, a count of keys for keyed breakers)"
})

const makeShared = (resolved: Resolved, keyed: boolean): Effect.Effect<Shared, never, Scope.Scope> =>
  Effect.gen(function*() {
    const pubsub = yield* Effect.acquireRelease(PubSub.unbounded<api.StateChange>(), PubSub.shutdown)
    const lock = yield* Effect.makeSemaphore(1)
    const tagged = (outcome: string) => metricFor(callsKey, { breaker: resolved.name, outcome })
    const gauge = (state: api.State) => metricFor(stateKey, { breaker: resolved.name, state })
    return {
      resolved,
      pubsub,
      lock,
      keyed,
      calls: {
        success: tagged("success"),
        failure: tagged("failure"),
        ignored: tagged("ignored"),
        interrupted: tagged("interrupted"),
        rejected: tagged("rejected")
      },
      gauges: {
        closed: gauge("closed"),
        open: gauge("open"),
        "half-open": gauge("half-open"),
        isolated: gauge("isolated")
      }
    }
  })

const moveGauge = (shared: Shared, from: api.State | undefined, to: api.State | undefined): Effect.Effect<void> =>
  Effect.zipRight(
    from === undefined ? Effect.void : Metric.incrementBy(shared.gauges[from], -1),
    to === undefined ? Effect.void : Metric.increment(shared.gauges[to])
  )

// -----------------------------------------------------------------------------
// the breaker
// -----------------------------------------------------------------------------

class BreakerImpl implements api.CircuitBreaker {
  readonly [TypeId]: api.TypeId = TypeId
  constructor(
    readonly shared: Shared,
    readonly name: string,
    /**
     * The whole state, an immutable value replaced by `transact` only. It is read and replaced inside
     * one synchronous `Effect.suspend` block, which no other fiber can interleave with: the same
     * guarantee as `Ref.modify`, one allocation less per key.
     */
    public core: machine.Core<any>
  ) {}

  /** Set when a `Store` keeps the core: events then go through it (see `replicated.ts`). */
  remote: replicated.Remote | undefined = undefined

  /**
   * Set when the breaker leaves its scope (or its key is evicted): its gauge share is gone, so a
   * transition caused later by a call still in flight moves no gauge and publishes nothing.
   */
  retired = false

  /**
   * The state the gauges count this breaker in. It trails `core.state` between a transition's
   * commit and its publication, so retiring subtracts what was really added.
   */
  counted: api.State | undefined = undefined

  /** Puts the breaker in the gauges, in its current state. */
  get enlist(): Effect.Effect<void> {
    return Effect.suspend(() => this.count(this.core.state))
  }

  /** Takes the breaker out of the gauges, once. */
  get retire(): Effect.Effect<void> {
    return Effect.suspend(() => {
      if (this.retired) return Effect.void
      this.retired = true
      return this.count(undefined)
    })
  }

  /** Moves this breaker's share of the gauges to `to`; decided synchronously, so it cannot race `retire`. */
  count(to: api.State | undefined): Effect.Effect<void> {
    const from = this.counted
    this.counted = to
    return moveGauge(this.shared, from, to)
  }

  get protect() {
    return <A, E, R>(self: Effect.Effect<A, E, R>) => protectWith(this, self)
  }
  get state(): Effect.Effect<api.State> {
    return Effect.map(observeNow(this), ([core]) => core.state)
  }
  get changes(): Stream.Stream<api.StateChange> {
    const changes = Stream.fromPubSub(this.shared.pubsub)
    return this.shared.keyed ? Stream.filter(changes, (change) => change.breaker === this.name) : changes
  }
  get snapshot(): Effect.Effect<api.Snapshot> {
    return Effect.map(observeNow(this), ([core, now]) => snapshotOf(this, core, now))
  }
  get isolate(): Effect.Effect<void> {
    return Effect.flatMap(
      Clock.currentTimeMillis,
      (now) => transact(this, now, undefined, (core) => machine.isolate(core, now))
    )
  }
  get reset(): Effect.Effect<void> {
    return Effect.flatMap(
      Clock.currentTimeMillis,
      (now) => transact(this, now, undefined, (core) => machine.reset(this.shared.resolved.config, core, now))
    )
  }
  get exportState(): Effect.Effect<api.Exported> {
    return this.remote === undefined
      ? Effect.sync(() => exportCore(this.shared.resolved, this.core))
      : Effect.map(observeNow(this), ([core]) => exportCore(this.shared.resolved, core))
  }
  restore(exported: api.Exported): Effect.Effect<void, InvalidOptions> {
    return Effect.flatMap(Clock.currentTimeMillis, (now) =>
      Effect.flatMap(
        importCore(this.shared.resolved, exported, now, "CircuitBreaker.restore"),
        (restored) => transact(this, now, undefined, (core) => machine.restore(core, restored, now))
      ))
  }
}

const observeNow = (breaker: BreakerImpl): Effect.Effect<readonly [machine.Core<any>, number]> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) =>
    Effect.map(
      transact(breaker, now, undefined, (core, next) => machine.observe(breaker.shared.resolved.config, core, now, next)),
      (core) => [core, now] as const
    ))

const snapshotOf = (breaker: BreakerImpl, core: machine.Core<any>, now: number): api.Snapshot => {
  const policy = breaker.shared.resolved.config.policy
  const stats = core.state === "closed" ? policy.stats(core.books, now) : policy.stats(policy.initial, now)
  const base: api.Snapshot = {
    breaker: breaker.name,
    state: core.state,
    since: DateTime.unsafeMake(core.since),
    policy: policy.name,
    calls: stats.calls,
    failures: stats.failures,
    slow: stats.slow,
    failureRate: stats.calls === 0 ? 0 : stats.failures / stats.calls,
    slowRate: stats.calls === 0 ? 0 : stats.slow / stats.calls,
    rejected: core.rejected,
    opens: core.opens,
    probesInFlight: core.probes.length,
    probesSucceeded: core.succeeded
  }
  return core.state === "open" ? { ...base, retryAfter: Duration.millis(core.until - now) } : base
}

const exportCore = (resolved: Resolved, core: machine.Core<any>): api.Exported => ({
  version: 1,
  policy: resolved.config.policy.name,
  state: core.state,
  since: core.since,
  until: core.until,
  breakMillis: core.breakMillis,
  opens: core.opens,
  streak: core.streak,
  succeeded: core.succeeded,
  rejected: core.rejected,
  books: Schema.encodeSync(resolved.config.policy.schema)(core.books)
})

const importCore = (
  resolved: Resolved,
  input: unknown,
  now: number,
  module: string
): Effect.Effect<machine.Core<any>, InvalidOptions> =>
  Effect.gen(function*() {
    const policy = resolved.config.policy
    const fail = (option: string, value: string, expected: string) =>
      new InvalidOptions({ module, option, value, expected })
    const exported = yield* Effect.mapError(
      decodeExported(input),
      () => fail("restore", "(not an exported breaker state)", "a value of CircuitBreaker.exportState")
    )
    if (exported.policy !== policy.name) {
      return yield* fail("restore.policy", JSON.stringify(exported.policy), `the breaker's policy ${policy.name}`)
    }
    const books = yield* Effect.mapError(
      Schema.decodeUnknownEither(policy.schema)(exported.books),
      () => fail("restore.books", JSON.stringify(exported.books), `a state of ${policy.name}`)
    )
    const schedule = yield* cursorAfter(resolved, exported.streak, now)
    return {
      state: exported.state,
      generation: 0,
      since: exported.since,
      books: exported.state === "closed" ? books : policy.initial,
      until: exported.until,
      breakMillis: exported.breakMillis,
      opens: exported.opens,
      streak: exported.streak,
      // saved under a larger probe count: one more success must still be possible, or no probe could run
      succeeded: Math.min(exported.succeeded, resolved.config.probes - 1),
      probes: [],
      nextProbe: 0,
      rejected: exported.rejected,
      schedule
    }
  })

/** The `openFor` schedule's state after `streak` openings in a row, for a core that did not keep it. */
const cursorAfter = (resolved: Resolved, streak: number, now: number): Effect.Effect<unknown> =>
  Effect.gen(function*() {
    let schedule = resolved.config.scheduleInitial
    if (resolved.schedule !== undefined) {
      for (let i = 0; i < streak; i++) {
        schedule = (yield* nextBreak(resolved.schedule, schedule as Cursor, now, undefined)).schedule
      }
    }
    return schedule
  })

const longestBreak = Duration.toMillis(options.longestTimer)

/**
 * The next break from the `openFor` schedule. The step that ends a schedule gives no delay (Effect's
 * repeat and retry do not sleep on it), so from then on the last delay repeats; only a schedule that
 * ends at its first step breaks for that step's output. A break is cut to the longest timer, like a
 * fixed `openFor`; an output that is no duration (an untyped caller's schedule) repeats the last break.
 */
const nextBreak = (
  schedule: Schedule.Schedule<Duration.Duration, unknown>,
  cursor: Cursor,
  now: number,
  input: unknown
): Effect.Effect<machine.NextBreak> =>
  cursor.done
    ? Effect.succeed({ millis: cursor.last ?? 0, schedule: cursor })
    : Effect.map(schedule.step(now, input, cursor.state), ([state, out, decision]) => {
      const done = ScheduleDecision.isDone(decision)
      const given = done && cursor.last !== undefined ? Option.none() : Duration.decodeUnknown(out)
      const millis = Option.match(given, {
        onNone: () => cursor.last ?? 0,
        onSome: (delay) => Math.min(Duration.toMillis(delay), longestBreak)
      })
      return { millis, schedule: { state, last: millis, done } }
    })

/**
 * Applies a pure transition atomically. The common case (no state change, or a change that is only
 * bookkeeping) is one synchronous read-and-replace. Anything that changes the state name goes through the slow path
 * under the group's lock, so transitions are published, logged and counted in the order they happen;
 * there the `openFor` schedule is stepped when the transition opens the breaker, and the result is
 * committed only if no other transition happened meanwhile (transitions are serialised by the lock,
 * so the schedule state read is still current when the transition commits).
 */
const transact = <A>(
  breaker: BreakerImpl,
  now: number,
  input: unknown,
  f: replicated.Transition<A>
): Effect.Effect<A> =>
  breaker.remote === undefined ? inMemory(breaker, now, input, f) : breaker.remote.transact(now, input, f)

const inMemory = <A>(
  breaker: BreakerImpl,
  now: number,
  input: unknown,
  f: replicated.Transition<A>
): Effect.Effect<A> =>
  Effect.suspend(() => {
    const value = applyQuiet(breaker, f)
    // Waiting for the lock may be interrupted; the commit and its publication may not, or a
    // transition could be saved and never published (the gauges would drift, `changes` skip it).
    return value === NotQuiet
      ? breaker.shared.lock.withPermits(1)(Effect.uninterruptible(slowPath(breaker, now, input, f, breaker.shared.resolved.fixed)))
      : Effect.succeed(value)
  })

const NotQuiet: unique symbol = Symbol.for("effect-resilience/CircuitBreaker/NotQuiet")

/**
 * Commits a transition of an in-memory breaker at once when it changes no state (the common case:
 * a closed breaker admitting or counting a call); returns `NotQuiet` when it needs `transact` (a
 * store, a state change to publish, a break to compute). Called from synchronous code, so no other
 * fiber can interleave between the read and the write.
 */
const applyQuiet = <A>(breaker: BreakerImpl, f: replicated.Transition<A>): A | typeof NotQuiet => {
  if (breaker.remote !== undefined) return NotQuiet
  const step = f(breaker.core, breaker.shared.resolved.fixed)
  if (step === machine.NeedBreak || step.changes.length > 0) return NotQuiet
  breaker.core = step.core
  return step.value
}

const slowPath = <A>(
  breaker: BreakerImpl,
  now: number,
  input: unknown,
  f: (core: machine.Core<any>, next: machine.NextBreak | undefined) => machine.Step<any, A> | machine.NeedBreak,
  next: machine.NextBreak | undefined
): Effect.Effect<A> =>
  Effect.suspend(() => {
    const step = f(breaker.core, next)
    if (step === machine.NeedBreak) {
      return Effect.flatMap(
        nextBreak(breaker.shared.resolved.schedule!, breaker.core.schedule as Cursor, now, input),
        (computed) => slowPath(breaker, now, input, f, computed)
      )
    }
    breaker.core = step.core
    return step.changes.length === 0 ? Effect.succeed(step.value) : Effect.as(publish(breaker, step.changes), step.value)
  })

const publish = (breaker: BreakerImpl, changes: ReadonlyArray<machine.Change>): Effect.Effect<void> =>
  Effect.forEach(changes, (change) => {
    const event: api.StateChange = change.breakMillis === undefined
      ? { breaker: breaker.name, from: change.from, to: change.to, when: DateTime.unsafeMake(change.when), why: change.why }
      : {
        breaker: breaker.name,
        from: change.from,
        to: change.to,
        when: DateTime.unsafeMake(change.when),
        why: change.why,
        breakFor: Duration.millis(change.breakMillis)
      }
    // A call still in flight when the breaker left its scope: its outcome is the caller's, so the
    // closed `changes` hub and the gauges it no longer counts in are left alone. Checked at each
    // step, since the scope may close between them.
    const whileLive = (effect: Effect.Effect<unknown>) => Effect.suspend(() => breaker.retired ? Effect.void : effect)
    return Effect.all([
      whileLive(PubSub.publish(breaker.shared.pubsub, event)),
      Metric.increment(
        metricFor(transitionsKey, { breaker: breaker.shared.resolved.name, from: change.from, to: change.to })
      ),
      whileLive(Effect.suspend(() => breaker.count(change.to))),
      logChange(event)
    ], { discard: true })
  }, { discard: true })

const logChange = (change: api.StateChange): Effect.Effect<void> => {
  const message = change.to === "open"
    ? `circuit breaker ${change.breaker} opened (${change.why}) for ${Duration.format(change.breakFor!)}`
    : change.to === "half-open"
    ? `circuit breaker ${change.breaker} is half-open: probing`
    : change.to === "closed"
    ? `circuit breaker ${change.breaker} closed (${change.why})`
    : `circuit breaker ${change.breaker} isolated`
  const log = change.to === "open" || change.to === "isolated" ? Effect.logWarning(message) : Effect.logInfo(message)
  return log.pipe(Effect.annotateLogs({ breaker: change.breaker, from: change.from, to: change.to, why: change.why }))
}

// -----------------------------------------------------------------------------
// protect
// -----------------------------------------------------------------------------

const isTicket = (admission: machine.Ticket | machine.Rejection): admission is machine.Ticket =>
  "generation" in admission

const protectWith = <A, E, R>(
  breaker: BreakerImpl,
  self: Effect.Effect<A, E, R>
): Effect.Effect<A, E | CircuitOpen, R> => {
  const config = breaker.shared.resolved.config
  // Admission and the registration of the exit handler happen in one uninterruptible region, so an
  // admitted call (a probe in particular) is settled however it ends, interruption included. The
  // clock is read once per event, synchronously; a quiet transition is committed, and counted,
  // without an effect of its own.
  return Effect.uninterruptibleMask((restore) => {
    const admit = (fiber: Fiber.RuntimeFiber<unknown, unknown>): Effect.Effect<A, E | CircuitOpen, R> => {
      const clock = FiberNow.clockOf(fiber)
      const now = clock.unsafeCurrentTimeMillis()
      const acquire: replicated.Transition<machine.Ticket | machine.Rejection> = (core, next) =>
        machine.acquire(config, core, now, next)
      const admitted = (admission: machine.Ticket | machine.Rejection): Effect.Effect<A, E | CircuitOpen, R> =>
        isTicket(admission)
          ? onExitMasked(restore(self), (exit) => settleWith(breaker, fiber, clock, admission, exit))
          : Effect.zipRight(Metric.increment(breaker.shared.calls.rejected), Effect.fail(rejectionOf(breaker, admission)))
      const admission = applyQuiet(breaker, acquire)
      return admission === NotQuiet ? Effect.flatMap(transact(breaker, now, undefined, acquire), admitted) : admitted(admission)
    }
    // The mask's callback runs in the caller's fiber, inside its run loop: that fiber is the current
    // one, and reading it here saves the step `withFiberRuntime` would take.
    const current = Fiber.getCurrentFiber()
    return Option.isSome(current) ? admit(current.value) : Effect.withFiberRuntime(admit)
  })
}

const rejectionOf = (breaker: BreakerImpl, rejection: machine.Rejection): CircuitOpen =>
  new CircuitOpen(
    rejection.retryAfter === undefined
      ? { breaker: breaker.name, reason: rejection.reason }
      : { breaker: breaker.name, reason: rejection.reason, retryAfter: Duration.millis(rejection.retryAfter) },
    true
  )

/**
 * Settles an admitted call. A quiet transition is committed and counted here and now (`undefined`);
 * anything else is the effect that commits it.
 */
const settleWith = (
  breaker: BreakerImpl,
  fiber: Fiber.RuntimeFiber<unknown, unknown>,
  clock: Clock.Clock,
  ticket: machine.Ticket,
  exit: Exit.Exit<unknown, unknown>
): Effect.Effect<void> | undefined => {
  const { calls, resolved } = breaker.shared
  const now = clock.unsafeCurrentTimeMillis()
  let outcome: Outcome | undefined = { failure: false, millis: now - ticket.startedAt }
  let hint: number | undefined
  let input: unknown
  let metric = calls.success
  // A user's `isFailure` that throws: the call is settled as ignored (so a probe's slot comes back),
  // then the throw surfaces as a defect of the call.
  let thrown: { readonly defect: unknown } | undefined
  if (Exit.isFailure(exit)) {
    const error = Cause.failureOption(exit.cause)
    if (Cause.isInterruptedOnly(exit.cause)) {
      outcome = undefined
      metric = calls.interrupted
    } else if (error._tag === "None" || isRejected(error.value) || isLocalRefusal(error.value)) {
      outcome = undefined
      metric = calls.ignored
    } else if (isFailure(resolved, error.value, (defect) => thrown = { defect })) {
      outcome = { failure: true, millis: outcome.millis }
      metric = calls.failure
      input = error.value
      const retryAfter = retryAfterOf(error.value)
      hint = retryAfter === undefined ? undefined : Duration.toMillis(retryAfter)
    } else if (thrown !== undefined) {
      outcome = undefined
      metric = calls.ignored
    }
  }
  const settle: replicated.Transition<void> = (core, next) =>
    machine.settle(resolved.config, core, ticket, outcome, hint, now, next)
  FiberNow.increment(fiber, metric)
  const committing = applyQuiet(breaker, settle) === NotQuiet ? transact(breaker, now, input, settle) : undefined
  if (thrown === undefined) return committing
  const die = Effect.die(thrown.defect)
  return committing === undefined ? die : Effect.zipRight(committing, die)
}

const isFailure = (resolved: Resolved, error: unknown, onThrow: (defect: unknown) => void): boolean => {
  try {
    return resolved.isFailure(error)
  } catch (defect) {
    onThrow(defect)
    return false
  }
}

export const protect: {
  (breaker: api.CircuitBreaker): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CircuitOpen, R>
  <I>(
    tag: Context.Tag<I, api.CircuitBreaker>
  ): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | CircuitOpen, R | I>
  <A, E, R>(self: Effect.Effect<A, E, R>, breaker: api.CircuitBreaker): Effect.Effect<A, E | CircuitOpen, R>
  <A, E, R, I>(
    self: Effect.Effect<A, E, R>,
    tag: Context.Tag<I, api.CircuitBreaker>
  ): Effect.Effect<A, E | CircuitOpen, R | I>
} = dual(
  2,
  <A, E, R, I>(
    self: Effect.Effect<A, E, R>,
    breaker: api.CircuitBreaker | Context.Tag<I, api.CircuitBreaker>
  ): Effect.Effect<A, E | CircuitOpen, R | I> =>
    isCircuitBreaker(breaker)
      ? breaker.protect(self)
      : Effect.flatMap(breaker, (b) => b.protect(self))
)

// -----------------------------------------------------------------------------
// constructors
// -----------------------------------------------------------------------------

/** With a `Store` in the context: the replication every breaker of `shared` attaches to. */
const replicationOf = (shared: Shared): Effect.Effect<replicated.Group<BreakerImpl> | undefined> =>
  Effect.map(Effect.serviceOption(Store), (store) => {
    if (Option.isNone(store)) return undefined
    const { resolved } = shared
    return replicated.makeGroup<BreakerImpl>(store.value, resolved.name, resolved.onStoreError, {
      config: resolved.config,
      fixed: resolved.fixed,
      lock: shared.lock,
      cursorAfter: (streak, now) => cursorAfter(resolved, streak, now),
      nextBreakAfter: (streak, now, input) =>
        Effect.flatMap(
          cursorAfter(resolved, streak, now),
          (cursor) => nextBreak(resolved.schedule!, cursor as Cursor, now, input)
        ),
      publish,
      local: inMemory
    })
  })

const makeBreaker = (
  shared: Shared,
  name: string,
  module: string,
  replication: replicated.Group<BreakerImpl> | undefined
): Effect.Effect<BreakerImpl, InvalidOptions> =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => {
    const { resolved } = shared
    const initial = resolved.restore === undefined
      ? Effect.succeed(machine.initial(resolved.config, now))
      : importCore(resolved, resolved.restore, now, module)
    return Effect.map(initial, (core) => {
      const breaker = new BreakerImpl(shared, name, core)
      // one record per breaker and policy: replicas running another policy never read each other's books
      if (replication !== undefined) breaker.remote = replication.attach(breaker, storeKeyOf(name, resolved.config.policy.name))
      return breaker
    })
  })

export const make = (opts: api.CircuitBreaker.Options = {}): Effect.Effect<
  api.CircuitBreaker,
  InvalidOptions,
  Scope.Scope
> => makeNamed("CircuitBreaker.make", opts, (o) => o.name ?? defaults.name)

const makeNamed = (module: string, opts: api.CircuitBreaker.Options, nameOf: (opts: api.CircuitBreaker.Options) => string) =>
  Effect.gen(function*() {
    const o = yield* options.validated(() => options.optionsObject({ module, option: "options" }, opts))
    const name = nameOf(o)
    const resolved = yield* options.validated(() => resolve(module, o, name))
    const shared = yield* makeShared(resolved, false)
    const breaker = yield* makeBreaker(shared, name, module, yield* replicationOf(shared))
    yield* breaker.enlist
    yield* Effect.addFinalizer(() => breaker.retire)
    yield* whenRegistry(healthChecks.breaker(breaker))
    return breaker as api.CircuitBreaker
  })

export const layer = <I>(
  tag: Context.Tag<I, api.CircuitBreaker>,
  opts: api.CircuitBreaker.Options = {}
): Layer.Layer<I, InvalidOptions> => Layer.scoped(tag, makeNamed("CircuitBreaker.layer", opts, (o) => o.name ?? tag.key))

export const keyed = <K = string>(
  opts: api.CircuitBreaker.KeyedOptions<K>
): Effect.Effect<api.Keyed<K>, InvalidOptions, Scope.Scope> => keyedAs("CircuitBreaker.keyed", opts)

const keyedAs = <K>(
  module: string,
  opts: api.CircuitBreaker.KeyedOptions<K>
): Effect.Effect<api.Keyed<K>, InvalidOptions, Scope.Scope> =>
  Effect.gen(function*() {
    yield* options.validated(() => options.optionsObject({ module, option: "options" }, opts))
    const name = opts.name ?? defaults.name
    if (opts.restore !== undefined) {
      return yield* new InvalidOptions({
        module,
        option: "restore",
        value: "(an exported state)",
        expected: "unset for keyed breakers (restore one key with get(key) and restore)"
      })
    }
    const resolved = yield* options.validated(() => resolve(module, opts, name))
    const idleTimeToLive = yield* options.validated(() =>
      options.positiveDuration({ module, option: "idleTimeToLive" }, opts.idleTimeToLive)
    )
    const nameOf = yield* options.validated(() =>
      options.orDefault(
        opts.nameOf,
        (key: K) => `${name}/${String(key)}`,
        (f) => options.fn({ module, option: "nameOf" }, f)
      )
    )
    const shared = yield* makeShared(resolved, true)
    const replication = yield* replicationOf(shared)
    // With a Health registry only: the live keys' breakers, for their snapshots (peeking through the
    // map would keep idle keys alive).
    const live = Option.isSome(yield* Effect.serviceOption(HealthRegistry)) ? new Set<BreakerImpl>() : undefined
    // The gauge follows each key's breaker: +1 in its state when built, -1 in its state when evicted.
    const map = yield* keyedMap.make<K, BreakerImpl>({
      lookup: (key) =>
        Effect.tap(Effect.orDie(makeBreaker(shared, nameOf(key), module, replication)), (breaker) => {
          live?.add(breaker)
          return breaker.enlist
        }),
      release: (breaker) => {
        live?.delete(breaker)
        return breaker.retire
      },
      // An idle key whose breaker is open or isolated keeps it: evicted, the key's next call would find a
      // fresh closed breaker and call the provider during the break, or after an operator's isolate.
      keep: (breaker, now) =>
        breaker.core.state === "isolated" || (breaker.core.state === "open" && breaker.core.until > now),
      idleTimeToLive
    })
    if (live !== undefined) {
      yield* whenRegistry(
        healthChecks.keyedBreakers(name, Effect.suspend(() => Effect.forEach(live, (breaker) => breaker.snapshot)))
      )
    }
    const protectKey: api.Keyed<K>["protect"] = dual(
      2,
      <A, E, R>(self: Effect.Effect<A, E, R>, key: K): Effect.Effect<A, E | CircuitOpen, R> =>
        map.use(key, (breaker) => protectWith(breaker, self))
    )
    return {
      get: map.get,
      protect: protectKey,
      changes: Stream.fromPubSub(shared.pubsub),
      keys: map.keys
    } satisfies api.Keyed<K>
  })

export const layerKeyed = <I, K>(
  tag: Context.Tag<I, api.Keyed<K>>,
  opts: api.CircuitBreaker.KeyedOptions<K>
): Layer.Layer<I, InvalidOptions> => Layer.scoped(tag, keyedAs("CircuitBreaker.layerKeyed", opts))
