import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as ScheduleInterval from "effect/ScheduleInterval"
import * as ScheduleIntervals from "effect/ScheduleIntervals"
import type * as Backoff from "../Backoff.js"
import { retryAfterOf } from "../Errors.js"
import * as Options from "./options.js"

/** @internal */
export const defaults = {
  factor: 2,
  cap: Duration.minutes(1),
  maxHint: Options.defaultMaxRetryAfter,
  hintJitterRatio: 0.1,
  hintJitterMax: Duration.seconds(1)
} as const

// Every input is at most 24 days (Options.longestTimer), so a delay (at most a cap or maxHint, plus 1 s of
// hint jitter) always wakes.

type Step<S = unknown> = readonly [S, Duration.Duration, ScheduleDecision.ScheduleDecision]

// The driver sleeps `Duration.millis(start - now)`, so that is the output too: the same value, to the nanosecond.
// At epoch magnitudes `now + millis` rounds to a double up to ~120 ns short of the delay; one step up keeps a
// delay that must not be early (a Retry-After hint) from being early.
const continueAfter = <S>(state: S, now: number, millis: number): Step<S> => {
  let start = now + millis
  if (start - now < millis) start += Math.abs(start) * Number.EPSILON
  return [state, Duration.millis(start - now), ScheduleDecision.continueWith(ScheduleInterval.after(start))]
}

const delayOf = (now: number, decision: ScheduleDecision.Continue): number =>
  Math.max(0, ScheduleIntervals.start(decision.intervals) - now)

const millisOf = (module: string, option: string, input: Duration.DurationInput, positive = false): number => {
  const check = { module, option }
  return Duration.toMillis(positive ? Options.positiveDuration(check, input) : Options.nonNegativeDuration(check, input))
}

const capOf = (module: string, base: number, input: Duration.DurationInput | undefined): number => {
  if (input === undefined) return Math.max(base, Duration.toMillis(defaults.cap))
  const cap = millisOf(module, "cap", input)
  return cap >= base ? cap : Options.invalid({ module, option: "cap" }, input, `a duration >= base (${base} millis)`)
}

// A deterministic backoff: the delay is a function of the attempt number alone, so attempt 10,000 costs what
// attempt 1 costs and nothing accumulates rounding error.
const fromAttempt = (delayAt: (attempt: number) => number): Backoff.Backoff =>
  Schedule.makeWithState(0, (now, _input: unknown, attempt: number) =>
    Effect.succeed(continueAfter(attempt + 1, now, delayAt(attempt))))

// Rewrites the delay of every continuing step of `self`, keeping its state and its decision to stop.
const modifyDelay = <In, R>(
  self: Backoff.Backoff<In, R>,
  f: (millis: number) => Effect.Effect<number>
): Backoff.Backoff<In, R> =>
  Schedule.makeWithState(self.initial, (now, input: In, state) =>
    Effect.flatMap(self.step(now, input, state), ([state, out, decision]): Effect.Effect<Step> =>
      ScheduleDecision.isDone(decision)
        ? Effect.succeed([state, out, decision])
        : Effect.map(f(delayOf(now, decision)), (millis) => continueAfter(state, now, millis))))

/** @internal */
export const constant = (delay: Duration.DurationInput): Backoff.Backoff => {
  const millis = millisOf("Backoff.constant", "delay", delay)
  return fromAttempt(() => millis)
}

/** @internal */
export const linear = (options: Backoff.Backoff.LinearOptions): Backoff.Backoff => {
  const module = "Backoff.linear"
  const base = millisOf(module, "base", options.base)
  const step = options.step === undefined ? base : millisOf(module, "step", options.step)
  const cap = capOf(module, base, options.cap)
  return fromAttempt((attempt) => Math.min(cap, base + step * attempt))
}

/** @internal */
export const exponential = (options: Backoff.Backoff.ExponentialOptions): Backoff.Backoff => {
  const module = "Backoff.exponential"
  const base = millisOf(module, "base", options.base, true)
  const factor = options.factor === undefined
    ? defaults.factor
    : Options.numberAtLeast({ module, option: "factor" }, options.factor, 1)
  const cap = capOf(module, base, options.cap)
  // base > 0 and factor >= 1 make `base * factor ** n` positive or +Infinity, never NaN; min() clamps the
  // overflow to the cap and leaves every value below it exactly as the formula gives it.
  return fromAttempt((attempt) => Math.min(cap, base * factor ** attempt))
}

/** @internal */
export const fullJitter = <In, R>(self: Backoff.Backoff<In, R>): Backoff.Backoff<In, R> =>
  modifyDelay(self, (millis) => Effect.map(Random.next, (u) => u * millis))

/** @internal */
export const equalJitter = <In, R>(self: Backoff.Backoff<In, R>): Backoff.Backoff<In, R> =>
  modifyDelay(self, (millis) => Effect.map(Random.next, (u) => millis / 2 + (u * millis) / 2))

