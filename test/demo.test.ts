import { describe, expect, it } from "@effect/vitest"
import { Effect, Either, Logger, LogLevel } from "effect"
import * as Cli from "../demo/cli.js"
import type { Figures } from "../demo/figures.js"
import * as Report from "../demo/report.js"
import { run } from "../demo/run.js"

const sane = (figures: Figures) => {
  expect(figures.calls).toBeGreaterThan(0)
  expect(figures.successRate + figures.fallbackRate + figures.failureRate).toBeCloseTo(1, 2)
  expect(figures.p50Millis).toBeLessThanOrEqual(figures.p99Millis)
  expect(figures.providerRequests).toBeGreaterThan(0)
}

describe("demo", () => {
  describe("cli", () => {
    it("defaults", () => {
      expect(Cli.parse([])).toEqual(Either.right({
        users: 20,
        durationSeconds: 35,
        json: undefined,
        redisUrl: undefined,
        port: 0,
        help: false
      }))
    })

    it.each([
      [["--users", "0"], "--users must be a whole number from 1 to 200, got \"0\""],
      [["--duration", "ten"], "--duration must be a whole number from 5 to 300, got \"ten\""],
      [["--redis", "localhost"], "--redis must be a redis:// or rediss:// URL, got \"localhost\""],
      [["--colour"], "Unknown option '--colour'"]
    ])("%j is refused with a message", (args, message) => {
      const parsed = Cli.parse(args)
      expect(Either.isLeft(parsed) && parsed.left).toContain(message)
    })

    it("a bad flag exits with code 2 and says why", async () => {
      let said = ""
      const err = { write: (text: string) => (said += text, true) } as NodeJS.WritableStream
      expect(await Cli.main(["--users", "lots"], process.stdout, err)).toBe(2)
      expect(said).toContain("demo: --users must be a whole number from 1 to 200, got \"lots\"")
      expect(said).toContain("Usage: npm run demo")
    })
  })

  // The whole story in 5 real seconds with 8 users per client: short, but every phase plays.
  it.live("a short run: the policy ignores fewer Retry-Afters and sends fewer requests per call than naive fetch", () =>
    Effect.gen(function*() {
      const result = yield* run({ users: 8, durationSeconds: 5, port: 0 })
      sane(result.naive)
      sane(result.library)
      expect(result.library.rateLimitedAfterFirstRetryAfter).toBeLessThan(result.naive.rateLimitedAfterFirstRetryAfter)
      expect(result.library.providerRequestsPerCall).toBeLessThan(result.naive.providerRequestsPerCall)
      expect(JSON.parse(Report.json(result))).toEqual(result)
      expect(Report.table(result)).toContain("429s after the first Retry-After")
    }).pipe(Logger.withMinimumLogLevel(LogLevel.None)), 30_000)
})
