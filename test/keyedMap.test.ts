import { describe, expect, it } from "@effect/vitest"
import { Deferred, Duration, Effect, Exit, Fiber, Ref, Scope, TestClock } from "effect"
import * as keyedMap from "../src/internal/keyedMap.js"

const ttl = Duration.minutes(1)

/** A map whose lookups and releases are recorded; `lookup` may be replaced per test. */
const recorded = (options: {
  readonly idleTimeToLive?: Duration.Duration
  readonly lookup?: (key: string) => Effect.Effect<string, string>
  readonly release?: (value: string) => Effect.Effect<void>
} = {}) =>
  Effect.gen(function*() {
    const built = yield* Ref.make<Array<string>>([])
    const released = yield* Ref.make<Array<string>>([])
    const map = yield* keyedMap.make<string, string, string>({
      lookup: (key) =>
        Effect.zipRight(Ref.update(built, (keys) => [...keys, key]), options.lookup?.(key) ?? Effect.succeed(`v:${key}`)),
      release: (value) => Effect.zipRight(Ref.update(released, (values) => [...values, value]), options.release?.(value) ?? Effect.void),
      idleTimeToLive: options.idleTimeToLive ?? ttl
    })
    return { map, built: Ref.get(built), released: Ref.get(released) }
  })

/** Lets forked fibers (the sweeper, callers) run up to their next suspension; no time passes. */
const settle = Effect.repeatN(Effect.yieldNow(), 20)

