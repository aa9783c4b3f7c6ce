/**
 * Model-based test: random programs of calls (immediate, or held open and later finished or
 * interrupted), clock moves, isolate and reset run against the real breaker under TestClock and against
 * a small reference model written straight from the spec. After every step both must agree on whether a
 * call was admitted, on why and how long a rejection says to wait, on the state and on the lifetime count
 * of openings. `openFor` is a fixed break or a finite schedule of breaks whose last one repeats.
 */
import { describe, expect, it } from "@effect/vitest"
import {
  Clock,
  Deferred,
  Duration,
  Effect,
  Either,
  FastCheck as fc,
  Fiber,
  Layer,
  Logger,
  ManagedRuntime,
  Schedule,
  TestClock,
  TestContext
} from "effect"
import * as CircuitBreaker from "../src/CircuitBreaker.js"
import { BulkheadFull, CircuitOpen, RateLimited, Timeout, Unavailable } from "../src/Errors.js"

/**
 * How a call ends. "throttled" (a provider's 429) and "deadline" (a total Timeout) are the downstream
 * answering: the model treats them as "ok". "refused" (a local limiter's RateLimited) proves nothing,
 * as "ignored" does.
 */
type Result = "ok" | "fail" | "attempt-timeout" | "ignored" | "refused" | "throttled" | "deadline"

const counted = (result: Result | "interrupted"): "ok" | "fail" | "ignored" =>
  result === "fail" || result === "attempt-timeout"
    ? "fail"
    : result === "ignored" || result === "refused" || result === "interrupted"
    ? "ignored"
    : "ok"

type Command =
  | { readonly _tag: "Call"; readonly result: Result }
  | { readonly _tag: "Start" }
  | { readonly _tag: "Finish"; readonly index: number; readonly result: Result }
  | { readonly _tag: "Interrupt"; readonly index: number }
  | { readonly _tag: "Advance"; readonly millis: number }
  | { readonly _tag: "Read" }
  | { readonly _tag: "Isolate" }
  | { readonly _tag: "Reset" }

interface Config {
  readonly failures: number
  readonly probes: number
  /** A fixed break, or the delays of `Schedule.fromDelays`. */
  readonly openFor: number | ReadonlyArray<number>
  readonly maxWait: number | undefined
}

/** What a caller sees: "admitted", or the rejection's reason and retryAfter in ms. */
type Admission = "admitted" | `${"open" | "half-open-full" | "isolated"}:${number | "-"}`

class Reference {
  state: CircuitBreaker.State = "closed"
  failuresInARow = 0
  until = 0
  breakMillis = 0
  succeeded = 0
  opens = 0
  /** Openings since the breaker last closed. */
  streak = 0
  /** Calls whose outcome still counts; a transition forgets them all. */
  readonly live = new Map<number, { readonly probe: boolean; readonly start: number }>()

  constructor(readonly config: Config) {}

  private openAt(now: number) {
    const { openFor } = this.config
    const breakMillis = typeof openFor === "number" ? openFor : openFor[Math.min(this.streak, openFor.length - 1)]!
    this.state = "open"
    this.until = now + breakMillis
    this.breakMillis = breakMillis
    this.opens++
    this.streak++
    this.live.clear()
  }

  private close() {
    this.state = "closed"
    this.failuresInARow = 0
    this.streak = 0
    this.live.clear()
  }

  private wait() {
    return this.config.maxWait ?? Math.max(this.breakMillis, 1_000)
  }

  private probes() {
    return [...this.live.values()].filter((call) => call.probe)
  }

  tick(now: number) {
    if (this.state === "open" && now >= this.until) {
      this.state = "half-open"
      this.succeeded = 0
      this.live.clear()
    }
    if (this.state === "half-open" && this.probes().some((probe) => now >= probe.start + this.wait())) {
      this.openAt(now)
    }
  }

  admit(id: number, now: number): Admission {
    this.tick(now)
    switch (this.state) {
      case "closed":
        this.live.set(id, { probe: false, start: now })
        return "admitted"
      case "open":
        return `open:${this.until - now}`
      case "isolated":
        return "isolated:-"
      case "half-open": {
        const probes = this.probes()
        if (this.succeeded + probes.length < this.config.probes) {
          this.live.set(id, { probe: true, start: now })
          return "admitted"
        }
        return `half-open-full:${Math.min(...probes.map((p) => p.start)) + this.wait() - now}`
      }
    }
  }

  finish(id: number, now: number, ended: Result | "interrupted") {
    this.tick(now)
    const call = this.live.get(id)
    if (call === undefined) return
    this.live.delete(id)
    const result = counted(ended)
    if (result === "ignored") return
    if (!call.probe) {
      this.failuresInARow = result === "ok" ? 0 : this.failuresInARow + 1
      if (this.failuresInARow >= this.config.failures) this.openAt(now)
    } else if (result === "fail") {
      this.openAt(now)
    } else if (++this.succeeded === this.config.probes) {
      this.close()
    }
  }

  isolate() {
    if (this.state === "isolated") return
    this.state = "isolated"
    this.live.clear()
  }

  reset() {
    this.close()
  }

  read(now: number) {
    this.tick(now)
    return this.state
  }
}

type Failure = Unavailable | BulkheadFull | RateLimited | Timeout

const after = Duration.seconds(1)
const outcomes: Record<Result, Effect.Effect<string, Failure>> = {
  ok: Effect.succeed("ok"),
  fail: Effect.fail(new Unavailable({ provider: "p", reason: "dns" })),
  "attempt-timeout": Effect.fail(new Timeout({ provider: "p", scope: "attempt", after })),
  ignored: Effect.fail(new BulkheadFull({ bulkhead: "inner", reason: "queue-full" })),
  refused: Effect.fail(new RateLimited({ provider: "p", reason: "local" })),
  throttled: Effect.fail(new RateLimited({ provider: "p", reason: "provider", retryAfter: after })),
  deadline: Effect.fail(new Timeout({ provider: "p", scope: "total", after }))
}
const outcome = (result: Result): Effect.Effect<string, Failure> => outcomes[result]

