import type * as Cause from "effect/Cause"
import type * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import { dual } from "effect/Function"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Scope from "effect/Scope"
import * as Tracer from "effect/Tracer"
import type * as Api from "../Bulkhead.js"
import { BulkheadFull, type InvalidOptions } from "../Errors.js"
import { Waiter, WaiterQueue } from "./bulkheadQueue.js"
import * as healthChecks from "./health/checks.js"
import { whenRegistry } from "./health/registry.js"
import * as keyedMap from "./keyedMap.js"
import { onExitMasked } from "./onExitMasked.js"
import * as options from "./options.js"

/** @internal */
export const TypeId: Api.TypeId = Symbol.for("effect-resilience/Bulkhead") as Api.TypeId

/** @internal */
export const metrics = {
  active: Metric.gauge("resilience_bulkhead_active", {
    description: "Calls running inside the bulkhead"
  }),
  queued: Metric.gauge("resilience_bulkhead_queued", {
    description: "Calls waiting in the bulkhead's queue for a slot"
  }),
  rejected: Metric.counter("resilience_bulkhead_rejected_total", {
    description: "Calls the bulkhead refused, by reason (queue-full, queue-timeout)",
    incremental: true
  })
}

type Reason = BulkheadFull["reason"]

interface Config {
  readonly name: string
  readonly maxConcurrent: number
  readonly maxQueued: number
  /** Millis, or undefined for no queue timeout. */
  readonly queueTimeout: number | undefined
}

const defaults = {
  maxQueued: 0
} as const

const validate = (module: string, input: Api.Bulkhead.Options): Config => {
  const check = (option: string): options.Check => ({ module, option })
  options.optionsObject(check("options"), input)
  return {
    name: options.nonEmptyString(check("name"), input.name),
    maxConcurrent: options.integerAtLeast(check("maxConcurrent"), input.maxConcurrent, 1),
    maxQueued: options.integerAtLeast(check("maxQueued"), input.maxQueued ?? defaults.maxQueued, 0),
    queueTimeout: input.queueTimeout === undefined
      ? undefined
      : Duration.toMillis(options.positiveDuration(check("queueTimeout"), input.queueTimeout))
  }
}

/**
 * The metric series a bulkhead reports to: its own, or for a keyed bulkhead the group's, shared by
 * every key. Effect's metric registry never forgets a series, so a series per tenant key would grow
 * with every key ever seen; the group's totals (active and queued summed over the live keys) do not.
 */
class Series {
  active = 0
  queued = 0
  // One array per series, reused on every update: `Metric.unsafeUpdate` caches its hook by the
  // identity of the label array, so this keeps the metrics off the registry lookup path.
  readonly reasonLabels: Record<Reason, ReadonlyArray<MetricLabel.MetricLabel>>

  constructor(readonly labels: ReadonlyArray<MetricLabel.MetricLabel>) {
    this.reasonLabels = {
      "queue-full": [...labels, MetricLabel.make("reason", "queue-full")],
      "queue-timeout": [...labels, MetricLabel.make("reason", "queue-timeout")]
    }
    metrics.active.unsafeUpdate(0, labels)
    metrics.queued.unsafeUpdate(0, labels)
    metrics.rejected.unsafeUpdate(0, this.reasonLabels["queue-full"])
    metrics.rejected.unsafeUpdate(0, this.reasonLabels["queue-timeout"])
  }

  addActive(delta: number): void {
    this.active += delta
    metrics.active.unsafeUpdate(this.active, this.labels)
  }

  addQueued(delta: number): void {
    this.queued += delta
    metrics.queued.unsafeUpdate(this.queued, this.labels)
  }

  reject(reason: Reason): void {
    metrics.rejected.unsafeUpdate(1, this.reasonLabels[reason])
  }
}

/**
 * The state of one bulkhead. Every method below runs synchronously, so each one is atomic with
 * respect to every other fiber; the comments give the invariants the races rely on.
 *
 * Invariant: a non-empty queue implies `active === maxConcurrent`. A waiter is only queued when every
 * slot is taken, and a release with waiters hands its slot to the head instead of freeing it, so
 * `active < maxConcurrent` (the fast path) is only ever seen with an empty queue: a newcomer can never
 * overtake a waiter (FIFO, no barging).
 */
