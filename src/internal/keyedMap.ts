/**
 * A value per key, built on first use and evicted once idle: the store behind the keyed guards
 * (`CircuitBreaker.keyed`, and meant for `Bulkhead.keyed`).
 *
 * Why not effect's `RcMap`: RcMap forks a fiber per key each time the key goes idle, to sleep out its
 * time to live. At 100,000 idle keyed breakers that fiber was ~6.3 KB of the ~8.5 KB a key cost, and
 * the entry (its own Scope and Deferred) another ~1.6 KB. Here an entry is four fields (value,
 * build state, reference count, last use) in a JS `Map`, and one sweeper fiber per map does all the
 * expiry.
 *
 * How it behaves:
 * - A key with no call in flight and no `get` scope open for `idleTimeToLive` is gone at that instant:
 *   `keys` omits it and its next use builds a fresh value. Unless `keep` holds on to its value (an open
 *   breaker): then it stays, and is looked at again a time to live after each sweep that kept it. Its `release` runs when the sweeper reaches
 *   it. The sweeper sleeps (on `Clock`, so `TestClock` drives it) until the oldest idle entry
 *   expires, so a lone key is released exactly at its time to live; after a sweep that evicted
 *   something it waits at least half a time to live, so under many keys it wakes at most twice per
 *   time to live and a value is released at most half a time to live late. A time to live of zero
 *   releases a value as soon as its last user leaves, with no sweeper.
 * - The `Map` holds idle entries in last-use order (an entry is re-inserted when its last user
 *   leaves), so a sweep stops at the first idle entry that has not expired. Entries in use are
 *   skipped, never evicted. A value `keep` holds on to (an open breaker) is moved to the back instead
 *   of being evicted, and looked at again a time to live later.
 * - Keys are compared as JS `Map` keys (SameValueZero): strings, numbers, or the same object; not
 *   `Equal`/`Hash`.
 * - `lookup` runs once per key however many fibers ask at once, uninterruptibly (building a guard is
 *   short); its failure goes to every fiber waiting on it and leaves no entry.
 * - Closing the map's scope releases every built value, in use or not; later uses are interrupted, as
 *   with `RcMap`.
 *
 * Every change to the `Map` and to a reference count happens in one synchronous block, so the sweeper,
 * callers checking in and callers checking out never see each other half-way.
 */
import type * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as FiberId from "effect/FiberId"
import * as Scope from "effect/Scope"

export interface KeyedMap<K, A, E = never> {
  /** The key's value, held (not evictable) until the scope closes. */
  readonly get: (key: K) => Effect.Effect<A, E, Scope.Scope>
  /** Runs `f` with the key's value, held for exactly as long as `f` runs, however it ends. */
  readonly use: <B, E2, R>(key: K, f: (value: A) => Effect.Effect<B, E2, R>) => Effect.Effect<B, E | E2, R>
  /** The keys that have a value (built, being built or in use), least recently used first. */
  readonly keys: Effect.Effect<Array<K>>
}

export interface Options<K, A, E> {
  /** Builds a key's value; runs uninterruptibly, once per key until it is evicted. */
  readonly lookup: (key: K) => Effect.Effect<A, E>
  /** Runs when a value is evicted or the map's scope closes. A defect is logged, not propagated. */
  readonly release?: ((value: A, key: K) => Effect.Effect<void>) | undefined
  /** How long a key lives after its last user left. */
  readonly idleTimeToLive: Duration.Duration
  /**
   * A value that must outlive its idle time (an open breaker: evicted, its key would start closed): it is
   * kept, and looked at again a time to live later. Consulted with a positive time to live only.
   */
  readonly keep?: ((value: A, now: number) => boolean) | undefined
}

/** The value of an entry nobody has started building yet, with the expired entry it replaces. */
class Unbuilt<A, E> {
  constructor(readonly stale: Entry<A, E> | undefined) {}
}

class Entry<A, E> {
  refs = 1
  lastUsed = 0
  constructor(
    public value: A | Unbuilt<A, E> | undefined,
    /** Set until `lookup` has finished; later callers await it. */
    public building: Deferred.Deferred<A, E> | undefined
  ) {}
}

