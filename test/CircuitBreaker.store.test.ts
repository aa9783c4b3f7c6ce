import { describe, expect, it } from "@effect/vitest"
import { Chunk, Clock, Duration, Effect, Either, Fiber, Schedule, Scope, Stream, TestClock } from "effect"
import * as Backoff from "../src/Backoff.js"
import * as CircuitBreaker from "../src/CircuitBreaker.js"
import {
  fail,
  heldCall,
  openThenElapse,
  redisStore,
  rejection,
  type StoreKind,
  storeValue,
  subscribed,
  succeed,
  unavailable
} from "./support/breakerReplicas.js"
import { captureLogs } from "./support/logs.js"

/**
 * An in-memory `Store` shared by several breakers of one test: each breaker is a replica. `down`
 * makes every operation fail, as an unreachable Redis would; `writes` counts committed writes, `syncs`
 * every operation.
 */
const makeFakeStore = () => {
  const records = new Map<string, { readonly version: number; readonly record: string }>()
  const state = { down: false, writes: 0, syncs: 0 }
  const store: CircuitBreaker.Store = {
    // a turn of the scheduler first, as a round trip would give: concurrent events interleave
    sync: ({ key, version, write }) =>
      Effect.zipRight(Effect.yieldNow(), Effect.suspend((): Effect.Effect<CircuitBreaker.Store.Response, CircuitBreaker.StoreError> => {
        state.syncs++
        if (state.down) return Effect.fail(new CircuitBreaker.StoreError({ operation: "reach the fake store" }))
        const held = records.get(key)
        if ((held?.version ?? 0) !== version) {
          return Effect.succeed({ committed: false, version: held?.version ?? 0, record: held?.record })
        }
        if (write !== undefined) {
          if (write.version <= version) return Effect.dieMessage("a write must raise the version")
          records.set(key, { version: write.version, record: write.record })
          state.writes++
        }
        return Effect.succeed({ committed: true })
      }))
  }
  return { store, state, records }
}

type FakeStore = ReturnType<typeof makeFakeStore>

const fakeStore: StoreKind = {
  name: "a fake store",
  skip: false,
  make: () =>
    Effect.sync(() => {
      const fake = makeFakeStore()
      return storeValue(fake.store, Effect.sync(() => fake.records.size))
    })
}

