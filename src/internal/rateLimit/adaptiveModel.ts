import type * as RateLimit from "../../RateLimit.js"
import type { Quota, QuotaReading } from "../rateLimitHeaders.js"

/**
 * What the adaptive limiter knows about one key, and the rules that change it. Pure and synchronous
 * (times are epoch millis passed in), so every rule is tested without fibers and the property test
 * can drive thousands of random events.
 *
 * Two buckets pace admissions: `requests` (one per call) and `units` (a call's weight, e.g. LLM
 * tokens). Each holds at most one unit: calls are spaced by cost / rate, never released as a burst,
 * since the provider's burst allowance is unknown (a 60 RPM limit may be enforced as 1 per second).
 * A call costing more than one unit is admitted when the bucket is full and leaves it in debt, so
 * the next call waits for the debt to refill: an oversized call never waits forever, and the average
 * rate still holds.
 *
 * The request rate is the lower of two learned values, clamped to [minRate, maxRate]:
 * - `ceiling`, from quota headers (the provider's own numbers);
 * - `cubic`, AWS SDK v3 adaptive mode's CUBIC estimator, started by the first throttle (429): the
 *   rate drops to beta * W_max and then regrows as W_max * (1 + C * (t - K)^3), C relative to W_max,
 *   regaining W_max after K seconds and probing past it, capped at twice the measured admission rate
 *   so an idle client cannot grow a rate it never used. A throttle below the last W_max sets the next
 *   W_max halfway under it (fast convergence).
 * With neither, requests are not paced and only the concurrency window bounds them.
 */

export interface Constants {
  /** Multiplicative decrease on a throttle (CUBIC beta; AWS uses 0.7). */
  readonly beta: number
  /** CUBIC scale C, relative to W_max, so the time K to regain W_max is the same at any rate. */
  readonly scale: number
  readonly minRate: number
  readonly maxRate: number
  readonly initialConcurrency: number
  readonly maxConcurrency: number
  /** The longest a Retry-After, a quota reset or a unit debt holds calls (`maxClosed`). */
  readonly maxClosedMillis: number
}

/** What a limiter learned for a key: serialisable, what an `AdaptiveStore` shares. */
export type Learned = RateLimit.AdaptiveStore.Learned

type Patch = { -readonly [K in keyof Learned]?: Learned[K] }

interface Bucket {
  level: number
  at: number
}

export interface KeyState {
  learned: Learned
  readonly requests: Bucket
  readonly units: Bucket
  /** Admission times within the last second, for the measured rate. */
  readonly admissions: Array<number>
  inFlight: number
  inFlightUnits: number
  /** The longest reset a fixed-window reading of requests sent: the window is at least that long. */
  longestResetMillis: number
  /** The request limit the last reading sent. */
  limit: number | undefined
}

const measureWindowMillis = 1000

/** The share of the paced rate at or above which a 429 is taken as "too fast". */
const saturatedShare = 0.5

export const initialLearned = (c: Constants): Learned => ({
  ceiling: null,
  unitCeiling: null,
  cubic: null,
  notBefore: 0,
  concurrency: c.initialConcurrency,
  learned: false,
  decreasedAt: -Infinity,
  // nothing learned yet: anything another limiter stored is newer
  updatedAt: 0
})

export const makeKeyState = (learned: Learned, now: number): KeyState => ({
  learned,
  requests: { level: 1, at: now },
  units: { level: 1, at: now },
  admissions: [],
  inFlight: 0,
  inFlightUnits: 0,
  longestResetMillis: 0,
  limit: undefined
})

const clamp = (c: Constants, rate: number): number => Math.min(c.maxRate, Math.max(c.minRate, rate))

/** Requests per second, or undefined while nothing paces requests. */
export const requestRate = (c: Constants, l: Learned): number | undefined => {
  if (l.ceiling === null && l.cubic === null) return undefined
  return clamp(c, Math.min(l.ceiling ?? Infinity, l.cubic?.rate ?? Infinity))
}

