import { execFile } from "node:child_process"
import * as path from "node:path"

export const root = path.resolve(import.meta.dirname, "../..")

export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

// Each run is a Node process loading tsx and effect (seconds, and up to a minute on a loaded 2-core
// machine): two at a time.
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

/**
 * Runs a TypeScript file as a user would with `npx tsx <file>` from the repository root (so
 * `effect-resilience` resolves to src/ through tsconfig paths), killed after `timeoutMs`.
 */
export const runTsx = async (file: string, timeoutMs: number): Promise<Run> => {
  await acquire()
  try {
    return await new Promise<Run>((resolve) => {
      execFile(
        process.execPath,
        ["--import", "tsx", file],
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
