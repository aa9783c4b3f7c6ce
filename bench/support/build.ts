/**
 * Builds what `npm run bench` runs by default, into `.bench-build/` (gitignored):
 * - the library with `tsc -p tsconfig.build.json`, as users get it (incremental, no declarations);
 * - the bench scripts, transpiled file by file with TypeScript (no type check: `npm run typecheck`
 *   covers bench/), keeping their layout so relative imports still resolve;
 * - a package.json naming the built tree `effect-resilience`, so `import "effect-resilience/X"` in a
 *   built bench script resolves to the built library (through tsx, tsconfig paths send it to src/).
 */
import { spawnSync } from "node:child_process"
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import ts from "typescript"
import { root } from "./environment.js"

export const outDir = path.join(root, ".bench-build")

const buildLibrary = (): void => {
  const tsc = path.join(root, "node_modules", "typescript", "bin", "tsc")
  const result = spawnSync(process.execPath, [
    tsc,
    "-p",
    "tsconfig.build.json",
    "--outDir",
    path.join(outDir, "src"),
    "--declaration",
    "false",
    "--declarationMap",
    "false",
    "--incremental",
    "--tsBuildInfoFile",
    path.join(outDir, "library.tsbuildinfo")
  ], { cwd: root, stdio: "inherit" })
  if (result.status !== 0) throw new Error(`tsc -p tsconfig.build.json failed (exit ${result.status ?? result.signal})`)
}

const typeScriptFiles = (directory: string): Array<string> =>
  readdirSync(directory, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(directory, entry.name)
    if (entry.isDirectory()) return entry.name === "results" ? [] : typeScriptFiles(full)
    return entry.name.endsWith(".ts") ? [full] : []
  })

/** Test helpers a bench script shares with the tests (a local server), transpiled with the scripts. */
const sharedWithTests = ["test/support/streamingServer.ts"]

const transpileBench = (): number => {
  const files = [...typeScriptFiles(path.join(root, "bench")), ...sharedWithTests.map((file) => path.join(root, file))]
  for (const file of files) {
    const { outputText } = ts.transpileModule(readFileSync(file, "utf8"), {
      fileName: file,
      compilerOptions: {
        target: ts.ScriptTarget.ES2022,
        module: ts.ModuleKind.ESNext,
        verbatimModuleSyntax: true,
        sourceMap: false
      }
    })
    const target = path.join(outDir, path.relative(root, file)).replace(/\.ts$/, ".js")
    mkdirSync(path.dirname(target), { recursive: true })
    writeFileSync(target, outputText)
  }
  return files.length
}

const writePackageJson = (): void => {
  const { version } = JSON.parse(readFileSync(path.join(root, "package.json"), "utf8")) as { version: string }
  const manifest = {
    name: "effect-resilience",
    version,
    private: true,
    type: "module",
    exports: { ".": "./src/index.js", "./testing": "./src/testing/index.js", "./*": "./src/*.js" }
  }
  writeFileSync(path.join(outDir, "package.json"), JSON.stringify(manifest, null, 2) + "\n")
}

export const build = (): void => {
  mkdirSync(outDir, { recursive: true })
  buildLibrary()
  const count = transpileBench()
  writePackageJson()
  console.log(`built the library and ${count} bench files into ${path.relative(root, outDir)}/`)
}
