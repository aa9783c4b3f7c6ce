/**
 * What the in-memory stores offer besides their Effect API: the same answers as plain functions of
 * the current time. A store in this process needs no round trip, so a limiter or gate can decide and
 * start its call in one synchronous step (see `rateLimit.ts` and `rateLimitGate.ts`). A store from
 * elsewhere (Redis, a user's, a wrapper around the memory store) has none, and goes the Effect way.
 */
import type * as RateLimiter from "@effect/experimental/RateLimiter"
import type * as RateLimit from "../../RateLimit.js"

const InProcess = Symbol.for("effect-resilience/RateLimit/InProcessStore")

export interface InProcessLimiterStore {
  /**
   * Takes one token from the bucket of `key` if it has one, as `tokenBucket` with `tokens: 1` and
   * `allowOverflow: false` would: `true` when taken; `false` (and nothing taken) when empty.
   */
  readonly takeToken: (key: string, limit: number, refillMillis: number, now: number) => boolean
  /**
   * Counts one call in the fixed window of `key` if it fits under `limit`, as `fixedWindow` with
   * `tokens: 1` and a `limit` would: `true` when counted; `false` (and nothing written) when full.
   */
  readonly takeWindowSlot: (key: string, limit: number, refillMillis: number, now: number) => boolean
}

export interface InProcessGateStore {
  /** As `closedFor`: millis until the gate of `key` reopens, 0 when open. */
  readonly closedFor: (key: string, now: number) => number
}

type LimiterStore = RateLimiter.RateLimiterStore["Type"]

/** A limiter store that also answers in process, with `inProcess`. */
export const limiterStoreInProcess = <S extends LimiterStore>(store: S, inProcess: InProcessLimiterStore): S =>
  Object.assign(store, { [InProcess]: inProcess })

/** A gate store that also answers in process, with `inProcess`. */
export const gateStoreInProcess = <S extends RateLimit.GateStore>(store: S, inProcess: InProcessGateStore): S =>
  Object.assign(store, { [InProcess]: inProcess })

/** The synchronous face of a limiter store, if it has one. */
export const inProcessLimiterStore = (store: LimiterStore): InProcessLimiterStore | undefined =>
  (store as { readonly [InProcess]?: InProcessLimiterStore })[InProcess]

/** The synchronous face of a gate store, if it has one. */
export const inProcessGateStore = (store: RateLimit.GateStore): InProcessGateStore | undefined =>
  (store as { readonly [InProcess]?: InProcessGateStore })[InProcess]
