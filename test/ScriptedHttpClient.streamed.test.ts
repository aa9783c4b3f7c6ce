import { HttpClient } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Fiber, Option, Stream, TestClock } from "effect"
import { InvalidOptions } from "../src/Errors.js"
import { ScriptedHttpClient } from "../src/testing/index.js"

const S = ScriptedHttpClient

const decoder = new TextDecoder()

/** The body of one scripted streamed answer, read chunk by chunk with the TestClock time of each. */
const read = (step: ScriptedHttpClient.Step) =>
  Effect.gen(function*() {
    const response = yield* HttpClient.get("https://api.test/stream")
    const seen: Array<readonly [string, number]> = []
    const exit = yield* response.stream.pipe(
      Stream.runForEach((bytes) =>
        Effect.map(TestClock.currentTimeMillis, (at) => void seen.push([decoder.decode(bytes), at]))
      ),
      Effect.exit
    )
    return { response, seen, exit }
  }).pipe(Effect.provide(S.layer([step])))

describe("ScriptedHttpClient.streamed", () => {
  it.effect("sends status and headers at once, then each chunk after its pause on the Clock", () =>
    Effect.gen(function*() {
      const fiber = yield* read(
        S.streamed(["a", S.pause("2 seconds"), new TextEncoder().encode("b")], {
          status: 206,
          headers: { "Content-Range": "bytes 0-1/2" },
          contentType: "text/event-stream"
        })
      ).pipe(Effect.fork)
      yield* TestClock.adjust("2 seconds")
      const { exit, response, seen } = yield* Fiber.join(fiber)
      expect(response.status).toBe(206)
      expect(response.headers["content-range"]).toBe("bytes 0-1/2")
      expect(response.headers["content-type"]).toBe("text/event-stream")
      expect(seen).toEqual([["a", 0], ["b", 2000]])
      expect(exit._tag).toBe("Success")
    }))

  it.effect("cut - the read fails as a reset, after the chunks before it", () =>
    Effect.gen(function*() {
      const { exit, seen } = yield* read(S.streamed(["a", S.cut, "never"]))
      expect(seen.map(([text]) => text)).toEqual(["a"])
      expect(exit._tag).toBe("Failure")
      const error = exit._tag === "Failure" ? Option.getOrUndefined(Cause.failureOption(exit.cause)) : undefined
      expect(error?.cause).toMatchObject({ code: "ECONNRESET", syscall: "read" })
    }))

  it.effect("stall - the body never ends", () =>
    Effect.gen(function*() {
      const fiber = yield* read(S.streamed(["a", S.stall])).pipe(Effect.fork)
      yield* TestClock.adjust("1 hour")
      expect(fiber.unsafePoll()).toBeNull()
      yield* Fiber.interrupt(fiber)
    }))

  it.effect("a body nobody reads, or whose read is interrupted, leaves no fiber running", () =>
    Effect.gen(function*() {
      // the body runs in root fibers of its own, as a socket would outside the request
      const running = Effect.map(Fiber.roots, (roots) => roots.filter((fiber) => fiber.unsafePoll() === null).length)
      const before = yield* running
      const stalled = S.streamed(["a", S.pause("10 millis"), "b", S.stall])
      // the status only: nothing of the body runs
      yield* Effect.provide(Effect.scoped(HttpClient.get("https://api.test/stream")), S.layer([stalled]))
      expect(yield* running).toBe(before)
      // a read cut short by a timeout: the body stops with it
      const fiber = yield* Effect.provide(
        Effect.scoped(Effect.flatMap(HttpClient.get("https://api.test/stream"), (response) =>
          Effect.timeout(response.text, "1 second"))),
        S.layer([stalled])
      ).pipe(Effect.either, Effect.fork)
      yield* TestClock.adjust("1 second")
      expect((yield* Fiber.join(fiber))._tag).toBe("Left")
      for (let i = 0; i < 5; i++) yield* Effect.yieldNow()
      expect(yield* running).toBe(before)
    }))

  it("bad input throws InvalidOptions when the script is written", () => {
    expect(() => S.streamed(["a"], { status: 700 })).toThrow(InvalidOptions)
    expect(() => S.pause("-1 seconds")).toThrow(InvalidOptions)
  })
})
