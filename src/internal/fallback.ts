import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ExecutionPlan from "effect/ExecutionPlan"
import * as Match from "effect/Match"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import { isRejected, isTransient, type Rejected, type Transient } from "../Errors.js"
import type * as Api from "../Fallback.js"
import { eagerDual } from "./eagerDual.js"
import * as Options from "./options.js"

/** @internal */
export const defaultTags: ReadonlyArray<Api.DefaultTag> = [
  "RateLimited",
  "Unavailable",
  "Timeout",
  "CircuitOpen",
  "BulkheadFull"
]

/** @internal */
export const isRecoverable = (u: unknown): u is Transient | Rejected => isTransient(u) || isRejected(u)

/** @internal */
export const fresh = <A>(value: A): Api.Fresh<A> => Data.struct({ _tag: "Fresh", value })

/** @internal */
export const degraded = <A, E>(value: A, reason: E): Api.Degraded<A, E> =>
  Data.struct({ _tag: "Degraded", value, reason })

/** @internal */
export const isFresh = <A, E>(served: Api.Served<A, E>): served is Api.Fresh<A> => served._tag === "Fresh"

/** @internal */
export const isDegraded = <A, E>(served: Api.Served<A, E>): served is Api.Degraded<A, E> =>
  served._tag === "Degraded"

const tagOf = (u: unknown): string | undefined =>
  Predicate.hasProperty(u, "_tag") && typeof u._tag === "string" ? u._tag : undefined

/** Which errors a helper handles: the tags of `options.on`, else the transient and rejected ones. */
const handled = (module: string, options: Api.Fallback.Options<string> | undefined): (u: unknown) => boolean => {
  if (options !== undefined && (typeof options !== "object" || options === null)) {
    Options.invalid({ module, option: "options" }, options, "an options object")
  }
  const on = options?.on
  if (on === undefined) return isRecoverable
  if (!Array.isArray(on) || on.length === 0 || !on.every((tag) => typeof tag === "string" && tag.length > 0)) {
    Options.invalid({ module, option: "on" }, on, "a non-empty array of error tags")
  }
  const tags: ReadonlySet<string> = new Set(on)
  return (u) => {
    const tag = tagOf(u)
    return tag !== undefined && tags.has(tag)
  }
}

/**
 * The fallback may be any value, an `Option` or an `Either` included, which Effect 3 counts as effects:
 * one argument is the data-last form, two are data-first when the first is an effect that is no `Option`
 * or `Either` (the effect to fall back from; the second, the fallback, may be anything, `undefined` and
 * `{}` included), three are data-first.
 */
const isValueDataFirst = (args: ReadonlyArray<unknown>): boolean =>
  args.length >= 3 ||
  (args.length === 2 && Effect.isEffect(args[0]) && !Option.isOption(args[0]) && !Either.isEither(args[0]))

/** @internal */
export const value = eagerDual((fallback: unknown, options?: Api.Fallback.Options<string>) => {
  const on = handled("Fallback.value", options)
  return <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.catchIf(self, on, () => Effect.succeed(fallback))
}, isValueDataFirst)

/** @internal */
export const compute = eagerDual((f: (error: unknown) => unknown, options?: Api.Fallback.Options<string>) => {
  Options.fn({ module: "Fallback.compute", option: "f" }, f)
  const on = handled("Fallback.compute", options)
  return <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.catchIf(self, on, (error) => Effect.sync(() => f(error)))
})

/** @internal */
export const degrade = eagerDual((f: (error: unknown) => unknown, options?: Api.Fallback.Options<string>) => {
  Options.fn({ module: "Fallback.degrade", option: "f" }, f)
  const on = handled("Fallback.degrade", options)
  return <A, E, R>(self: Effect.Effect<A, E, R>) =>
    Effect.catchIf(
      Effect.map(self, fresh<unknown>),
      on,
      (error) => Effect.sync((): Api.Served<unknown, unknown> => degraded(f(error), error))
    )
})

/** @internal */
export const exhaustive = eagerDual((cases: Record<string, (error: any) => Effect.Effect<any, any, any>>) => {
  const module = "Fallback.exhaustive"
  if (typeof cases !== "object" || cases === null) Options.invalid({ module, option: "cases" }, cases, "an object")
  for (const [tag, handler] of Object.entries(cases)) Options.fn({ module, option: tag }, handler)
  // Own keys only: a tag such as "constructor" or "toString" must not reach Object.prototype.
  const covered = (u: unknown) => {
    const tag = tagOf(u)
    return tag !== undefined && Object.hasOwn(cases, tag)
  }
  const match = Match.valueTags(cases as any) as (error: unknown) => Effect.Effect<any, any, any>
  return <A, E, R>(self: Effect.Effect<A, E, R>) => Effect.catchIf(self, covered, match)
})

/** @internal */
export const plan = (...steps: ReadonlyArray<ExecutionPlan.make.Step>): ExecutionPlan.ExecutionPlan<any> => {
  if (steps.length === 0) Options.invalid({ module: "Fallback.plan", option: "steps" }, steps, "at least one step")
  const guarded = steps.map((step) => step.while === undefined ? { ...step, while: isRecoverable } : step)
  return ExecutionPlan.make(...(guarded as [ExecutionPlan.make.Step]))
}