class BulkheadState {
  active = 0
  rejected = 0
  /** Whether the bulkhead has rejected a call since it last had a free slot (for the state-change log). */
  saturated = false
  rejectedWhenSaturated = 0
  readonly queue = new WaiterQueue()
  /** Resumes the reaper when it is parked on an empty queue. */
  wakeReaper: (() => void) | undefined = undefined
  /** The queue length last reported to the series. */
  reportedQueued = 0
  /** Gives the slot back now; anything left to do (a log line) is the effect returned. */
  readonly release: () => Effect.Effect<void> | undefined
  /** The `Bulkhead` value over this state, made on first `get` (a keyed bulkhead's calls need none). */
  api: Api.Bulkhead | undefined = undefined
  /** A keyed bulkhead's scope for the key's reaper; closed when the key is evicted. */
  scope: Scope.CloseableScope | undefined = undefined

  // Fields kept to what every call needs: an idle key of a keyed bulkhead is one of these.
  constructor(
    readonly config: Config,
    readonly series: Series,
    readonly clock: Clock.Clock
  ) {
    this.release = () => this.releaseNow()
  }

  get stats(): Effect.Effect<Api.Bulkhead.Stats> {
    return Effect.sync(() => ({
      active: this.active,
      queued: this.queue.length,
      rejected: this.rejected,
      maxConcurrent: this.config.maxConcurrent,
      maxQueued: this.config.maxQueued
    }))
  }

  protect<A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | BulkheadFull, R> {
    // Uninterruptible between taking a slot and installing its release; only the wait and `self`
    // run interruptibly (`restore`).
    return Effect.uninterruptibleMask((restore) => {
      if (this.active < this.config.maxConcurrent) {
        this.setActive(this.active + 1)
        return onExitMasked(restore(self), this.release)
      }
      if (this.queue.length >= this.config.maxQueued) return this.reject("queue-full")
      const waiter = new Waiter()
      const wait = Effect.async<void, BulkheadFull>((resume) => this.enter(waiter, resume))
      // Time in the queue is what a trace should show, so a waiting caller that is traced gets a
      // child span; untraced callers do not pay for a root span nobody will look at.
      const traced = Effect.contextWithEffect((context: Context.Context<never>) =>
        Option.isSome(Context.getOption(context, Tracer.ParentSpan))
          ? Effect.withSpan(wait, "Bulkhead.wait", { attributes: { "bulkhead.name": this.config.name } })
          : wait
      )
      return Effect.matchCauseEffect(restore(traced), {
        onFailure: (cause) => this.abandon(waiter, cause),
        // The slot is ours from the moment of the grant; the exit handler takes over its release.
        onSuccess: () => onExitMasked(restore(self), this.release)
      })
    })
  }

  /**
   * Runs when the fiber reaches the wait. The fiber may have yielded since `protect` looked at the
   * state, so decide again from scratch: this is the one place a waiter is queued.
   */
  enter(waiter: Waiter, resume: (effect: Effect.Effect<void, BulkheadFull>) => void): void {
    if (this.active < this.config.maxConcurrent) {
      // A slot came free in between; by the invariant the queue is empty, so taking it is fair.
      this.setActive(this.active + 1)
      waiter.status = "granted"
      return resume(Effect.void)
    }
    if (this.queue.length >= this.config.maxQueued) {
      waiter.status = "rejected"
      return resume(this.reject("queue-full"))
    }
    waiter.status = "queued"
    waiter.resume = resume
    if (this.config.queueTimeout !== undefined) {
      waiter.deadline = this.clock.unsafeCurrentTimeMillis() + this.config.queueTimeout
    }
    this.queue.push(waiter)
    this.setQueued()
    if (this.wakeReaper !== undefined) {
      const wake = this.wakeReaper
      this.wakeReaper = undefined
      wake()
    }
  }

  /**
   * The wait ended without running `self`: interrupted, timed out or rejected. The status, not the
   * timing, says what the fiber owns, so every interleaving of grant, timeout and interruption ends
   * with the slot accounted for:
   * - "queued": interrupted while waiting; leave the queue, so no release can hand it a slot later.
   * - "granted": a release handed this fiber the slot in the same instant it was interrupted (or the
   *   interruption was processed before the resumption). Nobody else will release that slot, so pass
   *   it on to the next waiter now.
   * - anything else: it never held a slot nor a queue place.
   */
  abandon(waiter: Waiter, cause: Cause.Cause<BulkheadFull>): Effect.Effect<never, BulkheadFull> {
    switch (waiter.status) {
      case "queued": {
        waiter.status = "left"
        this.queue.remove(waiter)
        this.setQueued()
        return Effect.failCause(cause)
      }
      case "granted": {
        waiter.status = "left"
        const logging = this.releaseNow()
        return logging === undefined ? Effect.failCause(cause) : Effect.zipRight(logging, Effect.failCause(cause))
      }
      default:
        return Effect.failCause(cause)
    }
  }

