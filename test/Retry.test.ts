import { describe, expect, it } from "@effect/vitest"
import {
  Cause,
  Context,
  Duration,
  Effect,
  Exit,
  FastCheck,
  Fiber,
  Layer,
  Logger,
  LogLevel,
  Metric,
  Random,
  Ref,
  Schedule,
  TestClock
} from "effect"
import * as Backoff from "../src/Backoff.js"
import {
  BulkheadFull,
  CircuitOpen,
  ClientError,
  InvalidOptions,
  InvalidRequest,
  InvalidResponse,
  RateLimited,
  Timeout as TimeoutError,
  Unavailable
} from "../src/Errors.js"
import * as Retry from "../src/Retry.js"
import * as Timeout from "../src/Timeout.js"

const down = new Unavailable({ provider: "p", reason: "status", status: 503 })
const slowAttempt = new TimeoutError({ provider: "p", scope: "attempt", after: Duration.seconds(1) })
const rateLimited = (seconds: number) =>
  new RateLimited({ provider: "p", reason: "provider", retryAfter: Duration.seconds(seconds) })

/**
 * A call that plays `script` (the last entry repeats) and records the TestClock time of each attempt.
 * Entries are errors to fail with, or "ok".
 */
const scripted = <E>(script: ReadonlyArray<E | "ok">) =>
  Effect.map(Ref.make<ReadonlyArray<number>>([]), (attempts) => ({
    call: Effect.flatMap(TestClock.currentTimeMillis, (now) =>
      Ref.modify(attempts, (times) => [times.length, [...times, now]])).pipe(
        Effect.flatMap((n): Effect.Effect<number, E> => {
          const next = script[Math.min(n, script.length - 1)]!
          return next === "ok" ? Effect.succeed(n) : Effect.fail(next)
        })
      ),
    attempts: Ref.get(attempts)
  }))

/** Runs `effect` in a fiber with a seeded Random, moves the TestClock `by`, and returns its exit. */
const drive = <A, E>(effect: Effect.Effect<A, E>, by: Duration.DurationInput = "10 minutes", seed = 42) =>
  Effect.gen(function*() {
    const fiber = yield* effect.pipe(Effect.withRandom(Random.make(seed)), Effect.exit, Effect.fork)
    yield* TestClock.adjust(by)
    return yield* Fiber.join(fiber)
  })

const gaps = (times: ReadonlyArray<number>): Array<number> => times.slice(1).map((t, i) => t - times[i]!)

const noJitter = Backoff.exponential({ base: "100 millis", cap: "1 second" })

