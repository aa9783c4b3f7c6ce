import { describe, expect, it } from "@effect/vitest"
import { HttpClient } from "@effect/platform"
import { Chunk, Effect, Schema, Stream } from "effect"
import { isTransient } from "../src/Errors.js"
import * as HttpProvider from "../src/HttpProvider.js"
import * as HttpProviderNode from "../src/HttpProviderNode.js"
import * as StreamingServer from "./support/streamingServer.js"
import { asText, untilFailure } from "./support/streams.js"

// Real sockets and real time (it.live): a server on 127.0.0.1 that stalls, drops and resumes.

const retrying: HttpProvider.Policy = (self) => Effect.retry(self, { times: 3, while: isTransient })

const provider = (baseUrl: string, policy: HttpProvider.Policy = retrying) =>
  Effect.flatMap(HttpProviderNode.makePool({ connections: 4 }), (client) =>
    HttpProvider.make({ name: "local", baseUrl, policy }).pipe(Effect.provideService(HttpClient.HttpClient, client)))


const MiB = 1024 * 1024

describe("HttpProvider.stream over real HTTP", () => {
  it.live("a server that stalls mid-stream fails with Timeout { scope: idle } after the bytes it sent", () =>
    Effect.gen(function*() {
      const server = yield* StreamingServer.make
      const p = yield* provider(server.url)
      const { error, seen } = yield* untilFailure(p.stream.bytes("/stall", { idle: "300 millis" }))
      expect(asText(seen)).toBe("first")
      expect(error).toMatchObject({ _tag: "Timeout", scope: "idle", provider: "local" })
      expect(server.requests).toHaveLength(1)
    }).pipe(Effect.scoped))

  it.live("a server that drops the connection mid-stream fails with Unavailable, not re-sent", () =>
    Effect.gen(function*() {
      const server = yield* StreamingServer.make
      const p = yield* provider(server.url)
      const { error, seen } = yield* untilFailure(p.stream.bytes("/drop"))
      expect(asText(seen)).toBe("first")
      expect(error).toMatchObject({ _tag: "Unavailable" })
      expect(server.requests).toHaveLength(1)
    }).pipe(Effect.scoped))

  it.live("resume range - a dropped download continues from where it stopped, byte-exact", () =>
    Effect.gen(function*() {
      const server = yield* StreamingServer.make
      const p = yield* provider(server.url)
      const body = yield* Stream.runCollect(p.stream.bytes("/download", { resume: "range" }))
      expect(asText(body)).toBe(StreamingServer.downloadBody)
      expect(server.requests.map((r) => r.range)).toEqual([undefined, "bytes=400-"])
    }).pipe(Effect.scoped))

  it.live("resume last-event-id - a dropped event stream reconnects after the last complete event", () =>
    Effect.gen(function*() {
      const server = yield* StreamingServer.make
      const p = yield* provider(server.url)
      const items = yield* Stream.runCollect(
        p.stream.eventsJson("/events", { item: Schema.Struct({ n: Schema.Number }), resume: "last-event-id" })
      )
      expect(Chunk.toArray(items).map((i) => i.n)).toEqual([1, 2, 3, 4])
      expect(server.requests.map((r) => r.lastEventId)).toEqual([undefined, "2"])
    }).pipe(Effect.scoped))

  it.live("a consumer that stops early closes the connection and frees the connection permit", () =>
    Effect.gen(function*() {
      const server = yield* StreamingServer.make
      const client = yield* HttpProviderNode.makePool({ connections: 1 })
      const p = yield* HttpProvider.make({ name: "local", baseUrl: server.url, policy: retrying, maxConnections: 1 }).pipe(
        Effect.provideService(HttpClient.HttpClient, client)
      )
      const first = yield* Stream.runCollect(Stream.take(p.stream.bytes("/big", { urlParams: { mb: 64 } }), 1))
      expect(Chunk.size(first)).toBe(1)
      // with one connection and one permit, a second stream runs only if the first gave both back
      const again = yield* Stream.runCollect(p.stream.bytes("/stall", { idle: "100 millis" })).pipe(Effect.flip)
      expect(again).toMatchObject({ _tag: "Timeout", scope: "idle" })
      expect(server.written()).toBeLessThan(64 * MiB)
    }).pipe(Effect.scoped))

  it.live("back-pressure - 100 MB through a slow consumer: the server is held back, memory stays flat", () =>
    Effect.gen(function*() {
      const server = yield* StreamingServer.make
      const p = yield* provider(server.url)
      const heapBefore = process.memoryUsage().heapUsed
      let consumed = 0
      let maxAhead = 0
      let maxHeap = 0
      // slower than the socket: a 1 ms pause per 256 KB consumed (bench/streaming.memory.ts runs 1 GB)
      yield* Stream.runForEach(p.stream.bytes("/big", { urlParams: { mb: 100 } }), (bytes) =>
        Effect.suspend(() => {
          const before = consumed
          consumed += bytes.length
          maxAhead = Math.max(maxAhead, server.written() - consumed)
          if (Math.floor(consumed / (4 * MiB)) > Math.floor(before / (4 * MiB))) {
            maxHeap = Math.max(maxHeap, process.memoryUsage().heapUsed)
          }
          return Math.floor(consumed / (256 * 1024)) > Math.floor(before / (256 * 1024))
            ? Effect.sleep("1 millis")
            : Effect.void
        }))
      expect(consumed).toBe(100 * MiB)
      // what the server could write ahead is socket buffers plus a few chunks, not the body
      expect(maxAhead).toBeLessThan(16 * MiB)
      expect(maxHeap - heapBefore).toBeLessThan(48 * MiB)
    }).pipe(Effect.scoped), 60_000)
})
