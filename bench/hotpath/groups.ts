/**
 * The hot-path comparisons of issue 11, one group each: the cases measured together (interleaved) and
 * the rows they make. Every figure has a baseline measured in the same group, and every goal is a
 * ratio (or an overhead) printed as met or missed, never asserted.
 *
 * The guarded effects are built once and run many times, as a user's `const charge = ...pipe(...)`
 * is; cockatiel's policies likewise. The body is `Effect.sync(() => 1)` (not `Effect.succeed`, which
 * `runSync` would short-circuit without a fiber) and `() => Promise.resolve(1)` for cockatiel.
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import {
  bulkhead as cockatielBulkhead,
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleAll,
  type IPolicy,
  retry,
  timeout,
  TimeoutStrategy,
  wrap
} from "cockatiel"
import { Effect, Layer, Scope } from "effect"
import { Backoff, Bulkhead, CircuitBreaker, RateLimit, Retry, Timeout } from "effect-resilience"
import { micros, type Row, times, verdict } from "../support/report.js"
import { type Case, sequential, type Stats, synchronous } from "./harness.js"

export interface Group {
  readonly id: string
  readonly title: string
  readonly cases: Readonly<Record<string, Case>>
  readonly rows: (stats: Readonly<Record<string, Stats>>) => ReadonlyArray<Row>
}

/** Keeps each group's case names and its rows in step. */
const group = <K extends string>(g: {
  readonly id: string
  readonly title: string
  readonly cases: Readonly<Record<K, Case>>
  readonly rows: (stats: Readonly<Record<K, Stats>>) => ReadonlyArray<Row>
}): Group => g as unknown as Group

const scope = Effect.runSync(Scope.make())
const scoped = <A, E>(effect: Effect.Effect<A, E, Scope.Scope>): A => Effect.runSync(Scope.extend(effect, scope))

const call = Effect.sync(() => 1)
const promiseCall = () => Promise.resolve(1)
/** The region a guard runs that must settle a call however it ends, with nothing in it: the floor of such a guard. */
const onExitAlone = Effect.onExit(call, () => Effect.void)

// The README's recommended stack, outermost last. The bulkhead fits the 100 concurrent calls of the
// forEach group, so it never queues; the breaker never opens; no call fails, so retry never sleeps.
const bulkheadOptions = { maxConcurrent: 100, maxQueued: 100 } as const
const backoff = Backoff.exponential({ base: "200 millis", cap: "5 seconds" }).pipe(Backoff.fullJitter)
const newBulkhead = (name: string) => scoped(Bulkhead.make({ name, ...bulkheadOptions }))
const newBreaker = (name: string) =>
  scoped(CircuitBreaker.make({ name, policy: CircuitBreaker.consecutive(5), openFor: "10 seconds" }))

const threeGuards = (name: string) => {
  const bulkhead = newBulkhead(name)
  const breaker = newBreaker(name)
  return <A, E>(self: Effect.Effect<A, E>) =>
    self.pipe(bulkhead, CircuitBreaker.protect(breaker), Retry.transient({ times: 4, backoff }))
}

const fullStack = (name: string) => {
  const guards = threeGuards(name)
  return <A, E>(self: Effect.Effect<A, E>) =>
    self.pipe(Timeout.attempt("2 seconds"), guards, Timeout.total("10 seconds"))
}

// cockatiel's equivalents: `wrap(a, b, ...)` makes `a` the outermost.
const cockatielRetry = () =>
  retry(handleAll, { maxAttempts: 4, backoff: new ExponentialBackoff({ initialDelay: 200, maxDelay: 5_000 }) })
const cockatielBreaker = () => circuitBreaker(handleAll, { halfOpenAfter: 10_000, breaker: new ConsecutiveBreaker(5) })
const cockatielBulkheadOf = () => cockatielBulkhead(bulkheadOptions.maxConcurrent, bulkheadOptions.maxQueued)
const cockatielStackName = "cockatiel `wrap(timeout, retry, breaker, bulkhead)`"
/** cockatiel's full stack, the baseline of the full-stack groups: its `execute` of the promise call. */
const cockatielStack = () =>
  execute(
    "cockatiel wrap(timeout, retry, breaker, bulkhead)",
    wrap(timeout(10_000, TimeoutStrategy.Aggressive), cockatielRetry(), cockatielBreaker(), cockatielBulkheadOf())
  )
/** A cockatiel policy's `execute` of the promise call, one call after the other. */
const execute = (name: string, policy: IPolicy) => sequential(name, () => policy.execute(promiseCall))

const runPromise = (name: string, effect: Effect.Effect<unknown, unknown>) =>
  sequential(name, () => Effect.runPromise(effect))
const runSync = (name: string, effect: Effect.Effect<unknown, unknown>) =>
  synchronous(name, () => Effect.runSync(effect))

