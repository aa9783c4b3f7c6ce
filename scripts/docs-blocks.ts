/**
 * Extracts every ```ts code block of README.md, docs/*.md and the JSDoc of src/**\/*.ts into
 * `.docs-check/`, one module per block, so that `tsc` (run right after by `npm run typecheck`)
 * type-checks the documentation exactly as it checks the code.
 *
 * A block becomes `.docs-check/<file>-<n>.ts` (`<n>` counts the file's ts blocks from 1) whose line
 * numbers are those of the source file, so an error such as
 * `.docs-check/docs/Retry.md-2.ts(41,7): error TS2304` is block 2 of docs/Retry.md, line 41.
 *
 * A block's top-level declarations are exported, so a snippet that shows a value without using it
 * compiles; unused imports are still errors. A block that cannot be a complete program is fenced
 * ```ts no-check and the text around it says why.
 *
 * A block fenced ```ts runnable is also listed in `.docs-check/runnable.json`, and test/docs.test.ts
 * runs it (compiled as `tsx` compiles it, from the repository root) and checks that it exits 0. When the block ends with
 * `// ` comment lines, those are what it prints: each must appear, in order, among the lines it
 * writes to stdout (other lines, such as log lines, may come between). In an expected line, `...`
 * stands for any text, and an annotation after three spaces, `   (like this)`, is not part of it.
 *
 * ```ts runnable file=examples/quickstart.ts: the block must be that file, character for character
 * (so the README's quick start and the example cannot drift apart); otherwise this script fails.
 *
 * `npm test` runs it as vitest's global setup (test/globalSetup.ts), before the type check starts;
 * `npm run typecheck` runs it from the command line:
 *
 *   npx tsx scripts/docs-blocks.ts
 */
import * as fs from "node:fs"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import ts from "typescript"

const root = path.resolve(import.meta.dirname, "..")
const outDir = path.join(root, ".docs-check")

interface Block {
  readonly source: string // relative to the repository root
  readonly index: number // 1-based, per source file
  readonly firstLine: number // 1-based line of the first code line
  readonly code: string
  readonly runnable: boolean
  readonly sameAs: string | undefined // `file=<path>`: the file this block must be
}

/** What test/docs.test.ts reads from `.docs-check/runnable.json`. */
export interface Runnable {
  readonly source: string
  readonly line: number // the fence's line in the source file
  readonly file: string // the extracted module, relative to the repository root
  readonly expected: ReadonlyArray<string> // the trailing `// ` lines, annotations removed
}

const listFiles = (dir: string, extension: string): Array<string> =>
  fs.existsSync(path.join(root, dir))
    ? fs.readdirSync(path.join(root, dir), { recursive: true, encoding: "utf8" })
      .filter((name) => name.endsWith(extension))
      .map((name) => path.join(dir, name))
      .sort()
    : []

