import { availableParallelism } from "node:os"
import { fileURLToPath } from "node:url"
import { defineConfig } from "vitest/config"
import { BaseSequencer, type TestSpecification } from "vitest/node"

const src = (path: string) => fileURLToPath(new URL(`./src/${path}`, import.meta.url))

/**
 * Files that spend most of their time waiting start first, so that their waits overlap the other files
 * instead of running alone at the end: the packaging test's build (a child process), the examples and
 * the runnable doc blocks (a Node process each, waiting in real time), the QueueForLaterRedis worker
 * processes, the adaptive limiter's scenarios (thousands of TestClock wake-ups, each a real timer tick)
 * and the demo (5 real seconds). The rest keep vitest's order (slowest first once a run has been
 * recorded, largest first before that, as on a fresh clone).
 */
const waitingMost = [
  "packaging",
  "RateLimit.adaptive",
  "examples",
  "QueueForLaterRedis",
  "docs",
  "demo"
].map((name) => `/test/${name}.test.ts`)

class WaitingFirst extends BaseSequencer {
  override async sort(files: Array<TestSpecification>): Promise<Array<TestSpecification>> {
    const sorted = await super.sort(files)
    const rank = (file: TestSpecification) => {
      const at = waitingMost.findIndex((suffix) => file.moduleId.endsWith(suffix))
      return at === -1 ? waitingMost.length : at
    }
    // sort is stable: the rest keep their order
    return [...sorted].sort((a, b) => rank(a) - rank(b))
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
    globalSetup: ["test/globalSetup.ts"],
    setupFiles: ["test/setup.ts"],
    // TestClock-driven tests finish in milliseconds; a forgotten fork hangs, so fail fast.
    testTimeout: 10_000,
    // Files share a worker's module cache: effect and the platform are loaded once per worker, not once
    // per file. No test mocks modules or relies on fresh globals; metrics are named per test.
    isolate: false,
    // Much of a test's time is idle (each TestClock.adjust waits for a few real timer ticks; servers,
    // Redis and child processes answer over sockets), so two workers more than there are cores, next to
    // the type checker that `--typecheck` runs alongside. On 2 cores, with a cold type check: 3 workers
    // 62 and 64 s, 4 workers 60, 61 and 63 s (with 3, the CPU sat half idle for about 15 s while the
    // waiting files ran together). As many from the start: with 4 at most and vitest's default of fewer
    // at the start, two runs here ended early with tinypool's unhandled "Terminating worker thread".
    maxWorkers: availableParallelism() + 2,
    minWorkers: availableParallelism() + 2,
    sequence: { sequencer: WaitingFirst },
    typecheck: {
      // `vitest --typecheck` is the project's only type check: it covers the whole tsconfig.json (src,
      // tests, examples, bench, scripts and the extracted doc blocks). An error in a type test fails that
      // test; an error anywhere else fails the run as a source error.
      // The checker is TypeScript's native compiler (`tsgo`, as Effect's own repository checks with):
      // the same errors as tsc 5.9 on this project, in 5 to 7 CPU-seconds instead of 21 (cold). tsc 5.9
      // still builds and checks what is published (`npm run build`, `prepack`, `npm run typecheck`).
      checker: "tsgo",
      include: ["test/types/**/*.test-d.ts"],
      tsconfig: "tsconfig.json"
    }
  }
})
