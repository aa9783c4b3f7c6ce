import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Clock,
  Duration,
  Effect,
  Exit,
  FastCheck,
  Fiber,
  Option,
  Random,
  Schedule,
  ScheduleDecision,
  ScheduleIntervals,
  TestClock
} from "effect"
import * as Backoff from "../src/Backoff.js"
import { ClientError, InvalidOptions, RateLimited, Unavailable } from "../src/Errors.js"
import { thrown, untyped } from "./support/invalidOptions.js"

// Steps a schedule by hand, one input per step, as a driver would, from `from` on the clock: "done" when it
// ends. Each delay must be the one the driver sleeps, `Duration.millis(start - now)` of the decision.
// `advance: false` keeps every step at `from`, where a delay is its formula to the nanosecond; an advancing
// clock of epoch size only resolves ~0.2 µs (see the sleeping tests).
const steps = <In>(
  backoff: Schedule.Schedule<Duration.Duration, In>,
  inputs: Iterable<In>,
  { advance = true, from = 0 }: { readonly advance?: boolean; readonly from?: number } = {}
) =>
  Effect.gen(function*() {
    let state = backoff.initial
    let now = from
    const out: Array<number | "done"> = []
    let unlike = 0
    for (const input of inputs) {
      const [next, delay, decision] = yield* backoff.step(now, input, state)
      if (ScheduleDecision.isDone(decision)) {
        out.push("done")
        break
      }
      const start = ScheduleIntervals.start(decision.intervals)
      if (!Duration.equals(delay, Duration.millis(start - now))) unlike++
      state = next
      if (advance) now = start
      out.push(Duration.toMillis(delay))
    }
    expect(unlike).toBe(0)
    return out
  })

const first = (backoff: Backoff.Backoff, n: number) =>
  Effect.map(steps(backoff, Array.from({ length: n }), { advance: false }), (out) => out as Array<number>)

// One assertion per sequence: the attempts (from 0) whose delay broke the rule.
const expectAll = (delays: ReadonlyArray<number>, ok: (d: number, n: number) => boolean) =>
  expect(delays.flatMap((d, n) => (ok(d, n) ? [] : [{ n, d }]))).toEqual([])

// A Duration holds whole nanoseconds: a formula's value, as a delay, is that value rounded to the nanosecond.
const ns = (millis: number): number => Duration.toMillis(Duration.millis(millis))

const seeded = (seed: number) => <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.withRandom(self, Random.make(seed))

const rateLimited = (retryAfterMillis: number) =>
  new RateLimited({ provider: "api", reason: "provider", retryAfter: Duration.millis(retryAfterMillis) })
const clientError = new ClientError({ provider: "api", status: 422, body: "" })
const unavailable = new Unavailable({ provider: "api", reason: "status", status: 502 })

// Runs `Effect.retry` under the TestClock: attempt k (from 1) fails with `errorAt(k)`, or succeeds when that
// is undefined. Records when each attempt started and every delay the schedule put out.
const retried = <E>(backoff: Schedule.Schedule<Duration.Duration, E>, errorAt: (attempt: number) => E | undefined) =>
  Effect.gen(function*() {
    const times: Array<number> = []
    const outputs: Array<number> = []
    const attempt = Effect.flatMap(Clock.currentTimeMillis, (now) => {
      times.push(now)
      const error = errorAt(times.length)
      return error === undefined ? Effect.succeed(times.length) : Effect.fail(error)
    })
    const schedule = backoff.pipe(Schedule.tapOutput((d) => Effect.sync(() => outputs.push(Duration.toMillis(d)))))
    const fiber = yield* Effect.fork(Effect.exit(Effect.retry(attempt, schedule)))
    yield* TestClock.adjust("1 day")
    const exit = yield* Fiber.join(fiber)
    return { times, outputs, exit }
  })

// The time between two attempts is exactly the delay the schedule put out (the TestClock adds the slept
// duration to its instant, so this is exact even for fractional delays and a large epoch).
const expectSleptAsOutput = (times: ReadonlyArray<number>, outputs: ReadonlyArray<number>) => {
  expect(outputs.length).toBeGreaterThanOrEqual(times.length - 1)
  for (let k = 1; k < times.length; k++) expect(times[k]).toBe(times[k - 1]! + outputs[k - 1]!)
}

// The InvalidOptions `build` throws; the test fails if it returns or throws anything else.

