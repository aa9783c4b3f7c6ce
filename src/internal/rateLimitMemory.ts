/**
 * The in-memory stores of one process: limiter quotas (a `RateLimiterStore`) and gate closings (a
 * `GateStore`), on `Clock`, with memory bounded by the keys in use.
 *
 * Why not `@effect/experimental`'s `layerStoreMemory`: its maps keep an entry for every key that was
 * ever counted. With a key per tenant (or per user, per IP) a long-lived process grows without bound.
 * Here every entry returns to rest with time (a fixed-window counter whose expiry has passed, a token
 * bucket that has refilled, a gate that has reopened), and an entry at rest answers exactly as a
 * missing one would. Each store operation examines the next two entries of its map, and two of
 * another map in turn, and deletes those that have been at rest for a minute (the minute keeps
 * answers exact when the wall clock steps back by less). No fiber and no timer: the stores work however long the layer that built them
 * lives, and memory holds the keys used in the last window and minute, plus the ones a lap of the
 * map has not reached yet.
 *
 * The counting follows the experimental store (same results, same `RateLimiter` on top), with three
 * deliberate differences in the token bucket, all stricter or more exact: a full bucket has no refill
 * phase (it is the same as a new one, which is what makes its deletion exact; the experimental bucket
 * can hand out a token sooner than `window / limit` after it was full), a refund (`tokens: -1`) never
 * lifts a bucket above its limit, and a bucket belongs to a key *and* its limit and window (two
 * limiters that share a name, or a limit that changed, do not drain each other's bucket).
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as RateLimit from "../RateLimit.js"
import { gateStoreInProcess, limiterStoreInProcess } from "./rateLimit/inProcessStore.js"
import { GateStore } from "./rateLimitGate.js"

/** How long an entry stays after it came to rest. */
export const restGrace = 60_000

/** A map whose entries come to rest with time; each operation examines a few for deletion. */
class RestingMap<V> extends Map<string, V> {
  // A live iterator: it survives deletions and reaches entries added after it started.
  private cursor: Iterator<[string, V]> | undefined = undefined

  constructor(
    private readonly restsAt: (value: V) => number,
    private readonly grace: number,
    private readonly perCall: number,
    /** For a map of token buckets, its limit and refill rate. */
    readonly quota?: string
  ) {
    super()
  }

  /** Examines the next `perCall` entries (round robin) and deletes those at rest for `grace`. */
  sweepSome(now: number): void {
    for (let i = 0; i < this.perCall; i++) {
      this.cursor ??= this.entries()
      const next = this.cursor.next()
      if (next.done === true) {
        this.cursor = undefined
        return
      }
      const [key, value] = next.value
      if (this.stale(value, now)) this.delete(key)
    }
  }

  /** Deletes every entry at rest for `grace`. */
  sweep(now: number): void {
    for (const [key, value] of this) {
      if (this.stale(value, now)) this.delete(key)
    }
  }

  private stale(value: V, now: number): boolean {
    return this.restsAt(value) + this.grace <= now
  }
}

interface Counter {
  count: number
  expiresAt: number
}

interface Bucket {
  tokens: number
  lastRefill: number
}

/**
 * Both stores over their maps. `grace` and `perCall` are for tests (a store that never deletes is
 * the reference a deleting one must agree with); so are `sweep` (all at once) and `sizes`.
 */
