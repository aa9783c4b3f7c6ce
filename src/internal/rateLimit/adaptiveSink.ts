import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import { eagerDual } from "../eagerDual.js"
import * as options from "../options.js"
import type { HeaderLookup } from "../../RateLimit.js"

/**
 * How a call tells the adaptive limiter around it what the provider said. `protect` installs a sink
 * for the call in a FiberRef; `observe`, `withCost` and `reportUsage` reach it. Outside a limiter
 * they do nothing, so a provider client can report every answer without knowing who listens.
 */
export interface Sink {
  readonly observe: (response: { readonly status: number; readonly headers: HeaderLookup }) => Effect.Effect<void>
  /** The call's cost in units is now known to be `units` (reserved, or settled from the response). */
  readonly settle: (units: number) => Effect.Effect<void>
}

export const currentSink: FiberRef.FiberRef<Option.Option<Sink>> = FiberRef.unsafeMake<Option.Option<Sink>>(
  Option.none()
)

/** The units the next permit reserves, set by `withCost` outside `protect`. */
export const currentCost: FiberRef.FiberRef<number> = FiberRef.unsafeMake(1)

const toSink = (f: (sink: Sink) => Effect.Effect<void>): Effect.Effect<void> =>
  Effect.flatMap(FiberRef.get(currentSink), Option.match({ onNone: () => Effect.void, onSome: f }))

export const observe = (
  response: { readonly status: number; readonly headers: HeaderLookup }
): Effect.Effect<void> => toSink((sink) => sink.observe(response))

const isUnits = (units: number): boolean => Number.isFinite(units) && units >= 0

/**
 * Outside `protect` the cost is read before the permit is taken (reserved up front); inside, the
 * permit was already taken with the default cost, and the difference is settled as the call starts.
 */
export const withCost: {
  (units: number): <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
  <A, E, R>(self: Effect.Effect<A, E, R>, units: number): Effect.Effect<A, E, R>
} = eagerDual((units: number) => {
  if (!isUnits(units)) options.invalid({ module: "RateLimit.withCost", option: "units" }, units, "a finite number >= 0")
  return <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E, R> =>
    Effect.locally(Effect.zipRight(toSink((sink) => sink.settle(units)), self), currentCost, units)
})

export const reportUsage = (units: number): Effect.Effect<void> =>
  isUnits(units)
    ? toSink((sink) => sink.settle(units))
    : Effect.logDebug(`RateLimit.reportUsage ignored ${units}: not a finite number >= 0`)
