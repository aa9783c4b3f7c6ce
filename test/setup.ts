import { addEqualityTesters } from "@effect/vitest"

// Test files share their worker's globals (`isolate: false` in vitest.config.ts) and this file runs
// before each of them: register Effect's equality testers once per worker, not once per file.
const registered = Symbol.for("effect-resilience/test/equalityTesters")
const worker = globalThis as { [registered]?: true }
if (worker[registered] !== true) {
  addEqualityTesters()
  worker[registered] = true
}
