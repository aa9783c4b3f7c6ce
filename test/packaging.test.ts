/**
 * What `npm pack` ships and what the built entry points load. The test does what `prepack` does (a
 * clean dist/, then `npm run build`) with the build's type check left out, since `npm test` type-checks
 * once, in vitest's checker; then it packs. So one pack proves that a pack from a clean tree ships the
 * build. The entry points are then imported from dist/ by a separate Node process that refuses the
 * optional peers.
 */
import { execFile } from "node:child_process"
import * as fs from "node:fs"
import * as path from "node:path"
import { promisify } from "node:util"
import { beforeAll, describe, expect, it } from "vitest"

const run = promisify(execFile)
const root = path.resolve(import.meta.dirname, "..")

interface Manifest {
  readonly exports: Record<string, null | string | { readonly types: string; readonly default: string }>
  readonly scripts: Record<string, string>
}
const manifest: Manifest = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"))

/** The namespaces an index module re-exports (`export * as X from ...`), in order. */
const namespacesOf = (index: string): ReadonlyArray<string> =>
  [...fs.readFileSync(path.join(root, index), "utf8").matchAll(/^export \* as (\w+) from/gm)].map((match) => match[1]!)

let packed: ReadonlyArray<string> = []

beforeAll(async () => {
  fs.rmSync(path.join(root, "dist"), { recursive: true, force: true })
  await run("npm", ["run", "build", "--", "--noCheck"], { cwd: root })
  const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], {
    cwd: root,
    maxBuffer: 16 * 1024 * 1024
  })
  const [tarball] = JSON.parse(stdout) as ReadonlyArray<{ readonly files: ReadonlyArray<{ readonly path: string }> }>
  packed = tarball!.files.map((file) => file.path)
}, 180_000) // a tsc build without its type check: about 5 s alone, more on a loaded 2-core machine

/**
 * Imports each module of dist/ named in `modules` in a fresh Node process whose resolver refuses the
 * `refused` packages as if they were not installed, then runs `then` (a module body with `loaded`, the
 * imported namespaces). Prints what `then` prints.
 */
const importWithout = async (refused: ReadonlyArray<string>, modules: ReadonlyArray<string>, then = "") => {
  const hooks = `
    const refused = ${JSON.stringify(refused)}
    export async function resolve(specifier, context, next) {
      if (refused.some((name) => specifier === name || specifier.startsWith(name + "/"))) {
        throw Object.assign(new Error("Cannot find package '" + specifier + "' (refused by the test)"), {
          code: "ERR_MODULE_NOT_FOUND"
        })
      }
      return next(specifier, context)
    }`
  const register = `import { register } from "node:module"
    register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)})`
  const main = `const loaded = await Promise.all(${
    JSON.stringify(modules.map((module) => new URL(`../dist/${module}`, import.meta.url).href))
  }.map((url) => import(url)))
    ${then}`
  const { stdout } = await run(process.execPath, [
    "--import",
    `data:text/javascript,${encodeURIComponent(register)}`,
    "--input-type=module",
    "--eval",
    main
  ], { cwd: root })
  return stdout.trim()
}

describe("packaging", () => {
  it("prepack is what this test does before it packs: a clean dist/, then the build", () => {
    expect(manifest.scripts["prepack"]).toBe(
      `node -e "fs.rmSync('dist', { recursive: true, force: true })" && npm run build`
    )
    expect(manifest.scripts["build"]).toBe("tsc -p tsconfig.build.json")
  })

  it("npm pack ships the built entry points with their types, the license and the readme", () => {
    for (const [subpath, target] of Object.entries(manifest.exports)) {
      if (target === null || typeof target === "string" || subpath.includes("*")) continue
      expect(packed, subpath).toContain(target.default.replace(/^\.\//, ""))
      expect(packed, subpath).toContain(target.types.replace(/^\.\//, ""))
    }
    expect(packed).toEqual(expect.arrayContaining([
      "dist/index.js",
      "dist/index.d.ts",
      "dist/testing/index.js",
      "dist/testing/index.d.ts",
      "dist/testing/FakeProvider.js",
      "dist/HttpProviderNode.js",
      "dist/RateLimitRedis.d.ts",
      "LICENSE",
      "README.md",
      "package.json"
    ]))
  })

  it("npm pack ships no tests, benchmarks, examples, scripts or build leftovers", () => {
    expect(packed.filter((file) => !/^(dist|src)\//.test(file))).toEqual(["LICENSE", "README.md", "package.json"])
    expect(packed.filter((file) => /\.test(-d)?\.|\.bench\.|tsbuildinfo|\.docs-check/.test(file))).toEqual([])
  })

  it("effect-resilience/testing loads without @effect/platform-node; FakeProvider asks for it when it starts", async () => {
    const printed = await importWithout(
      ["@effect/platform-node", "ioredis"],
      ["testing/index.js"],
      `const [testing] = loaded
      const { Effect, Exit, Cause } = await import("effect")
      const exit = await Effect.runPromiseExit(Effect.scoped(testing.FakeProvider.make()))
      const defect = Exit.isFailure(exit) ? Cause.squash(exit.cause) : undefined
      console.log(JSON.stringify({ modules: Object.keys(testing), defect: defect?.message }))`
    )
    expect(JSON.parse(printed)).toEqual({
      modules: [...namespacesOf("src/testing/index.ts")].sort(),
      defect: "FakeProvider needs @effect/platform-node: npm install --save-dev @effect/platform-node"
    })
  }, 30_000)

  it("the main entry and the Redis-free subpaths load without ioredis or @effect/platform-node", async () => {
    const printed = await importWithout(
      ["@effect/platform-node", "ioredis"],
      ["index.js", "HttpProvider.js", "RateLimit.js", "CircuitBreaker.js"],
      `console.log(JSON.stringify(Object.keys(loaded[0])))`
    )
    expect(JSON.parse(printed)).toEqual([...namespacesOf("src/index.ts")].sort())
  }, 30_000)

  it("the refusing resolver does refuse: the Redis and Node subpaths fail to load without their peers", async () => {
    await expect(importWithout(["ioredis"], ["RateLimitRedis.js"])).rejects.toThrow(/Cannot find package 'ioredis'/)
    await expect(importWithout(["@effect/platform-node"], ["HttpProviderNode.js"])).rejects.toThrow(
      /Cannot find package '@effect\/platform-node/
    )
  }, 30_000)
})
