import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Data from "effect/Data"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type * as RateLimit from "../../RateLimit.js"

export class AdaptiveStoreError extends Data.TaggedError("AdaptiveStoreError")<{
  readonly operation: string
  readonly cause: unknown
}> {
  override get message(): string {
    return `adaptive rate-limit store failed to ${this.operation}`
  }
}

export const AdaptiveStore: Context.Tag<RateLimit.AdaptiveStore, RateLimit.AdaptiveStore> = Context.GenericTag<
  RateLimit.AdaptiveStore
>("effect-resilience/RateLimit/AdaptiveStore")

/** Entries not updated for this long are forgotten: a provider's limits may have changed meanwhile. */
const idleMillis = 60 * 60 * 1000
/** Entries examined per write when sweeping, so memory follows the keys in use without a fiber. */
const sweepPerWrite = 4

/** The in-memory store: what limiters of one process (sharing this layer) learned, per key. */
export const makeMemory: Effect.Effect<RateLimit.AdaptiveStore> = Effect.sync(() => {
  const entries = new Map<string, RateLimit.AdaptiveStore.Learned>()
  const sweep = (now: number) => {
    let examined = 0
    for (const [key, learned] of entries) {
      if (examined++ >= sweepPerWrite) break
      if (now - learned.updatedAt > idleMillis && learned.notBefore < now) entries.delete(key)
      else {
        // rotate, so the next sweep examines other entries
        entries.delete(key)
        entries.set(key, learned)
      }
    }
  }
  return {
    get: (key) => Effect.sync(() => Option.fromNullable(entries.get(key))),
    set: (key, learned) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        sweep(now)
        entries.set(key, learned)
      })
  }
})

export const layerAdaptiveMemory: Layer.Layer<RateLimit.AdaptiveStore> = Layer.effect(AdaptiveStore, makeMemory)
