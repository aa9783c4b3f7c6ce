/**
 * Where the benchmarks live and what they ran on. Every step runs either from `bench/` (through tsx,
 * `--source`) or from `.bench-build/bench/` (the built JavaScript), so paths are found from here, not
 * from the working directory.
 */
import { execFileSync } from "node:child_process"
import { readFileSync } from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

/** The package root, from either layout. */
export const root = path
  .resolve(path.dirname(fileURLToPath(import.meta.url)), "../..")
  .replace(/[\\/]\.bench-build$/, "")

/** The directory the results files are written to and the docs copy from. */
export const resultsDirectory = path.join(root, "bench", "results")

/** Whether this file runs as built JavaScript (`.bench-build/`) or as TypeScript through tsx. */
export const mode: "built" | "source" = import.meta.url.endsWith(".js") ? "built" : "source"

const versionOf = (directory: string): string => {
  try {
    return (JSON.parse(readFileSync(path.join(directory, "package.json"), "utf8")) as { version: string }).version
  } catch {
    return "not installed"
  }
}

const commit = (): string => {
  try {
    const head = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: root, encoding: "utf8" }).trim()
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src"], { cwd: root, encoding: "utf8" }).trim()
    return dirty === "" ? head : `${head} (src modified)`
  } catch {
    return "unknown"
  }
}

export interface Environment {
  readonly date: string
  readonly node: string
  readonly platform: string
  readonly cpus: string
  readonly memory: string
  readonly commit: string
  readonly packages: Record<string, string>
}

export const environment = (): Environment => ({
  date: new Date().toISOString(),
  node: process.version,
  platform: `${os.type()} ${os.release()} ${os.arch()}`,
  cpus: `${os.cpus().length} x ${os.cpus()[0]?.model ?? "unknown"}`,
  memory: `${Math.round(os.totalmem() / 2 ** 30)} GiB`,
  commit: commit(),
  packages: {
    "effect-resilience": versionOf(root),
    effect: versionOf(path.join(root, "node_modules", "effect")),
    "@effect/platform": versionOf(path.join(root, "node_modules", "@effect", "platform")),
    "@effect/experimental": versionOf(path.join(root, "node_modules", "@effect", "experimental")),
    cockatiel: versionOf(path.join(root, "node_modules", "cockatiel"))
  }
})

/** One line naming the date, machine, Node and package versions, for the head of a results file. */
export const headline = (env: Environment): string =>
  `Measured ${env.date} on ${env.cpus}, ${env.memory}, ${env.platform}, Node ${env.node}, ` +
  `effect ${env.packages.effect}, cockatiel ${env.packages.cockatiel}, ` +
  `effect-resilience ${env.packages["effect-resilience"]} (commit ${env.commit}).`

/** The 1, 5 and 15 minute load averages: the machine is shared, so the results say how busy it was. */
export const load = (): string => os.loadavg().map((x) => x.toFixed(2)).join(" / ")
