import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import { InvalidOptions } from "../Errors.js"

/**
 * Validators for guard options. Each one names the module and the option it checks, so the
 * `InvalidOptions` it throws reads "Bulkhead.make: option maxConcurrent must be an integer >= 1, got 0".
 *
 * `Duration.decode` silently turns NaN and negative inputs into zero, so durations are checked on the
 * raw input before decoding. Every duration is at most 24 days: Effect's clock never wakes from a
 * sleep past the JavaScript timer limit (2^31 - 1 ms, 24.8 days), so a longer timeout, break or
 * wait would silently never end.
 */
export interface Check {
  readonly module: string
  readonly option: string
}

const show = (value: unknown): string => {
  if (Duration.isDuration(value)) return Duration.format(value)
  if (typeof value === "function") return "a function"
  if (typeof value === "string") return JSON.stringify(value)
  if (Array.isArray(value)) return `[${value.map(show).join(", ")}]`
  return String(value)
}

const reject = (check: Check, value: unknown, expected: string): never => {
  throw new InvalidOptions({ module: check.module, option: check.option, value: show(value), expected })
}

/**
 * An options argument as a caller without the types may pass it (JavaScript, parsed configuration): an
 * object, not `null`, not an array. `option` names it in the error ("options" for the whole argument).
 */
export const optionsObject = <A>(check: Check, value: A, expected = "an options object"): A =>
  typeof value === "object" && value !== null && !Array.isArray(value) ? value : reject(check, value, expected)

/** The longest duration an option may take. */
export const longestTimer: Duration.Duration = Duration.days(24)

/**
 * The longest `Retry-After` hint waited for, unless an option says otherwise: one default for every module
 * (`Retry.transient`, `Backoff.honorRetryAfter`, the gate's and the adaptive limiter's `maxClosed`, the
 * breaker's `maxRetryAfter`).
 * Public as `Backoff.defaultMaxRetryAfter`, whose JSDoc says why it is a minute.
 */
export const defaultMaxRetryAfter: Duration.Duration = Duration.minutes(1)

const isNonNegativeFinite = (n: unknown): n is number => typeof n === "number" && Number.isFinite(n) && n >= 0

const decodeDuration = (
  check: Check,
  input: Duration.DurationInput,
  expected: string,
  longest: Duration.Duration
): Duration.Duration => {
  if (typeof input === "number" && !isNonNegativeFinite(input)) return reject(check, input, expected)
  if (typeof input === "bigint" && input < 0n) return reject(check, input, expected)
  if (typeof input === "string" && input.trim().startsWith("-")) return reject(check, input, expected)
  if (Array.isArray(input) && !input.every(isNonNegativeFinite)) return reject(check, input, expected)
  let decoded: Duration.Duration
  try {
    decoded = Duration.decode(input)
  } catch {
    return reject(check, input, `${expected} (e.g. "100 millis", "2 seconds")`)
  }
  if (!Duration.isFinite(decoded)) return reject(check, input, expected)
  return Duration.lessThanOrEqualTo(decoded, longest)
    ? decoded
    : reject(check, input, `${expected} of at most 24 days (longer timers never fire)`)
}

/** A finite duration >= 0, at most `longest` (24 days unless the duration is never slept on). */
export const nonNegativeDuration = (
  check: Check,
  input: Duration.DurationInput,
  longest: Duration.Duration = longestTimer
): Duration.Duration => decodeDuration(check, input, "a finite duration >= 0", longest)

/** A finite duration > 0, at most `longest` (24 days unless the duration is never slept on). */
export const positiveDuration = (
  check: Check,
  input: Duration.DurationInput,
  longest: Duration.Duration = longestTimer
): Duration.Duration => {
  const decoded = decodeDuration(check, input, "a finite duration > 0", longest)
  return Duration.greaterThan(decoded, Duration.zero) ? decoded : reject(check, input, "a finite duration > 0")
}

/** An integer >= `min`. */
export const integerAtLeast = (check: Check, value: number, min: number): number =>
  Number.isSafeInteger(value) && value >= min ? value : reject(check, value, `an integer >= ${min}`)

/** A finite number >= `min`. */
export const numberAtLeast = (check: Check, value: number, min: number): number =>
  Number.isFinite(value) && value >= min ? value : reject(check, value, `a finite number >= ${min}`)

