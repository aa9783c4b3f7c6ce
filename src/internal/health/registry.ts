import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Scope from "effect/Scope"
import type * as Api from "../../Health.js"

/**
 * The registry's tag, apart from the registry itself so that guards can look it up without loading
 * the HTTP routes.
 */
export const Registry: Context.Tag<Api.Registry, Api.Registry> = Context.GenericTag<Api.Registry>(
  "effect-resilience/Health/Registry"
)

/**
 * Called by a guard while it is built: registers its check for the guard's scope when a
 * `Health.Registry` is in the context, and does nothing otherwise. One context lookup per guard
 * built; nothing per call.
 */
export const whenRegistry = (check: Api.Check): Effect.Effect<void, never, Scope.Scope> =>
  Effect.flatMap(
    Effect.serviceOption(Registry),
    (registry) => Option.isNone(registry) ? Effect.void : registry.value.register(check)
  )
