import { build } from "esbuild"
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"

export const root = path.resolve(import.meta.dirname, "../..")

export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

// Each run is a Node process (about a second of CPU; most of a run is the program's own real-time
// waits): a few at a time.
const slots = 4

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

/**
 * Compiles TypeScript programs (relative to the repository root) into `.run-build/<name>/` with the
 * compiler `npx tsx` uses: esbuild, with tsconfig.json's paths (so `effect-resilience` is src/) and names
 * kept. Unlike tsx, it also bundles: each program becomes one module with the code it uses from src/ and
 * the packages, so a run loads in a fraction of the time Node takes to load effect and the platform
 * module by module (about a second of CPU per run, where tsx took two to three). Returns where each file's program was written.
 */
export const compile = async (name: string, files: ReadonlyArray<string>): Promise<ReadonlyMap<string, string>> => {
  const outdir = path.join(compiledDir, name)
  const out = (file: string) => file.replace(/\.ts$/, "")
  fs.rmSync(outdir, { recursive: true, force: true })
  await build({
    entryPoints: files.map((file) => ({ in: path.join(root, file), out: out(file) })),
    outdir,
    outExtension: { ".js": ".mjs" },
    bundle: true,
    // the programs' shared code is written once
    splitting: true,
    chunkNames: "chunks/[hash]",
    // the packages written in CommonJS (undici, ...) require Node's modules
    banner: { js: `import { createRequire } from "node:module"; const require = createRequire(import.meta.url);` },
    tsconfig: path.join(root, "tsconfig.json"),
    platform: "node",
    format: "esm",
    target: `node${process.versions.node}`,
    keepNames: true,
    logLevel: "silent"
  })
  return new Map(files.map((file) => [file, path.join(outdir, `${out(file)}.mjs`)]))
}

/**
 * Runs a program that `compile` wrote, in a Node process of its own started from the repository root, as
 * `npx tsx <file>` runs it; killed after `timeoutMs`.
 */
export const run = async (program: string, timeoutMs: number): Promise<Run> => {
  await acquire()
  try {
    return await new Promise<Run>((resolve) => {
      execFile(
        process.execPath,
        [program],
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