const seen = (either: Either.Either<unknown, unknown>): Admission => {
  if (Either.isRight(either) || !(either.left instanceof CircuitOpen)) return "admitted"
  const { reason, retryAfter } = either.left
  return `${reason}:${retryAfter === undefined ? "-" : Duration.toMillis(retryAfter)}`
}

const result = fc.constantFrom<Result>(
  "ok",
  "fail",
  "fail",
  "attempt-timeout",
  "ignored",
  "refused",
  "throttled",
  "deadline"
)
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: result.map((result) => ({ _tag: "Call" as const, result })) },
  { weight: 3, arbitrary: fc.constant({ _tag: "Start" as const }) },
  {
    weight: 3,
    arbitrary: fc.record({ _tag: fc.constant("Finish" as const), index: fc.nat(), result })
  },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("Interrupt" as const), index: fc.nat() }) },
  {
    weight: 4,
    arbitrary: fc.record({ _tag: fc.constant("Advance" as const), millis: fc.integer({ min: 0, max: 60 }) })
  },
  { weight: 1, arbitrary: fc.constant({ _tag: "Read" as const }) },
  { weight: 1, arbitrary: fc.constant({ _tag: "Isolate" as const }) },
  { weight: 1, arbitrary: fc.constant({ _tag: "Reset" as const }) }
)
const config: fc.Arbitrary<Config> = fc.record({
  failures: fc.integer({ min: 1, max: 3 }),
  probes: fc.integer({ min: 1, max: 3 }),
  openFor: fc.oneof(
    fc.integer({ min: 1, max: 50 }),
    fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 3 })
  ),
  maxWait: fc.option(fc.integer({ min: 1, max: 80 }), { nil: undefined })
})

interface Held {
  readonly id: number
  readonly gate: Deferred.Deferred<string, Failure>
  readonly fiber: Fiber.RuntimeFiber<Either.Either<string, Failure | CircuitOpen>>
}

const program = ({ commands, config }: { readonly config: Config; readonly commands: ReadonlyArray<Command> }) =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({
          policy: CircuitBreaker.consecutive(config.failures),
          openFor: typeof config.openFor === "number"
            ? Duration.millis(config.openFor)
            : Schedule.fromDelays(...config.openFor.map(Duration.millis) as [Duration.Duration]),
          halfOpen: config.maxWait === undefined
            ? { probes: config.probes }
            : { probes: config.probes, maxWait: Duration.millis(config.maxWait) }
        })
        const model = new Reference(config)
        const held: Array<Held> = []
        let nextId = 0
        for (const cmd of commands) {
          const now = yield* Clock.currentTimeMillis
          switch (cmd._tag) {
            case "Call": {
              const id = nextId++
              const actual = seen(yield* Effect.either(breaker.protect(outcome(cmd.result))))
              const expected = model.admit(id, now)
              if (expected === "admitted") model.finish(id, now, cmd.result)
              expect(actual).toBe(expected)
              break
            }
            case "Start": {
              const id = nextId++
              const started = yield* Deferred.make<void>()
              const gate = yield* Deferred.make<string, Failure>()
              const fiber = yield* Effect.fork(
                Effect.either(breaker.protect(Effect.zipRight(Deferred.succeed(started, undefined), Deferred.await(gate))))
              )
              const admitted = yield* Effect.raceFirst(
                Effect.as(Deferred.await(started), true),
                Effect.as(Fiber.await(fiber), false)
              )
              const actual = admitted ? "admitted" : seen(yield* Fiber.join(fiber))
              expect(actual).toBe(model.admit(id, now))
              if (admitted) held.push({ id, gate, fiber })
              break
            }
            case "Finish":
            case "Interrupt": {
              if (held.length === 0) break
              const [call] = held.splice(cmd.index % held.length, 1)
              if (cmd._tag === "Finish") {
                yield* Deferred.complete(call!.gate, outcome(cmd.result))
                yield* Fiber.await(call!.fiber)
                model.finish(call!.id, now, cmd.result)
              } else {
                yield* Fiber.interrupt(call!.fiber)
                model.finish(call!.id, now, "interrupted")
              }
              break
            }
            case "Advance":
              yield* TestClock.adjust(Duration.millis(cmd.millis))
              break
            case "Read":
              break
            case "Isolate":
              yield* breaker.isolate
              model.isolate()
              break
            case "Reset":
              yield* breaker.reset
              model.reset()
              break
          }
          expect(yield* breaker.state).toBe(model.read(yield* Clock.currentTimeMillis))
          expect((yield* breaker.snapshot).opens).toBe(model.opens)
        }
        for (const call of held) yield* Fiber.interrupt(call.fiber)
      }).pipe(Effect.scoped)

describe("CircuitBreaker model", () => {
  // One TestContext for all runs (building it per run costs more than the run): each run makes its own
  // breaker and reads the time from the shared TestClock, so runs do not depend on each other.
  it("agrees with the reference model on admissions, rejections and state (1000 runs)", async () => {
    const runtime = ManagedRuntime.make(TestContext.TestContext.pipe(Layer.provide(Logger.remove(Logger.defaultLogger))))
    try {
      await fc.assert(
        fc.asyncProperty(
          fc.record({ config, commands: fc.array(command, { maxLength: 40 }) }),
          (sample) => runtime.runPromise(program(sample))
        ),
        { numRuns: 1000 }
      )
    } finally {
      await runtime.dispose()
    }
  }, 60_000)
})
