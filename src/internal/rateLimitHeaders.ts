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

import type { HeaderLookup } from "../RateLimit.js"

/** The largest hint believed; larger values are treated as garbage. One day. */
export const maxHintMillis = 24 * 60 * 60 * 1000

/** Numbers above this are epoch seconds (2001-09-09 onwards), not a delta. */
const epochSecondsFloor = 1_000_000_000
/** Numbers above this are epoch milliseconds. */
const epochMillisFloor = 100_000_000_000

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

/** The response's own `Date` as epoch millis when it sent a valid one, else `nowMillis`. */
export const serverTime = (headers: HeaderLookup, nowMillis: number): number => {
  const date = header(headers, "date")
  return (date === undefined ? undefined : parseHttpDate(date, nowMillis)) ?? nowMillis
}

/** The `Retry-After` header alone, in milliseconds: what a 5xx's wait is read from. */
export const retryAfterMillis = (headers: HeaderLookup, receivedAt: number): number | undefined => {
  const retryAfter = header(headers, "retry-after")
  return retryAfter === undefined ? undefined : parseRetryAfter(retryAfter, serverTime(headers, receivedAt))
}

/**
 * The provider's hint in milliseconds, or undefined when no header gives a believable one. Absolute
 * times (an HTTP-date, an epoch reset) are measured from the response's own `Date` when it sent one:
 * they are on the server's clock, and ours may be skewed. A reset header is a wait only when the quota
 * is spent: GitHub and others send `X-RateLimit-Reset` with every answer, `Remaining` above zero
 * included, and the window's reset an hour away is then no reason to wait (as a `RateLimit` field
 * with quota left is none).
 */
export const hintMillis = (headers: HeaderLookup, receivedAt: number): number | undefined => {
  const fromRetryAfter = retryAfterMillis(headers, receivedAt)
  if (fromRetryAfter !== undefined) return fromRetryAfter
  const rateLimit = header(headers, "ratelimit")
  const fromRateLimit = rateLimit === undefined ? undefined : parseRateLimit(rateLimit)
  if (fromRateLimit !== undefined) return fromRateLimit
  const nowMillis = serverTime(headers, receivedAt)
  for (const prefix of ["ratelimit", "x-ratelimit"]) {
    const value = header(headers, `${prefix}-reset`)
    const remaining = parseCount(header(headers, `${prefix}-remaining`))
    const parsed = value === undefined || (remaining !== undefined && remaining > 0)
      ? undefined
      : parseReset(value, nowMillis)
    if (parsed !== undefined) return parsed
  }
  return undefined
}

/*
 * Quota headers: what the provider says is left, not only how long to wait. Read by the adaptive
 * limiter to pace before a 429. Same rules as above: pure, never throws, a malformed field is
 * ignored (the IETF draft's "MUST be ignored"), the rest of the reading is kept.
 *
 * Two reset families (see /docs: how the adaptive limiter learns):
 * - "window": a fixed window with a reset (GitHub, X, Discord, IETF `t`): spend `remaining` over the
 *   time left, never as a burst.
 * - "bucket": a continuously refilled bucket whose reset is "time until full" (OpenAI Go durations,
 *   Anthropic RFC 3339 instants): the refill rate is (limit - remaining) / reset.
 */

/** One dimension (requests, or weighted units such as LLM tokens) as one response described it. */
export interface QuotaReading {
  readonly family: "window" | "bucket"
  /** The quota per window, when sent. */
  readonly limit?: number | undefined
  /** What is left, when sent; never above `limit`. */
  readonly remaining?: number | undefined
  /** Millis until the window resets (window) or the bucket is full again (bucket). */
  readonly resetMillis?: number | undefined
  /** The policy's window in millis (IETF `w`), when sent. */
  readonly windowMillis?: number | undefined
}

export interface Quota {
  readonly requests?: QuotaReading | undefined
  readonly units?: QuotaReading | undefined
}

/**
 * A non-negative integer count (a limit, a remaining): "-1" sentinels, garbage and counts past 2^53 - 1
 * (16 digits can hold 2^53, which a double cannot tell from 2^53 + 1) give undefined.
 */
export const parseCount = (value: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  const trimmed = value.trim()
  if (!integer.test(trimmed)) return undefined
  const count = Number(trimmed)
  return Number.isSafeInteger(count) ? count : undefined
}

const goUnits: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, "µs": 0.001, ns: 1e-6 }
const goDuration = /^(?:\d{1,16}(?:\.\d{1,9})?(?:h|ms|m|s|us|µs|ns)){1,7}$/
const goPart = /(\d{1,16}(?:\.\d{1,9})?)(h|ms|m|s|us|µs|ns)/g

