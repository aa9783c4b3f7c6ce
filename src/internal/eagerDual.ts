import * as Effect from "effect/Effect"

/**
 * Builds a combinator that is both data-first and data-last, validating its options when it is
 * called (not when the returned function is applied), so bad options throw where they are written.
 *
 * @internal
 */
export const eagerDual = <Args extends ReadonlyArray<unknown>, F extends (self: any) => any>(
  build: (...args: Args) => F
): any =>
  function(...args: ReadonlyArray<unknown>) {
    return Effect.isEffect(args[0]) ? build(...(args.slice(1) as unknown as Args))(args[0]) : build(...(args as Args))
  }
