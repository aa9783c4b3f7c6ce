import type * as Persistence from "@effect/experimental/Persistence"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"

/**
 * A `BackingPersistenceStore` bounded by a number of keys: a JS `Map` kept in last-use order, so the
 * least recently used key is the first one out when a write would exceed `maxKeys`. Expired entries go
 * when read. Experimental's `Persistence.layerMemory` never evicts an entry nobody reads again, so a
 * last-known-good per tenant would grow for ever there.
 */
export const make = (maxKeys: number): Persistence.BackingPersistenceStore => {
  const entries = new Map<string, { readonly value: unknown; readonly expires: number }>()
  const read = (key: string, now: number): Option.Option<unknown> => {
    const entry = entries.get(key)
    if (entry === undefined) return Option.none()
    entries.delete(key)
    if (entry.expires <= now) return Option.none()
    entries.set(key, entry)
    return Option.some(entry.value)
  }
  const write = (key: string, value: unknown, ttl: Option.Option<Duration.Duration>, now: number): void => {
    entries.delete(key)
    const expires = Option.match(ttl, { onNone: () => Infinity, onSome: (d) => now + Duration.toMillis(d) })
    entries.set(key, { value, expires })
    for (const oldest of entries.keys()) {
      if (entries.size <= maxKeys) break
      entries.delete(oldest)
    }
  }
  return {
    get: (key) => Clock.clockWith((clock) => Effect.sync(() => read(key, clock.unsafeCurrentTimeMillis()))),
    getMany: (keys) =>
      Clock.clockWith((clock) => Effect.sync(() => keys.map((key) => read(key, clock.unsafeCurrentTimeMillis())))),
    set: (key, value, ttl) =>
      Clock.clockWith((clock) => Effect.sync(() => write(key, value, ttl, clock.unsafeCurrentTimeMillis()))),
    setMany: (batch) =>
      Clock.clockWith((clock) =>
        Effect.sync(() => {
          for (const [key, value, ttl] of batch) write(key, value, ttl, clock.unsafeCurrentTimeMillis())
        })
      ),
    remove: (key) => Effect.sync(() => void entries.delete(key)),
    clear: Effect.sync(() => entries.clear())
  }
}
