/**
 * Reads a provider's "wait this long" hint from response headers. Pure: the caller passes the headers
 * (lower-cased names, as platform's `Headers` keeps them) and `now` from `Clock`, so HTTP dates are
 * resolved against `TestClock` in tests.
 *
 * Sources, first one that yields a hint wins:
 * 1. `Retry-After`: delta-seconds (decimals tolerated) or an HTTP-date (IMF-fixdate, RFC 850, asctime).
 * 2. `RateLimit` (IETF draft): `limit=10, remaining=0, reset=5` (drafts <= 06) or
 *    `"policy";r=0;t=5` (drafts >= 07; the longest `t` among exhausted policies).
 * 3. `RateLimit-Reset`, then `X-RateLimit-Reset`: delta seconds, or epoch seconds / epoch millis when
 *    the number is too large to be a delta.
 *
 * A hint is an integer number of milliseconds in [0, maxHint]. Garbage, negative, non-finite values and
 * values above `maxHint` give no hint at all (the caller falls back to its backoff): a provider that says
 * "retry in 30 years" is wrong, not patient. A date in the past gives zero.
 */

/** The largest hint believed; larger values are treated as garbage. One day. */
export const maxHintMillis = 24 * 60 * 60 * 1000

/** Numbers above this are epoch seconds (2001-09-09 onwards), not a delta. */
const epochSecondsFloor = 1_000_000_000
/** Numbers above this are epoch milliseconds. */
const epochMillisFloor = 100_000_000_000

export type HeaderLookup = Readonly<Record<string, string | ReadonlyArray<string> | undefined>>

const bounded = (millis: number): number | undefined =>
  Number.isFinite(millis) && millis >= 0 && millis <= maxHintMillis ? Math.ceil(millis) : undefined

const header = (headers: HeaderLookup, name: string): string | undefined => {
  const value = headers[name]
  if (value === undefined) return undefined
  return typeof value === "string" ? value : value.join(", ")
}

const decimal = /^\d{1,16}(?:\.\d{1,9})?$/

/** Delta seconds, decimals allowed: "120", "1.5". */
export const parseDeltaSeconds = (value: string): number | undefined => {
  const trimmed = value.trim()
  return decimal.test(trimmed) ? bounded(Number(trimmed) * 1000) : undefined
}

const months = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
const shortDays = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
const longDays = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]

const imfFixdate = /^([A-Za-z]{3}), (\d{2}) ([A-Za-z]{3}) (\d{4}) (\d{2}):(\d{2}):(\d{2}) GMT$/
const rfc850 = /^([A-Za-z]{6,9}), (\d{2})-([A-Za-z]{3})-(\d{2}) (\d{2}):(\d{2}):(\d{2}) GMT$/
const asctime = /^([A-Za-z]{3}) ([A-Za-z]{3}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) (\d{4})$/

const utc = (
  year: number,
  month: string,
  day: number,
  hour: number,
  minute: number,
  second: number
): number | undefined => {
  const m = months.indexOf(month.toLowerCase())
  if (m < 0 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60) return undefined
  const millis = Date.UTC(year, m, day, hour, minute, Math.min(second, 59))
  // Date.UTC rolls "31 Feb" over into March: refuse dates that do not exist.
  return new Date(millis).getUTCDate() === day ? millis : undefined
}

/** An HTTP-date (RFC 9110 section 5.6.7) as epoch millis, or undefined. */
export const parseHttpDate = (value: string, nowMillis: number): number | undefined => {
  const text = value.trim()
  let match = imfFixdate.exec(text)
  if (match !== null) {
    if (!shortDays.includes(match[1]!.toLowerCase())) return undefined
    return utc(Number(match[4]), match[3]!, Number(match[2]), Number(match[5]), Number(match[6]), Number(match[7]))
  }
  match = rfc850.exec(text)
  if (match !== null) {
    if (!longDays.includes(match[1]!.toLowerCase())) return undefined
    // RFC 9110: a two-digit year more than 50 years in the future is the most recent past year with those digits.
    const nowYear = new Date(nowMillis).getUTCFullYear()
    let year = Math.floor(nowYear / 100) * 100 + Number(match[4])
    if (year > nowYear + 50) year -= 100
    return utc(year, match[3]!, Number(match[2]), Number(match[5]), Number(match[6]), Number(match[7]))
  }
  match = asctime.exec(text)
  if (match !== null) {
    if (!shortDays.includes(match[1]!.toLowerCase())) return undefined
    return utc(
      Number(match[7]),
      match[2]!,
      Number(match[3]!.trim()),
      Number(match[4]),
      Number(match[5]),
      Number(match[6])
    )
  }
  return undefined
}