describe("Retry", () => {
  describe("attempts", () => {
    it.effect("times - times: 3 is at most 4 attempts, and the last error is returned", () =>
      Effect.gen(function*() {
        const { attempts, call } = yield* scripted([down])
        const exit = yield* drive(call.pipe(Retry.transient({ times: 3 })))
        expect(exit).toEqual(Exit.fail(down))
        expect((yield* attempts).length).toBe(4)
      }))

    it.effect("times - times: 0 never retries; a success stops retrying", () =>
      Effect.gen(function*() {
        const once = yield* scripted([down])
        yield* drive(once.call.pipe(Retry.transient({ times: 0 })))
        expect((yield* once.attempts).length).toBe(1)
        const recovers = yield* scripted([down, down, "ok"])
        expect(yield* drive(recovers.call.pipe(Retry.transient({ times: 5 })))).toEqual(Exit.succeed(2))
        expect((yield* recovers.attempts).length).toBe(3)
      }))

    it.effect("backoff - a given backoff sets the exact delays: 100, 200, 400, 800, 1000", () =>
      Effect.gen(function*() {
        const { attempts, call } = yield* scripted([down])
        yield* drive(call.pipe(Retry.transient({ times: 5, backoff: noJitter })))
        expect(gaps(yield* attempts)).toEqual([100, 200, 400, 800, 1000])
      }))

    it.effect("backoff - the default is full jitter over 100 ms x2: each delay in [0, 100 * 2^n)", () =>
      Effect.gen(function*() {
        for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
          const { attempts, call } = yield* scripted([down])
          yield* drive(call.pipe(Retry.transient({ times: 8 })), "10 minutes", seed)
          const delays = gaps(yield* attempts)
          expect(delays.length).toBe(8)
          delays.forEach((delay, n) => {
            expect(delay).toBeGreaterThanOrEqual(0)
            expect(delay).toBeLessThan(Math.min(10_000, 100 * 2 ** n))
          })
        }
      }))
  })

  describe("which errors", () => {
    it.effect("non-transient - ClientError, Invalid*, CircuitOpen, BulkheadFull, user errors: invoked once", () =>
      Effect.gen(function*() {
        const errors: ReadonlyArray<unknown> = [
          new ClientError({ provider: "p", status: 422, body: "" }),
          new InvalidRequest({ provider: "p", issue: "bad" }),
          new InvalidResponse({ provider: "p", status: 200, issue: "bad" }),
          new CircuitOpen({ breaker: "b", reason: "open", retryAfter: Duration.seconds(1) }),
          new BulkheadFull({ bulkhead: "b", reason: "queue-full" }),
          new Error("boom"),
          "a string",
          { _tag: "UserError" }
        ]
        for (const error of errors) {
          const { attempts, call } = yield* scripted([error])
          const exit = yield* drive(call.pipe(Retry.transient({ times: 5 })), "0 millis")
          expect(exit).toEqual(Exit.fail(error))
          expect((yield* attempts).length).toBe(1)
        }
      }))

    it.effect("timeouts - an attempt Timeout is retried, a total Timeout never", () =>
      Effect.gen(function*() {
        const attemptTimeout = yield* scripted([slowAttempt, "ok"])
        expect(yield* drive(attemptTimeout.call.pipe(Retry.transient()))).toEqual(Exit.succeed(1))
        const total = new TimeoutError({ scope: "total", after: Duration.seconds(5) })
        const totalTimeout = yield* scripted([total, "ok"])
        expect(yield* drive(totalTimeout.call.pipe(Retry.transient()))).toEqual(Exit.fail(total))
        expect((yield* totalTimeout.attempts).length).toBe(1)
        expect([Retry.isRetryable(slowAttempt), Retry.isRetryable(total), Retry.isRetryable(down)]).toEqual([
          true,
          false,
          true
        ])
      }))

    it.effect("while - replaces the default: narrows it, or widens it to the caller's errors", () =>
      Effect.gen(function*() {
        const narrowed = yield* scripted<Unavailable | RateLimited>([rateLimited(1)])
        yield* drive(narrowed.call.pipe(Retry.transient({ while: (e) => e._tag === "Unavailable" })))
        expect((yield* narrowed.attempts).length).toBe(1)
        const widened = yield* scripted(["busy", "busy", "ok"])
        const exit = yield* drive(widened.call.pipe(Retry.transient({ while: (e) => e === "busy" })))
        expect(exit).toEqual(Exit.succeed(2))
      }))

    it.effect("defects - a defect is never retried", () =>
      Effect.gen(function*() {
        const attempts = yield* Ref.make(0)
        const exit = yield* drive(Ref.update(attempts, (n) => n + 1).pipe(
          Effect.zipRight(Effect.die("bug")),
          Retry.transient({ while: () => true })
        ))
        expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
        expect(yield* Ref.get(attempts)).toBe(1)
      }))
  })

  describe("Retry-After", () => {
    it.effect("retry-after - the hint is honoured, never early and at most 10% late", () =>
      Effect.gen(function*() {
        for (const seed of [1, 2, 3, 4, 5]) {
          const { attempts, call } = yield* scripted([rateLimited(2), "ok"])
          const fiber = yield* call.pipe(Retry.transient(), Effect.withRandom(Random.make(seed)), Effect.fork)
          yield* TestClock.adjust("1999 millis")
          expect((yield* attempts).length).toBe(1)
          yield* TestClock.adjust("201 millis")
          expect(yield* Fiber.join(fiber)).toBe(1)
          const [first, second] = yield* attempts
          expect(second! - first!).toBeGreaterThanOrEqual(2000)
          expect(second! - first!).toBeLessThanOrEqual(2200)
        }
      }))

    it.effect.prop(
      "retry-after - for any hint up to maxRetryAfter, the wait is max(backoff, hint) plus at most 10% (<= 1 s)",
      [FastCheck.integer({ min: 1, max: 10_000 }), FastCheck.integer()],
      ([hint, seed]) =>
        Effect.gen(function*() {
          const error = new RateLimited({ provider: "p", reason: "provider", retryAfter: Duration.millis(hint) })
          const { attempts, call } = yield* scripted([error, "ok"])
          expect(yield* drive(call.pipe(Retry.transient()), "1 minute", seed)).toEqual(Exit.succeed(1))
          const [wait] = gaps(yield* attempts)
          expect(wait).toBeGreaterThanOrEqual(hint)
          // the first default backoff is below 100 ms
          expect(wait).toBeLessThanOrEqual(Math.max(hint, 100) + Math.min(hint * 0.1, 1000))
        }),
      { fastCheck: { numRuns: 50 } }
    )

    it.effect.prop(
      "retry-after - a backoff that already honours hints is not jittered twice: the wait stays within 10% (<= 1 s) of the hint",
      [FastCheck.integer({ min: 1_000, max: 10_000 }), FastCheck.integer()],
      ([hint, seed]) =>
        Effect.gen(function*() {
          const error = new RateLimited({ provider: "p", reason: "provider", retryAfter: Duration.millis(hint) })
          const { attempts, call } = yield* scripted([error, "ok"])
          const backoff = Backoff.exponential({ base: "100 millis", cap: "5 seconds" }).pipe(Backoff.honorRetryAfter())
          expect(yield* drive(call.pipe(Retry.transient({ backoff })), "1 minute", seed)).toEqual(Exit.succeed(1))
          const [wait] = gaps(yield* attempts)
          expect(wait).toBeGreaterThanOrEqual(hint)
          expect(wait).toBeLessThanOrEqual(hint + Math.min(hint * 0.1, 1000))
        }),
      { fastCheck: { numRuns: 50 } }
    )

    it.effect("stopped - a backoff that ends is reason schedule even when the error has a hint; a hint too long for any bound is retry-after", () =>
      Effect.gen(function*() {
        const stoppedBy = (policy: string) =>
          Effect.map(Metric.snapshot, (snapshot) =>
            snapshot.filter(({ metricKey }) =>
              metricKey.name === "resilience_retry_stopped_total" &&
              metricKey.tags.some((tag) => tag.key === "policy" && tag.value === policy)
            ).flatMap(({ metricKey }) => metricKey.tags.filter((tag) => tag.key === "reason").map((tag) => tag.value)))
        const shortHint = new RateLimited({ provider: "p", reason: "provider", retryAfter: Duration.millis(10) })
        const ended = Schedule.upTo(Backoff.constant("100 millis"), "150 millis")
        yield* drive(Effect.fail(shortHint).pipe(Retry.transient({ name: "ended", times: 10, backoff: ended })), "10 seconds")
        expect(yield* stoppedBy("ended")).toEqual(["schedule"])
        yield* drive(Effect.fail(rateLimited(61)).pipe(Retry.transient({ name: "too-long" })), "10 seconds")
        expect(yield* stoppedBy("too-long")).toEqual(["retry-after"])
        // too long for the backoff's own bound, not for maxRetryAfter
        const ownBound = Backoff.constant("100 millis").pipe(Backoff.honorRetryAfter({ maxHint: "1 second" }))
        yield* drive(Effect.fail(rateLimited(5)).pipe(Retry.transient({ name: "own-bound", backoff: ownBound })), "10 seconds")
        expect(yield* stoppedBy("own-bound")).toEqual(["retry-after"])
      }))

    it.effect("retry-after - a hint above maxRetryAfter is not waited for; the error keeps its hint", () =>
      Effect.gen(function*() {
        const longHint = yield* scripted([rateLimited(61), "ok"])
        const exit = yield* drive(longHint.call.pipe(Retry.transient()), "0 millis")
        expect(exit).toEqual(Exit.fail(rateLimited(61)))
        expect((yield* longHint.attempts).length).toBe(1)
        const allowed = yield* scripted([rateLimited(61), "ok"])
        expect(yield* drive(allowed.call.pipe(Retry.transient({ maxRetryAfter: "2 minutes" })))).toEqual(
          Exit.succeed(1)
        )
        expect(gaps(yield* allowed.attempts)[0]).toBeGreaterThanOrEqual(61_000)
      }))
  })

  describe("budget", () => {
    it.effect("budget - an empty budget returns the last error without a retry", () =>
      Effect.gen(function*() {
        const budget = yield* Retry.budget({ minPerSecond: 0, ratio: 0.5 })
        const { attempts, call } = yield* scripted([down])
        const exit = yield* drive(call.pipe(Retry.transient({ times: 5, budget })))
        expect(exit).toEqual(Exit.fail(down))
        expect((yield* attempts).length).toBe(1)
      }))

    it.effect("budget - successes deposit, retries withdraw, shared between call sites", () =>
      Effect.gen(function*() {
        const budget = yield* Retry.budget({ minPerSecond: 0, ratio: 0.5 })
        const healthy = Effect.succeed("ok").pipe(Retry.transient({ budget, name: "a" }))
        yield* healthy
        yield* healthy
        yield* healthy
        yield* healthy // four successes at ratio 0.5: two retries
        expect(yield* budget.available).toBe(2)
        const { attempts, call } = yield* scripted([down])
        const exit = yield* drive(call.pipe(Retry.transient({ times: 5, budget, name: "b", backoff: noJitter })))
        expect(exit).toEqual(Exit.fail(down))
        expect((yield* attempts).length).toBe(3)
        expect(yield* budget.available).toBe(0)
      }))

    it.effect("budget - minPerSecond is a floor over ttl, and spent credit comes back after ttl", () =>
      Effect.gen(function*() {
        const budget = yield* Retry.budget({ minPerSecond: 1, ratio: 0, ttl: "2 seconds" })
        expect(yield* budget.available).toBe(2)
        expect(yield* budget.withdraw).toBe(true)
        expect(yield* budget.withdraw).toBe(true)
        expect(yield* budget.withdraw).toBe(false)
        yield* TestClock.adjust("2 seconds")
        expect(yield* budget.available).toBe(2)
      }))

    it.effect("budget - deposits expire after ttl", () =>
      Effect.gen(function*() {
        const budget = yield* Retry.budget({ minPerSecond: 0, ratio: 1, ttl: "1 second" })
        yield* budget.deposit
        yield* TestClock.adjust("900 millis")
        expect(yield* budget.available).toBe(1)
        yield* TestClock.adjust("200 millis")
        expect(yield* budget.available).toBe(0)
      }))

    it.effect("budget - logs once when it runs dry and once when it has credit again", () =>
      Effect.gen(function*() {
        const lines: Array<string> = []
        const logger = Logger.make(({ logLevel, message }) => {
          lines.push(`${logLevel.label} ${String(message)}`)
        })
        const budget = yield* Retry.budget({ name: "crm", minPerSecond: 0, ratio: 1, ttl: "1 second" })
        yield* Effect.gen(function*() {
          expect(yield* budget.withdraw).toBe(false)
          expect(yield* budget.withdraw).toBe(false)
          yield* budget.deposit
          expect(yield* budget.withdraw).toBe(true)
        }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
        expect(lines).toEqual([
          "WARN retry budget crm is exhausted; failures are returned without retry",
          "INFO retry budget crm has credit again; retries resume"
        ])
      }))

    it.effect("budget - layerBudget provides a budget under the user's tag, or fails with InvalidOptions", () =>
      Effect.gen(function*() {
        class CrmBudget extends Context.Tag("test/CrmBudget")<CrmBudget, Retry.RetryBudget>() {}
        const available = yield* Effect.flatMap(CrmBudget, (budget) => budget.available).pipe(
          Effect.provide(Retry.layerBudget(CrmBudget, { minPerSecond: 2, ttl: "1 second" }))
        )
        expect(available).toBe(2)
        const invalid = Retry.layerBudget(CrmBudget, { ratio: -0.1 })
        const failed = yield* Effect.flip(Effect.scoped(Layer.build(invalid)))
        expect([failed.module, failed.option]).toEqual(["Retry.layerBudget", "ratio"])
      }))

    it.effect("budget - invalid options fail with InvalidOptions, in the error channel", () =>
      Effect.gen(function*() {
        const ratio = yield* Effect.flip(Retry.budget({ ratio: 1.5 }))
        expect(ratio).toBeInstanceOf(InvalidOptions)
        expect(ratio.message).toBe("Retry.budget: option ratio must be a number between 0 and 1, got 1.5")
        expect((yield* Effect.flip(Retry.budget({ minPerSecond: -1 }))).option).toBe("minPerSecond")
        expect((yield* Effect.flip(Retry.budget({ ttl: NaN }))).option).toBe("ttl")
      }))
  })

  describe("interruption and deadlines", () => {
    it.effect("interruption - during a backoff sleep stops at once with no further attempt", () =>
      Effect.gen(function*() {
        const { attempts, call } = yield* scripted([down])
        const fiber = yield* call.pipe(Retry.transient({ backoff: Backoff.constant("1 second") }), Effect.fork)
        yield* TestClock.adjust("500 millis")
        expect((yield* attempts).length).toBe(1)
        const exit = yield* Fiber.interrupt(fiber)
        expect(Exit.isInterrupted(exit)).toBe(true)
        yield* TestClock.adjust("1 minute")
        expect((yield* attempts).length).toBe(1)
      }))

    it.effect("deadline - a retry whose delay would end after the deadline is not started", () =>
      Effect.gen(function*() {
        const { attempts, call } = yield* scripted([down])
        const program = call.pipe(
          Retry.transient({ times: 10, backoff: Backoff.constant("400 millis") }),
          Effect.zipLeft(Effect.void),
          Timeout.total("1 second"),
          Effect.flip,
          Effect.zip(TestClock.currentTimeMillis)
        )
        const fiber = yield* Effect.fork(program)
        yield* TestClock.adjust("1 second")
        // attempts at 0, 400, 800; a retry at 1200 would pass the deadline, so the last error returns at 800
        expect(yield* Fiber.join(fiber)).toEqual([down, 800])
        expect(yield* attempts).toEqual([0, 400, 800])
      }))

    it.effect("deadline - attempt timeouts shrink to the time left, and the total Timeout ends the retries", () =>
      Effect.gen(function*() {
        const attempts = yield* Ref.make<ReadonlyArray<number>>([])
        const record = Effect.flatMap(TestClock.currentTimeMillis, (now) => Ref.update(attempts, (t) => [...t, now]))
        const hang = Effect.zipRight(record, Effect.never)
        const program = hang.pipe(
          Timeout.attempt("300 millis"),
          Retry.transient({ times: 10, backoff: Backoff.constant("100 millis") }),
          Timeout.total("1 second"),
          Effect.flip
        )
        const fiber = yield* Effect.fork(program)
        yield* TestClock.adjust("1 second")
        // 0-300 timed out, 400-700 timed out, 800: only 200 ms left, so the attempt ends with the deadline
        expect(yield* Fiber.join(fiber)).toEqual(new TimeoutError({ scope: "total", after: Duration.seconds(1) }))
        expect(yield* Ref.get(attempts)).toEqual([0, 400, 800])
      }))
  })

  describe("visibility", () => {
    it.effect("observability - each retry logs its policy, attempt, delay and tag, counts, and adds a span event", () =>
      Effect.gen(function*() {
        const lines: Array<{ message: unknown; annotations: Record<string, unknown> }> = []
        const logger = Logger.make(({ annotations, message }) => {
          lines.push({ message, annotations: Object.fromEntries(annotations) })
        })
        const secret = new Unavailable({ provider: "p", reason: "transport", detail: "token=s3cr3t" })
        const { call } = yield* scripted([secret, secret, "ok"])
        const program = Effect.gen(function*() {
          yield* call.pipe(Retry.transient({ name: "visible", backoff: noJitter }))
          return yield* Effect.currentSpan
        }).pipe(
          Effect.withSpan("call"),
          Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
          Logger.withMinimumLogLevel(LogLevel.Debug)
        )
        const exit = yield* drive(program)
        expect(Exit.isSuccess(exit)).toBe(true)
        const retryLines = lines.filter((line) => line.annotations["policy"] === "visible")
        expect(retryLines.map((line) => line.annotations)).toEqual([
          { policy: "visible", attempt: 1, delay: "100ms", error: "Unavailable" },
          { policy: "visible", attempt: 2, delay: "200ms", error: "Unavailable" }
        ])
        expect(JSON.stringify(lines)).not.toContain("s3cr3t")
        const counted = (yield* Metric.snapshot).filter(({ metricKey }) =>
          metricKey.name === "resilience_retry_retries_total" &&
          metricKey.tags.some((tag) => tag.key === "policy" && tag.value === "visible")
        )
        expect(counted.map(({ metricState }) => (metricState as { count?: number }).count)).toEqual([2])
        const span = Exit.isSuccess(exit) ? exit.value as unknown as { events: ReadonlyArray<[string]> } : undefined
        // log lines become span events too; the retry events are the structured ones
        expect(span?.events.filter(([name]) => name === "resilience.retry").length).toBe(2)
      }))
  })

  describe("options", () => {
    it("invalid options throw InvalidOptions when the combinator is built", () => {
      const invalid = (option: string) => expect.objectContaining({ _tag: "InvalidOptions", option })
      expect(() => Retry.transient({ times: -1 })).toThrow(
        "Retry.transient: option times must be an integer >= 0, got -1"
      )
      expect(() => Retry.transient({ times: 1.5 })).toThrow(invalid("times"))
      expect(() => Retry.transient({ times: NaN })).toThrow(invalid("times"))
      expect(() => Retry.transient(Effect.void, { times: -1 })).toThrow(invalid("times"))
      expect(() => Retry.transient({ maxRetryAfter: -5 })).toThrow(invalid("maxRetryAfter"))
      expect(() => Retry.transient({ name: "" })).toThrow(invalid("name"))
      expect(() => Retry.transient({ budget: {} as Retry.RetryBudget })).toThrow(invalid("budget"))
    })

    it("options of the wrong type throw InvalidOptions naming the option and the value, not a defect later", () => {
      const invalid = (option: string) => expect.objectContaining({ _tag: "InvalidOptions", option })
      const build = (options: unknown) => () => Retry.transient(options as Retry.Options)
      expect(build({ backoff: 5 })).toThrow(
        "Retry.transient: option backoff must be a Schedule of delays (e.g. Backoff.exponential(...)), got 5"
      )
      // honorRetryAfter() without a backoff is a function that makes one, not a schedule
      expect(build({ backoff: Backoff.honorRetryAfter() })).toThrow(invalid("backoff"))
      expect(build({ while: "yes" })).toThrow("Retry.transient: option while must be a function, got \"yes\"")
      expect(build({ times: "3" })).toThrow(invalid("times"))
      expect(build({ name: 5 })).toThrow(invalid("name"))
      expect(build({ maxRetryAfter: {} })).toThrow(invalid("maxRetryAfter"))
      expect(build({ budget: 5 })).toThrow(invalid("budget"))
      expect(build(5)).toThrow("Retry.transient: option options must be an options object, got 5")
      expect(build(null)).toThrow(invalid("options"))
      expect(() => Retry.transient(Effect.void, { backoff: 5 } as unknown as Retry.Options)).toThrow(invalid("backoff"))
    })
  })
})