/** `ops` calls in one `runPromise`, `concurrency` at a time; at least 500, so 100 at a time is 5 waves. */
const inOneRunPromise = (name: string, concurrency: number, each: Effect.Effect<unknown, unknown>): Case => ({
  name,
  minOps: 500,
  batch: (ops) =>
    Effect.runPromise(Effect.forEach(Array.from({ length: ops }), () => each, { concurrency, discard: true }))
})

/** `fibers` fibers started at once, each running one `yieldNow` inside `guard`: all but the guard's slots wait. */
const storm = (
  name: string,
  fibers: number,
  guard: <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, unknown, R>
): Case => {
  const each = Array.from({ length: fibers })
  const program = Effect.forEach(each, () => guard(Effect.yieldNow()), { concurrency: "unbounded", discard: true })
  return { name, fixedOps: fibers, batch: () => Effect.runPromise(program) }
}

/** `ours` against `baseline`: the ratio, and whether it is at most `max`. */
const ratioRow = (
  what: string,
  ours: Stats,
  baselineName: string,
  baseline: Stats,
  max?: number
): Row => {
  const ratio = ours.median / baseline.median
  return {
    what,
    ours: micros(ours.median),
    baseline: `${baselineName}: ${micros(baseline.median)}`,
    ratio: times(ratio),
    goal: max === undefined ? "" : `<= ${max}x`,
    verdict: max === undefined ? "" : verdict(ratio <= max)
  }
}

// -------------------------------------------------------------------------------------------------

const stackPerCall = group({
  id: "full-stack-per-call",
  title: "Full stack, one runPromise per call, vs cockatiel",
  cases: {
    ours: runPromise(
      "Timeout.attempt, Bulkhead, CircuitBreaker, Retry.transient, Timeout.total",
      fullStack("stack")(call)
    ),
    cockatiel: cockatielStack(),
    bare: runPromise("bare effect", call)
  },
  rows: (s) => [
    ratioRow(
      "full stack (`Timeout.attempt`, bulkhead, breaker, retry, `Timeout.total`), one `runPromise` per call",
      s.ours,
      cockatielStackName,
      s.cockatiel,
      1
    ),
    ratioRow("the same, against the bare effect through `runPromise`", s.ours, "bare `runPromise`", s.bare)
  ]
})

// The same stack around an asynchronous body: the promise cockatiel's case runs. Each timeout's work
// then suspends in a fiber of its own, where the synchronous body above ends before any timer.
const asyncCall = Effect.promise(promiseCall)

const asyncStackPerCall = group({
  id: "full-stack-async",
  title: "Full stack around an asynchronous body, one runPromise per call, vs cockatiel",
  cases: {
    ours: runPromise(
      "Timeout.attempt, Bulkhead, CircuitBreaker, Retry.transient, Timeout.total (Effect.promise body)",
      fullStack("stack-async")(asyncCall)
    ),
    cockatiel: cockatielStack(),
    effectTimeout: runPromise("Effect.timeout (Effect.promise body)", asyncCall.pipe(Effect.timeout("2 seconds"))),
    attempt: runPromise("Timeout.attempt (Effect.promise body)", asyncCall.pipe(Timeout.attempt("2 seconds"))),
    bare: runPromise("bare asynchronous effect", asyncCall)
  },
  rows: (s) => [
    ratioRow(
      "full stack around an asynchronous body (`Effect.promise`), one `runPromise` per call",
      s.ours,
      cockatielStackName,
      s.cockatiel,
      1
    ),
    ratioRow("the same, against the bare asynchronous effect", s.ours, "bare `runPromise`", s.bare),
    ratioRow("`Timeout.attempt` around an asynchronous body", s.attempt, "`Effect.timeout`", s.effectTimeout, 1.2)
  ]
})

