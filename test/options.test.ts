import { describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Either } from "effect"
import * as Options from "../src/internal/options.js"
import { thrown, untyped } from "./support/invalidOptions.js"

const check = { module: "Test.make", option: "window" }

describe("options", () => {
  it("durations - NaN, negative, infinite and unparseable inputs are rejected, not clamped to zero", () => {
    for (const bad of [NaN, -1, Infinity, "-5 millis", "100ms", [1, -2], Duration.infinity]) {
      const error = thrown(() => Options.nonNegativeDuration(check, untyped(bad)))
      expect(error.module).toBe("Test.make")
      expect(error.option).toBe("window")
    }
    expect(thrown(() => Options.nonNegativeDuration(check, untyped("100ms"))).message).toBe(
      "Test.make: option window must be a finite duration >= 0 (e.g. \"100 millis\", \"2 seconds\"), got \"100ms\""
    )
    expect(thrown(() => Options.positiveDuration(check, 0)).message).toBe(
      "Test.make: option window must be a finite duration > 0, got 0"
    )
  })

  it("durations - valid inputs decode", () => {
    expect(Options.nonNegativeDuration(check, 0)).toEqual(Duration.zero)
    expect(Options.positiveDuration(check, "1.5 seconds")).toEqual(Duration.millis(1500))
    expect(Options.positiveDuration(check, Duration.seconds(2))).toEqual(Duration.seconds(2))
  })

  it("numbers - integers, ratios and thresholds name the rule they broke", () => {
    expect(thrown(() => Options.integerAtLeast(check, 1.5, 1)).expected).toBe("an integer >= 1")
    expect(thrown(() => Options.integerAtLeast(check, NaN, 0)).value).toBe("NaN")
    expect(thrown(() => Options.ratio(check, 1.01)).expected).toBe("a number between 0 and 1")
    expect(thrown(() => Options.threshold(check, 0)).expected).toBe("a number in (0, 1]")
    expect(thrown(() => Options.numberAtLeast(check, 0.5, 1)).message).toBe(
      "Test.make: option window must be a finite number >= 1, got 0.5"
    )
    expect(thrown(() => Options.nonEmptyString(check, "")).value).toBe("\"\"")
    expect([Options.integerAtLeast(check, 3, 0), Options.ratio(check, 0), Options.threshold(check, 1)]).toEqual([3, 0, 1])
  })

  it.effect("validated - InvalidOptions becomes a typed failure, other throws stay defects", () =>
    Effect.gen(function*() {
      const failed = yield* Effect.either(Options.validated(() => Options.ratio(check, 2)))
      expect(Either.isLeft(failed) && failed.left.option).toBe("window")
      const ok = yield* Options.validated(() => Options.ratio(check, 0.5))
      expect(ok).toBe(0.5)
      const defect = yield* Effect.exit(Options.validated(() => {
        throw new TypeError("bug")
      }))
      expect(defect._tag === "Failure" && defect.cause._tag).toBe("Die")
    }))
})
