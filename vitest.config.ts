import { defineConfig } from "vitest/config"

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    setupFiles: ["test/setup.ts"],
    // TestClock-driven tests finish in milliseconds; a forgotten fork hangs, so fail fast.
    testTimeout: 10_000,
    typecheck: {
      include: ["test/types/**/*.test-d.ts"],
      tsconfig: "tsconfig.json"
    },
    benchmark: {
      include: ["bench/**/*.bench.ts"]
    }
  }
})
