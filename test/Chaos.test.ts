import { describe, expect, it } from "@effect/vitest"
import { Clock, Duration, Effect, Either, Exit, Fiber, Option, Random, Ref, TestClock } from "effect"
import { InvalidOptions, RateLimited, Unavailable } from "../src/Errors.js"
import { Chaos } from "../src/testing/index.js"

// Which of `n` sequential calls failed, with a seeded Random.
const pattern = (options: Chaos.Options, seed: string, n: number) =>
  Effect.forEach(Array.from({ length: n }), () => Effect.either(Chaos.inject(Effect.succeed("ok")))).pipe(
    Effect.map((results) => results.map(Either.isLeft)),
    Effect.provide(Chaos.layer(options)),
    Effect.withRandom(Random.make(seed))
  )

const count = (flags: ReadonlyArray<boolean>) => flags.filter((f) => f).length

describe("Chaos", () => {
  it.effect("off - without the layer, inject runs the effect unchanged, with no delay and no Random draw", () =>
    Effect.gen(function*() {
      const random = Random.make("unused")
      const results = yield* Effect.forEach(
        [1, 2, 3],
        (n) => Chaos.inject(n === 2 ? Effect.fail("own error" as const) : Effect.succeed(n)).pipe(Effect.either)
      ).pipe(Effect.withRandom(random))
      expect(results).toEqual([Either.right(1), Either.left("own error"), Either.right(3)])
      expect(yield* Clock.currentTimeMillis).toBe(0)
      // The generator was not advanced: its next draw is a fresh generator's first.
      expect(yield* Effect.withRandom(Random.next, random)).toBe(
        yield* Effect.withRandom(Random.next, Random.make("unused"))
      )
    }))

  it.effect("errorRate - over 10,000 calls the share of faults is near the rate, and exact for a seed", () =>
    Effect.gen(function*() {
      const flags = yield* pattern({ errorRate: 0.3 }, "seed-1", 10_000)
      const faults = count(flags)
      expect(Math.abs(faults / 10_000 - 0.3)).toBeLessThan(0.02)
      expect(faults).toBe(2981)
    }))

  it.effect("errorRate - the same seed replays the same faults; another seed does not", () =>
    Effect.gen(function*() {
      const a = yield* pattern({ errorRate: 0.5 }, "replay", 200)
      const b = yield* pattern({ errorRate: 0.5 }, "replay", 200)
      const c = yield* pattern({ errorRate: 0.5 }, "other", 200)
      expect(b).toEqual(a)
      expect(c).not.toEqual(a)
    }))

  it.effect("errorRate - 0 never fails, 1 always fails", () =>
    Effect.gen(function*() {
      expect(count(yield* pattern({ errorRate: 0 }, "s", 500))).toBe(0)
      expect(count(yield* pattern({ errorRate: 1 }, "s", 500))).toBe(500)
    }))

  it.effect("error - the default is Unavailable { reason: transport, detail: chaos } and the effect does not run", () =>
    Effect.gen(function*() {
      const ran = yield* Ref.make(0)
      const error = yield* Chaos.inject(Ref.update(ran, (n) => n + 1)).pipe(
        Effect.flip,
        Effect.provide(Chaos.layer({ errorRate: 1, provider: "payments" }))
      )
      expect(error).toEqual(new Unavailable({ provider: "payments", reason: "transport", detail: "chaos" }))
      expect(yield* Ref.get(ran)).toBe(0)
    }))

  it.effect("error - a custom error gets the call index; counters follow", () =>
    Effect.gen(function*() {
      const chaos = yield* Chaos.make({
        errorRate: 1,
        error: (call) => new RateLimited({ provider: `call-${call}`, reason: "provider" })
      })
      const errors = yield* Effect.forEach([0, 1, 2], () => Effect.flip(chaos.inject(Effect.void)))
      expect(errors.map((e) => [e._tag, e.provider])).toEqual([
        ["RateLimited", "call-0"],
        ["RateLimited", "call-1"],
        ["RateLimited", "call-2"]
      ])
      expect([yield* chaos.calls, yield* chaos.faults]).toEqual([3, 3])
    }))

  it.effect("when after - the effect runs, then the call fails", () =>
    Effect.gen(function*() {
      const ran = yield* Ref.make(0)
      const exit = yield* Chaos.inject(Ref.update(ran, (n) => n + 1)).pipe(
        Effect.exit,
        Effect.provide(Chaos.layer({ errorRate: 1, when: "after" }))
      )
      expect(Exit.isFailure(exit)).toBe(true)
      expect(yield* Ref.get(ran)).toBe(1)
    }))

  it.effect("latency - a fixed delay is driven by the TestClock", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(
        Chaos.inject(Effect.succeed("late")).pipe(
          Effect.provide(Chaos.layer({ errorRate: 0, latency: { min: "100 millis", max: "100 millis" } }))
        )
      )
      yield* TestClock.adjust("99 millis")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("1 millis")
      expect(yield* Fiber.join(fiber)).toBe("late")
    }))

  it.effect("latency - a range gives seeded delays within [min, max]", () =>
    Effect.gen(function*() {
      // Each call's delay, measured by when the inner effect ran.
      const measured = (seed: string) =>
        Effect.gen(function*() {
          const chaos = yield* Chaos.make({ errorRate: 0, latency: { min: "100 millis", max: "200 millis" } })
          const out: Array<number> = []
          for (let i = 0; i < 50; i++) {
            const start = yield* Clock.currentTimeMillis
            const fiber = yield* Effect.fork(chaos.inject(Clock.currentTimeMillis))
            yield* TestClock.adjust("200 millis")
            out.push(Math.round(((yield* Fiber.join(fiber)) - start) * 1000) / 1000)
          }
          return out
        }).pipe(Effect.withRandom(Random.make(seed)))
      const a = yield* measured("lat")
      expect(a.every((d) => d >= 100 && d <= 200)).toBe(true)
      expect(new Set(a.map(Math.round)).size).toBeGreaterThan(10)
      expect(yield* measured("lat")).toEqual(a)
    }))

  it.effect("latency - a distribution function maps the uniform sample", () =>
    Effect.gen(function*() {
      const samples: Array<number> = []
      const fiber = yield* Effect.fork(
        Chaos.inject(Effect.void).pipe(
          Effect.provide(Chaos.layer({
            errorRate: 0,
            latency: (u) => {
              samples.push(u)
              return Duration.seconds(5)
            }
          }))
        )
      )
      yield* TestClock.adjust("4999 millis")
      expect(Option.isNone(yield* Fiber.poll(fiber))).toBe(true)
      yield* TestClock.adjust("1 millis")
      yield* Fiber.join(fiber)
      expect(samples.length).toBe(1)
      expect(samples[0]).toBeGreaterThanOrEqual(0)
      expect(samples[0]).toBeLessThan(1)
    }))

  it.effect("interruption - interrupting a delayed call never runs the effect", () =>
    Effect.gen(function*() {
      const ran = yield* Ref.make(false)
      const fiber = yield* Effect.fork(
        Chaos.inject(Ref.set(ran, true)).pipe(
          Effect.provide(Chaos.layer({ errorRate: 0, latency: { min: "1 second", max: "1 second" } }))
        )
      )
      yield* TestClock.adjust("500 millis")
      yield* Fiber.interrupt(fiber)
      yield* TestClock.adjust("1 second")
      expect(yield* Ref.get(ran)).toBe(false)
    }))

  it.effect("options - a bad rate or latency range fails the layer with InvalidOptions", () =>
    Effect.gen(function*() {
      const bad: ReadonlyArray<Chaos.Options> = [
        { errorRate: 1.5 },
        { errorRate: Number.NaN },
        { errorRate: 0.1, latency: { min: "2 seconds", max: "1 second" } },
        { errorRate: 0.1, latency: { min: -1, max: 10 } },
        { errorRate: 0.1, provider: "" },
        { errorRate: 0.1, error: new Unavailable({ provider: "p", reason: "dns" }) as any },
        { errorRate: 0.1, when: "during" as "after" }
      ]
      const failures = yield* Effect.forEach(bad, (options) => Effect.flip(build(options)))
      expect(failures.every((e) => e instanceof InvalidOptions)).toBe(true)
      expect(failures.map((e) => e.option)).toEqual(
        ["errorRate", "errorRate", "latency.max", "latency.min", "provider", "error", "when"]
      )
      expect(failures[2]?.message).toBe(
        "Chaos.layer: option latency.max must be a duration >= latency.min, got \"1 second\""
      )
      expect(failures[5]?.expected).toBe("a function")
    }))

  it.effect("options - make names Chaos.make in its errors, layer names Chaos.layer", () =>
    Effect.gen(function*() {
      const made = yield* Effect.flip(Chaos.make({ errorRate: 2 }))
      const layered = yield* Effect.flip(build({ errorRate: 2 }))
      expect([made.module, layered.module]).toEqual(["Chaos.make", "Chaos.layer"])
    }))
})

const build = (options: Chaos.Options) => Effect.asVoid(Effect.provide(Chaos.Chaos, Chaos.layer(options)))
