import { Duration } from "effect"
import { InvalidOptions } from "../../src/Errors.js"

/** Runs a pure constructor that must reject its options, and returns the `InvalidOptions` it threw. */
export const thrown = (build: () => unknown): InvalidOptions => {
  try {
    build()
  } catch (error) {
    if (error instanceof InvalidOptions) return error
    throw error
  }
  throw new Error("expected InvalidOptions to be thrown")
}

/** Options often come from configuration or untyped callers; validation must hold without the compiler. */
export const untyped = (input: unknown): Duration.DurationInput => input as Duration.DurationInput
