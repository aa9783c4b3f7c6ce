/**
 * The traffic: `users` people, each asking for a quote, waiting for the answer, pausing 250 ms, and
 * asking again, until the run ends (about 4 calls a second each while answers are quick). People at a
 * page wait for it, so a client that makes them wait gets fewer calls in: the calls row of the table
 * shows it. A call still running when the run ends is not counted.
 */
import { Clock, Duration, Effect, Fiber } from "effect"

export type Outcome = "ok" | "fallback" | "failed"

export interface Call {
  /** Millis into the run. */
  readonly startedAt: number
  readonly endedAt: number
  readonly outcome: Outcome
}

/** What one client's users went through, filled in as calls end (the live display reads it). */
export interface Record {
  readonly calls: Array<Call>
  ok: number
  fallback: number
  failed: number
}

export const emptyRecord = (): Record => ({ calls: [], ok: 0, fallback: 0, failed: 0 })

const pause = Duration.millis(250)

export const run = (options: {
  readonly users: number
  readonly startedAt: number
  readonly durationMillis: number
  readonly call: Effect.Effect<Exclude<Outcome, "failed">, unknown>
  readonly record: Record
}): Effect.Effect<void> => {
  const sinceStart = Effect.map(Clock.currentTimeMillis, (now) => now - options.startedAt)
  const oneCall = Effect.gen(function*() {
    const startedAt = yield* sinceStart
    const outcome = yield* Effect.orElseSucceed(options.call, (): Outcome => "failed")
    const endedAt = yield* sinceStart
    options.record.calls.push({ startedAt, endedAt, outcome })
    options.record[outcome]++
  })
  const user = Effect.zipRight(oneCall, Effect.sleep(pause)).pipe(Effect.forever)
  return Effect.gen(function*() {
    const users = yield* Effect.forkAll(Array.from({ length: options.users }, () => user))
    yield* Effect.sleep(Duration.millis(Math.max(0, options.durationMillis - (yield* sinceStart))))
    yield* Fiber.interrupt(users)
  })
}
