/**
 * The hot-path comparisons (bench/hotpath/groups.ts), each guard next to its baseline in the same run.
 *
 * Run: `npm run bench` (all steps, built JavaScript), or this step alone from the built tree
 * `node .bench-build/bench/hotpath/run.js` or through tsx
 * `node --import tsx bench/hotpath/run.ts`. Options: `--rounds=N` (default 20),
 * `--batch-millis=N` (default 50), `--only=<group id>,...`.
 */
import { load } from "../support/environment.js"
import { report, type Row } from "../support/report.js"
import { measure, type Stats } from "./harness.js"
import { groups } from "./groups.js"

const option = (name: string): string | undefined =>
  process.argv.find((arg) => arg.startsWith(`--${name}=`))?.slice(name.length + 3)

const settings = {
  rounds: Number(option("rounds") ?? 20),
  batchMillis: Number(option("batch-millis") ?? 50)
}
const only = option("only")?.split(",")

const rows: Array<Row> = []
const data: Array<{ readonly id: string; readonly cases: Record<string, Stats & { readonly name: string }> }> = []
const loadBefore = load()
const started = performance.now()
for (const group of groups.filter((g) => only === undefined || only.includes(g.id))) {
  const groupStarted = performance.now()
  const stats = await measure(group.cases, settings)
  const groupRows = group.rows(stats)
  rows.push(...groupRows)
  data.push({
    id: group.id,
    cases: Object.fromEntries(Object.entries(stats).map(([key, s]) => [key, { name: group.cases[key]!.name, ...s }]))
  })
  console.log(`${group.title} (${((performance.now() - groupStarted) / 1000).toFixed(1)} s)`)
  for (const [key, s] of Object.entries(stats)) {
    const name = group.cases[key]!.name
    const spread = `p25 ${s.p25.toFixed(2)}, p75 ${s.p75.toFixed(2)}`
    console.log(`  ${name.padEnd(80)} ${s.median.toFixed(2).padStart(9)} µs  (${spread})`)
  }
}
const seconds = (performance.now() - started) / 1000

report({
  id: "hotpath",
  title: "Hot path: each guard next to its baseline",
  rows,
  data: { settings, seconds, load: { before: loadBefore, after: load() }, groups: data },
  notes: [
    `Medians of ${settings.rounds} interleaved rounds of about ${settings.batchMillis} ms per case ` +
    `(${seconds.toFixed(0)} s in all); load average (1 / 5 / 15 min) ${loadBefore} before, ${load()} after.`
  ]
})