/** A number in [0, 1]. */
export const ratio = (check: Check, value: number): number =>
  Number.isFinite(value) && value >= 0 && value <= 1 ? value : reject(check, value, "a number between 0 and 1")

/** A number in (0, 1]: a threshold that 0 would make meaningless. */
export const threshold = (check: Check, value: number): number =>
  Number.isFinite(value) && value > 0 && value <= 1 ? value : reject(check, value, "a number in (0, 1]")

/** A string that is not empty. */
export const nonEmptyString = (check: Check, value: string): string =>
  typeof value === "string" && value.length > 0 ? value : reject(check, value, "a non-empty string")

/** A string, possibly empty. */
export const string = (check: Check, value: string): string =>
  typeof value === "string" ? value : reject(check, value, "a string")

/** A function (a predicate, a signal, a factory): untyped callers and `as any` can pass anything. */
/** A string option that must be one of `allowed`; `fallback` when absent. */
export const oneOf = <const L extends ReadonlyArray<string>>(
  check: Check,
  allowed: L,
  value: string | undefined,
  fallback: L[number]
): L[number] =>
  value === undefined
    ? fallback
    : allowed.includes(value)
    ? value
    : invalid(check, value, allowed.map((a) => JSON.stringify(a)).join(" or "))

export const fn = <F>(check: Check, value: F): F =>
  typeof value === "function" ? value : reject(check, value, "a function")

/** An RFC 9110 token: what a header name (or an auth scheme) may be. */
const token = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** The first character an RFC 9110 field value may not hold: a control character other than HTAB. */
const control = /[\x00-\x08\x0a-\x1f\x7f]/

const controlNames: Readonly<Record<string, string>> = { "\r": "CR", "\n": "LF", "\0": "NUL" }

/** Whether `value` is a header name (an RFC 9110 token). */
export const isHeaderName = (value: unknown): value is string => typeof value === "string" && token.test(value)

/** What {@link headerName} expects, in an error. */
export const headerNameRule = "a header name (an RFC 9110 token: letters, digits and !#$%&'*+-.^_`|~)"

/** A header name: an RFC 9110 token ("Idempotency-Key"; no space, colon, CR or LF). */
export const headerName = (check: Check, value: string): string =>
  isHeaderName(value) ? value : reject(check, value, headerNameRule)

/**
 * Why `value` cannot be sent as a header value ("contains LF": a control character would split or
 * corrupt the header), or undefined when it can. It names the character, never the value: a header
 * value may be a secret (a key read from a file ends in LF).
 */
export const headerValueFault = (value: unknown): string | undefined => {
  if (typeof value !== "string") return `is ${kindOf(value)}, not a string`
  const found = control.exec(value)?.[0]
  if (found === undefined) return undefined
  const name = controlNames[found] ?? `U+${found.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`
  return `contains ${name}`
}

/** An option's validated value, or its default when it was left out. */
export const orDefault = <A, B>(value: A | undefined, fallback: B, check: (value: A) => B): B =>
  value === undefined ? fallback : check(value)

/** Fails with any other rule a module needs ("cap must be >= base"). */
export const invalid = (check: Check, value: unknown, expected: string): never => reject(check, value, expected)

/**
 * Fails like {@link invalid}, with a description in place of the value: for a value that must not be
 * printed (a secret, a header value that may hold one).
 */
export const invalidDescribed = (check: Check, description: string, expected: string): never => {
  throw new InvalidOptions({ module: check.module, option: check.option, value: description, expected })
}

/** What a value is, without printing it: "a string", "null", "an array". */
export const kindOf = (value: unknown): string =>
  value === null || value === undefined
    ? String(value)
    : Array.isArray(value)
    ? "an array"
    : typeof value === "object"
    ? "an object"
    : `a ${typeof value}`

/**
 * Runs validating code inside an effectful constructor: an `InvalidOptions` it throws becomes a typed
 * failure; anything else thrown is a defect, as it would be anywhere else.
 */
export const validated = <A>(build: () => A): Effect.Effect<A, InvalidOptions> =>
  Effect.suspend(() => {
    try {
      return Effect.succeed(build())
    } catch (error) {
      return error instanceof InvalidOptions ? Effect.fail(error) : Effect.die(error)
    }
  })