// The same scenarios on both stores: on Redis they need a Redis (see test/support/redis.ts; the
// Redis suite fails without one under REQUIRE_REDIS=1), otherwise they are reported as skipped.
for (const kind of [fakeStore, redisStore]) {
  describe.skipIf(kind.skip)(`CircuitBreaker shared on ${kind.name}`, () => {
    /** Two replicas over one store. */
    const twoReplicas = (options: CircuitBreaker.CircuitBreaker.Options = {}) =>
      Effect.gen(function*() {
        const store = yield* kind.make("two")
        return { a: yield* store.replica(options), b: yield* store.replica(options) }
      })

    it.effect("shared - failures split across replicas open both", () =>
      Effect.gen(function*() {
        const { a, b } = yield* twoReplicas()
        yield* fail(a)
        yield* fail(b)
        yield* fail(a)
        expect(yield* a.state).toBe("closed")
        yield* fail(b)
        expect(yield* a.state).toBe("open")
        expect(yield* b.state).toBe("open")
        expect(rejection(yield* succeed(a)).reason).toBe("open")
        expect(rejection(yield* succeed(b)).retryAfter).toEqual(Duration.seconds(10))
      }).pipe(Effect.scoped))

    it.effect("shared - a success on one replica ends the other's run of failures", () =>
      Effect.gen(function*() {
        const { a, b } = yield* twoReplicas()
        yield* Effect.repeatN(fail(a), 2)
        yield* succeed(b)
        yield* Effect.repeatN(fail(a), 2)
        expect(yield* b.state).toBe("closed")
        expect((yield* b.snapshot).failures).toBe(3)
      }).pipe(Effect.scoped))

    it.effect("half-open - a probe admitted on one replica counts against the other's limit", () =>
      Effect.gen(function*() {
        const { a, b } = yield* twoReplicas()
        yield* openThenElapse(a, b)
        const probe = yield* heldCall(a)
        expect(rejection(yield* succeed(b)).reason).toBe("half-open-full")
        expect((yield* b.snapshot).probesInFlight).toBe(1)
        yield* probe.release
        yield* Fiber.join(probe.fiber)
        expect(yield* b.state).toBe("closed")
      }).pipe(Effect.scoped))

    it.effect("half-open - probes are admitted up to halfOpen.probes in total across replicas", () =>
      Effect.gen(function*() {
        const { a, b } = yield* twoReplicas({ halfOpen: { probes: 2 } })
        yield* openThenElapse(a, b)
        const first = yield* heldCall(a)
        const second = yield* heldCall(b)
        expect(rejection(yield* succeed(a)).reason).toBe("half-open-full")
        yield* first.release
        yield* second.release
        yield* Fiber.join(first.fiber)
        yield* Fiber.join(second.fiber)
        expect(yield* a.state).toBe("closed")
      }).pipe(Effect.scoped))

    it.effect("half-open - a close on one replica closes both", () =>
      Effect.gen(function*() {
        const { a, b } = yield* twoReplicas()
        yield* openThenElapse(a, b)
        expect(yield* succeed(a)).toEqual(Either.right("ok"))
        expect(yield* b.state).toBe("closed")
        expect(yield* succeed(b)).toEqual(Either.right("ok"))
      }).pipe(Effect.scoped))

    it.effect("half-open - an interrupted probe returns its slot on the shared core", () =>
      Effect.gen(function*() {
        const { a, b } = yield* twoReplicas()
        yield* openThenElapse(a, b)
        const probe = yield* heldCall(a)
        expect(rejection(yield* succeed(b)).reason).toBe("half-open-full")
        yield* Fiber.interrupt(probe.fiber)
        expect((yield* b.snapshot).probesInFlight).toBe(0)
        expect(yield* succeed(b)).toEqual(Either.right("ok"))
        expect(yield* a.state).toBe("closed")
      }).pipe(Effect.scoped))

    it.effect("half-open - a probe held by a replica that went away is reclaimed after maxWait", () =>
      Effect.gen(function*() {
        const store = yield* kind.make("gone")
        const b = yield* store.replica()
        const scope = yield* Scope.make()
        const a = yield* Scope.extend(store.replica(), scope)
        yield* openThenElapse(a, b)
        // the probe's fiber is left hanging: its replica is gone, so its slot is never given back
        yield* heldCall(a)
        expect(rejection(yield* succeed(b)).reason).toBe("half-open-full")
        yield* TestClock.adjust("10 seconds")
        expect(yield* b.state).toBe("open")
        yield* TestClock.adjust("10 seconds")
        expect(yield* succeed(b)).toEqual(Either.right("ok"))
      }).pipe(Effect.scoped))

    it.effect("changes - a replica sees another's transitions once, in order, with their why", () =>
      Effect.gen(function*() {
        const { a, b } = yield* twoReplicas()
        yield* b.state
        const seen = yield* Effect.fork(Stream.runCollect(Stream.take(b.changes, 3)))
        yield* subscribed
        yield* Effect.repeatN(fail(a), 3)
        yield* TestClock.adjust("10 seconds")
        yield* succeed(a)
        yield* b.state
        yield* b.state
        const changes = Chunk.toReadonlyArray(yield* Fiber.join(seen))
        expect(changes.map((c) => [c.from, c.to, c.why])).toEqual([
          ["closed", "open", "failures"],
          ["open", "half-open", "break-elapsed"],
          ["half-open", "closed", "probes-succeeded"]
        ])
        expect(changes[0]!.breakFor).toEqual(Duration.seconds(10))
      }).pipe(Effect.scoped))

    it.effect("changes - a replica that joins late publishes only where the shared core is now", () =>
      Effect.gen(function*() {
        const store = yield* kind.make("late")
        const a = yield* store.replica()
        yield* Effect.repeatN(fail(a), 3)
        const b = yield* store.replica()
        const seen = yield* Effect.fork(Stream.runCollect(Stream.take(b.changes, 1)))
        yield* subscribed
        expect(yield* b.state).toBe("open")
        const changes = Chunk.toReadonlyArray(yield* Fiber.join(seen))
        expect(changes.map((c) => [c.from, c.to, c.why])).toEqual([["closed", "open", "failures"]])
      }).pipe(Effect.scoped))

    it.effect("shared - an openFor schedule steps with the shared count of openings", () =>
      Effect.gen(function*() {
        const openFor = Schedule.map(Schedule.exponential("10 seconds"), (d) => d)
        const { a, b } = yield* twoReplicas({ openFor })
        yield* Effect.repeatN(fail(a), 3)
        yield* TestClock.adjust("10 seconds")
        yield* fail(b) // the probe fails: second opening
        expect(rejection(yield* succeed(a)).retryAfter).toEqual(Duration.seconds(20))
      }).pipe(Effect.scoped))

    it.effect("shared - isolate and reset on one replica hold for all", () =>
      Effect.gen(function*() {
        const { a, b } = yield* twoReplicas()
        yield* a.isolate
        expect(rejection(yield* succeed(b)).reason).toBe("isolated")
        yield* b.reset
        expect(yield* succeed(a)).toEqual(Either.right("ok"))
      }).pipe(Effect.scoped))

    it.effect("keyed - each key has one shared record", () =>
      Effect.gen(function*() {
        const store = yield* kind.make("keyed")
        const keyed = store.keyed({ name: "hosts", policy: CircuitBreaker.consecutive(2), idleTimeToLive: "1 minute" })
        const a = yield* keyed
        const b = yield* keyed
        yield* Effect.either(Effect.fail(unavailable).pipe(a.protect("x")))
        yield* Effect.either(Effect.fail(unavailable).pipe(b.protect("x")))
        expect(rejection(yield* Effect.either(Effect.succeed(1).pipe(a.protect("x")))).breaker).toBe("hosts/x")
        expect(yield* Effect.either(Effect.succeed(1).pipe(a.protect("y")))).toEqual(Either.right(1))
        expect(yield* Effect.either(Effect.succeed(1).pipe(b.protect("y")))).toEqual(Either.right(1))
        expect(yield* store.records).toBe(1)
      }).pipe(Effect.scoped))

    it.effect("shared - 100 concurrent calls on two replicas: every outcome counts, no store warning", () =>
      Effect.gen(function*() {
        const logs = yield* captureLogs
        const policy = CircuitBreaker.failureRate({ threshold: 0.5, window: { calls: 200 } })
        const { a, b } = yield* twoReplicas({ policy })
        yield* Effect.forEach(
          Array.from({ length: 100 }, (_, i) => i),
          (i): Effect.Effect<unknown> => i % 3 === 0 ? fail(i % 2 === 0 ? a : b) : succeed(i % 2 === 0 ? a : b),
          { concurrency: 50, discard: true }
        ).pipe(Effect.provide(logs.layer))
        const snapshot = yield* a.snapshot
        expect([snapshot.calls, snapshot.failures]).toEqual([100, 34])
        expect(yield* logs.lines).toEqual([])
      }).pipe(Effect.scoped))
  })
}