/** Units per second, or undefined while no header described the weighted quota. */
export const unitRate = (l: Learned): number | undefined => l.unitCeiling ?? undefined

const refill = (bucket: Bucket, rate: number | undefined, now: number): void => {
  if (rate === undefined) {
    bucket.level = 1
  } else if (now > bucket.at) {
    bucket.level = Math.min(1, bucket.level + rate * (now - bucket.at) / 1000)
  }
  bucket.at = Math.max(bucket.at, now)
}

/** Millis until `cost` fits the bucket (a cost above one unit needs a full bucket, then goes into debt). */
const bucketWait = (bucket: Bucket, rate: number | undefined, cost: number, now: number): number => {
  if (rate === undefined) return 0
  refill(bucket, rate, now)
  const need = Math.min(cost, 1)
  const fromNow = Math.max(0, bucket.at - now)
  // Whole milliseconds, rounded up: the clock ticks in milliseconds, and a fractional wait would wake
  // a hair early, find the bucket a hair short, and sleep again for nothing.
  return bucket.level >= need - epsilon ? fromNow : fromNow + Math.ceil((need - bucket.level) / rate * 1000)
}

/** Rounding slack: a bucket short by less than this is full. */
const epsilon = 1e-9

/** Millis until a call of `cost` units may start; 0 means now (the concurrency window aside). */
export const waitFor = (c: Constants, s: KeyState, cost: number, now: number): number => {
  boundUnitDebt(c, s, cost, now)
  return Math.max(
    Math.ceil(s.learned.notBefore - now),
    bucketWait(s.requests, requestRate(c, s.learned), 1, now),
    bucketWait(s.units, unitRate(s.learned), cost, now),
    0
  )
}

/**
 * The unit rate has no floor (units are the provider's), so a header teaching a near-zero one would
 * leave a heavy call's debt to hold the key's calls, and with them the headers that could correct it,
 * for days. The debt is forgiven down to what the rate refills in `maxClosed`: no call waits longer.
 */
const boundUnitDebt = (c: Constants, s: KeyState, cost: number, now: number): void => {
  const rate = unitRate(s.learned)
  if (rate === undefined) return
  refill(s.units, rate, now)
  s.units.level = Math.max(s.units.level, Math.min(cost, 1) - rate * c.maxClosedMillis / 1000)
}

export const hasConcurrency = (s: KeyState): boolean => s.inFlight < s.learned.concurrency

const measured = (s: KeyState, now: number): number => {
  while (s.admissions.length > 0 && s.admissions[0]! <= now - measureWindowMillis) s.admissions.shift()
  return s.admissions.length * 1000 / measureWindowMillis
}

export const admit = (c: Constants, s: KeyState, cost: number, now: number): void => {
  refill(s.requests, requestRate(c, s.learned), now)
  refill(s.units, unitRate(s.learned), now)
  s.requests.level -= 1
  s.units.level -= cost
  s.inFlight += 1
  s.inFlightUnits += cost
  measured(s, now)
  if (s.admissions.length < c.maxRate * 2) s.admissions.push(now)
}

/** A call that took its permit but never started: everything it took comes back. */
export const refund = (s: KeyState, cost: number): void => {
  s.requests.level = Math.min(1, s.requests.level + 1)
  s.units.level = Math.min(1, s.units.level + cost)
  release(s, cost)
}

export const release = (s: KeyState, cost: number): void => {
  s.inFlight = Math.max(0, s.inFlight - 1)
  s.inFlightUnits = Math.max(0, s.inFlightUnits - cost)
}

/** The call's actual cost became known: the difference is debited (or credited, up to a full bucket). */
export const settle = (s: KeyState, reserved: number, actual: number): void => {
  s.units.level = Math.min(1, s.units.level - (actual - reserved))
  s.inFlightUnits = Math.max(0, s.inFlightUnits + actual - reserved)
}

const update = (s: KeyState, now: number, patch: Patch): void => {
  s.learned = { ...s.learned, ...patch, updatedAt: now }
}

