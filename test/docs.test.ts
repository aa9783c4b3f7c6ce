/**
 * Runs every ```ts runnable block of README.md and docs/*.md (extracted by scripts/docs-blocks.ts, in
 * vitest's global setup, before the type check that covers them) and checks that it exits 0 and prints
 * what the block's trailing comments say. Each runs as a program, as `npx tsx <block>` would run it
 * (compiled by `compile` in test/support/runScript.ts, then a Node process of its own).
 */
import { beforeAll, describe, expect, it } from "@effect/vitest"
import * as fs from "node:fs"
import * as path from "node:path"
import type { Runnable } from "../scripts/docs-blocks.js"
import { compile, missingLine, queueTimeout, root, run, runTimeout } from "./support/runScript.js"

const blocks: ReadonlyArray<Runnable> = JSON.parse(
  fs.readFileSync(path.join(root, ".docs-check", "runnable.json"), "utf8")
)

describe.concurrent("runnable docs blocks", () => {
  let programs: ReadonlyMap<string, string> = new Map()
  beforeAll(async () => {
    programs = await compile("docs", blocks.map((block) => block.file))
  })

  it("the quick start and the docs have runnable blocks", () => {
    expect(blocks.map((block) => block.source)).toContain("README.md")
    expect(blocks.length).toBeGreaterThan(10)
  })

  for (const block of blocks) {
    it(`${block.source}:${block.line} runs and prints what it says`, async () => {
      const { code, stderr, stdout } = await run(programs.get(block.file)!, runTimeout)
      expect(stderr, stdout).toBe("")
      expect(code, stderr).toBe(0)
      expect(missingLine(stdout, block.expected), stdout).toBeUndefined()
    }, queueTimeout(blocks.length))
  }
})
