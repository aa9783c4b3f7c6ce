/**
 * Runs every ```ts runnable block of README.md and docs/*.md (extracted by scripts/docs-blocks.ts,
 * which `npm run typecheck` also type-checks) and checks that it exits 0 and prints what the block's
 * trailing comments say.
 */
import { describe, expect, it } from "@effect/vitest"
import { execFileSync } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import type { Runnable } from "../scripts/docs-blocks.js"
import { missingLine, queueTimeout, root, runTimeout, runTsx } from "./support/runScript.js"

// throws with the script's message when a block is malformed or differs from the file it names
execFileSync(process.execPath, ["--import", "tsx", "scripts/docs-blocks.ts"], { cwd: root, encoding: "utf8" })
const blocks: ReadonlyArray<Runnable> = JSON.parse(
  fs.readFileSync(path.join(root, ".docs-check", "runnable.json"), "utf8")
)

describe.concurrent("runnable docs blocks", () => {
  it("the quick start and the docs have runnable blocks", () => {
    expect(blocks.map((block) => block.source)).toContain("README.md")
    expect(blocks.length).toBeGreaterThan(10)
  })

  for (const block of blocks) {
    it(`${block.source}:${block.line} runs and prints what it says`, async () => {
      const run = await runTsx(block.file, runTimeout)
      expect(run.stderr, run.stdout).toBe("")
      expect(run.code, run.stderr).toBe(0)
      expect(missingLine(run.stdout, block.expected), run.stdout).toBeUndefined()
    }, queueTimeout(blocks.length))
  }
})