  releaseNow(): Effect.Effect<void> | undefined {
    const next = this.queue.shift()
    if (next !== undefined) {
      // Hand the slot straight to the oldest waiter: `active` does not change, so a caller arriving
      // before that fiber resumes still finds the bulkhead full and cannot take the slot first.
      next.status = "granted"
      this.setQueued()
      next.resume(Effect.void)
      return Effect.void
    }
    this.setActive(this.active - 1)
    if (this.saturated) {
      this.saturated = false
      return this.log(
        "Info",
        `bulkhead ${this.config.name} has a free slot again (rejected ${
          this.rejected - this.rejectedWhenSaturated
        } calls while full)`
      )
    }
    return Effect.void
  }

  reject(reason: Reason): Effect.Effect<never, BulkheadFull> {
    this.rejected++
    this.series.reject(reason)
    const error = Effect.fail(new BulkheadFull({ bulkhead: this.config.name, reason }))
    if (this.saturated) return error
    this.saturated = true
    this.rejectedWhenSaturated = this.rejected - 1
    const why = reason === "queue-full" ? "no free slot and no room in the queue" : "a call waited past the queue timeout"
    return Effect.zipRight(this.log("Warning", `bulkhead ${this.config.name} is full, rejecting calls: ${why}`), error)
  }

  /**
   * One step of the queue-timeout reaper. The timeout is the same for every waiter and the queue is
   * FIFO, so deadlines grow from head to tail: one fiber sleeping until the head's deadline replaces a
   * timer per waiter. A head that left early only makes the reaper wake once for nothing.
   */
  get reap(): Effect.Effect<void> {
    return Effect.suspend(() => this.reapStep())
  }

  reapStep(): Effect.Effect<void> {
    const head = this.queue.head
    if (head === undefined) {
      return Effect.async<void>((resume) => {
        this.wakeReaper = () => resume(Effect.void)
      })
    }
    const wait = head.deadline - this.clock.unsafeCurrentTimeMillis()
    if (wait > 0) return this.clock.sleep(Duration.millis(wait))
    // Removed from the queue in the same step that rejects it, so a release can no longer grant it.
    this.queue.shift()
    head.status = "expired"
    this.setQueued()
    head.resume(this.reject("queue-timeout"))
    return Effect.void
  }

  setActive(active: number): void {
    this.series.addActive(active - this.active)
    this.active = active
  }

  setQueued(): void {
    this.series.addQueued(this.queue.length - this.reportedQueued)
    this.reportedQueued = this.queue.length
  }

  log(level: "Info" | "Warning", message: string): Effect.Effect<void> {
    const line = level === "Info" ? Effect.logInfo(message) : Effect.logWarning(message)
    return Effect.annotateLogs(line, "bulkhead", this.config.name)
  }
}

const needsReaper = (config: Config): boolean => config.queueTimeout !== undefined && config.maxQueued > 0

/** A bulkhead's state; its queue-timeout reaper, when it needs one, is forked in the scope. */
const stateOf = (config: Config, series: Series): Effect.Effect<BulkheadState, never, Scope.Scope> =>
  Effect.flatMap(Effect.clock, (clock) => {
    const state = new BulkheadState(config, series, clock)
    return needsReaper(config)
      // Bound to the bulkhead's scope; interruptible even when built inside an uninterruptible Layer.
      ? Effect.as(Effect.forkScoped(Effect.interruptible(Effect.forever(state.reap))), state)
      : Effect.succeed(state)
  })

/** The `Bulkhead` value (a function with its name and stats) over a state, made once. */
const apiOf = (state: BulkheadState): Api.Bulkhead => {
  if (state.api !== undefined) return state.api
  const bulkhead = <A, E, R>(self: Effect.Effect<A, E, R>) => state.protect(self)
  state.api = Object.defineProperties(bulkhead, {
    [TypeId]: { value: TypeId },
    name: { value: state.config.name, enumerable: true },
    stats: { get: () => state.stats, enumerable: true }
  }) as unknown as Api.Bulkhead
  return state.api
}

