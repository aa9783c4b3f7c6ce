import * as Effect from "effect/Effect"

/**
 * Builds a combinator that is both data-first and data-last, validating its options when it is
 * called (not when the returned function is applied), so bad options throw where they are written.
 *
 * By default the call is data-first when its first argument is an effect. Effect 3 counts `Option`,
 * `Either`, `Exit` and tags as effects, so a combinator whose data-last form may take such a value
 * first passes its own `isDataFirst`.
 *
 * @internal
 */
export const eagerDual = <Args extends ReadonlyArray<unknown>, F extends (self: any) => any>(
  build: (...args: Args) => F,
  isDataFirst: (args: ReadonlyArray<unknown>) => boolean = (args) => Effect.isEffect(args[0])
): any =>
  function(...args: ReadonlyArray<unknown>) {
    return isDataFirst(args) ? build(...(args.slice(1) as unknown as Args))(args[0]) : build(...(args as Args))
  }
