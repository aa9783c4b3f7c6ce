/**
 * Memory of a streamed download: 1 GB in 64 KB chunks from a server on 127.0.0.1 through
 * `HttpProvider`'s `stream.bytes`, consumed slower than the server can send (a 1 ms pause per 64 KB).
 * Back-pressure holds: the server is never more than socket buffers ahead of the consumer, and heap and
 * RSS stay flat. Prints heap (after full collections) and RSS before, every 128 MB during, and after,
 * with the largest lead of the server over the consumer and the CPU time used.
 *
 * Run: `node --expose-gc --import tsx bench/streaming.memory.ts [megabytes]` (default 1024)
 */
import { HttpClient } from "@effect/platform"
import { Effect, Stream } from "effect"
import * as HttpProvider from "../src/HttpProvider.js"
import * as HttpProviderNode from "../src/HttpProviderNode.js"
import * as StreamingServer from "../test/support/streamingServer.js"
import { heap, mb } from "./support/heap.js"

const MiB = 1024 * 1024
const megabytes = Number(process.argv[2] ?? "1024")
const sliceSize = 64 * 1024

const rss = () => process.memoryUsage().rss

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
  console.log(`streaming ${megabytes} MB, 1 ms pause per 64 KB consumed`)
  console.log(`  ${"".padEnd(10)} ${"heap".padStart(10)} ${"rss".padStart(10)} ${"server lead".padStart(12)}`)
  console.log(`  ${"before".padEnd(10)} ${mb(heapBefore)} ${mb(rssBefore)}`)
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
        console.log(`  ${`${Math.round(consumed / MiB)} MB`.padEnd(10)} ${mb(h)} ${mb(r)} ${mb(server.written() - consumed).padStart(12)}`)
      }
      const pauses = Math.floor(consumed / sliceSize) - paused
      paused += pauses
      return pauses > 0 ? Effect.sleep(`${pauses} millis`) : Effect.void
    }))
  const cpu = process.cpuUsage(cpuBefore)
  console.log(`  ${"after".padEnd(10)} ${mb(heap())} ${mb(rss())}`)
  console.log(
    `  consumed ${mb(consumed).trim()} in ${((performance.now() - started) / 1000).toFixed(1)} s wall, ` +
      `${((cpu.user + cpu.system) / 1e6).toFixed(1)} s CPU; largest server lead ${mb(maxLead).trim()}; ` +
      `peak heap +${mb(maxHeap - heapBefore).trim()}, peak RSS +${mb(maxRss - rssBefore).trim()}`
  )
}).pipe(Effect.scoped)

Effect.runPromise(main).catch((error) => {
  console.error(error)
  process.exit(1)
})
