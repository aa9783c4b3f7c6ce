/**
 * Memory of a streamed download: 1 GB in 64 KB chunks from a server on 127.0.0.1 through
 * `HttpProvider`'s `stream.bytes`, consumed slower than the server can send (a 1 ms pause per 64 KB).
 * Back-pressure holds: the server is never more than socket buffers ahead of the consumer, and heap and
 * RSS stay flat. Prints heap (after full collections) and RSS before, every 128 MB during, and after,
 * with the largest lead of the server over the consumer and the CPU time used.
 *
 * Run: `node --expose-gc --import tsx bench/streaming.memory.ts [megabytes]` (default 1024). Writes what it
 * prints to bench/results/streaming-memory.{md,json}, with the date, machine and versions.
 */
import { HttpClient } from "@effect/platform"
import { Effect, Stream } from "effect"
import { HttpProvider } from "effect-resilience"
import * as HttpProviderNode from "effect-resilience/HttpProviderNode"
import { mkdirSync, writeFileSync } from "node:fs"
import * as path from "node:path"
import * as StreamingServer from "../test/support/streamingServer.js"
import { environment, headline, resultsDirectory } from "./support/environment.js"
import { heap, mb } from "./support/heap.js"

const MiB = 1024 * 1024
// the runner forwards its own flags (`--full`, ...) to every step: the size is the one bare number
const megabytes = Number(process.argv.slice(2).find((arg) => /^\d+$/.test(arg)) ?? "1024")
const sliceSize = 64 * 1024

const rss = () => process.memoryUsage().rss

const lines: Array<string> = []
const print = (line: string) => {
  lines.push(line)
  console.log(line)
}

const main = Effect.gen(function*() {
  const server = yield* StreamingServer.make
  const client = yield* HttpProviderNode.makePool({ connections: 1 })
  const provider = yield* HttpProvider.make({ name: "local", baseUrl: server.url, policy: (self) => self }).pipe(
    Effect.provideService(HttpClient.HttpClient, client)
  )
  const cpuBefore = process.cpuUsage()
  const started = performance.now()
  const heapBefore = heap()
  const rssBefore = rss()
  print(`streaming ${megabytes} MB, 1 ms pause per 64 KB consumed`)
  print(`  ${"".padEnd(10)} ${"heap".padStart(10)} ${"rss".padStart(10)} ${"server lead".padStart(12)}`)
  print(`  ${"before".padEnd(10)} ${mb(heapBefore)} ${mb(rssBefore)}`)
  let consumed = 0
  let paused = 0
  let maxLead = 0
  let maxHeap = 0
  let maxRss = 0
  yield* Stream.runForEach(provider.stream.bytes("/big", { urlParams: { mb: megabytes } }), (bytes) =>
    Effect.suspend(() => {
      const previous = consumed
      consumed += bytes.length
      maxLead = Math.max(maxLead, server.written() - consumed)
      if (Math.floor(consumed / (128 * MiB)) > Math.floor(previous / (128 * MiB))) {
        const [h, r] = [heap(), rss()]
        maxHeap = Math.max(maxHeap, h)
        maxRss = Math.max(maxRss, r)
        print(`  ${`${Math.round(consumed / MiB)} MB`.padEnd(10)} ${mb(h)} ${mb(r)} ${mb(server.written() - consumed).padStart(12)}`)
      }
      const pauses = Math.floor(consumed / sliceSize) - paused
      paused += pauses
      return pauses > 0 ? Effect.sleep(`${pauses} millis`) : Effect.void
    }))
  const cpu = process.cpuUsage(cpuBefore)
  print(`  ${"after".padEnd(10)} ${mb(heap())} ${mb(rss())}`)
  print(
    `  consumed ${mb(consumed).trim()} in ${((performance.now() - started) / 1000).toFixed(1)} s wall, ` +
      `${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU; largest server lead ${mb(maxLead).trim()}; ` +
      `peak heap +${mb(maxHeap - heapBefore).trim()}, peak RSS +${mb(maxRss - rssBefore).trim()}`
  )
}).pipe(Effect.scoped)

Effect.runPromise(main).then(() => {
  const env = environment()
  mkdirSync(resultsDirectory, { recursive: true })
  writeFileSync(path.join(resultsDirectory, "streaming-memory.json"), JSON.stringify({ ...env, megabytes, lines }, null, 2) + "\n")
  writeFileSync(
    path.join(resultsDirectory, "streaming-memory.md"),
    `# streaming-memory\n\n${headline(env)}\n\n\`\`\`\n${lines.join("\n")}\n\`\`\`\n`
  )
}).catch((error) => {
  console.error(error)
  process.exit(1)
})
