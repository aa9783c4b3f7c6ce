import { availableParallelism } from "node:os"
import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"
import { BaseSequencer, type TestSpecification } from "vitest/node"

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url))

/**
 * The packaging test builds the package in a child process: start it first, so that the build overlaps
 * the other files instead of running alone at the end. The rest keep vitest's order (slowest first once
 * a run has been recorded, largest first before that).
 */
class PackagingFirst extends BaseSequencer {
  override async sort(files: Array<TestSpecification>): Promise<Array<TestSpecification>> {
    const sorted = await super.sort(files)
    const packaging = (file: TestSpecification) => file.moduleId.endsWith("/test/packaging.test.ts")
    return [...sorted.filter(packaging), ...sorted.filter((file) => !packaging(file))]
  }
}

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
    // Files share a worker's module cache: effect and the platform are loaded once per worker, not once
    // per file. No test mocks modules or relies on fresh globals; metrics are named per test.
    isolate: false,
    // Much of a test's time is idle (each TestClock.adjust waits for a few real timer ticks; servers and
    // Redis answer over sockets), so at least two workers even on a 2-core machine, next to the type
    // checker that `--typecheck` runs alongside.
    maxWorkers: Math.max(2, availableParallelism()),
    sequence: { sequencer: PackagingFirst },
    typecheck: {
      // `vitest --typecheck` is the project's only type check: its tsc run covers the whole tsconfig.json
      // (src, tests, examples, bench, scripts and the extracted doc blocks). An error in a type test
      // fails that test; an error anywhere else fails the run as a source error.
      include: ["test/types/**/*.test-d.ts"],
      tsconfig: "tsconfig.json"
    }
  }
})
