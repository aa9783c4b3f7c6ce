import { describe, expect, it } from "@effect/vitest"
import { Context, Duration, Effect, Either, Exit, Layer, Option, Ref } from "effect"
import type { ExecutionPlan } from "effect"
import * as CircuitBreaker from "../src/CircuitBreaker.js"
import {
  BulkheadFull,
  CircuitOpen,
  ClientError,
  InvalidOptions,
  InvalidResponse,
  RateLimited,
  Timeout,
  Unavailable
} from "../src/Errors.js"
import * as Fallback from "../src/Fallback.js"
import * as Policy from "../src/Policy.js"

const down = new Unavailable({ provider: "a", reason: "connection-refused" })
const declined = new ClientError({ provider: "a", status: 402, body: "card declined" })
const broken = new InvalidResponse({ provider: "a", status: 200, issue: "id: missing" })

const failing = <E>(error: E): Effect.Effect<number, E> => Effect.fail(error)

describe("Fallback", () => {
  describe("value, compute, degrade - which errors", () => {
    const recoverable = [
      down,
      new RateLimited({ provider: "a", reason: "provider" }),
      new Timeout({ provider: "a", after: Duration.seconds(1), scope: "attempt" }),
      new Timeout({ provider: "a", after: Duration.seconds(1), scope: "total" }),
      new CircuitOpen({ breaker: "a", reason: "open" }),
      new BulkheadFull({ bulkhead: "a", reason: "queue-full" })
    ]

    it.effect.each(recoverable.map((e) => [e._tag, e] as const))("handles %s by default", ([, error]) =>
      Effect.gen(function*() {
        expect(yield* failing(error).pipe(Fallback.value(7))).toBe(7)
        expect(yield* failing(error).pipe(Fallback.compute((e) => e._tag.length))).toBe(error._tag.length)
        expect(yield* failing(error).pipe(Fallback.degrade(() => 7))).toEqual(Fallback.degraded(7, error))
      }))

    it.effect.each([["ClientError", declined], ["InvalidResponse", broken]] as const)(
      "leaves %s alone by default",
      ([, error]) =>
        Effect.gen(function*() {
          const failures = yield* Effect.all([
            Effect.flip(failing(error).pipe(Fallback.value(7))),
            Effect.flip(failing(error).pipe(Fallback.compute(() => 7))),
            Effect.flip(failing(error).pipe(Fallback.degrade(() => 7)))
          ])
          expect(failures).toEqual([error, error, error])
        })
    )

    it.effect("on names the handled tags, and only those", () =>
      Effect.gen(function*() {
        const onDeclined = { on: ["ClientError"] } as const
        expect(yield* failing(declined).pipe(Fallback.value(0, onDeclined))).toBe(0)
        expect(yield* Effect.flip(failing<Unavailable | ClientError>(down).pipe(Fallback.value(0, onDeclined)))).toBe(down)
      }))

    it.effect("errors without a tag and defects pass through", () =>
      Effect.gen(function*() {
        const plain = new Error("boom")
        // "Error" is a class name, not a tag: the compiler refuses it (test/types), a JavaScript caller can write it
        const byClassName = { on: ["Error" as Fallback.DefaultTag] }
        expect(yield* Effect.flip(failing(plain).pipe(Fallback.value(0, byClassName)))).toBe(plain)
        const exit = yield* Effect.exit(Effect.die("bug").pipe(Fallback.value(0)))
        expect(Exit.isFailure(exit) && exit.cause._tag).toBe("Die")
      }))

    it.effect("degrade answers Fresh on success; compute is given the error", () =>
      Effect.gen(function*() {
        expect(yield* Effect.succeed(3).pipe(Fallback.degrade(() => 0))).toEqual(Fallback.fresh(3))
        let seen: unknown
        yield* failing(down).pipe(Fallback.compute((e) => (seen = e, 0)))
        expect(seen).toBe(down)
        expect(Fallback.isFresh(Fallback.fresh(1))).toBe(true)
        expect(Fallback.isDegraded(Fallback.fresh(1))).toBe(false)
      }))

    it.effect("value answers an Option or an Either as it is (effect 3 counts them as effects)", () =>
      Effect.gen(function*() {
        const nickname = Effect.fail(down) as Effect.Effect<Option.Option<string>, Unavailable>
        expect(yield* nickname.pipe(Fallback.value(Option.none()))).toEqual(Option.none())
        const guest = nickname.pipe(Fallback.value(Option.some("guest"), { on: ["Unavailable"] }))
        expect(yield* guest).toEqual(Option.some("guest"))
        const quote = Effect.fail(down) as Effect.Effect<Either.Either<number, string>, Unavailable>
        expect(yield* quote.pipe(Fallback.value(Either.left("offline")))).toEqual(Either.left("offline"))
        // data-first, with and without options
        expect(yield* Fallback.value(nickname, Option.none())).toEqual(Option.none())
        expect(yield* Fallback.value(quote, Either.right(0), { on: ["Unavailable"] })).toEqual(Either.right(0))
        expect(yield* Fallback.value(failing(down), 7)).toBe(7)
        // data-first whatever the fallback is at run time, undefined and an empty object included
        const unsetNickname = undefined as string | undefined
        const noCounts: Record<string, number> = {}
        const nicknameOrUnset = Effect.fail(down) as Effect.Effect<string | undefined, Unavailable>
        const counts = Effect.fail(down) as Effect.Effect<Record<string, number>, Unavailable>
        expect(yield* Fallback.value(nicknameOrUnset, unsetNickname)).toBe(undefined)
        expect(yield* Fallback.value(counts, noCounts)).toEqual({})
        // an effect given as the value is the answer, not run
        const other = Effect.succeed(1)
        expect(yield* failing(down).pipe(Fallback.value(other))).toBe(other)
      }))

    it("bad options throw InvalidOptions where they are written", () => {
      expect(() => Fallback.value(0, { on: [] })).toThrow(InvalidOptions)
      expect(() => Fallback.value(0, { on: "ClientError" as any })).toThrow(/on must be a non-empty array of error tags/)
      expect(() => Fallback.value(0, "ClientError" as any)).toThrow(/options must be an options object/)
      expect(() => Fallback.compute(42 as any)).toThrow(InvalidOptions)
      expect(() => Fallback.exhaustive({ Unavailable: "oops" } as any)).toThrow(/Fallback.exhaustive: option Unavailable/)
    })
  })

  describe("exhaustive", () => {
    const call = (error: Unavailable | ClientError | CircuitOpen) => Effect.fail(error) as Effect.Effect<string, typeof error>
    const cases = {
      Unavailable: (e: Unavailable) => Effect.succeed(`down: ${e.reason}`),
      CircuitOpen: () => Effect.succeed("open"),
      ClientError: (e: ClientError) => Effect.fail(e.status)
    }

    it.effect("runs the handler of the error's tag, with the error", () =>
      Effect.gen(function*() {
        expect(yield* call(down).pipe(Fallback.exhaustive(cases))).toBe("down: connection-refused")
        expect(yield* Fallback.exhaustive(call(new CircuitOpen({ breaker: "a", reason: "open" })), cases)).toBe("open")
        expect(yield* Effect.flip(call(declined).pipe(Fallback.exhaustive(cases)))).toBe(402)
      }))

    it.effect("a success and an error with no handler pass through", () =>
      Effect.gen(function*() {
        expect(yield* Effect.succeed("ok").pipe(Fallback.exhaustive({}))).toBe("ok")
        // a decoded error whose tag the type did not know, or an inherited key, is not matched
        for (const tag of ["Surprise", "constructor"]) {
          const unknown = { _tag: tag } as unknown as Unavailable
          const handled = Effect.fail(unknown).pipe(Fallback.exhaustive({ Unavailable: () => Effect.succeed("handled") }))
          expect(yield* Effect.flip(handled)).toBe(unknown)
        }
      }))
  })

  describe("plan - across providers", () => {
    interface Gateway {
      readonly charge: Effect.Effect<string, Unavailable | ClientError | CircuitOpen>
    }
    class Payments extends Context.Tag("test/Payments")<Payments, Gateway>() {}
    class APolicy extends Context.Tag("test/APolicy")<APolicy, Policy.Policy<CircuitOpen>>() {}

    /** Provider A answers with `outcome` and counts its calls; B always charges. */
    const setup = (outcome: Effect.Effect<string, Unavailable | ClientError>) =>
      Effect.gen(function*() {
        const aCalls = yield* Ref.make(0)
        const bCalls = yield* Ref.make(0)
        const breaker = yield* CircuitBreaker.make({ name: "a", policy: CircuitBreaker.consecutive(2), openFor: "1 minute" })
        const viaA = Layer.effect(
          Payments,
          Effect.map(APolicy, (policy) => ({ charge: Effect.zipRight(Ref.update(aCalls, (n) => n + 1), outcome).pipe(policy) }))
        )
        const viaB = Layer.succeed(Payments, { charge: Effect.as(Ref.update(bCalls, (n) => n + 1), "charged by b") })
        return {
          aCalls: Ref.get(aCalls),
          bCalls: Ref.get(bCalls),
          run: (plan: ExecutionPlan.ExecutionPlan<{ provides: Payments; input: any; error: never; requirements: APolicy }>) =>
            Effect.flatMap(Payments, (p) => p.charge).pipe(
              Effect.withExecutionPlan(plan),
              Effect.either,
              Effect.provideService(APolicy, Policy.make({ breaker }))
            ),
          viaA,
          viaB
        }
      }).pipe(Effect.scoped)

    it.effect("A's outage moves to B; once A's breaker is open B serves without calling A", () =>
      Effect.gen(function*() {
        const { aCalls, bCalls, run, viaA, viaB } = yield* setup(Effect.fail(down))
        const plan = Fallback.plan({ provide: viaA }, { provide: viaB })
        const results = yield* Effect.all([run(plan), run(plan), run(plan), run(plan)])
        expect(results).toEqual(Array(4).fill(Either.right("charged by b")))
        // two outages opened A's breaker (consecutive(2)); the next two calls were CircuitOpen at once
        expect(yield* aCalls).toBe(2)
        expect(yield* bCalls).toBe(4)
      }))

    it.effect("A's ClientError is A's answer: B is not asked", () =>
      Effect.gen(function*() {
        const { aCalls, bCalls, run, viaA, viaB } = yield* setup(Effect.fail(declined))
        const result = yield* run(Fallback.plan({ provide: viaA }, { provide: viaB }))
        expect(result).toEqual(Either.left(declined))
        expect([yield* aCalls, yield* bCalls]).toEqual([1, 0])
      }))

    it.effect("a step's own while decides instead", () =>
      Effect.gen(function*() {
        const { bCalls, run, viaA, viaB } = yield* setup(Effect.fail(declined))
        const result = yield* run(Fallback.plan({ provide: viaA }, { provide: viaB, while: () => true }))
        expect(result).toEqual(Either.right("charged by b"))
        expect(yield* bCalls).toBe(1)
      }))

    it.effect("A's success is the answer", () =>
      Effect.gen(function*() {
        const { bCalls, run, viaA, viaB } = yield* setup(Effect.succeed("charged by a"))
        expect(yield* run(Fallback.plan({ provide: viaA }, { provide: viaB }))).toEqual(Either.right("charged by a"))
        expect(yield* bCalls).toBe(0)
      }))
  })
})