/** A Go duration as OpenAI sends it: "6m0s", "1.5s", "20ms", "1h2m3s", "0s". */
export const parseGoDuration = (value: string): number | undefined => {
  const trimmed = value.trim()
  if (!goDuration.test(trimmed)) return undefined
  let millis = 0
  for (const [, amount, unit] of trimmed.matchAll(goPart)) millis += Number(amount) * goUnits[unit!]!
  return bounded(millis)
}

const rfc3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/

/** An RFC 3339 instant ("2025-08-21T12:40:59Z", offsets and fractions allowed) as epoch millis. */
export const parseRfc3339 = (value: string): number | undefined => {
  const m = rfc3339.exec(value.trim())
  if (m === null) return undefined
  const [year, month, day, hour, minute, second] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i]))
  if (month! < 1 || month! > 12 || hour! > 23 || minute! > 59 || second! > 60) return undefined
  const base = utc(year!, months[month! - 1]!, day!, hour!, minute!, second!)
  if (base === undefined) return undefined
  const fraction = m[7] === undefined ? 0 : Number(m[7]) * 1000
  const sign = m[9] === "-" ? -1 : 1
  const offset = m[8] !== undefined ? 0 : sign * (Number(m[10]) * 60 + Number(m[11])) * 60_000
  if (m[8] === undefined && (Number(m[10]) > 23 || Number(m[11]) > 59)) return undefined
  return base + fraction - offset
}

/** Millis until an RFC 3339 instant, measured from `nowMillis`; a past instant gives zero. */
const untilInstant = (value: string, nowMillis: number): number | undefined => {
  const at = parseRfc3339(value)
  return at === undefined ? undefined : bounded(Math.max(0, at - nowMillis))
}

/** Keeps a reading's fields consistent: `remaining` above `limit` is a lie, so the limit is dropped. */
const reading = (fields: QuotaReading): QuotaReading | undefined => {
  const { limit, remaining, resetMillis, windowMillis } = fields
  if (limit === undefined && remaining === undefined && resetMillis === undefined) return undefined
  const consistent = limit !== undefined && remaining !== undefined && remaining > limit ? undefined : limit
  return {
    family: fields.family,
    ...(consistent === undefined || consistent === 0 ? {} : { limit: consistent }),
    ...(remaining === undefined ? {} : { remaining }),
    ...(resetMillis === undefined ? {} : { resetMillis }),
    ...(windowMillis === undefined || windowMillis === 0 ? {} : { windowMillis })
  }
}

/** IETF drafts >= 07: `RateLimit: "p";r=12;t=41` with `RateLimit-Policy: "p";q=50;w=60`; the most restrictive policy. */
const ietfList = (rateLimit: string, policy: string | undefined): QuotaReading | undefined => {
  const policies = new Map<string, { q?: number | undefined; w?: number | undefined }>()
  if (policy !== undefined) {
    for (const { item, params } of structuredMembers(policy)) {
      policies.set(item, { q: parseCount(params.get("q")), w: parseCount(params.get("w")) })
    }
  }
  const candidates: Array<QuotaReading> = []
  for (const { item, params } of structuredMembers(rateLimit)) {
    const t = parseCount(params.get("t"))
    const p = policies.get(item)
    const candidate = reading({
      family: "window",
      limit: p?.q,
      remaining: parseCount(params.get("r")),
      resetMillis: t === undefined ? undefined : bounded(t * 1000),
      windowMillis: p?.w === undefined ? undefined : bounded(p.w * 1000)
    })
    if (candidate !== undefined) candidates.push(candidate)
  }
  // An exhausted policy binds until its reset; otherwise the one allowing the slowest pace.
  const exhausted = candidates.filter((c) => c.remaining === 0)
  if (exhausted.length > 0) {
    return exhausted.reduce((a, b) => (b.resetMillis ?? 0) > (a.resetMillis ?? 0) ? b : a)
  }
  return candidates.reduce<QuotaReading | undefined>((a, b) => a === undefined || pace(b) < pace(a) ? b : a, undefined)
}

/** Units per millisecond a reading allows: the policy (`q` per `w`) when known, else `remaining` over the reset. */
const pace = (r: QuotaReading): number =>
  r.limit !== undefined && r.windowMillis !== undefined
    ? r.limit / r.windowMillis
    : (r.remaining ?? Infinity) / Math.max(r.resetMillis ?? 1, 1)