export const makeMemoryStores = (options?: { readonly grace?: number; readonly perCall?: number }) => {
  const grace = options?.grace ?? restGrace
  const perCall = options?.perCall ?? 2
  const counters = new RestingMap<Counter>((counter) => counter.expiresAt, grace, perCall)
  const gates = new RestingMap<number>((reopenAt) => reopenAt, grace, perCall)
  // Every map, for a round robin: besides its own map, each operation sweeps the next one in turn,
  // so a limiter nobody calls any more is swept by the calls of the others.
  const all = new Set<RestingMap<any>>([counters, gates])
  let rotation: Iterator<RestingMap<any>> | undefined = undefined
  const nextInTurn = (): RestingMap<any> => {
    rotation ??= all.values()
    let next = rotation.next()
    if (next.done === true) {
      rotation = all.values()
      next = rotation.next()
    }
    return next.value as RestingMap<any>
  }
  const sweepOwnAndNext = (own: RestingMap<any>, now: number) => {
    own.sweepSome(now)
    const next = nextInTurn()
    next.sweepSome(now)
    if (next !== own) dropIfEmptyQuota(next)
  }
  // Token buckets by limit and refill rate, then by key. A bucket is full again (and answers as a new
  // one) once `limit - tokens` refills have passed since its last refill.
  const buckets = new Map<string, RestingMap<Bucket>>()
  // A quota whose buckets are all gone goes too (limits per tenant plan, or per call, are not kept).
  const dropIfEmptyQuota = (map: RestingMap<any>) => {
    if (map.size > 0 || map.quota === undefined) return
    buckets.delete(map.quota)
    all.delete(map)
    if (map === lastQuota) lastQuota = undefined
  }
  // The quota of the previous call: a limiter calls with the same limit and rate every time, so the
  // common case builds no quota string and looks nothing up.
  let lastQuota: RestingMap<Bucket> | undefined = undefined
  let lastLimit = 0
  let lastRefillMillis = 0
  const bucketsFor = (limit: number, refillMillis: number): RestingMap<Bucket> => {
    if (lastQuota !== undefined && limit === lastLimit && refillMillis === lastRefillMillis) return lastQuota
    const map = quotaOf(limit, refillMillis)
    lastQuota = map
    lastLimit = limit
    lastRefillMillis = refillMillis
    return map
  }
  const quotaOf = (limit: number, refillMillis: number): RestingMap<Bucket> => {
    const quota = `${limit}|${refillMillis}`
    let map = buckets.get(quota)
    if (map === undefined) {
      map = new RestingMap<Bucket>(
        (bucket) => refillMillis > 0 ? bucket.lastRefill + Math.ceil(limit - bucket.tokens) * refillMillis : 0,
        grace,
        perCall,
        quota
      )
      buckets.set(quota, map)
      all.add(map)
    }
    return map
  }

  // Both answers of the token bucket: the store's, and the in-process one that takes a token only if there is one.
  const tokenBucket = (
    key: string,
    tokens: number,
    limit: number,
    refillMillis: number,
    allowOverflow: boolean,
    now: number
  ): number => {
    const quota = bucketsFor(limit, refillMillis)
    sweepOwnAndNext(quota, now)
    let bucket = quota.get(key)
    if (bucket === undefined) {
      bucket = { tokens: limit, lastRefill: now }
      quota.set(key, bucket)
    } else if (refillMillis > 0) {
      const refilled = Math.floor((now - bucket.lastRefill) / refillMillis)
      if (refilled > 0) {
        bucket.tokens = Math.min(limit, bucket.tokens + refilled)
        bucket.lastRefill += refilled * refillMillis
      }
    } else {
      bucket.tokens = limit
    }
    // A full bucket is the same as a new one: its next refill counts from now.
    if (bucket.tokens >= limit) {
      bucket.tokens = limit
      bucket.lastRefill = now
    }
    const left = bucket.tokens - tokens
    if (allowOverflow || left >= 0) {
      bucket.tokens = Math.min(limit, left)
      return bucket.tokens
    }
    return left
  }

  // Both answers of the fixed window: the store's, and the in-process one that counts a call only under the limit.
  const fixedWindow = (
    key: string,
    tokens: number,
    refillMillis: number,
    limit: number | undefined,
    now: number
  ): readonly [count: number, ttl: number] => {
    sweepOwnAndNext(counters, now)
    let counter = counters.get(key)
    if (counter === undefined || counter.expiresAt <= now) counter = { count: 0, expiresAt: now }
    if (limit !== undefined && counter.count + tokens > limit) {
      // a refusal writes nothing (so a window that had ended stays as it was, as in Redis)
      return [counter.count + tokens, counter.expiresAt - now]
    }
    counters.set(key, counter)
    counter.count += tokens
    counter.expiresAt += refillMillis * tokens
    return [counter.count, counter.expiresAt - now]
  }

  const closedFor = (key: string, now: number): number => {
    sweepOwnAndNext(gates, now)
    const reopenAt = gates.get(key)
    return reopenAt === undefined ? 0 : Math.max(0, reopenAt - now)
  }

  const limiter = limiterStoreInProcess(
    RateLimiter.RateLimiterStore.of({
      fixedWindow: (options) =>
        Effect.map(
          Clock.currentTimeMillis,
          (now) => fixedWindow(options.key, options.tokens, Duration.toMillis(options.refillRate), options.limit, now)
        ),
      tokenBucket: (options) =>
        Effect.map(
          Clock.currentTimeMillis,
          (now) =>
            tokenBucket(
              options.key,
              options.tokens,
              options.limit,
              Duration.toMillis(options.refillRate),
              options.allowOverflow,
              now
            )
        )
    }),
    {
      takeToken: (key, limit, refillMillis, now) => tokenBucket(key, 1, limit, refillMillis, false, now) >= 0,
      takeWindowSlot: (key, limit, refillMillis, now) => fixedWindow(key, 1, refillMillis, limit, now)[0] <= limit
    }
  )

  const gate = gateStoreInProcess(
    GateStore.of({
      closedFor: (key) => Effect.map(Clock.currentTimeMillis, (now) => closedFor(key, now)),
      close: (key, millis) =>
        Effect.map(Clock.currentTimeMillis, (now) => {
          sweepOwnAndNext(gates, now)
          const until = now + millis
          if ((gates.get(key) ?? 0) >= until) return false
          gates.set(key, until)
          return true
        })
    }),
    { closedFor }
  )

  const sweep = (now: number) => {
    counters.sweep(now)
    for (const quota of [...buckets.values()]) {
      quota.sweep(now)
      dropIfEmptyQuota(quota)
    }
    gates.sweep(now)
  }

  const sizes = () => {
    let bucketCount = 0
    for (const quota of buckets.values()) bucketCount += quota.size
    return { counters: counters.size, buckets: bucketCount, gates: gates.size }
  }

  return { limiter, gate, sweep, sizes, quotas: () => buckets.size } as const
}

export const layerStoreMemory: Layer.Layer<RateLimiter.RateLimiterStore> = Layer.sync(
  RateLimiter.RateLimiterStore,
  () => makeMemoryStores().limiter
)

export const layerGateMemory: Layer.Layer<RateLimit.GateStore> = Layer.sync(GateStore, () => makeMemoryStores().gate)

/** Both stores. */
export const layerMemory: Layer.Layer<RateLimiter.RateLimiterStore | RateLimit.GateStore> = Layer.syncContext(() => {
  const stores = makeMemoryStores()
  return Context.make(RateLimiter.RateLimiterStore, stores.limiter).pipe(Context.add(GateStore, stores.gate))
})