class KeyedMapImpl<K, A, E> implements KeyedMap<K, A, E> {
  readonly entries = new Map<K, Entry<A, E>>()
  closed = false
  readonly ttl: number

  constructor(readonly options: Options<K, A, E>) {
    this.ttl = Duration.toMillis(options.idleTimeToLive)
  }

  /** Whether an entry still has its key: in use, idle for less than its time to live, or kept. */
  live(entry: Entry<A, E>, now: number): boolean {
    return entry.refs > 0 || now - entry.lastUsed < this.ttl || this.kept(entry, now)
  }

  kept(entry: Entry<A, E>, now: number): boolean {
    const keep = this.options.keep
    return keep !== undefined && entry.building === undefined && keep(entry.value as A, now)
  }

  /** Counts a caller in: an existing live entry, or a new unbuilt one (replacing an expired one). */
  checkIn(key: K, now: number): Entry<A, E> {
    const found = this.entries.get(key)
    if (found !== undefined && this.live(found, now)) {
      found.refs++
      return found
    }
    // Absent, or idle past its time to live and not swept yet: it is gone. Removing it here, in the same
    // block that adds its successor, is what keeps the sweeper from releasing it a second time.
    if (found !== undefined) this.entries.delete(key)
    const entry = new Entry<A, E>(new Unbuilt(found), Deferred.unsafeMake<A, E>(FiberId.none))
    this.entries.set(key, entry)
    return entry
  }

  /** Counts a caller out; the last one out stamps the entry and moves it to the back of the `Map`. */
  checkOut(key: K, entry: Entry<A, E>, clock: Clock.Clock): Effect.Effect<void> {
    entry.refs--
    // An entry no longer in the map (failed build, map closed, replaced) is nobody's to keep.
    if (entry.refs > 0 || this.entries.get(key) !== entry) return Effect.void
    entry.lastUsed = clock.unsafeCurrentTimeMillis()
    this.entries.delete(key)
    if (this.ttl === 0) return this.releaseOf(entry.value as A, key)
    this.entries.set(key, entry)
    return Effect.void
  }

  /** The entry's value: at once when built; the caller that finds it unbuilt builds it; others wait. */
  valueOf(key: K, entry: Entry<A, E>, restore: <X, Y, Z>(self: Effect.Effect<X, Y, Z>) => Effect.Effect<X, Y, Z>) {
    if (entry.building === undefined) return Effect.succeed(entry.value as A)
    const value = entry.value
    if (value instanceof Unbuilt) {
      // Claimed synchronously: every later caller sees a build in progress and awaits `building`.
      entry.value = undefined
      return this.build(key, entry, value.stale)
    }
    return restore(Deferred.await(entry.building))
  }

  /** Runs in the caller's uninterruptible region, so `building` is always completed. */
  build(key: K, entry: Entry<A, E>, stale: Entry<A, E> | undefined): Effect.Effect<A, E> {
    const lookup = Effect.exit(this.options.lookup(key))
    return Effect.flatMap(
      stale === undefined ? lookup : Effect.zipRight(this.releaseOf(stale.value as A, key), lookup),
      (exit): Effect.Effect<A, E> => {
        const building = entry.building!
        entry.building = undefined
        if (Exit.isFailure(exit)) {
          if (this.entries.get(key) === entry) this.entries.delete(key)
          Deferred.unsafeDone(building, exit)
          return exit
        }
        if (!this.closed) {
          entry.value = exit.value
          Deferred.unsafeDone(building, exit)
          return exit
        }
        // The map closed while this value was built: it was in no entry close could see.
        const interrupted = Exit.interrupt(FiberId.none)
        Deferred.unsafeDone(building, interrupted)
        return Effect.zipRight(this.releaseOf(exit.value, key), interrupted)
      }
    )
  }

  releaseOf(value: A, key: K): Effect.Effect<void> {
    const release = this.options.release
    return release === undefined ? Effect.void : Effect.catchAllCause(
      release(value, key),
      (cause) => Effect.logError("effect-resilience: releasing an evicted keyed value failed", cause)
    )
  }

