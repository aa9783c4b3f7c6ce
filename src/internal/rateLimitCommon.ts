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

/**
 * The store key of a limiter's or a gate's key. The name's length comes first, so that limiter "a"
 * with key "b:c" and limiter "a:b" with key "c" never share a counter.
 */
export const storeKeyOf = (name: string, key: string): string => `${name.length}:${name}:${key}`

/** A string option that must be one of `allowed`; `fallback` when absent. */
export const oneOf = <const L extends ReadonlyArray<string>>(
  module: string,
  option: string,
  allowed: L,
  value: string | undefined,
  fallback: L[number]
): L[number] =>
  value === undefined
    ? fallback
    : allowed.includes(value)
    ? value
    : options.invalid({ module, option }, value, allowed.map((a) => JSON.stringify(a)).join(" or "))

export const storeErrorPolicy = (module: string, value: "allow" | "reject" | undefined): "allow" | "reject" =>
  oneOf(module, "onStoreError", ["allow", "reject"], value, "allow")

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
