/**
 * The rows a benchmark step reports: each figure next to the baseline measured in the same run, the
 * ratio, the goal and whether it was met. A missed goal is a row saying "missed", never a failure:
 * only a step that crashes fails the run.
 *
 * Run by `npm run bench`, a step also writes its section as JSON into `BENCH_SECTIONS` (a directory
 * the runner gives it); the runner assembles the sections into bench/results/hotpath.{md,json}.
 */
import { writeFileSync } from "node:fs"
import * as path from "node:path"

export interface Row {
  readonly what: string
  /** The library's figure. */
  readonly ours: string
  /** The baseline's name and figure. */
  readonly baseline: string
  readonly ratio: string
  readonly goal: string
  readonly verdict: "met" | "missed" | ""
}

export interface Section {
  /** File-name-safe id of the step. */
  readonly id: string
  readonly title: string
  readonly rows: ReadonlyArray<Row>
  /** Raw figures behind the rows (per-case statistics, heap readings), for the JSON file. */
  readonly data?: unknown
  readonly notes?: ReadonlyArray<string>
}

export const markdownTable = (rows: ReadonlyArray<Row>): string =>
  [
    "| what | effect-resilience | baseline (same run) | ratio | goal | |",
    "|---|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.what} | ${r.ours} | ${r.baseline} | ${r.ratio} | ${r.goal} | ${r.verdict} |`)
  ].join("\n")

export const markdownSection = (section: Section): string =>
  [`## ${section.title}`, "", markdownTable(section.rows), ...(section.notes ?? []).map((n) => `\n${n}`)].join("\n")

/** Prints the section and, under the runner, hands it over for the results file. */
export const report = (section: Section): void => {
  console.log(`\n${markdownSection(section)}\n`)
  const directory = process.env.BENCH_SECTIONS
  if (directory !== undefined && directory !== "") {
    writeFileSync(path.join(directory, `${section.id}.json`), JSON.stringify(section, null, 2) + "\n")
  }
}

/** A duration in microseconds with the precision its size deserves. */
export const micros = (x: number): string => `${x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : x.toFixed(0)} µs`

export const times = (x: number): string => `${x < 10 ? x.toFixed(2) : x.toFixed(1)}x`

export const verdict = (met: boolean): "met" | "missed" => (met ? "met" : "missed")