const stackInOneRun = (concurrency: number) =>
  group({
    id: `full-stack-forEach-${concurrency}`,
    title: `Full stack per call inside one runPromise, concurrency ${concurrency}`,
    cases: {
      ours: inOneRunPromise("full stack", concurrency, fullStack(`stack-${concurrency}`)(call)),
      timeouts: inOneRunPromise(
        "Timeout.total around Timeout.attempt",
        concurrency,
        call.pipe(Timeout.attempt("2 seconds"), Timeout.total("10 seconds"))
      ),
      effectTimeouts: inOneRunPromise(
        "Effect.timeout twice",
        concurrency,
        call.pipe(Effect.timeout("2 seconds"), Effect.timeout("10 seconds"))
      ),
      guards: inOneRunPromise("bulkhead, breaker, retry", concurrency, threeGuards(`guards-${concurrency}`)(call)),
      onExit: inOneRunPromise("Effect.onExit", concurrency, onExitAlone),
      bare: inOneRunPromise("bare effect", concurrency, call)
    },
    rows: (s) => [
      ratioRow(
        `full stack per call, \`Effect.forEach\` in one \`runPromise\`, concurrency ${concurrency}`,
        s.ours,
        "bare effect, same `forEach`",
        s.bare,
        3
      ),
      // Each timeout runs its work in a fiber of its own (how it can return while the work ignores
      // interruption): this row is that floor.
      ratioRow("of which the two timeouts alone, same `forEach`", s.timeouts, "bare effect", s.bare),
      ratioRow("the two timeouts alone, same `forEach`", s.timeouts, "two `Effect.timeout`s", s.effectTimeouts),
      // Without a timeout, so without a fiber of their own: what the other three guards cost here.
      ratioRow("bulkhead, breaker and retry (no timeouts), same `forEach`", s.guards, "bare effect", s.bare),
      // What any guard pays that must give a slot or a permit back however the call ends (the breaker
      // and the bulkhead each run one such region): Effect's own `onExit`, with nothing in it.
      ratioRow("`Effect.onExit` alone (the floor of an interruption-safe guard), same `forEach`", s.onExit, "bare effect", s.bare)
    ]
  })

const timeouts = group({
  id: "timeouts",
  title: "Timeouts, one runPromise per call",
  cases: {
    attempt: runPromise("Timeout.attempt", call.pipe(Timeout.attempt("2 seconds"))),
    effectTimeout: runPromise("Effect.timeout", call.pipe(Effect.timeout("2 seconds"))),
    nested: runPromise(
      "Timeout.total around Timeout.attempt",
      call.pipe(Timeout.attempt("2 seconds"), Timeout.total("10 seconds"))
    ),
    twoEffectTimeouts: runPromise(
      "Effect.timeout twice",
      call.pipe(Effect.timeout("2 seconds"), Effect.timeout("10 seconds"))
    )
  },
  rows: (s) => [
    ratioRow("`Timeout.attempt`", s.attempt, "`Effect.timeout`", s.effectTimeout, 1.2),
    ratioRow(
      "`Timeout.total` around `Timeout.attempt` (one timer, not two races)",
      s.nested,
      "`Effect.timeout`",
      s.effectTimeout,
      1.2
    ),
    ratioRow("`Timeout.total` around `Timeout.attempt`", s.nested, "two `Effect.timeout`s", s.twoEffectTimeouts)
  ]
})

const retryAlone = group({
  id: "retry",
  title: "Retry.transient alone, one runPromise per call",
  cases: {
    retry: runPromise("Retry.transient", call.pipe(Retry.transient({ times: 4, backoff }))),
    bare: runPromise("bare effect", call)
  },
  rows: (s) => [ratioRow("`Retry.transient`, success on the first attempt", s.retry, "bare `runPromise`", s.bare)]
})

const withoutTimeouts = group({
  id: "three-guards",
  title: "Retry, breaker and bulkhead without timeouts, one runPromise per call, vs cockatiel",
  cases: {
    ours: runPromise("Bulkhead, CircuitBreaker, Retry.transient", threeGuards("three")(call)),
    cockatiel: execute(
      "cockatiel wrap(retry, breaker, bulkhead)",
      wrap(cockatielRetry(), cockatielBreaker(), cockatielBulkheadOf())
    )
  },
  rows: (s) => [
    ratioRow("retry + breaker + bulkhead, no timeouts", s.ours, "cockatiel, same three", s.cockatiel)
  ]
})

const breaker = group({
  id: "breaker",
  title: "Breaker protect, consecutive(5): overhead over the bare call",
  cases: {
    bare: runPromise("bare effect (runPromise)", call),
    protect: runPromise("CircuitBreaker.protect, consecutive(5)", CircuitBreaker.protect(call, newBreaker("protect"))),
    onExit: runPromise("Effect.onExit, nothing in it", onExitAlone),
    promise: sequential("bare promise", promiseCall),
    cockatiel: execute("cockatiel circuitBreaker(ConsecutiveBreaker(5)).execute", cockatielBreaker())
  },
  rows: (s) => {
    const ours = s.protect.median - s.bare.median
    const theirs = s.cockatiel.median - s.promise.median
    const floor = s.onExit.median - s.bare.median
    return [{
      what: "breaker `protect`, `consecutive(5)`, over the bare effect (both through `runPromise`)",
      ours: `+${micros(ours)} (${micros(s.protect.median)} vs ${micros(s.bare.median)})`,
      baseline: `cockatiel \`execute\` over a bare promise: +${micros(theirs)}`,
      ratio: times(ours / theirs),
      goal: "<= +1 µs",
      verdict: verdict(ours <= 1)
    }, {
      // A breaker must count a call however it ends, interruption included: the region Effect's own
      // `onExit` runs (uninterruptible, the call restored inside it), which no admission code can skip.
      what: "of which `Effect.onExit` with nothing in it, over the bare effect",
      ours: `+${micros(floor)} (${micros(s.onExit.median)})`,
      baseline: `the breaker's own work: +${micros(ours - floor)}`,
      ratio: "",
      goal: "",
      verdict: ""
    }]
  }
})