/** @internal */
export const defaultMaxRetryAfter: Duration.Duration = Options.defaultMaxRetryAfter

/** @internal */
export const decorrelatedJitter = (options: Backoff.Backoff.DecorrelatedJitterOptions): Backoff.Backoff => {
  const module = "Backoff.decorrelatedJitter"
  const base = millisOf(module, "base", options.base, true)
  // required (unlike exponential's): a decorrelated delay is a draw up to `cap`, so the cap is the caller's to pick
  const cap = options.cap === undefined
    ? Options.invalid({ module, option: "cap" }, undefined, "a duration >= base (required)")
    : capOf(module, base, options.cap)
  // prev is the delay actually slept, in [base, cap], so prev * 3 is finite. `prev * 3` is in the min() too:
  // `base + (x - base)` can round one ulp above x.
  return Schedule.makeWithState(base, (now, _input: unknown, prev: number) =>
    Effect.map(Random.next, (u): Step<number> => {
      const [, delay, decision] = continueAfter(prev, now, Math.min(cap, prev * 3, base + u * (prev * 3 - base)))
      return [Duration.toMillis(delay), delay, decision]
    }))
}

/** Schedules `honor` made: wrapping one again bounds its hints, without a second jitter. */
const honoring = new WeakSet<Schedule.Schedule<any, any, any>>()

const honor = <In, R>(
  self: Backoff.Backoff<In, R>,
  maxHint: number
): Backoff.Backoff<In & Backoff.RetryAfterInput, R> => {
  const honored = honoring.has(self) ? boundHint(self, maxHint) : honorOnce(self, maxHint)
  honoring.add(honored)
  return honored
}

/**
 * A schedule that already honours hints (`Retry.transient` wraps whatever backoff it is given), with
 * `maxHint` as a further bound: its jitter is applied once, not twice (a 2 s hint retried up to 2.4 s).
 */
const boundHint = <In, R>(
  self: Backoff.Backoff<In, R>,
  maxHint: number
): Backoff.Backoff<In & Backoff.RetryAfterInput, R> =>
  Schedule.makeWithState(self.initial, (now, input: In & Backoff.RetryAfterInput, state) => {
    const hint = retryAfterOf(input)
    return hint !== undefined && Duration.toMillis(hint) > maxHint
      ? Effect.succeed<Step>([state, hint, ScheduleDecision.done])
      : self.step(now, input, state)
  })

const honorOnce = <In, R>(
  self: Backoff.Backoff<In, R>,
  maxHint: number
): Backoff.Backoff<In & Backoff.RetryAfterInput, R> =>
  Schedule.makeWithState(self.initial, (now, input: In & Backoff.RetryAfterInput, state) =>
    Effect.flatMap(self.step(now, input, state), ([state, out, decision]): Effect.Effect<Step> => {
      if (ScheduleDecision.isDone(decision)) return Effect.succeed([state, out, decision])
      const computed = delayOf(now, decision)
      const hint = retryAfterOf(input)
      if (hint === undefined) return Effect.succeed(continueAfter(state, now, computed))
      const hintMillis = Duration.toMillis(hint)
      if (hintMillis > maxHint) return Effect.succeed([state, hint, ScheduleDecision.done])
      const spread = Math.min(hintMillis * defaults.hintJitterRatio, Duration.toMillis(defaults.hintJitterMax))
      return Effect.map(Random.next, (u) => continueAfter(state, now, Math.max(computed, hintMillis) + u * spread))
    }))

const maxHintOf = (options: Backoff.Backoff.HonorRetryAfterOptions | undefined): number =>
  options?.maxHint === undefined
    ? Duration.toMillis(defaults.maxHint)
    : millisOf("Backoff.honorRetryAfter", "maxHint", options.maxHint)

// Not `dual`: the options are validated when `honorRetryAfter(options)` is called, not when it is applied.
/** @internal */
export function honorRetryAfter(
  options?: Backoff.Backoff.HonorRetryAfterOptions
): <In, R>(self: Backoff.Backoff<In, R>) => Backoff.Backoff<In & Backoff.RetryAfterInput, R>
/** @internal */
export function honorRetryAfter<In, R>(
  self: Backoff.Backoff<In, R>,
  options?: Backoff.Backoff.HonorRetryAfterOptions
): Backoff.Backoff<In & Backoff.RetryAfterInput, R>
export function honorRetryAfter<In, R>(
  selfOrOptions?: Backoff.Backoff<In, R> | Backoff.Backoff.HonorRetryAfterOptions,
  options?: Backoff.Backoff.HonorRetryAfterOptions
) {
  if (Schedule.isSchedule(selfOrOptions)) return honor(selfOrOptions as Backoff.Backoff<In, R>, maxHintOf(options))
  const maxHint = maxHintOf(selfOrOptions)
  return <In, R>(self: Backoff.Backoff<In, R>) => honor(self, maxHint)
}
