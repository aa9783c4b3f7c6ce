/**
 * Provider models for the scenario benchmarks: each is a pure answer to "a request arrived at `now`"
 * with its own state, so the same model serves a real HTTP server (FakeProvider route) and an
 * in-process `HttpClient` under `TestClock`.
 */
import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import { Clock, Duration, Effect } from "effect"

/** What a model answers. */
export interface Answer {
  readonly status: number
  readonly headers: Readonly<Record<string, string>>
  readonly body: unknown
}

/** What the provider saw, for the figures. */
export interface Tally {
  requests: number
  rateLimited: number
  failed: number
  /** Clock millis of the first 429 and of the first answer that carried rate-limit headers. */
  firstRateLimitedAt: number | undefined
  /** 429s answered after the first response that carried rate-limit headers. */
  rateLimitedAfterHeaders: number
  headersSeen: boolean
  /** Units (tokens) of the requests answered 2xx. */
  unitsServed: number
}

export interface Model {
  readonly tally: Tally
  readonly answer: (now: number, cost: number) => Answer
}

const newTally = (): Tally => ({
  requests: 0,
  rateLimited: 0,
  failed: 0,
  firstRateLimitedAt: undefined,
  rateLimitedAfterHeaders: 0,
  headersSeen: false,
  unitsServed: 0
})

const record = (tally: Tally, now: number, cost: number, answer: Answer): Answer => {
  tally.requests++
  if (answer.status === 429) {
    tally.rateLimited++
    tally.firstRateLimitedAt ??= now
    if (tally.headersSeen) tally.rateLimitedAfterHeaders++
  } else if (answer.status >= 500) {
    tally.failed++
  } else {
    tally.unitsServed += cost
  }
  if (Object.keys(answer.headers).some((name) => name.startsWith("x-ratelimit"))) tally.headersSeen = true
  return answer
}

const ok = { status: 200, headers: {}, body: { ok: true } } as const

/** A bucket of `capacity` tokens, full at first, refilled at `perMilli` tokens per millisecond. */
const refillingBucket = (capacity: number, perMilli: number) => {
  let tokens = capacity
  let last: number | undefined
  return {
    /** The tokens in the bucket at `now`. */
    level: (now: number): number => {
      tokens = Math.min(capacity, tokens + (now - (last ?? now)) * perMilli)
      last = now
      return tokens
    },
    take: (n: number): void => {
      tokens -= n
    }
  }
}

/** A token bucket of `rate` requests per second holding at most `burst`; 429 with `Retry-After` when empty. */
export const requestBucket = (options: {
  readonly rate: number
  readonly burst: number
  readonly retryAfterSeconds: number
}): Model => {
  const tally = newTally()
  const bucket = refillingBucket(options.burst, options.rate / 1000)
  return {
    tally,
    answer: (now, cost) => {
      if (bucket.level(now) < 1) {
        return record(tally, now, cost, {
          status: 429,
          headers: { "retry-after": String(options.retryAfterSeconds) },
          body: { error: "rate_limited" }
        })
      }
      bucket.take(1)
      return record(tally, now, cost, ok)
    }
  }
}

const goDuration = (millis: number): string => {
  const seconds = Math.max(0, millis) / 1000
  const minutes = Math.floor(seconds / 60)
  const rest = Math.round((seconds - minutes * 60) * 1000) / 1000
  return minutes > 0 ? `${minutes}m${rest}s` : `${rest}s`
}

/**
 * An LLM-style tokens-per-minute limit: a bucket of `perMinute` tokens refilled continuously, the
 * OpenAI headers on every answer (`x-ratelimit-remaining-tokens`, `x-ratelimit-reset-tokens` as the
 * time until the bucket is full), and 429 when a request's tokens do not fit.
 */
export const tokensPerMinute = (options: { readonly perMinute: number }): Model => {
  const tally = newTally()
  const ratePerMilli = options.perMinute / 60_000
  const bucket = refillingBucket(options.perMinute, ratePerMilli)
  return {
    tally,
    answer: (now, cost) => {
      const fits = bucket.level(now) >= cost
      if (fits) bucket.take(cost)
      const tokens = bucket.level(now)
      const headers = {
        "x-ratelimit-limit-tokens": String(options.perMinute),
        "x-ratelimit-remaining-tokens": String(Math.floor(tokens)),
        "x-ratelimit-reset-tokens": goDuration((options.perMinute - tokens) / ratePerMilli)
      }
      return record(
        tally,
        now,
        cost,
        fits
          ? { status: 200, headers, body: { ok: true } }
          : {
            status: 429,
            headers: { ...headers, "retry-after": String(Math.ceil((cost - tokens) / ratePerMilli / 1000)) },
            body: { error: "rate_limited" }
          }
      )
    }
  }
}

/** Healthy, except between `from` and `to` (Clock millis), where it answers 429 with `Retry-After`. */
export const throttledBetween = (options: {
  readonly from: number
  readonly to: number
  readonly retryAfterSeconds: number
}): Model => {
  const tally = newTally()
  return {
    tally,
    answer: (now, cost) =>
      record(
        tally,
        now,
        cost,
        now >= options.from && now < options.to
          ? {
            status: 429,
            headers: { "retry-after": String(options.retryAfterSeconds) },
            body: { error: "slow down" }
          }
          : ok
      )
  }
}

/** Down for good: every request gets 503. */
export const outage = (): Model => {
  const tally = newTally()
  return { tally, answer: (now, cost) => record(tally, now, cost, { status: 503, headers: {}, body: { error: "down" } }) }
}

/** The header a client sends its call's cost in, so one model serves both clients. */
export const costHeader = "x-cost"

/**
 * An in-process `HttpClient` answering from `model` after `latency`, on the `Clock`. The model sees
 * time in millis since `origin`.
 */
export const virtualClient = (model: Model, latency: Duration.DurationInput, origin: number): HttpClient.HttpClient =>
  HttpClient.make((request) =>
    Effect.gen(function*() {
      yield* Effect.sleep(latency)
      const now = (yield* Clock.currentTimeMillis) - origin
      const cost = Number(request.headers[costHeader] ?? "1")
      const answer = model.answer(now, Number.isFinite(cost) ? cost : 1)
      return HttpClientResponse.fromWeb(
        request,
        new Response(JSON.stringify(answer.body), {
          status: answer.status,
          headers: { "content-type": "application/json", ...answer.headers }
        })
      )
    })
  )

export const millis = (duration: Duration.DurationInput): number => Duration.toMillis(Duration.decode(duration))