const rateLimits = (() => {
  const build = <A, E>(effect: Effect.Effect<A, E, RateLimit.GateStore | Scope.Scope | RateLimiter.RateLimiterStore>) =>
    Effect.runSync(Effect.provide(Scope.extend(effect, scope), Layer.fresh(RateLimit.layerMemory)))
  const huge = { limit: 1_000_000_000, window: "1 second" } as const
  const limiter = build(RateLimit.make({ name: "bench-limiter", key: "k", ...huge }))
  const window = build(RateLimit.make({ name: "bench-window", key: "k", algorithm: "fixed-window", ...huge }))
  const gate = build(RateLimit.gate({ name: "bench-gate", key: "k" }))
  return group({
    id: "rate-limit",
    title: "Limiter and gate, runSync per call",
    cases: {
      bare: runSync("bare effect", call),
      limiter: runSync(
        "RateLimit.protect, token bucket in memory, limit never reached",
        call.pipe(RateLimit.protect(limiter))
      ),
      window: runSync(
        "RateLimit.protect, fixed window in memory, limit never reached",
        call.pipe(RateLimit.protect(window))
      ),
      gate: runSync("RateLimit.protect, gate open", call.pipe(RateLimit.protect(gate)))
    },
    rows: (s) => [
      ratioRow("limiter (token bucket, in memory, never runs out), `runSync`", s.limiter, "bare effect", s.bare, 2),
      ratioRow("limiter (fixed window, in memory, never runs out), `runSync`", s.window, "bare effect", s.bare, 2),
      ratioRow("gate (open), `runSync`", s.gate, "bare effect", s.bare, 2)
    ]
  })
})()

const bulkheadFree = (() => {
  const bulkhead = scoped(Bulkhead.make({ name: "bench-free", maxConcurrent: 10 }))
  const semaphore = Effect.runSync(Effect.makeSemaphore(10))
  return group({
    id: "bulkhead-free",
    title: "Bulkhead with a free slot, runSync per call",
    cases: {
      bare: runSync("bare effect", call),
      bulkhead: runSync("Bulkhead", bulkhead(call)),
      semaphore: runSync("Semaphore.withPermits(1)", semaphore.withPermits(1)(call))
    },
    rows: (s) => [
      ratioRow("bulkhead, free slot, `runSync`", s.bulkhead, "`Semaphore.withPermits(1)`", s.semaphore),
      ratioRow("bulkhead, free slot, `runSync`", s.bulkhead, "bare effect", s.bare)
    ]
  })
})()

/**
 * `Semaphore.withPermits` wakes every waiter when a permit frees, so its cost grows with the square of
 * the waiters: 10,000 fibers through 100 permits took 17-21 s a round here (what made `vitest bench`
 * time out). 1,000 fibers keep a round of the semaphore well under a second, with 900 still waiting
 * behind 100 slots.
 */
const bulkheadContended = (fibers: number, slots: number) => {
  const bulkhead = scoped(Bulkhead.make({ name: `bench-${slots}`, maxConcurrent: slots, maxQueued: fibers }))
  const semaphore = Effect.runSync(Effect.makeSemaphore(slots))
  return group({
    id: `bulkhead-contended-${slots}`,
    title: `${fibers.toLocaleString("en")} fibers at once through ${slots} slots (per fiber)`,
    cases: {
      bulkhead: storm("Bulkhead", fibers, bulkhead),
      semaphore: storm("Semaphore.withPermits(1)", fibers, semaphore.withPermits(1)),
      bare: storm("no guard", fibers, (self) => self)
    },
    rows: (s) => [
      ratioRow(
        `bulkhead, ${fibers.toLocaleString("en")} fibers at once through ${slots} slots, per fiber`,
        s.bulkhead,
        `\`Semaphore.withPermits(1)\` (${slots} permits)`,
        s.semaphore
      ),
      ratioRow("the same, against no guard", s.bulkhead, "no guard", s.bare)
    ]
  })
}

/** Every group, in the order they run and print. Add a comparison here. */
export const groups: ReadonlyArray<Group> = [
  stackPerCall,
  asyncStackPerCall,
  stackInOneRun(1),
  stackInOneRun(100),
  timeouts,
  retryAlone,
  withoutTimeouts,
  breaker,
  rateLimits,
  bulkheadFree,
  bulkheadContended(1_000, 100),
  bulkheadContended(1_000, 500)
]
