import * as Clock from "effect/Clock"
import * as DateTime from "effect/DateTime"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type { Bulkhead } from "../Bulkhead.js"
import type * as CircuitBreaker from "../CircuitBreaker.js"
import type { InvalidOptions } from "../Errors.js"
import type * as Api from "../Health.js"
import type { Gate } from "../RateLimit.js"
import { isBulkhead } from "./bulkhead.js"
import { isCircuitBreaker } from "./circuitBreaker.js"
import * as checks from "./health/checks.js"
import { Registry } from "./health/registry.js"
import * as options from "./options.js"
import { isGate } from "./rateLimitGate.js"

export { Registry }

const defaults = { checkTimeout: "2 seconds" } as const

interface Registered {
  readonly check: Api.Check
  readonly required: boolean
}

/**
 * `read`, or `otherwise` once it dies or `timeout` passes. The read is disconnected: at the timeout the
 * answer comes at once, even from a read that is uninterruptible for a while (`Effect.timeoutTo` alone
 * waits for it to end), and the read is interrupted in the background.
 */
const answerWithin = <A>(
  read: Effect.Effect<A>,
  timeout: Duration.Duration,
  otherwise: (why: string) => Effect.Effect<A>
): Effect.Effect<A> =>
  Effect.disconnect(read).pipe(
    Effect.timeoutTo({ duration: timeout, onSuccess: Option.some<A>, onTimeout: Option.none<A> }),
    Effect.flatMap(Option.match({
      onNone: () => otherwise(`no answer within ${Duration.format(timeout)}`),
      onSome: Effect.succeed
    })),
    Effect.catchAllDefect(() => otherwise("the check failed"))
  )

/** Reads one check; one that dies or hangs past `timeout` is down, so a broken check cannot hang readiness. */
const observe = (entry: Registered, timeout: Duration.Duration): Effect.Effect<Api.CheckResult> =>
  answerWithin(entry.check.status, timeout, (detail) => Effect.succeed<Api.Observed>({ status: "down", detail })).pipe(
    Effect.map((observed): Api.CheckResult => {
      const base = { name: entry.check.name, kind: entry.check.kind ?? "custom", required: entry.required, status: observed.status }
      return observed.detail === undefined ? base : { ...base, detail: observed.detail }
    })
  )

export const breakerView = (snapshot: CircuitBreaker.Snapshot, now: number): Api.BreakerView => {
  const view: Api.BreakerView = {
    name: snapshot.breaker,
    state: snapshot.state,
    policy: snapshot.policy,
    since: DateTime.formatIso(snapshot.since),
    failureRate: snapshot.failureRate,
    calls: snapshot.calls,
    failures: snapshot.failures,
    slow: snapshot.slow,
    rejected: snapshot.rejected,
    opens: snapshot.opens,
    probesInFlight: snapshot.probesInFlight
  }
  return snapshot.retryAfter === undefined
    ? view
    : { ...view, openUntil: DateTime.formatIso(DateTime.unsafeMake(now + Duration.toMillis(snapshot.retryAfter))) }
}

export const make = (opts: Api.Registry.Options = {}): Effect.Effect<Api.Registry, InvalidOptions> =>
  Effect.map(
    options.validated(() => {
      const module = "Health.make"
      const required = new Set(opts.required ?? [])
      for (const name of required) options.nonEmptyString({ module, option: "required" }, name)
      const timeout = options.positiveDuration({ module, option: "checkTimeout" }, opts.checkTimeout ?? defaults.checkTimeout)
      return { required, timeout }
    }),
    ({ required, timeout }): Api.Registry => {
      const entries = new Set<Registered>()
      const registered = (): ReadonlyArray<Registered> => {
        const all = Array.from(entries)
        // A required name no guard registered is reported down: a typo must not pass readiness silently.
        const missing = Array.from(required).filter((name) => !all.some((entry) => entry.check.name === name))
        return all.concat(missing.map((name) => ({
          required: true,
          check: { name, kind: "custom", status: Effect.succeed({ status: "down", detail: "required, but no guard or check has this name" }) }
        })))
      }
      const checksNow = Effect.suspend(() => Effect.forEach(registered(), (entry) => observe(entry, timeout), { concurrency: "unbounded" }))
      return {
        register: (check) =>
          Effect.acquireRelease(
            Effect.sync(() => {
              const entry: Registered = { check, required: check.required === true || required.has(check.name) }
              entries.add(entry)
              return entry
            }),
            (entry) => Effect.sync(() => entries.delete(entry))
          ),
        checks: checksNow,
        readiness: Effect.map(checksNow, (all) => ({
          ready: all.every((check) => !check.required || check.status !== "down"),
          checks: all
        })),
        // Bounded as the checks are: a check whose breakers die or hang shows none, with a warning.
        breakers: Effect.flatMap(Clock.currentTimeMillis, (now) =>
          Effect.suspend(() =>
            Effect.map(
              Effect.forEach(Array.from(entries), (entry) =>
                entry.check.breakers === undefined ? Effect.succeed([]) : answerWithin(
                  entry.check.breakers,
                  timeout,
                  (why) => Effect.as(Effect.logWarning(`health check ${entry.check.name} listed no breakers: ${why}`), [])
                ), { concurrency: "unbounded" }),
              (lists) => lists.flat().map((snapshot) => breakerView(snapshot, now))
            )
          ))
      }
    }
  )

export const layer = (opts?: Api.Registry.Options): Layer.Layer<Api.Registry, InvalidOptions> =>
  Layer.effect(Registry, make(opts))

/** The check of a guard value, or the check itself. */
const checkOf = (guard: Api.Check | CircuitBreaker.CircuitBreaker | Bulkhead | Gate): Api.Check =>
  isCircuitBreaker(guard)
    ? checks.breaker(guard)
    : isBulkhead(guard)
    ? checks.bulkhead(guard)
    : isGate(guard)
    ? checks.gate(guard as Gate)
    : guard as Api.Check

export const register = (
  guard: Api.Check | CircuitBreaker.CircuitBreaker | Bulkhead | Gate,
  opts?: Api.RegisterOptions
): Effect.Effect<void, never, Api.Registry | Scope.Scope> => {
  const check = checkOf(guard)
  return Effect.flatMap(
    Registry,
    (registry) => registry.register(opts?.required === true ? { ...check, required: true } : check)
  )
}
