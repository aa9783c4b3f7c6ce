import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url))

export default defineConfig({
  // the package's own name, for code written as users write it (examples, the demo): as tsconfig's paths
  resolve: {
    alias: [
      { find: /^effect-resilience$/, replacement: src("index.ts") },
      { find: /^effect-resilience\/testing$/, replacement: src("testing/index.ts") },
      { find: /^effect-resilience\/(.*)$/, replacement: src("$1.ts") }
    ]
  },
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
