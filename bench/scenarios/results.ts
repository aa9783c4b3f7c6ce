/**
 * Writes a benchmark's rows to bench/results/<name>.json and .md, with the date, the machine, Node
 * and the package versions, and prints the table. Figures in the docs are copied from these files.
 */
import { mkdir, readFile, writeFile } from "node:fs/promises"
import * as os from "node:os"

export interface Row {
  readonly scenario: string
  readonly figure: string
  readonly naive: string | number
  readonly library: string | number
  readonly target: string
}

const versionOf = async (pkg: string): Promise<string> => {
  try {
    const url = new URL(`../../node_modules/${pkg}/package.json`, import.meta.url)
    return (JSON.parse(await readFile(url, "utf8")) as { version: string }).version
  } catch {
    return "not installed"
  }
}

export const environment = async () => ({
  date: new Date().toISOString(),
  node: process.version,
  platform: `${os.type()} ${os.release()} ${os.arch()}`,
  cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? "unknown"}`,
  memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  packages: {
    "effect-resilience": JSON.parse(await readFile(new URL("../../package.json", import.meta.url), "utf8")).version,
    effect: await versionOf("effect"),
    "@effect/platform": await versionOf("@effect/platform")
  }
})

export const markdownTable = (rows: ReadonlyArray<Row>): string =>
  [
    "| scenario | figure | naive client | provider policy | target |",
    "|---|---|---|---|---|",
    ...rows.map((r) => `| ${r.scenario} | ${r.figure} | ${r.naive} | ${r.library} | ${r.target} |`)
  ].join("\n")

export const writeResults = async (name: string, rows: ReadonlyArray<Row>): Promise<void> => {
  const env = await environment()
  const directory = new URL("../results/", import.meta.url)
  await mkdir(directory, { recursive: true })
  await writeFile(new URL(`${name}.json`, directory), JSON.stringify({ ...env, rows }, null, 2) + "\n")
  const header = `Measured ${env.date} on ${env.cpus}, ${env.memory}, ${env.platform}, Node ${env.node}, ` +
    `effect ${env.packages.effect}, effect-resilience ${env.packages["effect-resilience"]}.`
  const table = markdownTable(rows)
  await writeFile(new URL(`${name}.md`, directory), `# ${name}\n\n${header}\n\n${table}\n`)
  console.log(`\n${header}\n\n${table}\n`)
}
