/**
 * `npm run bench`: every benchmark step in turn, each run even when an earlier one failed, then a
 * summary; exits 1 when any step failed.
 */
import { spawnSync } from "node:child_process"

const steps: ReadonlyArray<readonly [string, ReadonlyArray<string>]> = [
  ["vitest benchmarks (bench/*.bench.ts)", ["npx", "vitest", "bench", "--run"]],
  ["keyed breaker memory", ["node", "--expose-gc", "--import", "tsx", "bench/CircuitBreaker.memory.ts"]],
  ["per-tenant limiter memory", ["node", "--expose-gc", "--import", "tsx", "bench/RateLimit.memory.ts"]],
  ["provider scenarios (naive client vs provider policy)", ["node", "--import", "tsx", "bench/scenarios/run.ts"]]
]

const failed: Array<string> = []
for (const [name, [command, ...args]] of steps) {
  console.log(`\n== ${name}`)
  const result = spawnSync(command!, args, { stdio: "inherit" })
  if (result.status !== 0) failed.push(`${name} (exit ${result.status ?? result.signal})`)
}
console.log(failed.length === 0 ? "\nall benchmark steps ran" : `\nfailed steps:\n- ${failed.join("\n- ")}`)
process.exitCode = failed.length === 0 ? 0 : 1