/** `Retry-After`: delta-seconds or an HTTP-date. */
export const parseRetryAfter = (value: string, nowMillis: number): number | undefined => {
  const delta = parseDeltaSeconds(value)
  if (delta !== undefined) return delta
  const date = parseHttpDate(value, nowMillis)
  return date === undefined ? undefined : bounded(Math.max(0, date - nowMillis))
}

/** `RateLimit-Reset` / `X-RateLimit-Reset`: delta seconds, epoch seconds or epoch millis. */
export const parseReset = (value: string, nowMillis: number): number | undefined => {
  const trimmed = value.trim()
  if (!decimal.test(trimmed)) return undefined
  const n = Number(trimmed)
  if (n >= epochMillisFloor) return bounded(Math.max(0, n - nowMillis))
  if (n >= epochSecondsFloor) return bounded(Math.max(0, n * 1000 - nowMillis))
  return bounded(n * 1000)
}

interface Member {
  readonly item: string
  readonly params: ReadonlyMap<string, string>
}

/** Splits on `sep` outside double quotes. */
const splitOutsideQuotes = (text: string, sep: string): Array<string> => {
  const parts: Array<string> = []
  let current = ""
  let quoted = false
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === "\"" && text[i - 1] !== "\\") quoted = !quoted
    if (c === sep && !quoted) {
      parts.push(current)
      current = ""
    } else {
      current += c
    }
  }
  parts.push(current)
  return parts
}

/** A tolerant reading of an RFC 8941 list / dictionary: members separated by ",", parameters by ";". */
const structuredMembers = (value: string): Array<Member> =>
  splitOutsideQuotes(value, ",").map((raw) => {
    const [item = "", ...rest] = splitOutsideQuotes(raw, ";").map((s) => s.trim())
    const params = new Map<string, string>()
    for (const param of rest) {
      const eq = param.indexOf("=")
      if (eq > 0) params.set(param.slice(0, eq).trim().toLowerCase(), param.slice(eq + 1).trim())
    }
    return { item, params }
  })

const integer = /^\d{1,16}$/

/** The IETF `RateLimit` header, both the dictionary (drafts <= 06) and the policy-list (>= 07) forms. */
export const parseRateLimit = (value: string): number | undefined => {
  const members = structuredMembers(value)
  const dictionary = new Map<string, string>()
  for (const { item } of members) {
    const eq = item.indexOf("=")
    if (eq > 0) dictionary.set(item.slice(0, eq).trim().toLowerCase(), item.slice(eq + 1).trim())
  }
  const reset = dictionary.get("reset")
  if (reset !== undefined) {
    const remaining = dictionary.get("remaining")
    if (remaining !== undefined && integer.test(remaining) && Number(remaining) > 0) return undefined
    return integer.test(reset) ? bounded(Number(reset) * 1000) : undefined
  }
  let exhausted: number | undefined
  let unknown: number | undefined
  for (const { params } of members) {
    const t = params.get("t")
    if (t === undefined || !integer.test(t)) continue
    const millis = bounded(Number(t) * 1000)
    if (millis === undefined) continue
    const r = params.get("r")
    if (r === undefined) unknown = Math.max(unknown ?? 0, millis)
    else if (r === "0") exhausted = Math.max(exhausted ?? 0, millis)
  }
  return exhausted ?? unknown
}

/**
 * The provider's hint in milliseconds, or undefined when no header gives a believable one.
 */
export const hintMillis = (headers: HeaderLookup, nowMillis: number): number | undefined => {
  const retryAfter = header(headers, "retry-after")
  const fromRetryAfter = retryAfter === undefined ? undefined : parseRetryAfter(retryAfter, nowMillis)
  if (fromRetryAfter !== undefined) return fromRetryAfter
  const rateLimit = header(headers, "ratelimit")
  const fromRateLimit = rateLimit === undefined ? undefined : parseRateLimit(rateLimit)
  if (fromRateLimit !== undefined) return fromRateLimit
  for (const name of ["ratelimit-reset", "x-ratelimit-reset"]) {
    const value = header(headers, name)
    const parsed = value === undefined ? undefined : parseReset(value, nowMillis)
    if (parsed !== undefined) return parsed
  }
  return undefined
}