const replica = (fake: FakeStore, options: CircuitBreaker.CircuitBreaker.Options = {}) =>
  storeValue(fake.store, Effect.sync(() => fake.records.size)).replica(options)

/** Two replicas over one fake store. */
const twoReplicas = (options: CircuitBreaker.CircuitBreaker.Options = {}) =>
  Effect.gen(function*() {
    const fake = makeFakeStore()
    return { fake, a: yield* replica(fake, options), b: yield* replica(fake, options) }
  })

describe("CircuitBreaker shared on a fake store: its writes and outages", () => {
  it.effect("shared - one replica judges exactly as the in-memory breaker: same counts, same transitions, same ticks", () =>
    Effect.gen(function*() {
      // the provider recipe's breaker under 6 users whose calls overlap; failing from 3 s to 6 s
      const options: CircuitBreaker.CircuitBreaker.Options = {
        name: "quotes",
        policy: CircuitBreaker.failureRate({ threshold: 0.5, window: "30 seconds", minimumThroughput: 10 }),
        openFor: Backoff.exponential({ base: "5 seconds", cap: "1 minute" })
      }
      const call = (i: number) =>
        Effect.flatMap(Clock.currentTimeMillis, (now) =>
          now >= 3000 && now < 6000
            ? Effect.zipRight(Effect.sleep(Duration.millis(i % 7)), Effect.fail(unavailable))
            : Effect.sleep(Duration.millis(10 + (i * 13) % 50)))
      const story = (breaker: CircuitBreaker.CircuitBreaker) =>
        Effect.gen(function*() {
          const start = yield* Clock.currentTimeMillis
          let calls = 0
          const user = (u: number) =>
            Effect.forever(Effect.zipRight(
              Effect.either(breaker.protect(Effect.suspend(() => call(u + calls++)))),
              Effect.sleep(Duration.millis(100 + u * 17))
            ))
          const users = yield* Effect.forkAll(Array.from({ length: 6 }, (_, u) => user(u)))
          const ticks: Array<string> = []
          for (let tick = 0; tick < 120; tick++) {
            yield* TestClock.adjust("100 millis")
            const s = yield* breaker.snapshot
            ticks.push(`${s.state} ${s.calls}/${s.failures} opens ${s.opens} rejected ${s.rejected}`)
          }
          yield* Fiber.interrupt(users)
          yield* TestClock.setTime(start)
          return ticks
        })
      const memory = yield* story(yield* CircuitBreaker.make(options))
      const fake = makeFakeStore()
      const shared = yield* story(yield* Effect.provideService(CircuitBreaker.make(options), CircuitBreaker.Store, fake.store))
      expect(shared).toEqual(memory)
      // the story opens it (the outage), probes after the first break and closes again
      expect(memory.some((t) => t.startsWith("open"))).toBe(true)
      expect(memory.at(-1)).toMatch(/^closed /)
    }).pipe(Effect.scoped), 60_000)

  it.effect("shared - concurrent events of one replica are committed together, none lost to a conflict", () =>
    Effect.gen(function*() {
      const { a, b, fake } = yield* twoReplicas({ policy: CircuitBreaker.consecutive(50) })
      const logs = yield* captureLogs
      const concurrently = (n: number, call: (i: number) => Effect.Effect<unknown>) =>
        Effect.forEach(Array.from({ length: n }, (_, i) => i), call, { concurrency: "unbounded", discard: true })
      yield* a.state
      const before = fake.state.syncs
      yield* concurrently(20, () => fail(a))
      // 40 events (admissions and outcomes) in a few batches
      expect(fake.state.syncs - before).toBeLessThan(10)
      // both replicas at once: their batches conflict and are applied again, every outcome counts
      yield* concurrently(29, (i) => fail(i % 2 === 0 ? a : b)).pipe(Effect.provide(logs.layer))
      expect((yield* b.snapshot).failures).toBe(49)
      expect(yield* logs.lines).toEqual([])
      yield* fail(b)
      expect(yield* a.state).toBe("open")
    }).pipe(Effect.scoped))

  it.effect("shared - rejections while open write nothing", () =>
    Effect.gen(function*() {
      const { a, b, fake } = yield* twoReplicas()
      yield* Effect.repeatN(fail(a), 3)
      const writes = fake.state.writes
      for (let i = 0; i < 5; i++) yield* succeed(i % 2 === 0 ? a : b)
      expect(fake.state.writes).toBe(writes)
      expect((yield* a.snapshot).rejected).toBe(3)
      expect((yield* b.snapshot).rejected).toBe(2)
    }).pipe(Effect.scoped))

  it.effect("store down - local: each replica goes on from the last shared state it saw, with one warning", () =>
    Effect.flatMap(captureLogs, (logs) =>
      Effect.gen(function*() {
        const fake = makeFakeStore()
        const a = yield* replica(fake)
        const b = yield* replica(fake)
        yield* Effect.repeatN(fail(a), 2)
        expect(yield* b.state).toBe("closed")
        fake.state.down = true
        // b's own breaker starts from the shared run of three failures: one more opens it
        yield* fail(b)
        expect(yield* b.state).toBe("open")
        expect(yield* a.state).toBe("closed")
        yield* Effect.repeatN(succeed(b), 3)
        fake.state.down = false
        yield* TestClock.adjust("1 second")
        // back on the shared core, which never opened
        expect(yield* b.state).toBe("closed")
        // one warning per replica and outage, however many calls it saw
        expect((yield* logs.lines).filter((line) => line.includes("its store"))).toEqual([
          "WARN circuit breaker payments cannot reach its store; each replica uses its own breaker",
          "WARN circuit breaker payments cannot reach its store; each replica uses its own breaker",
          "INFO circuit breaker payments reaches its store again"
        ])
        // b's own opening is undone in its changes, logs and gauges when it rejoins the shared core
        expect(yield* logs.lines).toContain("INFO circuit breaker payments closed (restored)")
      }).pipe(Effect.provide(logs.layer), Effect.scoped)))

  it.effect("store down - local: a transition made by both its own breaker and the shared core is published once", () =>
    Effect.gen(function*() {
      const fake = makeFakeStore()
      // a cannot reach the store (a partition), b can
      const cut = { down: false }
      const cutOff: CircuitBreaker.Store = {
        sync: (request) =>
          cut.down
            ? Effect.fail(new CircuitBreaker.StoreError({ operation: "reach the fake store" }))
            : fake.store.sync(request)
      }
      const a = yield* replica({ ...fake, store: cutOff })
      const b = yield* replica(fake)
      const seen = yield* Effect.fork(Stream.runCollect(Stream.take(a.changes, 2)))
      yield* subscribed
      yield* a.state
      cut.down = true
      yield* Effect.repeatN(fail(a), 3)
      yield* Effect.repeatN(fail(b), 3)
      expect(yield* a.state).toBe("open")
      expect(yield* b.state).toBe("open")
      cut.down = false
      yield* TestClock.adjust("1 second")
      // back on the shared core, open as a's own breaker was: nothing to publish
      expect(yield* a.state).toBe("open")
      yield* TestClock.adjust("9 seconds")
      expect(yield* a.state).toBe("half-open")
      const changes = Chunk.toReadonlyArray(yield* Fiber.join(seen))
      expect(changes.map((c) => [c.from, c.to, c.why])).toEqual([
        ["closed", "open", "failures"],
        ["open", "half-open", "break-elapsed"]
      ])
    }).pipe(Effect.scoped))

  it.effect("store down - allow lets every call through, reject rejects every call", () =>
    Effect.gen(function*() {
      const fake = makeFakeStore()
      const allow = yield* replica(fake, { onStoreError: "allow" })
      const reject = yield* replica(fake, { onStoreError: "reject" })
      yield* Effect.repeatN(fail(allow), 2)
      fake.state.down = true
      yield* Effect.repeatN(fail(allow), 5)
      expect(yield* succeed(allow)).toEqual(Either.right("ok"))
      const refused = rejection(yield* succeed(reject))
      expect(refused.reason).toBe("open")
      expect(refused.retryAfter).toEqual(Duration.seconds(1))
      fake.state.down = false
      yield* TestClock.adjust("1 second")
      // the calls let through while the store was down counted for nothing
      expect((yield* allow.snapshot).failures).toBe(3)
      expect(yield* succeed(reject)).toEqual(Either.right("ok"))
    }).pipe(Effect.scoped))

  it.effect("store down - options: onStoreError must be local, allow or reject", () =>
    Effect.gen(function*() {
      const error = yield* Effect.flip(
        CircuitBreaker.make({ onStoreError: "open" as "local" })
      )
      expect(error.option).toBe("onStoreError")
      expect(error.value).toBe("\"open\"")
    }).pipe(Effect.scoped))
})
