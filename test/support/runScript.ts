import { build } from "esbuild"
import { execFile } from "node:child_process"
import * as path from "node:path"

export const root = path.resolve(import.meta.dirname, "../..")

export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

// Each run is a Node process that loads effect from node_modules (a second of CPU on a loaded 2-core
// machine, and most of a run is the program's own real-time waits): two at a time.
const slots = 2

/** The longest one run may take before it is killed and its test fails. */
export const runTimeout = 120_000

/** A test's timeout when `runs` tests share the slots: its own run, and those queued before it. */
export const queueTimeout = (runs: number) => Math.ceil(runs / slots + 1) * runTimeout
let running = 0
const waiting: Array<() => void> = []

const acquire = () =>
  running < slots ? (running++, Promise.resolve()) : new Promise<void>((resolve) => waiting.push(resolve))
const release = () => {
  const next = waiting.shift()
  if (next) next()
  else running--
}

// Compiled programs, outside .docs-check/ (which scripts/docs-blocks.ts empties) and ignored by git.
const compiledDir = path.join(root, ".run-build")

/** Where `compile` writes the program `file` (relative to the repository root). */
const compiledPath = (file: string) => path.join(compiledDir, file.replace(/\.ts$/, ".mjs"))

/**
 * Compiles TypeScript programs (relative to the repository root) as `npx tsx <file>` does: esbuild with
 * tsconfig.json's paths, so `effect-resilience` is src/, and names kept. Each program's own modules and
 * src/ become one file; packages stay imports that Node resolves from node_modules, as in a user's
 * program. tsx would instead hook every one of effect's hundreds of module loads in each process.
 */
export const compile = async (files: ReadonlyArray<string>): Promise<void> => {
  await build({
    entryPoints: files.map((file) => ({ in: path.join(root, file), out: file.replace(/\.ts$/, "") })),
    outdir: compiledDir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    packages: "external",
    tsconfig: path.join(root, "tsconfig.json"),
    platform: "node",
    format: "esm",
    target: `node${process.versions.node}`,
    keepNames: true,
    logLevel: "silent"
  })
}

/**
 * Runs a program that `compile` compiled, in a Node process of its own started from the repository
 * root, as `npx tsx <file>` runs it; killed after `timeoutMs`.
 */
export const run = async (file: string, timeoutMs: number): Promise<Run> => {
  await acquire()
  try {
    return await new Promise<Run>((resolve) => {
      execFile(
        process.execPath,
        [compiledPath(file)],
        { cwd: root, timeout: timeoutMs, killSignal: "SIGKILL", env: { ...process.env, NO_COLOR: "1" } },
        (error, stdout, stderr) =>
          resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr })
      )
    })
  } finally {
    release()
  }
}

/**
 * Whether every expected line appears in `output`, in order (other lines may come between). In an
 * expected line, `...` stands for any text. Returns the first expected line not found, or undefined.
 */
export const missingLine = (output: string, expected: ReadonlyArray<string>): string | undefined => {
  const lines = output.split("\n").map((line) => line.trimEnd())
  let at = 0
  for (const want of expected) {
    const pattern = new RegExp(`^${want.trimEnd().split("...").map(escape).join(".*")}$`)
    while (at < lines.length && !pattern.test(lines[at]!)) at++
    if (at === lines.length) return want
    at++
  }
  return undefined
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
