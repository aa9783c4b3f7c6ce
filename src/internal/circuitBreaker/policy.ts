import * as Duration from "effect/Duration"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import * as Schema from "effect/Schema"
import type { CircuitBreaker, Outcome, Policy, Stats, Trip, Verdict } from "../../CircuitBreaker.js"
import * as options from "../options.js"

const noStats: Stats = { calls: 0, failures: 0, slow: 0 }

// -----------------------------------------------------------------------------
// consecutive
// -----------------------------------------------------------------------------

const zero: Verdict<number> = { state: 0 }
const consecutiveSchema: Schema.Schema<number> = Schema.Int.pipe(Schema.nonNegative())

export const consecutive = (failures: number): Policy<number> => {
  const limit = options.integerAtLeast({ module: "CircuitBreaker.consecutive", option: "failures" }, failures, 1)
  return {
    name: `consecutive(${limit})`,
    initial: 0,
    schema: consecutiveSchema,
    record: (state, outcome) => {
      if (!outcome.failure) return zero
      const next = state + 1
      return next >= limit ? { state: next, trip: "failures" } : { state: next }
    },
    healthy: (outcome) => !outcome.failure,
    stats: (state) => state === 0 ? noStats : { calls: state, failures: state, slow: 0 }
  }
}

// -----------------------------------------------------------------------------
// failureRate
// -----------------------------------------------------------------------------

type FailureRateOptions = CircuitBreaker.FailureRateOptions

interface Rule {
  readonly threshold: number
  readonly minimumThroughput: number
  readonly slowerThan: number
  readonly slowThreshold: number
}

const judge = (rule: Rule, stats: Stats): Trip | undefined => {
  if (stats.calls < rule.minimumThroughput) return undefined
  // the rate as the snapshot reports it: `threshold * calls` rounds up (0.07 * 100 = 7.000000000000001),
  // and 7 failures in 100 did not trip a threshold of 0.07
  if (stats.failures / stats.calls >= rule.threshold) return "failures"
  if (stats.slow / stats.calls >= rule.slowThreshold) return "slow-calls"
  return undefined
}

const isSlow = (rule: Rule, outcome: Outcome): boolean => outcome.millis > rule.slowerThan

/**
 * A count window: the last `size` outcomes, oldest first, one character each ("0" success, "1" failure,
 * "2" slow success, "3" slow failure). A string keeps the state a compact JSON value, and V8 shifts it
 * with a native copy of one byte per call.
 */
export interface CountWindow {
  readonly ring: string
  readonly failures: number
  readonly slow: number
}

const CODE_0 = 48

const countOf = (ring: string) => {
  let failures = 0
  let slow = 0
  for (let i = 0; i < ring.length; i++) {
    const code = ring.charCodeAt(i) - CODE_0
    failures += code & 1
    slow += code >> 1
  }
  return { ring, failures, slow }
}

const countWindowSchema = (size: number): Schema.Schema<CountWindow, any> =>
  Schema.transform(
    Schema.Struct({ ring: Schema.String.pipe(Schema.pattern(/^[0-3]*$/), Schema.maxLength(size)) }),
    Schema.Struct({ ring: Schema.String, failures: Schema.Number, slow: Schema.Number }),
    { strict: true, decode: ({ ring }) => countOf(ring), encode: ({ ring }) => ({ ring }) }
  )

/**
 * A duration window split in buckets: `[bucket index, calls, failures, slow]`, oldest first, where the
 * index is `floor(now / bucket width)`. Only buckets inside the window are kept.
 */
export type Bucket = readonly [index: number, calls: number, failures: number, slow: number]

const Int = Schema.Int
const bucketsSchema: Schema.Schema<ReadonlyArray<Bucket>> = Schema.Array(Schema.Tuple(Int, Int, Int, Int))

const sumBuckets = (buckets: ReadonlyArray<Bucket>, oldest: number): Stats => {
  let calls = 0
  let failures = 0
  let slow = 0
  for (const bucket of buckets) {
    if (bucket[0] < oldest) continue
    calls += bucket[1]
    failures += bucket[2]
    slow += bucket[3]
  }
  return { calls, failures, slow }
}

const check = (option: string) => ({ module: "CircuitBreaker.failureRate", option })

const windowForms = "{ calls: n } for the last n calls or a duration (\"30 seconds\", a Duration) for a time window"