/** The first `w=` of a `RateLimit-Policy` in the older forms ("10;w=1" or "100;w=60, ..."), in millis. */
const policyWindow = (policy: string | undefined): number | undefined => {
  if (policy === undefined) return undefined
  const w = structuredMembers(policy)[0]?.params.get("w")
  const seconds = parseCount(w)
  return seconds === undefined ? undefined : bounded(seconds * 1000)
}

/** The IETF headers in any draft's form, as a "window" reading of requests. */
const ietf = (headers: HeaderLookup, nowMillis: number): QuotaReading | undefined => {
  const rateLimit = header(headers, "ratelimit")
  const policy = header(headers, "ratelimit-policy")
  if (rateLimit !== undefined) {
    const dictionary = new Map<string, string>()
    for (const { item } of structuredMembers(rateLimit)) {
      const eq = item.indexOf("=")
      if (eq > 0) dictionary.set(item.slice(0, eq).trim().toLowerCase(), item.slice(eq + 1).trim())
    }
    if (dictionary.has("remaining") || dictionary.has("reset") || dictionary.has("limit")) {
      const reset = parseCount(dictionary.get("reset"))
      return reading({
        family: "window",
        limit: parseCount(dictionary.get("limit")),
        remaining: parseCount(dictionary.get("remaining")),
        resetMillis: reset === undefined ? undefined : bounded(reset * 1000),
        windowMillis: policyWindow(policy)
      })
    }
    return ietfList(rateLimit, policy)
  }
  const reset = header(headers, "ratelimit-reset")
  return reading({
    family: "window",
    limit: parseCount(header(headers, "ratelimit-limit")),
    remaining: parseCount(header(headers, "ratelimit-remaining")),
    resetMillis: reset === undefined ? undefined : parseReset(reset, nowMillis),
    windowMillis: policyWindow(policy)
  })
}

/** GitHub, X and Discord: `x-ratelimit-*` / `x-rate-limit-*` with an epoch (or delta) reset. */
const fixedWindow = (headers: HeaderLookup, prefix: string, nowMillis: number): QuotaReading | undefined => {
  const resetAfter = header(headers, `${prefix}-reset-after`)
  const reset = header(headers, `${prefix}-reset`)
  return reading({
    family: "window",
    limit: parseCount(header(headers, `${prefix}-limit`)),
    remaining: parseCount(header(headers, `${prefix}-remaining`)),
    resetMillis: resetAfter !== undefined
      ? parseDeltaSeconds(resetAfter)
      : reset === undefined
      ? undefined
      : parseReset(reset, nowMillis)
  })
}

/** OpenAI (`x-ratelimit-*-requests`, Go durations) and Anthropic (`anthropic-ratelimit-requests-*`, RFC 3339). */
const bucket = (
  headers: HeaderLookup,
  name: (field: "limit" | "remaining" | "reset") => string,
  reset: (value: string) => number | undefined
): QuotaReading | undefined => {
  const resetValue = header(headers, name("reset"))
  return reading({
    family: "bucket",
    limit: parseCount(header(headers, name("limit"))),
    remaining: parseCount(header(headers, name("remaining"))),
    resetMillis: resetValue === undefined ? undefined : reset(resetValue)
  })
}

/**
 * What a response says about the quota, by dimension. Absolute resets (epoch seconds, RFC 3339) are
 * measured from the response's own `Date` when it sent one, not from our clock, so a skewed client
 * clock does not shift them (octokit waited until the reset by its own clock and got another 429).
 */
export const readQuota = (headers: HeaderLookup, nowMillis: number): Quota => {
  const serverNow = serverTime(headers, nowMillis)
  const openAi = (dimension: string) => (field: string) => `x-ratelimit-${field}-${dimension}`
  const anthropic = (dimension: string) => (field: string) => `anthropic-ratelimit-${dimension}-${field}`
  const instant = (value: string) => untilInstant(value, serverNow)
  const requests = bucket(headers, openAi("requests"), parseGoDuration) ??
    bucket(headers, anthropic("requests"), instant) ??
    ietf(headers, serverNow) ??
    fixedWindow(headers, "x-ratelimit", serverNow) ??
    fixedWindow(headers, "x-rate-limit", serverNow)
  const units = bucket(headers, openAi("tokens"), parseGoDuration) ??
    bucket(headers, anthropic("tokens"), instant) ??
    bucket(headers, anthropic("input-tokens"), instant)
  return {
    ...(requests === undefined ? {} : { requests }),
    ...(units === undefined ? {} : { units })
  }
}