describe("Backoff", () => {
  describe("sequences", () => {
    it.effect("exponential - doubles from base and stays at the cap", () =>
      Effect.gen(function*() {
        expect(yield* first(Backoff.exponential({ base: "100 millis", cap: "1 second" }), 6)).toEqual(
          [100, 200, 400, 800, 1000, 1000]
        )
        expect(yield* first(Backoff.exponential({ base: "100 millis", factor: 3, cap: "5 seconds" }), 5)).toEqual(
          [100, 300, 900, 2700, 5000]
        )
        expect(yield* first(Backoff.exponential({ base: "250 millis", factor: 1 }), 3)).toEqual([250, 250, 250])
      }))

    it.effect("exponential - without a cap, the delay stops at 1 minute (or at base when base is longer)", () =>
      Effect.gen(function*() {
        const delays = yield* first(Backoff.exponential({ base: "1 second" }), 10)
        expect(delays).toEqual([1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000, 60000, 60000])
        expect(yield* first(Backoff.exponential({ base: "2 minutes" }), 3)).toEqual([120000, 120000, 120000])
      }))

    it.effect("linear - grows by step (default base) up to the cap", () =>
      Effect.gen(function*() {
        const stepped = Backoff.linear({ base: "1 second", step: "500 millis", cap: "3 seconds" })
        expect(yield* first(stepped, 7)).toEqual([1000, 1500, 2000, 2500, 3000, 3000, 3000])
        expect(yield* first(Backoff.linear({ base: "100 millis" }), 4)).toEqual([100, 200, 300, 400])
        expect(yield* first(Backoff.linear({ base: 0, step: "10 millis" }), 3)).toEqual([0, 10, 20])
      }))

    it.effect("constant - the same delay every time", () =>
      Effect.gen(function*() {
        expect(yield* first(Backoff.constant("1.5 seconds"), 4)).toEqual([1500, 1500, 1500, 1500])
        expect(yield* first(Backoff.constant(0), 2)).toEqual([0, 0])
      }))

    it.effect("decorrelated jitter - the first draw is in [base, 3 * base]", () =>
      Effect.gen(function*() {
        for (let seed = 0; seed < 50; seed++) {
          const [d] = yield* first(Backoff.decorrelatedJitter({ base: "100 millis", cap: "10 seconds" }), 1).pipe(
            seeded(seed)
          )
          expect(d).toBeGreaterThanOrEqual(100)
          expect(d).toBeLessThanOrEqual(300)
        }
      }))
  })

  describe("overflow", () => {
    it.effect("exponential - exact below the cap, the cap at attempt 10,000, never Infinity or NaN", () =>
      Effect.gen(function*() {
        const day = 86_400_000
        const doubling = yield* first(Backoff.exponential({ base: 1, cap: "1 day" }), 10_000)
        expectAll(doubling, (d, n) => d === Math.min(day, 2 ** n))
        const slow = yield* first(Backoff.exponential({ base: "3 millis", factor: 1.1, cap: "1 day" }), 10_000)
        expectAll(slow, (d, n) => d === ns(Math.min(day, 3 * 1.1 ** n)))
        expect(slow[9_999]).toBe(day)
        const huge = yield* first(Backoff.exponential({ base: 1, factor: Number.MAX_VALUE }), 10_000)
        expect(huge.slice(0, 3)).toEqual([1, 60_000, 60_000])
        expectAll(huge, (d, n) => d === (n === 0 ? 1 : 60_000))
      }))

    it.effect("linear and jittered - attempt 10,000 is still bounded by the cap", () =>
      Effect.gen(function*() {
        const linear = yield* first(Backoff.linear({ base: "100 millis" }), 10_000)
        expect(linear[9_999]).toBe(60_000)
        const jittered = yield* first(
          Backoff.exponential({ base: "100 millis" }).pipe(Backoff.equalJitter, Backoff.fullJitter),
          10_000
        ).pipe(seeded(7))
        expectAll(jittered, (d) => Number.isFinite(d) && d >= 0 && d <= 60_000)
      }))

    it.effect.prop(
      "exponential - any valid options give finite, non-decreasing delays in [0, cap]",
      {
        base: FastCheck.double({ min: 0.001, max: 1e6, noNaN: true }),
        factor: FastCheck.double({ min: 1, max: 1e3, noNaN: true }),
        extra: FastCheck.double({ min: 0, max: 1e9, noNaN: true }),
        n: FastCheck.integer({ min: 1, max: 10_000 })
      },
      ({ base: input, extra, factor, n }) =>
        Effect.gen(function*() {
          const base = ns(input)
          const cap = ns(base + extra)
          const delays = yield* first(Backoff.exponential({ base, factor, cap }), n)
          expectAll(delays, (d, i) =>
            d === ns(Math.min(cap, base * factor ** i)) && Number.isFinite(d) && d > 0 && d <= cap &&
            d >= (delays[i - 1] ?? 0))
        }),
      { fastCheck: { numRuns: 20 } }
    )
  })

  describe("jitter", () => {
    const jitterArbs = {
      seed: FastCheck.integer(),
      base: FastCheck.double({ min: 0.001, max: 10_000, noNaN: true }),
      extra: FastCheck.double({ min: 0, max: 1e7, noNaN: true }),
      n: FastCheck.integer({ min: 1, max: 10_000 })
    }

    // One property per formula: build the backoff from (base, cap), and the rule attempt n (from 0) must keep.
    const formulas: ReadonlyArray<{
      readonly name: string
      readonly build: (base: number, cap: number) => Backoff.Backoff
      readonly holds: (d: number, n: number, delays: ReadonlyArray<number>, base: number, cap: number) => boolean
    }> = [
      {
        name: "full jitter - attempt n is in [0, min(cap, base * 2^n)]",
        build: (base, cap) => Backoff.exponential({ base, cap }).pipe(Backoff.fullJitter),
        holds: (d, n, _, base, cap) => d >= 0 && d <= ns(Math.min(cap, base * 2 ** n))
      },
      {
        name: "equal jitter - attempt n is in [t/2, t] with t = min(cap, base * 2^n)",
        build: (base, cap) => Backoff.exponential({ base, cap }).pipe(Backoff.equalJitter),
        holds: (d, n, _, base, cap) => {
          const t = Math.min(cap, base * 2 ** n)
          return d >= ns(t / 2) && d <= ns(t)
        }
      },
      {
        name: "decorrelated jitter - each delay is in [base, min(cap, previous * 3)]",
        build: (base, cap) => Backoff.decorrelatedJitter({ base, cap }),
        holds: (d, n, delays, base, cap) => d >= base && d <= ns(Math.min(cap, (delays[n - 1] ?? base) * 3))
      }
    ]

    for (const { build, holds, name } of formulas) {
      it.effect.prop(
        name,
        jitterArbs,
        ({ base: input, extra, n, seed }) =>
          Effect.gen(function*() {
            const base = ns(input)
            const cap = ns(base + extra)
            const delays = yield* first(build(base, cap), n).pipe(seeded(seed))
            expectAll(delays, (d, i) => holds(d, i, delays, base, cap))
          }),
        { fastCheck: { numRuns: 15 } }
      )
    }

    it.effect("full jitter - actually spreads: delays vary and use the whole range", () =>
      Effect.gen(function*() {
        const delays = yield* first(Backoff.constant("1 second").pipe(Backoff.fullJitter), 1000).pipe(seeded(3))
        expect(Math.min(...delays)).toBeLessThan(50)
        expect(Math.max(...delays)).toBeGreaterThan(950)
        expect(new Set(delays).size).toBeGreaterThan(990)
      }))

    it.effect("seeded Random - the same seed replays the same sequence, another seed does not", () =>
      Effect.gen(function*() {
        const backoffs = [
          Backoff.exponential({ base: "100 millis", cap: "10 seconds" }).pipe(Backoff.fullJitter),
          Backoff.exponential({ base: "100 millis", cap: "10 seconds" }).pipe(Backoff.equalJitter),
          Backoff.decorrelatedJitter({ base: "100 millis", cap: "10 seconds" })
        ]
        for (const backoff of backoffs) {
          const a = yield* first(backoff, 20).pipe(seeded(42))
          const b = yield* first(backoff, 20).pipe(seeded(42))
          const c = yield* first(backoff, 20).pipe(seeded(43))
          expect(b).toEqual(a)
          expect(c).not.toEqual(a)
        }
      }))
  })

  describe("sleeping", () => {
    it.effect("retry - attempts happen exactly the output delays apart (exponential, cap)", () =>
      Effect.gen(function*() {
        const backoff = Backoff.exponential({ base: "100 millis", cap: "1 second" })
        const { exit, outputs, times } = yield* retried(backoff, (k) => (k <= 6 ? "boom" : undefined))
        expect(exit).toEqual(Exit.succeed(7))
        expect(times).toEqual([0, 100, 300, 700, 1500, 2500, 3500])
        expectSleptAsOutput(times, outputs)
      }))

    it.effect("retry - fractional jittered delays are slept exactly, also from a large epoch", () =>
      Effect.gen(function*() {
        yield* TestClock.setTime(1_764_000_000_000.25)
        const backoff = Backoff.exponential({ base: "100 millis", cap: "10 seconds" }).pipe(
          Backoff.fullJitter,
          Backoff.honorRetryAfter()
        )
        const { exit, outputs, times } = yield* retried(
          backoff,
          (k) => (k <= 8 ? (k % 3 === 0 ? rateLimited(1500) : unavailable) : undefined)
        ).pipe(seeded(11))
        expect(Exit.isSuccess(exit)).toBe(true)
        expect(times).toHaveLength(9)
        expect(outputs.some((d) => !Number.isInteger(d))).toBe(true)
        expectSleptAsOutput(times, outputs)
      }))

    it.effect("repeat - a decorrelated backoff sleeps its outputs between repetitions", () =>
      Effect.gen(function*() {
        const times: Array<number> = []
        const outputs: Array<number> = []
        const backoff = Backoff.decorrelatedJitter({ base: "100 millis", cap: "2 seconds" }).pipe(
          Schedule.tapOutput((d) => Effect.sync(() => outputs.push(Duration.toMillis(d))))
        )
        const fiber = yield* Effect.fork(
          Effect.repeat(
            Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => times.push(now))),
            backoff.pipe(Schedule.intersect(Schedule.recurs(10)))
          ).pipe(seeded(5))
        )
        yield* TestClock.adjust("1 minute")
        yield* Fiber.join(fiber)
        expect(times).toHaveLength(11)
        expectSleptAsOutput(times, outputs)
      }))
  })

  describe("honorRetryAfter", () => {
    it.effect.prop(
      "honorRetryAfter - waits max(delay, hint) plus at most min(10% of hint, 1 s), never less",
      {
        seed: FastCheck.integer(),
        computed: FastCheck.integer({ min: 0, max: 120_000 }),
        hints: FastCheck.array(FastCheck.double({ min: 0, max: 60_000, noNaN: true }), { minLength: 1, maxLength: 30 }),
        from: FastCheck.constantFrom(0, 1_764_000_000_000.25)
      },
      ({ computed, from, hints, seed }) =>
        Effect.gen(function*() {
          const backoff = Backoff.constant(computed).pipe(Backoff.honorRetryAfter())
          const errors = hints.map(rateLimited)
          const delays = yield* steps(backoff, errors, { from }).pipe(seeded(seed))
          // Durations hold whole nanoseconds and an epoch-sized clock has ~0.2 µs steps: allow that much late.
          const slack = from === 0 ? 1e-6 : 1e-3
          expect(delays).toHaveLength(hints.length)
          expectAll(delays as Array<number>, (d, i) => {
            const hint = Duration.toMillis(errors[i]!.retryAfter!)
            const floor = Math.max(computed, hint)
            return d >= floor && d <= floor + Math.min(hint / 10, 1000) + slack
          })
        }),
      { fastCheck: { numRuns: 100 } }
    )

    it.effect("honorRetryAfter - a 429 with Retry-After 2 s is retried after 2 s to 2.2 s, not before", () =>
      Effect.gen(function*() {
        const backoff = Backoff.exponential({ base: "100 millis", cap: "10 seconds" }).pipe(
          Backoff.fullJitter,
          Backoff.honorRetryAfter()
        )
        for (let seed = 0; seed < 20; seed++) {
          const { exit, outputs, times } = yield* retried(backoff, (k) => (k === 1 ? rateLimited(2000) : undefined))
            .pipe(seeded(seed))
          expect(exit).toEqual(Exit.succeed(2))
          expect(times[1]! - times[0]!).toBeGreaterThanOrEqual(2000)
          expect(times[1]! - times[0]!).toBeLessThanOrEqual(2200)
          expectSleptAsOutput(times, outputs)
        }
      }))

    it.effect("honorRetryAfter - the spread above a long hint is at most 1 s", () =>
      Effect.gen(function*() {
        const backoff = Backoff.constant(0).pipe(Backoff.honorRetryAfter())
        const delays = yield* steps(backoff, Array.from({ length: 500 }, () => rateLimited(50_000))).pipe(seeded(9))
        expect(Math.min(...(delays as Array<number>))).toBeGreaterThanOrEqual(50_000)
        expect(Math.max(...(delays as Array<number>))).toBeLessThanOrEqual(51_000)
        expect(Math.max(...(delays as Array<number>))).toBeGreaterThan(50_900)
      }))

    it.effect("honorRetryAfter - a hint above maxHint ends the schedule; the error keeps its hint", () =>
      Effect.gen(function*() {
        const error = rateLimited(90_000)
        const { exit, times } = yield* retried(
          Backoff.exponential({ base: "100 millis" }).pipe(Backoff.honorRetryAfter()),
          () => error
        )
        expect(times).toEqual([0])
        const failure = Exit.match(exit, { onFailure: Cause.failureOption, onSuccess: () => Option.none() })
        expect(Option.getOrNull(failure)).toBe(error)
        expect(error.retryAfter).toEqual(Duration.seconds(90))

        const custom = Backoff.constant(0).pipe(Backoff.honorRetryAfter({ maxHint: "5 seconds" }))
        expect(yield* steps(custom, [rateLimited(5000), rateLimited(5001)]).pipe(seeded(1))).toEqual([
          expect.any(Number),
          "done"
        ])
      }))

    it.effect("honorRetryAfter - a hint of exactly maxHint (default 1 minute) is waited for", () =>
      Effect.gen(function*() {
        const { exit, times } = yield* retried(
          Backoff.constant("1 second").pipe(Backoff.honorRetryAfter()),
          (k) => (k === 1 ? rateLimited(60_000) : undefined)
        )
        expect(exit).toEqual(Exit.succeed(2))
        expect(times[1]).toBeGreaterThanOrEqual(60_000)
        expect(times[1]).toBeLessThanOrEqual(61_000)
      }))

    it.effect("honorRetryAfter - errors without a hint get exactly the backoff's own delays", () =>
      Effect.gen(function*() {
        const inner = Backoff.exponential({ base: "100 millis", cap: "5 seconds" }).pipe(Backoff.fullJitter)
        const inputs = Array.from({ length: 12 }, (_, i) =>
          [clientError, unavailable, "a plain string", new Error("x"), null, { retryAfter: undefined }][i % 6])
        const plain = yield* steps(inner, inputs).pipe(seeded(8))
        const honoured = yield* steps(inner.pipe(Backoff.honorRetryAfter()), inputs).pipe(seeded(8))
        expect(honoured).toEqual(plain)
      }))

    it.effect("honorRetryAfter - reads Unavailable (503), any object with a Duration retryAfter, and zero hints", () =>
      Effect.gen(function*() {
        const backoff = Backoff.constant("100 millis").pipe(Backoff.honorRetryAfter())
        const delays = yield* steps(backoff, [
          new Unavailable({ provider: "s3", reason: "status", status: 503, retryAfter: Duration.seconds(3) }),
          { retryAfter: Duration.seconds(4) },
          rateLimited(0)
        ]).pipe(seeded(2)) as Effect.Effect<Array<number>>
        expect(delays[0]).toBeGreaterThanOrEqual(3000)
        expect(delays[0]).toBeLessThanOrEqual(3300)
        expect(delays[1]).toBeGreaterThanOrEqual(4000)
        expect(delays[1]).toBeLessThanOrEqual(4400)
        expect(delays[2]).toBe(100)
      }))

    it.effect("honorRetryAfter - the wrapped backoff keeps counting attempts while hints win", () =>
      Effect.gen(function*() {
        const backoff = Backoff.exponential({ base: "100 millis", cap: "10 seconds" }).pipe(Backoff.honorRetryAfter())
        const delays = yield* steps(backoff, [rateLimited(1000), unavailable, unavailable]).pipe(seeded(4))
        expect(delays.slice(1)).toEqual([200, 400])
      }))

    it.effect("honorRetryAfter - ends when the wrapped schedule ends", () =>
      Effect.gen(function*() {
        const twice: Backoff.Backoff = Backoff.constant("10 millis").pipe(
          Schedule.intersect(Schedule.recurs(2)),
          Schedule.map(([d]) => d)
        )
        const delays = yield* steps(twice.pipe(Backoff.honorRetryAfter()), [unavailable, rateLimited(50), unavailable])
        expect(delays).toEqual([10, expect.any(Number), "done"])
      }))

    it.effect("honorRetryAfter - data-first and data-last are the same schedule", () =>
      Effect.gen(function*() {
        const inner = Backoff.exponential({ base: "100 millis" }).pipe(Backoff.equalJitter)
        const inputs = [rateLimited(700), unavailable, rateLimited(20_000), rateLimited(10_000)]
        const first = yield* steps(Backoff.honorRetryAfter(inner, { maxHint: "15 seconds" }), inputs).pipe(seeded(6))
        const last = yield* steps(inner.pipe(Backoff.honorRetryAfter({ maxHint: "15 seconds" })), inputs).pipe(
          seeded(6)
        )
        expect(first).toEqual(last)
        expect(first[2]).toBe("done")
      }))
  })

  describe("bad input", () => {
    const honorRetryAfter = Backoff.honorRetryAfter
    // [case, option, the value as the message shows it, the call]
    const cases: Array<readonly [string, string, string, () => unknown]> = [
      ["constant - negative delay", "delay", "-1", () => Backoff.constant(-1)],
      ["constant - NaN delay", "delay", "NaN", () => Backoff.constant(NaN)],
      ["constant - unparseable string", "delay", "\"100ms\"", () => Backoff.constant(untyped("100ms"))],
      ["constant - longer than a timer can sleep", "delay", "\"25 days\"", () => Backoff.constant("25 days")],
      ["linear - negative base", "base", "\"-5 millis\"", () => Backoff.linear({ base: untyped("-5 millis") })],
      ["linear - NaN step", "step", "NaN", () => Backoff.linear({ base: 100, step: NaN })],
      ["linear - cap below base", "cap", "\"1 second\"", () => Backoff.linear({ base: "2 seconds", cap: "1 second" })],
      ["exponential - zero base", "base", "0", () => Backoff.exponential({ base: 0 })],
      ["exponential - factor below 1", "factor", "0.5", () => Backoff.exponential({ base: 100, factor: 0.5 })],
      ["exponential - NaN factor", "factor", "NaN", () => Backoff.exponential({ base: 100, factor: NaN })],
      ["exponential - infinite factor", "factor", "Infinity", () => Backoff.exponential({ base: 1, factor: Infinity })],
      ["exponential - cap below base", "cap", "100", () => Backoff.exponential({ base: 500, cap: 100 })],
      ["exponential - infinite cap", "cap", "Infinity", () => Backoff.exponential({ base: 1, cap: Duration.infinity })],
      ["exponential - cap too long", "cap", "\"4 weeks\"", () => Backoff.exponential({ base: 1, cap: "4 weeks" })],
      ["decorrelatedJitter - negative base", "base", "-1", () => Backoff.decorrelatedJitter({ base: -1, cap: 10 })],
      ["decorrelatedJitter - cap below base", "cap", "5", () => Backoff.decorrelatedJitter({ base: 10, cap: 5 })],
      [
        "decorrelatedJitter - no cap (required, as documented)",
        "cap",
        "undefined",
        () => Backoff.decorrelatedJitter({ base: 10 } as Backoff.Backoff.DecorrelatedJitterOptions)
      ],
      ["honorRetryAfter - NaN maxHint", "maxHint", "NaN", () => Backoff.honorRetryAfter({ maxHint: NaN })],
      ["honorRetryAfter - unparseable maxHint", "maxHint", "\"1m\"", () => honorRetryAfter({ maxHint: untyped("1m") })],
      ["honorRetryAfter - maxHint too long", "maxHint", "\"30 days\"", () => honorRetryAfter({ maxHint: "30 days" })]
    ]

    it.each(cases)("%s - throws InvalidOptions naming the option and the value", (_, option, value, build) => {
      const error = thrown(build)
      expect(error.option).toBe(option)
      expect(error.value).toBe(value)
      expect(error.module).toMatch(/^Backoff\./)
      expect(error.message).toContain(`option ${option} must be`)
    })

    it("messages - say what was expected", () => {
      expect(thrown(() => Backoff.exponential({ base: 100, factor: 0.5 })).message).toBe(
        "Backoff.exponential: option factor must be a finite number >= 1, got 0.5"
      )
      expect(thrown(() => Backoff.exponential({ base: "1 second", cap: "500 millis" })).message).toBe(
        "Backoff.exponential: option cap must be a duration >= base (1000 millis), got \"500 millis\""
      )
    })

    it("honorRetryAfter - options are checked when it is called, before it is applied", () => {
      const build = Backoff.honorRetryAfter
      expect(() => build({ maxHint: -1 })).toThrow(InvalidOptions)
      expect(() => build(Backoff.constant(1), { maxHint: -1 })).toThrow(InvalidOptions)
      expect(() => build({ maxHint: 0 })).not.toThrow()
    })
  })
})