const fence = /^(\s*)```(\S*)(.*)$/

/** The ts blocks of one file; `strip` removes the JSDoc ` * ` in front of each line of a source file. */
const blocksOf = (source: string, strip: (line: string) => string | undefined): Array<Block> => {
  const lines = fs.readFileSync(path.join(root, source), "utf8").split("\n")
  const blocks: Array<Block> = []
  let open: { readonly lang: string; readonly info: string; readonly start: number } | undefined
  let body: Array<string> = []
  lines.forEach((raw, i) => {
    const line = strip(raw)
    if (line === undefined) {
      if (open) throw new Error(`${source}:${open.start}: code block not closed before line ${i + 1}`)
      return
    }
    const match = fence.exec(line)
    if (!match) {
      if (open) body.push(line)
      return
    }
    if (open === undefined) {
      open = { lang: match[2] ?? "", info: (match[3] ?? "").trim(), start: i + 1 }
      body = []
      return
    }
    const words = open.info.split(/\s+/)
    if ((open.lang === "ts" || open.lang === "typescript") && words[0] !== "no-check") {
      blocks.push({
        source,
        index: blocks.length + 1,
        firstLine: open.start + 1,
        code: body.join("\n"),
        runnable: words.includes("runnable"),
        sameAs: words.find((word) => word.startsWith("file="))?.slice("file=".length)
      })
    }
    open = undefined
  })
  if (open) throw new Error(`${source}:${open.start}: code block not closed`)
  return blocks
}

const markdown = (line: string) => line

/** Inside a JSDoc comment, the text after ` * `; elsewhere, undefined. */
const jsdoc = (line: string) => {
  const match = /^\s*\* ?(.*)$/.exec(line)
  return match ? match[1] ?? "" : undefined
}

/** `export { ... }` for the block's top-level declarations that are not exported already. */
const exportsOf = (file: string, code: string): string => {
  const sourceFile = ts.createSourceFile(file, code, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS)
  const values: Array<string> = []
  const types: Array<string> = []
  const bindingNames = (name: ts.BindingName): Array<string> =>
    ts.isIdentifier(name)
      ? [name.text]
      : name.elements.flatMap((element) => ts.isOmittedExpression(element) ? [] : bindingNames(element.name))
  for (const statement of sourceFile.statements) {
    const modifiers = ts.canHaveModifiers(statement) ? ts.getModifiers(statement) ?? [] : []
    if (modifiers.some((modifier) => modifier.kind === ts.SyntaxKind.ExportKeyword)) continue
    if (ts.isVariableStatement(statement)) {
      statement.declarationList.declarations.forEach((declaration) => values.push(...bindingNames(declaration.name)))
    } else if (
      (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isEnumDeclaration(statement)) &&
      statement.name
    ) {
      values.push(statement.name.text)
    } else if (ts.isInterfaceDeclaration(statement) || ts.isTypeAliasDeclaration(statement)) {
      types.push(statement.name.text)
    }
  }
  return [
    values.length > 0 ? `export { ${values.join(", ")} }` : "",
    types.length > 0 ? `export type { ${types.join(", ")} }` : "",
    // a block without declarations is still a module, so blocks never share a scope
    values.length + types.length === 0 ? "export {}" : ""
  ].filter((line) => line !== "").join("\n")
}

/** The trailing `// ` comment lines of a block: what it prints, without `   (annotations)`. */
const expectedOutput = (code: string): Array<string> => {
  const lines = code.trimEnd().split("\n")
  const expected: Array<string> = []
  for (let i = lines.length - 1; i >= 0 && /^\/\/( |$)/.test(lines[i]!); i--) {
    expected.unshift(lines[i]!.replace(/^\/\/ ?/, "").replace(/ {3,}\(.*\)$/, ""))
  }
  return expected
}

/**
 * Writes every ts block to `.docs-check/` (emptied first) and the runnable ones to
 * `.docs-check/runnable.json`; throws when a `file=` block differs from its file.
 */
export const extractDocBlocks = (): { readonly blocks: number; readonly runnable: number } => {
  const blocks = [
    ...["README.md", ...listFiles("docs", ".md")].flatMap((file) => blocksOf(file, markdown)),
    ...listFiles("src", ".ts").flatMap((file) => blocksOf(file, jsdoc))
  ]

  const drifted = blocks.filter((block) =>
    block.sameAs !== undefined &&
    fs.readFileSync(path.join(root, block.sameAs), "utf8").trimEnd() !== block.code.trimEnd()
  )
  if (drifted.length > 0) {
    throw new Error(drifted.map((block) =>
      `${block.source}:${block.firstLine - 1}: ts block ${block.index} differs from ${block.sameAs}; make them the same`
    ).join("\n"))
  }

  const moduleOf = (block: Block) => path.join(".docs-check", `${block.source}-${block.index}.ts`)

  fs.rmSync(outDir, { recursive: true, force: true })
  for (const block of blocks) {
    const target = path.join(root, moduleOf(block))
    const header = `// ${block.source}, ts block ${block.index}: line numbers are the source file's`
    const padding = "\n".repeat(Math.max(0, block.firstLine - 2))
    fs.mkdirSync(path.dirname(target), { recursive: true })
    fs.writeFileSync(target, `${header}\n${padding}${block.code}\n${exportsOf(target, block.code)}\n`)
  }
  const runnable: Array<Runnable> = blocks.filter((block) => block.runnable).map((block) => ({
    source: block.source,
    line: block.firstLine - 1,
    file: moduleOf(block),
    expected: expectedOutput(block.code)
  }))
  fs.writeFileSync(path.join(outDir, "runnable.json"), `${JSON.stringify(runnable, null, 2)}\n`)
  return { blocks: blocks.length, runnable: runnable.length }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const written = extractDocBlocks()
  console.log(`docs-blocks: ${written.blocks} ts blocks written to .docs-check/, ${written.runnable} of them runnable`)
}