const fromConfig = (config: Config, series: Series): Effect.Effect<Api.Bulkhead, never, Scope.Scope> =>
  Effect.map(stateOf(config, series), apiOf)

/** `module` is the function the user called, for the `InvalidOptions` it may fail with. */
const build = (module: string, input: Api.Bulkhead.Options): Effect.Effect<Api.Bulkhead, InvalidOptions, Scope.Scope> =>
  Effect.flatMap(
    options.validated(() => validate(module, input)),
    (config) =>
      Effect.tap(
        fromConfig(config, new Series([MetricLabel.make("bulkhead", config.name)])),
        (bulkhead) => whenRegistry(healthChecks.bulkhead(bulkhead))
      )
  )

/** @internal */
export const make = (input: Api.Bulkhead.Options): Effect.Effect<Api.Bulkhead, InvalidOptions, Scope.Scope> =>
  build("Bulkhead.make", input)

/** @internal */
export const layer = <I>(
  tag: Context.Tag<I, Api.Bulkhead>,
  input: Api.Bulkhead.Options
): Layer.Layer<I, InvalidOptions> => Layer.scoped(tag, build("Bulkhead.layer", input))

/** @internal */
export const isBulkhead = (u: unknown): u is Api.Bulkhead => Predicate.hasProperty(u, TypeId)

/** @internal */
export const protect: {
  (bulkhead: Api.Bulkhead): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E | BulkheadFull, R>
  <I>(tag: Context.Tag<I, Api.Bulkhead>): <A, E, R>(
    self: Effect.Effect<A, E, R>
  ) => Effect.Effect<A, E | BulkheadFull, R | I>
  <A, E, R>(self: Effect.Effect<A, E, R>, bulkhead: Api.Bulkhead): Effect.Effect<A, E | BulkheadFull, R>
  <A, E, R, I>(self: Effect.Effect<A, E, R>, tag: Context.Tag<I, Api.Bulkhead>): Effect.Effect<A, E | BulkheadFull, R | I>
} = dual(
  2,
  <A, E, R, I>(
    self: Effect.Effect<A, E, R>,
    bulkhead: Api.Bulkhead | Context.Tag<I, Api.Bulkhead>
  ): Effect.Effect<A, E | BulkheadFull, R | I> =>
    isBulkhead(bulkhead) ? bulkhead(self) : Effect.flatMap(bulkhead, (b) => b(self))
)

/** @internal */
export const keyed = <K extends string | number = string>(
  input: Api.Bulkhead.KeyedOptions
): Effect.Effect<Api.KeyedBulkhead<K>, InvalidOptions, Scope.Scope> =>
  Effect.gen(function*() {
    const { config, idleTimeToLive } = yield* options.validated(() => ({
      config: validate("Bulkhead.keyed", input),
      idleTimeToLive: options.nonNegativeDuration(
        { module: "Bulkhead.keyed", option: "idleTimeToLive" },
        input.idleTimeToLive
      )
    }))
    const series = new Series([MetricLabel.make("bulkhead", config.name)])
    // A key is its bulkhead's state alone, unless it needs a queue-timeout reaper: that fiber lives in
    // a Scope of the key's own, closed when the key is evicted or the keyed bulkhead's scope closes.
    const map = yield* keyedMap.make<K, BulkheadState>({
      lookup: (key) => {
        const own = { ...config, name: `${config.name}/${key}` }
        return needsReaper(own)
          ? Effect.flatMap(Scope.make(), (scope) =>
            Effect.map(Scope.extend(stateOf(own, series), scope), (state) => {
              state.scope = scope
              return state
            }))
          : Effect.map(Effect.clock, (clock) => new BulkheadState(own, series, clock))
      },
      release: (state) => state.scope === undefined ? Effect.void : Scope.close(state.scope, Exit.void),
      idleTimeToLive
    })
    const get = (key: K) => Effect.map(map.get(key), apiOf)
    // The key's bulkhead is held (not evictable) for exactly as long as the call waits or runs; `self`
    // runs with the caller's context (a Scope it needs is the caller's).
    const protectKey = dual(
      2,
      <A, E, R>(self: Effect.Effect<A, E, R>, key: K): Effect.Effect<A, E | BulkheadFull, R> =>
        map.use(key, (state) => state.protect(self))
    )
    return { name: config.name, get, protect: protectKey, keys: map.keys }
  })
