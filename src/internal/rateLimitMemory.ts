/**
 * The in-memory stores of one process: limiter quotas (a `RateLimiterStore`) and gate closings (a
 * `GateStore`), on `Clock`, with memory bounded by the keys in use.
 *
 * Why not `@effect/experimental`'s `layerStoreMemory`: its maps keep an entry for every key that was
 * ever counted. With a key per tenant (or per user, per IP) a long-lived process grows without bound.
 * Here every entry returns to rest with time (a fixed-window counter whose expiry has passed, a token
 * bucket that has refilled, a gate that has reopened), an entry at rest answers exactly as a missing
 * one would, and a sweeper deletes those at rest once a minute. So memory holds the keys used in the
 * last window plus a minute, and deleting an entry can never change an answer.
 *
 * The counting follows the experimental store (same results, same `RateLimiter` on top), with two
 * deliberate differences in the token bucket, both stricter: a full bucket has no refill phase (it
 * is the same as a new one, which is what makes its deletion exact; the experimental bucket can hand
 * out a token sooner than `window / limit` after it was full), and a refund (`tokens: -1`) never
 * lifts a bucket above its limit.
 */
import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type * as RateLimit from "../RateLimit.js"
import { GateStore } from "./rateLimitGate.js"

/** How often entries at rest are deleted. */
export const sweepInterval: Duration.Duration = Duration.minutes(1)

/** A map whose entries return to rest with time; `sweep` deletes those at rest at `now`. */
class RestingMap<V> extends Map<string, V> {
  constructor(readonly atRest: (value: V, now: number) => boolean) {
    super()
  }
  sweep(now: number): void {
    for (const [key, value] of this) {
      if (this.atRest(value, now)) this.delete(key)
    }
  }
}

interface Counter {
  count: number
  expiresAt: number
}

interface Bucket {
  tokens: number
  lastRefill: number
  // the last limit and refill rate used with this key, to know when the bucket is full again
  limit: number
  refillMillis: number
}

/** Whole tokens refilled into `bucket` by `now` (a zero or negative rate refills it at once). */
const refilled = (bucket: Bucket, now: number): number =>
  bucket.refillMillis > 0 ? Math.floor((now - bucket.lastRefill) / bucket.refillMillis) : bucket.limit

/** Both stores over the same maps, and a sweep of all of them; the maps are exposed for tests. */
export const makeMemoryStores = () => {
  const counters = new RestingMap<Counter>((counter, now) => counter.expiresAt <= now)
  const buckets = new RestingMap<Bucket>((bucket, now) => bucket.tokens + refilled(bucket, now) >= bucket.limit)
  const gates = new RestingMap<number>((reopenAt, now) => reopenAt <= now)

  const limiter = RateLimiter.RateLimiterStore.of({
    fixedWindow: (options) =>
      Effect.clockWith((clock) =>
        Effect.sync(() => {
          const now = clock.unsafeCurrentTimeMillis()
          let counter = counters.get(options.key)
          if (counter === undefined || counter.expiresAt <= now) {
            counter = { count: 0, expiresAt: now }
            counters.set(options.key, counter)
          }
          if (options.limit !== undefined && counter.count + options.tokens > options.limit) {
            return [counter.count + options.tokens, counter.expiresAt - now] as const
          }
          counter.count += options.tokens
          counter.expiresAt += Duration.toMillis(options.refillRate) * options.tokens
          return [counter.count, counter.expiresAt - now] as const
        })
      ),
    tokenBucket: (options) =>
      Effect.clockWith((clock) =>
        Effect.sync(() => {
          const now = clock.unsafeCurrentTimeMillis()
          const { key, limit } = options
          const refillMillis = Duration.toMillis(options.refillRate)
          let bucket = buckets.get(key)
          if (bucket === undefined) {
            bucket = { tokens: limit, lastRefill: now, limit, refillMillis }
            buckets.set(key, bucket)
          } else {
            bucket.limit = limit
            bucket.refillMillis = refillMillis
            const tokens = refilled(bucket, now)
            if (tokens > 0) {
              bucket.tokens = Math.min(limit, bucket.tokens + tokens)
              bucket.lastRefill += tokens * refillMillis
            }
          }
          // A full bucket is the same as a new one: its next refill counts from now.
          if (bucket.tokens >= limit) {
            bucket.tokens = limit
            bucket.lastRefill = now
          }
          const left = bucket.tokens - options.tokens
          if (options.allowOverflow || left >= 0) {
            bucket.tokens = Math.min(limit, left)
            return bucket.tokens
          }
          return left
        })
      )
  })

  const gate = GateStore.of({
    closedFor: (key) =>
      Effect.clockWith((clock) =>
        Effect.sync(() => {
          const reopenAt = gates.get(key)
          return reopenAt === undefined ? 0 : Math.max(0, reopenAt - clock.unsafeCurrentTimeMillis())
        })
      ),
    close: (key, millis) =>
      Effect.clockWith((clock) =>
        Effect.sync(() => {
          const until = clock.unsafeCurrentTimeMillis() + millis
          if ((gates.get(key) ?? 0) >= until) return false
          gates.set(key, until)
          return true
        })
      )
  })

  const sweep = (now: number) => {
    counters.sweep(now)
    buckets.sweep(now)
    gates.sweep(now)
  }

  return { limiter, gate, sweep, maps: { counters, buckets, gates } } as const
}

/** The stores, with a sweeper fiber that lives as long as the scope. */
export const makeScopedMemoryStores: Effect.Effect<ReturnType<typeof makeMemoryStores>, never, Scope.Scope> = Effect.gen(function*() {
  const stores = makeMemoryStores()
  yield* Effect.forkScoped(Effect.interruptible(Effect.clockWith((clock) =>
    Effect.forever(
      Effect.zipRight(Effect.sleep(sweepInterval), Effect.sync(() => stores.sweep(clock.unsafeCurrentTimeMillis())))
    )
  )))
  return stores
})

export const layerStoreMemory: Layer.Layer<RateLimiter.RateLimiterStore> = Layer.scoped(
  RateLimiter.RateLimiterStore,
  Effect.map(makeScopedMemoryStores, (stores) => stores.limiter)
)

export const layerGateMemory: Layer.Layer<RateLimit.GateStore> = Layer.scoped(
  GateStore,
  Effect.map(makeScopedMemoryStores, (stores) => stores.gate)
)

/** Both stores over one set of maps and one sweeper. */
export const layerMemory: Layer.Layer<RateLimiter.RateLimiterStore | RateLimit.GateStore> = Layer.scopedContext(
  Effect.map(makeScopedMemoryStores, (stores) =>
    Context.make(RateLimiter.RateLimiterStore, stores.limiter).pipe(Context.add(GateStore, stores.gate)))
)
