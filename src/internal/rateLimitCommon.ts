import type * as Duration from "effect/Duration"
import { pipeArguments } from "effect/Pipeable"
import { RateLimited } from "../Errors.js"
import * as options from "./options.js"

/** Pieces shared by limiters and gates. */

/** A key option: a fixed string, or a function of the call's arguments (a tenant id, say). */
export const keyOfOption = <Args>(module: string, key: string | ((args: Args) => string)): (args: Args) => string => {
  if (typeof key === "function") return key
  const fixed = options.nonEmptyString({ module, option: "key" }, key)
  return () => fixed
}

export const storeErrorPolicy = (module: string, value: "allow" | "reject" | undefined): "allow" | "reject" =>
  options.oneOf({ module, option: "onStoreError" }, ["allow", "reject"], value, "allow")

/** The refusal of a limiter or a gate: the call was not sent. */
export const localRefusal = (name: string, retryAfter: Duration.Duration | undefined): RateLimited =>
  new RateLimited(
    retryAfter === undefined ? { provider: name, reason: "local" } : { provider: name, reason: "local", retryAfter }
  )

/** Builds a limiter or gate value: its type id, its fields, and `pipe`. */
export const guardValue = <G>(typeId: symbol, fields: object): G =>
  ({
    [typeId]: typeId,
    ...fields,
    pipe() {
      return pipeArguments(this, arguments)
    }
  }) as G
