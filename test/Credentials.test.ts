import { describe, expect, it } from "@effect/vitest"
import { Cause, Deferred, Effect, Exit, Fiber, Logger, LogLevel, Option, Redacted, Ref, Scope, TestClock } from "effect"
import * as Credentials from "../src/Credentials.js"
import { InvalidOptions } from "../src/Errors.js"

const reveal = (secret: Option.Option<Redacted.Redacted<string>>) => Option.map(secret, Redacted.value)

/** A source that hands out "v1", "v2", ... and counts its fetches; `failing` makes the next fetches fail. */
const source = Effect.gen(function*() {
  const fetches = yield* Ref.make(0)
  const failing = yield* Ref.make(false)
  const fetch = Effect.gen(function*() {
    if (yield* Ref.get(failing)) return yield* Effect.fail(new Error("vault unreachable"))
    const n = yield* Ref.updateAndGet(fetches, (k) => k + 1)
    return `v${n}`
  })
  return { fetch, fetches, failing }
})

describe("Credentials", () => {
  describe("fixed", () => {
    it.effect("always the same secret, Redacted; refresh gives none", () =>
      Effect.gen(function*() {
        const credentials = Credentials.fixed("sk_1")
        expect(reveal(yield* credentials.get())).toEqual(Option.some("sk_1"))
        expect(reveal(yield* credentials.get("any-key"))).toEqual(Option.some("sk_1"))
        expect(yield* credentials.refresh(Redacted.make("sk_1"))).toEqual(Option.none())
        expect(String(Option.getOrThrow(yield* credentials.get()))).toBe("<redacted>")
      }))

    it.effect("accepts a Redacted as is", () =>
      Effect.gen(function*() {
        const secret = Redacted.make("sk_2")
        expect(Option.getOrThrow(yield* Credentials.fixed(secret).get())).toBe(secret)
      }))
  })

  describe("bad input", () => {
    const problemOf = (credentials: Credentials.Credentials) =>
      Effect.map(Effect.exit(credentials.get()), (exit) =>
        Exit.isFailure(exit) ? Cause.dieOption(exit.cause).pipe(Option.getOrUndefined) : undefined)

    const unset = process.env["EFFECT_RESILIENCE_UNSET_VARIABLE"] as string
    it.effect.each([
      ["fixed(\"\")", () => Credentials.fixed(""), "secret", "\"\""],
      ["fixed(5)", () => Credentials.fixed(5 as any), "secret", "a number"],
      ["fixed of an unset variable", () => Credentials.fixed(Redacted.make(unset)), "secret", "undefined"],
      ["fixed with CR LF", () => Credentials.fixed("sk_live_abc\r\n"), "secret", "<redacted> (contains CR)"],
      ["byKey(null)", () => Credentials.byKey(null as any), "credentials", "null"],
      ["byKey of a bare string", () => Credentials.byKey({ eu: "sk_live_abc" as any }), "credentials.eu", "a string"],
      [
        "byKey with an unknown default",
        () => Credentials.byKey({ eu: Credentials.fixed("k") }, { default: "us" }),
        "default",
        "\"us\""
      ]
    ] as const)("%s - a value that carries its InvalidOptions, never the secret", ([, make, option, value]) =>
      Effect.gen(function*() {
        const credentials = make()
        expect(Credentials.isCredentials(credentials)).toBe(true)
        const problem = yield* problemOf(credentials)
        expect(problem).toBeInstanceOf(InvalidOptions)
        expect(problem).toMatchObject({ option, value })
        expect(String((problem as InvalidOptions).message)).not.toContain("abc")
      }))

    it.effect("byKey over a bad credential carries that credential's problem", () =>
      Effect.gen(function*() {
        const problem = yield* problemOf(Credentials.byKey({ eu: Credentials.fixed("") }))
        expect(problem).toMatchObject({ module: "Credentials.fixed", option: "secret" })
      }))

    it.scoped.each([
      ["a function", () => Effect.succeed("k")],
      ["a promise", Promise.resolve("k")],
      ["a string", "k"]
    ] as const)("rotating - a fetch that is %s, not an Effect - InvalidOptions", ([, fetch]) =>
      Effect.gen(function*() {
        const options = { fetch: fetch as unknown as Effect.Effect<string>, every: "1 hour" } as const
        const error = yield* Effect.flip(Credentials.rotating(options))
        expect(error).toBeInstanceOf(InvalidOptions)
        expect(error).toMatchObject({ module: "Credentials.rotating", option: "fetch" })
      }))
  })

  describe("rotating", () => {
    it.scoped("fetches once when built, then every `every`", () =>
      Effect.gen(function*() {
        const { fetch, fetches } = yield* source
        const credentials = yield* Credentials.rotating({ fetch, every: "10 minutes" })
        expect(reveal(yield* credentials.get())).toEqual(Option.some("v1"))
        yield* TestClock.adjust("9 minutes")
        expect(yield* Ref.get(fetches)).toBe(1)
        yield* TestClock.adjust("1 minute")
        expect(reveal(yield* credentials.get())).toEqual(Option.some("v2"))
        yield* TestClock.adjust("20 minutes")
        expect(reveal(yield* credentials.get())).toEqual(Option.some("v4"))
      }))

    it.scoped("a failed scheduled fetch keeps the current secret and logs a warning without it", () =>
      Effect.gen(function*() {
        const { failing, fetch } = yield* source
        const lines: Array<string> = []
        const logger = Logger.make(({ logLevel, message }) => {
          lines.push(`${logLevel.label} ${JSON.stringify(message)}`)
        })
        const credentials = yield* Credentials.rotating({ fetch, every: "1 minute", name: "payments" }).pipe(
          Effect.provide(Logger.replace(Logger.defaultLogger, logger))
        )
        yield* Ref.set(failing, true)
        yield* TestClock.adjust("1 minute")
        expect(reveal(yield* credentials.get())).toEqual(Option.some("v1"))
        expect(lines).toHaveLength(1)
        expect(lines[0]).toContain("WARN")
        expect(lines[0]).toContain("credentials payments could not be refreshed")
        expect(lines[0]).not.toContain("v1")
      }))

    it.scoped("a failed first fetch fails the constructor", () =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Credentials.rotating({ fetch: Effect.fail("down"), every: "1 minute" }))
        expect(error).toBe("down")
      }))

    it.scoped.each([0, -1, Number.NaN, "soon"] as const)("every %s - InvalidOptions", (every) =>
      Effect.gen(function*() {
        const error = yield* Effect.flip(Credentials.rotating({ fetch: Effect.succeed("k"), every: every as any }))
        expect(error).toBeInstanceOf(InvalidOptions)
        expect(error).toMatchObject({ module: "Credentials.rotating", option: "every" })
      }))

    it.scoped("refresh - fetches a fresh secret for a stale one", () =>
      Effect.gen(function*() {
        const { fetch } = yield* source
        const credentials = yield* Credentials.rotating({ fetch, every: "1 hour" })
        const stale = Option.getOrThrow(yield* credentials.get())
        expect(reveal(yield* credentials.refresh(stale))).toEqual(Option.some("v2"))
        expect(reveal(yield* credentials.get())).toEqual(Option.some("v2"))
      }))

    it.scoped("refresh - concurrent 401s on the same stale secret share one fetch", () =>
      Effect.gen(function*() {
        const { fetch, fetches } = yield* source
        const gate = yield* Deferred.make<void>()
        const slowFetch = Effect.zipRight(
          Effect.whenEffect(Deferred.await(gate), Effect.map(Ref.get(fetches), (n) => n > 0)),
          fetch
        )
        const credentials = yield* Credentials.rotating({ fetch: slowFetch, every: "1 hour" })
        const stale = Option.getOrThrow(yield* credentials.get())
        const fiber = yield* Effect.fork(
          Effect.all(Array.from({ length: 5 }, () => credentials.refresh(stale)), { concurrency: "unbounded" })
        )
        yield* Deferred.succeed(gate, void 0)
        const results = yield* Fiber.join(fiber)
        expect(results.map(reveal)).toEqual(Array.from({ length: 5 }, () => Option.some("v2")))
        expect(yield* Ref.get(fetches)).toBe(2)
      }))

    it.scoped("refresh - concurrent 401s during a token endpoint outage share one failed fetch", () =>
      Effect.gen(function*() {
        const attempts = yield* Ref.make(0)
        const down = yield* Ref.make(false)
        const fetch = Effect.flatMap(Ref.get(down), (isDown) =>
          isDown
            ? Effect.zipRight(Ref.update(attempts, (n) => n + 1), Effect.delay(Effect.fail("unreachable"), "1 second"))
            : Effect.succeed("v1"))
        const credentials = yield* Credentials.rotating({ fetch, every: "1 hour" })
        const stale = Option.getOrThrow(yield* credentials.get())
        yield* Ref.set(down, true)
        const fiber = yield* Effect.fork(
          Effect.all(Array.from({ length: 5 }, () => credentials.refresh(stale)), { concurrency: "unbounded" }).pipe(
            Logger.withMinimumLogLevel(LogLevel.None)
          )
        )
        yield* TestClock.adjust("1 second")
        // all five answered after one fetch's time, not five in a row
        expect(yield* Fiber.join(fiber)).toEqual(Array.from({ length: 5 }, () => Option.none()))
        expect(yield* Ref.get(attempts)).toBe(1)
        // a later 401 tries again
        const later = yield* Effect.fork(credentials.refresh(stale).pipe(Logger.withMinimumLogLevel(LogLevel.None)))
        yield* TestClock.adjust("1 second")
        yield* Fiber.join(later)
        expect(yield* Ref.get(attempts)).toBe(2)
      }))

    it.scoped("refresh - a caller waiting behind an interrupted refresh fetches for itself", () =>
      Effect.gen(function*() {
        const { fetch, fetches } = yield* source
        const slowAfterFirst = Effect.zipRight(
          Effect.whenEffect(Effect.sleep("1 second"), Effect.map(Ref.get(fetches), (n) => n > 0)),
          fetch
        )
        const credentials = yield* Credentials.rotating({ fetch: slowAfterFirst, every: "1 hour" })
        const stale = Option.getOrThrow(yield* credentials.get())
        const first = yield* Effect.fork(credentials.refresh(stale))
        yield* Effect.yieldNow()
        const second = yield* Effect.fork(credentials.refresh(stale))
        yield* Effect.yieldNow()
        yield* Fiber.interrupt(first)
        yield* TestClock.adjust("1 second")
        expect(reveal(yield* Fiber.join(second))).toEqual(Option.some("v2"))
      }))

    it.scoped("refresh - a failed fetch gives none and keeps the current secret", () =>
      Effect.gen(function*() {
        const { failing, fetch } = yield* source
        const credentials = yield* Credentials.rotating({ fetch, every: "1 hour" })
        const stale = Option.getOrThrow(yield* credentials.get())
        yield* Ref.set(failing, true)
        expect(yield* credentials.refresh(stale)).toEqual(Option.none())
        expect(reveal(yield* credentials.get())).toEqual(Option.some("v1"))
      }))

    it.effect("closing the scope stops the rotation", () =>
      Effect.gen(function*() {
        const { fetch, fetches } = yield* source
        const scope = yield* Scope.make()
        yield* Credentials.rotating({ fetch, every: "1 minute" }).pipe(Scope.extend(scope))
        yield* TestClock.adjust("1 minute")
        expect(yield* Ref.get(fetches)).toBe(2)
        yield* Scope.close(scope, Exit.void)
        yield* TestClock.adjust("10 minutes")
        expect(yield* Ref.get(fetches)).toBe(2)
      }))
  })

  describe("byKey", () => {
    const perRegion = Credentials.byKey(
      { eu: Credentials.fixed("key-eu"), us: Credentials.fixed("key-us") },
      { default: "us" }
    )

    it.effect("selects by key, and the default without one", () =>
      Effect.gen(function*() {
        expect(reveal(yield* perRegion.get("eu"))).toEqual(Option.some("key-eu"))
        expect(reveal(yield* perRegion.get("us"))).toEqual(Option.some("key-us"))
        expect(reveal(yield* perRegion.get())).toEqual(Option.some("key-us"))
      }))

    it.effect("an unknown key, or no key and no default, gives none", () =>
      Effect.gen(function*() {
        expect(yield* perRegion.get("apac")).toEqual(Option.none())
        expect(yield* perRegion.get("toString")).toEqual(Option.none())
        expect(yield* Credentials.byKey({ eu: Credentials.fixed("k") }).get()).toEqual(Option.none())
      }))

    it.scoped("refresh goes to the selected key's source only", () =>
      Effect.gen(function*() {
        const eu = yield* source
        const us = yield* source
        const credentials = Credentials.byKey({
          eu: yield* Credentials.rotating({ fetch: eu.fetch, every: "1 hour" }),
          us: yield* Credentials.rotating({ fetch: us.fetch, every: "1 hour" })
        })
        const stale = Option.getOrThrow(yield* credentials.get("eu"))
        expect(reveal(yield* credentials.refresh(stale, "eu"))).toEqual(Option.some("v2"))
        expect(yield* Ref.get(eu.fetches)).toBe(2)
        expect(yield* Ref.get(us.fetches)).toBe(1)
      }))
  })

  it.effect("isCredentials", () =>
    Effect.sync(() => {
      expect(Credentials.isCredentials(Credentials.fixed("k"))).toBe(true)
      expect(Credentials.isCredentials({ get: () => Effect.void })).toBe(false)
      expect(Credentials.isCredentials(null)).toBe(false)
    }))
})