describe("keyedMap", () => {
  it.scoped("eviction - a lone key is released exactly at idleTimeToLive after its last use", () =>
    Effect.gen(function*() {
      const { map, released } = yield* recorded()
      yield* TestClock.adjust("10 seconds")
      expect(yield* map.use("a", Effect.succeed)).toBe("v:a")
      yield* TestClock.adjust(Duration.millis(59_999))
      expect(yield* map.keys).toEqual(["a"])
      expect(yield* released).toEqual([])
      yield* TestClock.adjust("1 millis")
      yield* settle
      expect(yield* map.keys).toEqual([])
      expect(yield* released).toEqual(["v:a"])
    }))

  it.scoped("eviction - never while in use; the time to live counts from the end of the last use", () =>
    Effect.gen(function*() {
      const { map, released } = yield* recorded()
      const gate = yield* Deferred.make<void>()
      const call = yield* Effect.fork(map.use("a", () => Deferred.await(gate)))
      yield* settle
      yield* TestClock.adjust("5 minutes")
      expect(yield* map.keys).toEqual(["a"])
      expect(yield* released).toEqual([])
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(call)
      yield* TestClock.adjust(Duration.millis(59_999))
      expect(yield* released).toEqual([])
      yield* TestClock.adjust("1 millis")
      yield* settle
      expect(yield* released).toEqual(["v:a"])
    }))

  it.scoped("eviction - a use keeps a key alive; idle keys go in last-use order", () =>
    Effect.gen(function*() {
      const { map, released } = yield* recorded()
      yield* map.use("a", Effect.succeed)
      yield* map.use("b", Effect.succeed)
      yield* TestClock.adjust("30 seconds")
      yield* map.use("a", Effect.succeed)
      expect(yield* map.keys).toEqual(["b", "a"])
      yield* TestClock.adjust("30 seconds")
      yield* settle
      expect(yield* map.keys).toEqual(["a"])
      expect(yield* released).toEqual(["v:b"])
      yield* TestClock.adjust("30 seconds")
      yield* settle
      expect(yield* released).toEqual(["v:b", "v:a"])
    }))

  it.scoped("eviction - a key past its time to live is gone before the sweeper reaches it", () =>
    Effect.gen(function*() {
      const { built, map, released } = yield* recorded()
      yield* map.use("a", Effect.succeed)
      yield* TestClock.adjust("1 seconds")
      yield* map.use("b", Effect.succeed)
      // At 60 s the sweeper releases a, then waits half a time to live before sweeping again.
      yield* TestClock.adjust("60 seconds")
      yield* settle
      expect(yield* released).toEqual(["v:a"])
      expect(yield* map.keys).toEqual([])
      // b expired at 61 s: its next use releases the old value and builds a new one.
      expect(yield* map.use("b", Effect.succeed)).toBe("v:b")
      expect(yield* released).toEqual(["v:a", "v:b"])
      expect(yield* built).toEqual(["a", "b", "b"])
      // The sweeper's 90 s pass finds the new b young and releases nothing twice.
      yield* TestClock.adjust("30 seconds")
      yield* settle
      expect(yield* released).toEqual(["v:a", "v:b"])
      expect(yield* map.keys).toEqual(["b"])
    }))

  it.scoped("eviction - many keys are swept at most twice per time to live, each at most half a TTL late", () =>
    Effect.gen(function*() {
      const { map, released } = yield* recorded()
      for (let i = 0; i < 10; i++) {
        yield* map.use(`k${i}`, Effect.succeed)
        yield* TestClock.adjust("1 seconds")
      }
      // now 10 s; k0 expires at 60 s, k9 at 69 s
      yield* TestClock.adjust("50 seconds")
      yield* settle
      expect(yield* released).toEqual(["v:k0"])
      yield* TestClock.adjust(Duration.millis(29_999))
      yield* settle
      expect(yield* released).toEqual(["v:k0"])
      expect(yield* map.keys).toEqual([])
      yield* TestClock.adjust("1 millis")
      yield* settle
      expect(yield* released).toHaveLength(10)
    }))

  it.scoped("lookup - concurrent first uses of a key build it exactly once", () =>
    Effect.gen(function*() {
      const { built, map } = yield* recorded({
        lookup: (key) => Effect.as(Effect.sleep("1 seconds"), `slow:${key}`)
      })
      const calls = yield* Effect.fork(
        Effect.forEach(Array.from({ length: 100 }, () => "k"), (key) => map.use(key, Effect.succeed), {
          concurrency: "unbounded"
        })
      )
      yield* settle
      yield* TestClock.adjust("1 seconds")
      const values = yield* Fiber.join(calls)
      expect(new Set(values)).toEqual(new Set(["slow:k"]))
      expect(yield* built).toEqual(["k"])
    }))

  it.scoped("lookup - a failure reaches every waiter and leaves no entry; the next use builds again", () =>
    Effect.gen(function*() {
      const attempts = yield* Ref.make(0)
      const { map } = yield* recorded({
        lookup: (key) =>
          Effect.flatMap(
            Ref.getAndUpdate(attempts, (n) => n + 1),
            (n) => n === 0 ? Effect.zipRight(Effect.sleep("1 seconds"), Effect.fail(`no ${key}`)) : Effect.succeed(key)
          )
      })
      const calls = yield* Effect.fork(
        Effect.all([map.use("k", Effect.succeed), map.use("k", Effect.succeed)], {
          concurrency: "unbounded",
          mode: "either"
        })
      )
      yield* settle
      yield* TestClock.adjust("1 seconds")
      const [first, second] = yield* Fiber.join(calls)
      expect([first, second].map((e) => e._tag === "Left" ? e.left : e.right)).toEqual(["no k", "no k"])
      expect(yield* map.keys).toEqual([])
      expect(yield* map.use("k", Effect.succeed)).toBe("k")
      expect(yield* Ref.get(attempts)).toBe(2)
    }))

  it.scoped("interruption - an interrupted call gives its reference back", () =>
    Effect.gen(function*() {
      const { map, released } = yield* recorded()
      const call = yield* Effect.fork(map.use("a", () => Effect.never))
      yield* settle
      yield* Fiber.interrupt(call)
      yield* TestClock.adjust(ttl)
      yield* settle
      expect(yield* released).toEqual(["v:a"])
    }))

  it.scoped("interruption - a caller interrupted while another builds the key gives its reference back", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const { built, map, released } = yield* recorded({
        lookup: (key) => Effect.as(Deferred.await(gate), key)
      })
      const builder = yield* Effect.fork(map.use("a", Effect.succeed))
      yield* settle
      const waiter = yield* Effect.fork(map.use("a", Effect.succeed))
      yield* settle
      expect(Exit.isInterrupted(yield* Fiber.interrupt(waiter))).toBe(true)
      yield* Deferred.succeed(gate, undefined)
      expect(yield* Fiber.join(builder)).toBe("a")
      yield* TestClock.adjust(ttl)
      yield* settle
      expect(yield* released).toEqual(["a"])
      expect(yield* built).toEqual(["a"])
    }))

  it.scoped("interruption - the builder's interruption waits for the build, which other callers get", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const { built, map } = yield* recorded({ lookup: (key) => Effect.as(Deferred.await(gate), key) })
      const builder = yield* Effect.fork(map.use("a", Effect.succeed))
      yield* settle
      const waiter = yield* Effect.fork(map.use("a", Effect.succeed))
      const interrupting = yield* Effect.fork(Fiber.interrupt(builder))
      yield* settle
      yield* Deferred.succeed(gate, undefined)
      expect(Exit.isInterrupted(yield* Fiber.join(interrupting))).toBe(true)
      expect(yield* Fiber.join(waiter)).toBe("a")
      expect(yield* built).toEqual(["a"])
    }))

  it.scoped("get - holds the key until its scope closes", () =>
    Effect.gen(function*() {
      const { map, released } = yield* recorded()
      const scope = yield* Scope.make()
      expect(yield* Scope.extend(map.get("a"), scope)).toBe("v:a")
      yield* TestClock.adjust("5 minutes")
      expect(yield* released).toEqual([])
      yield* Scope.close(scope, Exit.void)
      yield* TestClock.adjust(ttl)
      yield* settle
      expect(yield* released).toEqual(["v:a"])
    }))

  it.scoped("release - a value built in its own Scope has that Scope closed at eviction", () =>
    Effect.gen(function*() {
      const closed = yield* Ref.make<Array<string>>([])
      const map = yield* keyedMap.make<string, { readonly scope: Scope.CloseableScope }>({
        lookup: (key) =>
          Effect.gen(function*() {
            const scope = yield* Scope.make()
            yield* Scope.addFinalizer(scope, Ref.update(closed, (keys) => [...keys, key]))
            return { scope }
          }),
        release: (value) => Scope.close(value.scope, Exit.void),
        idleTimeToLive: ttl
      })
      yield* map.use("a", () => Effect.void)
      yield* TestClock.adjust(ttl)
      yield* settle
      expect(yield* Ref.get(closed)).toEqual(["a"])
    }))

  it.scoped("release - a defect is logged and the sweeper goes on", () =>
    Effect.gen(function*() {
      const { map, released } = yield* recorded({
        release: (value) => value === "v:a" ? Effect.die("boom") : Effect.void
      })
      yield* map.use("a", Effect.succeed)
      yield* TestClock.adjust(ttl)
      yield* settle
      yield* map.use("b", Effect.succeed)
      yield* TestClock.adjust(ttl)
      yield* settle
      expect(yield* released).toEqual(["v:a", "v:b"])
    }))

  it.scoped("idleTimeToLive 0 - a value is released as soon as its last user leaves", () =>
    Effect.gen(function*() {
      const { built, map, released } = yield* recorded({ idleTimeToLive: Duration.zero })
      const gate = yield* Deferred.make<void>()
      const first = yield* Effect.fork(map.use("a", () => Deferred.await(gate)))
      yield* settle
      yield* map.use("a", Effect.succeed)
      expect(yield* released).toEqual([])
      yield* Deferred.succeed(gate, undefined)
      yield* Fiber.join(first)
      expect(yield* released).toEqual(["v:a"])
      expect(yield* map.keys).toEqual([])
      expect(yield* built).toEqual(["a"])
    }))

  it.effect("scope - closing the map's scope releases every value, in use or not; later uses are interrupted", () =>
    Effect.gen(function*() {
      const scope = yield* Scope.make()
      const { map, released } = yield* Scope.extend(recorded(), scope)
      yield* map.use("a", Effect.succeed)
      const inUse = yield* Effect.fork(map.use("b", () => Effect.never))
      yield* settle
      yield* Scope.close(scope, Exit.void)
      expect([...(yield* released)].sort()).toEqual(["v:a", "v:b"])
      expect(Exit.isInterrupted(yield* Effect.exit(map.use("c", Effect.succeed)))).toBe(true)
      expect(yield* map.keys).toEqual([])
      yield* Fiber.interrupt(inUse)
      expect(yield* released).toHaveLength(2)
    }))

  it.effect("scope - a value whose build ends after the map closed is released, and its callers interrupted", () =>
    Effect.gen(function*() {
      const gate = yield* Deferred.make<void>()
      const scope = yield* Scope.make()
      const { map, released } = yield* Scope.extend(
        recorded({ lookup: (key) => Effect.as(Deferred.await(gate), key) }),
        scope
      )
      const call = yield* Effect.fork(map.use("a", Effect.succeed))
      yield* settle
      yield* Scope.close(scope, Exit.void)
      expect(yield* released).toEqual([])
      yield* Deferred.succeed(gate, undefined)
      expect(Exit.isInterrupted(yield* Fiber.await(call))).toBe(true)
      expect(yield* released).toEqual(["a"])
    }))
})