export const failureRate = (opts: FailureRateOptions): Policy<CountWindow> | Policy<ReadonlyArray<Bucket>> => {
  options.optionsObject(check("options"), opts)
  if (opts.slowCall !== undefined) options.optionsObject(check("slowCall"), opts.slowCall)
  const threshold = options.threshold(check("threshold"), opts.threshold)
  const slowerThan = opts.slowCall === undefined
    ? Number.POSITIVE_INFINITY
    : Duration.toMillis(options.nonNegativeDuration(check("slowCall.slowerThan"), opts.slowCall.slowerThan))
  const slowThreshold = opts.slowCall === undefined
    ? Number.POSITIVE_INFINITY
    : options.threshold(check("slowCall.threshold"), opts.slowCall.threshold)
  const slowName = opts.slowCall === undefined ? "" : `, slow ${slowThreshold} over ${slowerThan}ms`
  const healthy = (outcome: Outcome) => !outcome.failure && !(outcome.millis > slowerThan)

  // A bare number would read as calls to some and as milliseconds to others: neither is assumed.
  const window: unknown = opts.window
  if (typeof window === "number") return options.invalid(check("window"), window, windowForms)
  if (Predicate.hasProperty(window, "calls")) {
    const size = options.integerAtLeast(check("window.calls"), window.calls as number, 1)
    if (opts.buckets !== undefined) options.invalid(check("buckets"), opts.buckets, "unset for a count window")
    const minimumThroughput = opts.minimumThroughput === undefined
      ? size
      : options.integerAtLeast(check("minimumThroughput"), opts.minimumThroughput, 1) > size
      ? options.invalid(check("minimumThroughput"), opts.minimumThroughput, `an integer in [1, window.calls = ${size}]`)
      : opts.minimumThroughput
    const rule: Rule = { threshold, minimumThroughput, slowerThan, slowThreshold }
    const empty: CountWindow = { ring: "", failures: 0, slow: 0 }
    const countPolicy: Policy<CountWindow> = {
      name: `failureRate(${threshold} over ${size} calls, min ${minimumThroughput}${slowName})`,
      initial: empty,
      schema: countWindowSchema(size),
      healthy,
      stats: (state) => ({ calls: state.ring.length, failures: state.failures, slow: state.slow }),
      record: (state, outcome) => {
        const slowBit = isSlow(rule, outcome) ? 1 : 0
        const failureBit = outcome.failure ? 1 : 0
        let { failures, ring, slow } = state
        if (ring.length >= size) {
          const oldest = ring.charCodeAt(0) - CODE_0
          failures -= oldest & 1
          slow -= oldest >> 1
          ring = ring.slice(1)
        }
        const next: CountWindow = {
          ring: ring + String.fromCharCode(CODE_0 + failureBit + 2 * slowBit),
          failures: failures + failureBit,
          slow: slow + slowBit
        }
        return { state: next, trip: judge(rule, { calls: next.ring.length, failures: next.failures, slow: next.slow }) }
      }
    }
    return countPolicy
  }

  if (Option.isNone(Duration.decodeUnknown(window))) return options.invalid(check("window"), window, windowForms)
  const span = Duration.toMillis(options.positiveDuration(check("window"), window as Duration.DurationInput))
  const buckets = opts.buckets === undefined ? 10 : options.integerAtLeast(check("buckets"), opts.buckets, 1)
  const width = span / buckets
  if (width < 1) options.invalid(check("buckets"), buckets, `at most ${Math.floor(span)} (one bucket per ms)`)
  const minimumThroughput = opts.minimumThroughput === undefined
    ? 10
    : options.integerAtLeast(check("minimumThroughput"), opts.minimumThroughput, 1)
  const rule: Rule = { threshold, minimumThroughput, slowerThan, slowThreshold }
  const empty: ReadonlyArray<Bucket> = []
  const oldestOf = (now: number) => Math.floor(now / width) - buckets + 1
  const timePolicy: Policy<ReadonlyArray<Bucket>> = {
    name: `failureRate(${threshold} over ${span}ms in ${buckets} buckets, min ${minimumThroughput}${slowName})`,
    initial: empty,
    schema: bucketsSchema,
    healthy,
    stats: (state, now) => sumBuckets(state, oldestOf(now)),
    record: (state, outcome, now) => {
      // An outcome stamped before the newest bucket (a replica whose clock is behind, an event applied
      // again after another replica's commit) counts in the newest one rather than dropping it.
      const newest = state.length > 0 ? state[state.length - 1]![0] : Number.NEGATIVE_INFINITY
      const index = Math.max(Math.floor(now / width), newest)
      const oldest = index - buckets + 1
      const failure = outcome.failure ? 1 : 0
      const slow = isSlow(rule, outcome) ? 1 : 0
      const next: Array<Bucket> = []
      for (const bucket of state) {
        if (bucket[0] >= oldest && bucket[0] < index) next.push(bucket)
      }
      const last = state.length > 0 ? state[state.length - 1]! : undefined
      next.push(
        last !== undefined && last[0] === index
          ? [index, last[1] + 1, last[2] + failure, last[3] + slow]
          : [index, 1, failure, slow]
      )
      return { state: next, trip: judge(rule, sumBuckets(next, oldest)) }
    }
  }
  return timePolicy
}

// -----------------------------------------------------------------------------
// a user's policy
// -----------------------------------------------------------------------------

/**
 * A policy checked member by member at construction: JavaScript callers and `as any` reach here, and
 * a policy without `healthy` would otherwise kill its first probe, which then holds its slot.
 */
export const checked = (module: string, policy: unknown): Policy<any> => {
  const check = (option: string) => ({ module, option })
  if (!Predicate.isObject(policy) || Predicate.isFunction(policy)) {
    return options.invalid(check("policy"), policy, "a CircuitBreaker.Policy (consecutive(n), failureRate({...}))")
  }
  const member = (name: string) => (policy as Record<string, unknown>)[name]
  options.nonEmptyString(check("policy.name"), member("name") as string)
  if (!Predicate.hasProperty(policy, "initial")) options.invalid(check("policy.initial"), undefined, "a state")
  if (!Schema.isSchema(member("schema"))) {
    options.invalid(check("policy.schema"), member("schema"), "a Schema of the policy's state")
  }
  for (const name of ["record", "healthy", "stats"]) options.fn(check(`policy.${name}`), member(name))
  return policy as unknown as Policy<any>
}