/**
 * No call before `at`, or before `maxClosed` from now if that is sooner; at reopening the bucket holds
 * one request (a probe), so waiters leave paced.
 */
export const closeUntil = (c: Constants, s: KeyState, at: number, now: number): boolean => {
  const until = Math.min(at, now + c.maxClosedMillis)
  if (until <= s.learned.notBefore) return false
  update(s, now, { notBefore: until })
  s.requests.level = 1
  s.requests.at = until
  return true
}

/**
 * A throttle (429) of a call admitted at `admittedAt`. Throttles of calls admitted before the last
 * decrease, or within a measuring window after it, are the same wave and change nothing. TCP's "one
 * decrease per round trip" is not enough here: a decrease starts from the rate measured over the last
 * second, which until then still counts what was sent before it, and a fixed window, once spent,
 * answers 429 to every call until it resets, whatever the rate: a cut per 20 ms round trip took a
 * 100/s client to 3/s in one 25/s window, and CUBIC, relative to W_max, then needed 20 s to return.
 */
export const throttle = (c: Constants, s: KeyState, admittedAt: number, now: number): boolean => {
  if (admittedAt < s.learned.decreasedAt + measureWindowMillis) return false
  const current = requestRate(c, s.learned)
  const sending = measured(s, now)
  // A 429 while we send well under the paced rate (the probe after a Retry-After, a trickle) says the
  // provider is throttled for a while, which its Retry-After covers, not that our rate is too high:
  // cutting on each probe of a long throttle would leave the rate at the floor when it ends.
  if (current !== undefined && sending < current * saturatedShare) return false
  const sent = Math.max(sending, c.minRate)
  const lost = current === undefined ? sent : Math.min(sent, current)
  // CUBIC's fast convergence: a throttle below the last W_max means the limit is lower than that
  // W_max, so aim under it; otherwise regrowth returns to the same too-high rate, throttle after throttle.
  const previous = s.learned.cubic?.wMax
  const wMax = previous !== undefined && lost < previous ? lost * (1 + c.beta) / 2 : lost
  const k = Math.cbrt((1 - c.beta) / c.scale)
  update(s, now, {
    cubic: { wMax, k, since: now, rate: clamp(c, c.beta * wMax) },
    concurrency: Math.max(1, Math.floor(s.learned.concurrency * c.beta)),
    learned: true,
    decreasedAt: now
  })
  return true
}

/** A call ended without a throttle: CUBIC regrowth and a wider concurrency window. */
export const succeed = (c: Constants, s: KeyState, now: number): void => {
  const l = s.learned
  const cubic = l.cubic
  // The measured-rate cap only holds growth back: a success after a quiet second (a slow call, an
  // app waiting for its answers) measures nothing and must not cut the rate to the floor.
  const grownRate = cubic === null ? null : {
    ...cubic,
    rate: clamp(
      c,
      Math.max(
        cubic.rate,
        Math.min(cubic.wMax * (1 + c.scale * Math.pow((now - cubic.since) / 1000 - cubic.k, 3)), 2 * measured(s, now))
      )
    )
  }
  // Slow start (one more per success: doubles per round trip) until the first signal; then additive,
  // and only while at least half the window is in use (an idle window says nothing about the limit).
  const grow = !l.learned || s.inFlight * 2 >= l.concurrency
  const concurrency = grow ? Math.min(c.maxConcurrency, l.concurrency + 1) : l.concurrency
  if (grownRate === l.cubic && concurrency === l.concurrency) return
  s.learned = { ...l, cubic: grownRate, concurrency }
}

/**
 * Resets are sent in whole seconds (delta seconds rounded up, epoch seconds against a `Date` of whole
 * seconds): a reset of one second or less says the window ends within a second, not when.
 */
const resetResolutionMillis = 1000

/**
 * The share of a window's limit paced when the limit per window is the rate. Our pace is not in phase
 * with the provider's windows: at the full limit some windows would get their last request early, and
 * its `remaining: 0` holds every call until a reset known only to the second, costing most of the next
 * window.
 */