  readonly use = <B, E2, R>(key: K, f: (value: A) => Effect.Effect<B, E2, R>): Effect.Effect<B, E | E2, R> => {
    // Check-in and the registration of the check-out happen in one uninterruptible region; only waiting
    // for another fiber's build and `f` itself are interruptible. So the count comes back down however
    // the call ends.
    return Effect.uninterruptibleMask((restore) =>
      Effect.clockWith((clock) => {
        if (this.closed) return Effect.interrupt
        const entry = this.checkIn(key, clock.unsafeCurrentTimeMillis())
        return Effect.onExit(
          entry.building === undefined
            ? restore(f(entry.value as A))
            : Effect.flatMap(this.valueOf(key, entry, restore), (value) => restore(f(value))),
          () => this.checkOut(key, entry, clock)
        )
      })
    )
  }

  readonly get = (key: K): Effect.Effect<A, E, Scope.Scope> => Effect.uninterruptibleMask((restore) =>
      Effect.clockWith((clock) =>
        Effect.flatMap(Effect.scope, (scope) => {
          if (this.closed) return Effect.interrupt
          const entry = this.checkIn(key, clock.unsafeCurrentTimeMillis())
          return Effect.matchCauseEffect(this.valueOf(key, entry, restore), {
            onFailure: (cause) => Effect.zipRight(this.checkOut(key, entry, clock), Effect.failCause(cause)),
            onSuccess: (value) =>
              Effect.as(Scope.addFinalizer(scope, Effect.suspend(() => this.checkOut(key, entry, clock))), value)
          })
        })
      )
    )

  readonly keys: Effect.Effect<Array<K>> = Effect.clockWith((clock) =>
    Effect.sync(() => {
      const now = clock.unsafeCurrentTimeMillis()
      const keys: Array<K> = []
      for (const [key, entry] of this.entries) {
        if (this.live(entry, now)) keys.push(key)
      }
      return keys
    })
  )

  /**
   * One sweep, uninterruptible from the removal of the expired entries to the end of their release, so
   * an interrupted sweeper never drops a value unreleased. Returns how long to sleep.
   */
  sweep(clock: Clock.Clock): Effect.Effect<number> {
    return Effect.uninterruptible(Effect.suspend(() => {
      const now = clock.unsafeCurrentTimeMillis()
      const expired: Array<readonly [K, Entry<A, E>]> = []
      let wait = this.ttl
      for (const [key, entry] of this.entries) {
        if (entry.refs > 0) continue
        if (now - entry.lastUsed < this.ttl) {
          wait = entry.lastUsed + this.ttl - now
          break
        }
        this.entries.delete(key)
        if (this.kept(entry, now)) {
          // to the back, as if used now: looked at again a time to live later (the loop reaches it last)
          entry.lastUsed = now
          this.entries.set(key, entry)
          continue
        }
        expired.push([key, entry])
      }
      if (expired.length === 0) return Effect.succeed(wait)
      return Effect.as(
        Effect.forEach(expired, ([key, entry]) => this.releaseOf(entry.value as A, key), { discard: true }),
        Math.max(wait, this.ttl / 2)
      )
    }))
  }

  get close(): Effect.Effect<void> {
    return Effect.suspend(() => {
      this.closed = true
      const built = Array.from(this.entries).filter(([, entry]) => entry.building === undefined)
      this.entries.clear()
      return Effect.forEach(built, ([key, entry]) => this.releaseOf(entry.value as A, key), { discard: true })
    })
  }
}

/**
 * A map whose values live in the current scope: closing it interrupts the sweeper, then releases every
 * value.
 */
export const make = <K, A, E = never>(options: Options<K, A, E>): Effect.Effect<KeyedMap<K, A, E>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const map = new KeyedMapImpl(options)
    yield* Effect.addFinalizer(() => map.close)
    if (map.ttl > 0 && Number.isFinite(map.ttl)) {
      // Forked after the finalizer above, so it is interrupted before that finalizer runs.
      yield* Effect.forkScoped(Effect.interruptible(Effect.clockWith((clock) =>
        Effect.forever(Effect.flatMap(map.sweep(clock), (millis) => Effect.sleep(Duration.millis(millis))))
      )))
    }
    return map
  })
