/**
 * Writes a benchmark's rows to bench/results/<name>.json and .md, with the date, the machine, Node
 * and the package versions, and prints the table. Figures in the docs are copied from these files.
 */
import { mkdir, writeFile } from "node:fs/promises"
import * as path from "node:path"
import { environment, headline, resultsDirectory } from "../support/environment.js"

export interface Row {
  readonly scenario: string
  readonly figure: string
  readonly naive: string | number
  readonly library: string | number
  readonly target: string
}

/** The headings of the two compared columns: what is measured without, and with, the library's part. */
export type Columns = readonly [without: string, withLibrary: string]

const providerColumns: Columns = ["naive client", "provider policy"]

export const markdownTable = (rows: ReadonlyArray<Row>, columns: Columns = providerColumns): string =>
  [
    `| scenario | figure | ${columns[0]} | ${columns[1]} | target |`,
    "|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.scenario} | ${r.figure} | ${r.naive} | ${r.library} | ${r.target} |`)
  ].join("\n")

export const writeResults = async (
  name: string,
  rows: ReadonlyArray<Row>,
  columns: Columns = providerColumns
): Promise<void> => {
  const env = environment()
  await mkdir(resultsDirectory, { recursive: true })
  await writeFile(path.join(resultsDirectory, `${name}.json`), JSON.stringify({ ...env, rows }, null, 2) + "\n")
  const header = headline(env)
  const table = markdownTable(rows, columns)
  await writeFile(path.join(resultsDirectory, `${name}.md`), `# ${name}\n\n${header}\n\n${table}\n`)
  console.log(`\n${header}\n\n${table}\n`)
}