const windowShare = 0.9

/**
 * Units (or requests) per second a reading describes, when it describes one. `longestResetMillis` is
 * the longest reset this key's fixed-window readings sent, a lower bound of the window.
 */
export const readingRate = (r: QuotaReading, longestResetMillis = 0): number | undefined => {
  const { limit, remaining, resetMillis, windowMillis } = r
  if (limit !== undefined && windowMillis !== undefined) return limit * 1000 / windowMillis
  if (resetMillis === undefined || resetMillis <= 0 || remaining === undefined) return undefined
  if (r.family === "bucket") return limit !== undefined && limit > remaining ? (limit - remaining) * 1000 / resetMillis : undefined
  // In a window's last second `remaining / reset` divides by up to a second when less is left, and
  // falls as our own calls spend the window: against a one-second window that paced at the quota
  // minus what was already sent, never more than 63% of it. There the limit per window is the rate
  // (`remaining` still counts: the bucket is re-synced to it, and 0 holds calls until the reset).
  if (limit !== undefined && resetMillis <= resetResolutionMillis) {
    return windowShare * limit * 1000 / Math.max(longestResetMillis, resetResolutionMillis)
  }
  return remaining > 0 ? remaining * 1000 / resetMillis : undefined
}

/**
 * Learns from a response's quota headers. `ownUnits` is what the reporting call itself reserved:
 * the server's `remaining` already counts it, not the other calls still in flight, so the units
 * bucket is re-synced to `remaining` minus those (other processes drain the quota too). A bucket
 * is only ever lowered by a header: a response is stale by our own in-flight traffic.
 */
export const observe = (c: Constants, s: KeyState, quota: Quota, ownUnits: number, now: number): boolean => {
  let changed = false
  const apply = (reading: QuotaReading | undefined, dimension: "requests" | "units") => {
    if (reading === undefined) return
    if (reading.family === "window" && dimension === "requests" && reading.resetMillis !== undefined) {
      s.longestResetMillis = Math.max(s.longestResetMillis, reading.resetMillis)
    }
    const rate = readingRate(reading, dimension === "requests" ? s.longestResetMillis : 0)
    const field = dimension === "requests" ? "ceiling" : "unitCeiling"
    const patch: Patch = { learned: true }
    if (rate !== undefined && rate > 0 && Number.isFinite(rate) && s.learned[field] !== rate) {
      patch[field] = dimension === "requests" ? clamp(c, rate) : rate
      // The rate is known: it paces, and the concurrency window stops being the bound.
      if (!s.learned.learned) patch.concurrency = c.maxConcurrency
    }
    // A higher limit is a new quota: a throttle under the old one says nothing about it. Kept, the
    // CUBIC estimate learned in a storm (5/s) paced at its rate after the quota went back to 40/s,
    // regrowing relative to that W_max: 4.5/s to 20/s in 5 s.
    if (dimension === "requests" && reading.limit !== undefined) {
      if (s.limit !== undefined && reading.limit > s.limit && s.learned.cubic !== null) {
        // the storm's concurrency cut goes with it: the headers pace again
        patch.cubic = null
        patch.concurrency = c.maxConcurrency
      }
      s.limit = reading.limit
    }
    if (!s.learned.learned || patch[field] !== undefined || patch.cubic !== undefined) {
      changed = changed || patch[field] !== undefined || patch.cubic !== undefined
      update(s, now, patch)
    }
    if (reading.remaining !== undefined) {
      const bucket = dimension === "requests" ? s.requests : s.units
      const othersInFlight = dimension === "requests" ? Math.max(0, s.inFlight - 1) : s.inFlightUnits - ownUnits
      bucket.level = Math.min(bucket.level, reading.remaining - Math.max(0, othersInFlight))
      if (reading.remaining === 0 && reading.resetMillis !== undefined) {
        changed = closeUntil(c, s, now + reading.resetMillis, now) || changed
      }
    }
  }
  apply(quota.requests, "requests")
  apply(quota.units, "units")
  return changed
}
