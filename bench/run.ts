/**
 * `npm run bench`: builds the library and the bench scripts into `.bench-build/` and runs every step
 * there, as built JavaScript (what users run); `npm run bench -- --source` runs them through tsx
 * instead, for development. Each step runs in its own process, even when an earlier one failed, with
 * a time limit; then a summary, and bench/results/hotpath.{md,json} from the sections the steps
 * reported. Exits 1 only when a step failed (crashed or timed out): a missed goal is a row saying so.
 *
 * Other arguments go to every step: `--full` (all four provider scenarios, written to their results
 * file, and 100,000 tenants for the limiter memory), `--rounds=N` and `--batch-millis=N` (the hot
 * path), `--only=<group id>,...`.
 *
 * A complete successful run (built, no arguments but `--full`) also copies the results into
 * docs/Benchmarks.md (bench/support/docs.ts).
 *
 * A new step is one line in `steps`: a script under bench/ that prints its figures and, to appear in
 * the results file, calls `report` (bench/support/report.ts).
 */
import { spawnSync } from "node:child_process"
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { build, outDir } from "./support/build.js"
import { copyIntoDocs } from "./support/docs.js"
import { environment, headline, load, resultsDirectory, root } from "./support/environment.js"
import { markdownSection, type Section } from "./support/report.js"

interface Step {
  readonly name: string
  /** The script under bench/, without its extension. */
  readonly script: string
  /** Node flags, e.g. `--expose-gc` for the memory scripts. */
  readonly node?: ReadonlyArray<string>
  /** Killed (and failed) after this long. */
  readonly limitSeconds: number
}

const steps: ReadonlyArray<Step> = [
  { name: "hot path: each guard next to its baseline", script: "hotpath/run", limitSeconds: 150 },
  { name: "keyed breaker memory", script: "CircuitBreaker.memory", node: ["--expose-gc"], limitSeconds: 90 },
  { name: "keyed bulkhead memory", script: "Bulkhead.memory", node: ["--expose-gc"], limitSeconds: 90 },
  { name: "per-tenant limiter memory", script: "RateLimit.memory", node: ["--expose-gc"], limitSeconds: 240 },
  { name: "provider scenarios (naive client vs provider policy)", script: "scenarios/run", limitSeconds: 240 },
  { name: "hedge: p99 of a long-tailed provider, without and with a p95 hedge", script: "scenarios/hedge", limitSeconds: 120 },
  { name: "degradation: a minute-long outage, with LastKnownGood and QueueForLater", script: "scenarios/degradation", limitSeconds: 120 },
  { name: "streaming: 1 GB through a slow consumer, heap and RSS", script: "streaming.memory", node: ["--expose-gc"], limitSeconds: 150 }
]

const source = process.argv.includes("--source")
const forwarded = process.argv.slice(2).filter((arg) => arg !== "--source")
const env = environment()
const loadBefore = load()
const started = performance.now()
const seconds = (since: number) => Math.round((performance.now() - since) / 100) / 10

interface Outcome {
  readonly name: string
  readonly status: string
  readonly seconds: number
}
const outcomes: Array<Outcome> = []

let built = true
if (!source) {
  console.log("\n== build (.bench-build/)")
  const buildStarted = performance.now()
  try {
    build()
  } catch (error) {
    console.error(error)
    built = false
  }
  outcomes.push({ name: "build", status: built ? "ok" : "failed", seconds: seconds(buildStarted) })
}

const sectionsDirectory = mkdtempSync(path.join(os.tmpdir(), "bench-sections-"))
const sections: Array<Section> = []
for (const step of steps) {
  if (!built) {
    outcomes.push({ name: step.name, status: "not run (build failed)", seconds: 0 })
    continue
  }
  console.log(`\n== ${step.name}`)
  const stepStarted = performance.now()
  const command = source
    ? [...(step.node ?? []), "--import", "tsx", path.join("bench", `${step.script}.ts`)]
    : [...(step.node ?? []), path.join(path.relative(root, outDir), "bench", `${step.script}.js`)]
  const result = spawnSync(process.execPath, [...command, ...forwarded], {
    cwd: root,
    stdio: "inherit",
    timeout: step.limitSeconds * 1000,
    killSignal: "SIGKILL",
    env: { ...process.env, BENCH_SECTIONS: sectionsDirectory }
  })
  const status = result.status === 0
    ? "ok"
    : result.error !== undefined && "code" in result.error && result.error.code === "ETIMEDOUT"
    ? `failed: killed after ${step.limitSeconds} s`
    : `failed (exit ${result.status ?? result.signal})`
  outcomes.push({ name: step.name, status, seconds: seconds(stepStarted) })
  // a step's sections, in the order it reported them
  for (const file of readdirSync(sectionsDirectory).sort()) {
    sections.push(JSON.parse(readFileSync(path.join(sectionsDirectory, file), "utf8")) as Section)
    rmSync(path.join(sectionsDirectory, file))
  }
}
rmSync(sectionsDirectory, { recursive: true, force: true })

const total = seconds(started)
const failed = outcomes.filter((o) => o.status !== "ok")
const run = {
  mode: source ? "source (tsx)" : "built JavaScript (.bench-build/, tsc -p tsconfig.build.json)",
  arguments: forwarded,
  load: { before: loadBefore, after: load() },
  totalSeconds: total
}
const header = [
  headline(env),
  "",
  `Mode: ${run.mode}${forwarded.length > 0 ? `, arguments ${forwarded.join(" ")}` : ""}. ` +
  `Load average (1 / 5 / 15 min): ${run.load.before} at the start, ${run.load.after} at the end (2 cores: ` +
  `above 2 the machine was shared). Whole run: ${total} s.`,
  "",
  "| step | status | seconds |",
  "|---|---|---|",
  ...outcomes.map((o) => `| ${o.name} | ${o.status} | ${o.seconds} |`)
].join("\n")
const markdown = [
  "# Benchmark results (`npm run bench`)",
  "",
  header,
  "",
  ...sections.map(markdownSection).flatMap((s) => [s, ""]),
  "The provider scenarios write their own table, on a `--full` run: bench/results/provider-scenarios.md.",
  ""
].join("\n")
writeFileSync(path.join(resultsDirectory, "hotpath.md"), markdown)
writeFileSync(
  path.join(resultsDirectory, "hotpath.json"),
  JSON.stringify({ ...env, ...run, steps: outcomes, sections }, null, 2) + "\n"
)

console.log(`\n${header}\n\nwrote bench/results/hotpath.md and hotpath.json`)
// Only a complete, successful run of the built library goes into the docs; the scenarios' results file
// is written by a --full run only.
if (!source && failed.length === 0 && forwarded.every((arg) => arg === "--full")) {
  copyIntoDocs("hotpath")
  if (forwarded.includes("--full")) copyIntoDocs("provider-scenarios")
  console.log("copied the results into docs/Benchmarks.md")
}
console.log(
  failed.length === 0 ? "all benchmark steps ran" : `failed steps:\n- ${failed.map((o) => o.name).join("\n- ")}`
)
process.exitCode = failed.length === 0 ? 0 : 1
