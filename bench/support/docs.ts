/**
 * Copies a results file into docs/Benchmarks.md, between `<!-- results:NAME -->` and
 * `<!-- /results:NAME -->`, so the figures in the docs are the results file's, with its date, never
 * typed by hand. Headings move down one level to sit under the docs' own.
 */
import { readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import { resultsDirectory, root } from "./environment.js"

const docsFile = path.join(root, "docs", "Benchmarks.md")

export const copyIntoDocs = (name: string): void => {
  const results = readFileSync(path.join(resultsDirectory, `${name}.md`), "utf8")
    .replace(/^# .*\n+/, "")
    .replace(/^(#+) /gm, "#$1 ")
    .trim()
  const open = `<!-- results:${name} -->`
  const close = `<!-- /results:${name} -->`
  const docs = readFileSync(docsFile, "utf8")
  const start = docs.indexOf(open)
  const end = docs.indexOf(close)
  if (start < 0 || end < start) throw new Error(`docs/Benchmarks.md has no ${open} ... ${close} region`)
  const copied = `${open}\nCopied from \`bench/results/${name}.md\` by \`npm run bench\`:\n\n${results}\n${close}`
  writeFileSync(docsFile, docs.slice(0, start) + copied + docs.slice(end + close.length))
}
