import { describe, expect, it } from "@effect/vitest"
import { Chunk, Clock, Duration, Effect, Fiber, Option, Schedule, Schema, Stream, TestClock } from "effect"
import * as Bulkhead from "../src/Bulkhead.js"
import * as CircuitBreaker from "../src/CircuitBreaker.js"
import * as Credentials from "../src/Credentials.js"
import { isTransient, Timeout } from "../src/Errors.js"
import * as HttpProvider from "../src/HttpProvider.js"
import * as Retry from "../src/Retry.js"
import { attempt as attemptTimeout } from "../src/Timeout.js"
import { currentSink } from "../src/internal/rateLimit/adaptiveSink.js"
import * as ScriptedHttpClient from "../src/testing/ScriptedHttpClient.js"
import { asText, untilFailure } from "./support/streams.js"

const baseOptions = { name: "llm", baseUrl: "https://llm.test" } as const

/** No guard: one attempt. */
const unguarded: HttpProvider.Policy = (self) => self

/** Retries transient failures up to `times` times, immediately, as the default retry would (minus backoff). */
const retrying = (times: number): HttpProvider.Policy => (self) => Effect.retry(self, { times, while: isTransient })

const scripted = <A, E>(
  steps: Iterable<ScriptedHttpClient.Step>,
  use: (provider: HttpProvider.HttpProvider<any>, script: ScriptedHttpClient.Service) => Effect.Effect<A, E>,
  { policy = unguarded as HttpProvider.Policy<any>, ...options }: Partial<HttpProvider.Options<any>> = {}
) =>
  Effect.gen(function*() {
    const script = yield* ScriptedHttpClient.ScriptedHttpClient
    const provider = yield* HttpProvider.make({ ...baseOptions, policy, ...options })
    return yield* use(provider, script)
  }).pipe(Effect.scoped, Effect.provide(ScriptedHttpClient.layer(steps)))


const sse = (...events: ReadonlyArray<{ readonly id?: string; readonly data: string }>) =>
  events.map((e) => `${e.id === undefined ? "" : `id: ${e.id}\n`}data: ${e.data}\n\n`)

const Token = Schema.Struct({ text: Schema.String, usage: Schema.optional(Schema.Number) })

describe("HttpProvider.stream", () => {
  describe("formats", () => {
    it.effect("bytes - the body arrives chunk by chunk, in order", () =>
      Effect.gen(function*() {
        const [chunks, requests] = yield* scripted(
          [ScriptedHttpClient.streamed(["ab", "cd", "ef"])],
          (p, script) => Effect.all([Stream.runCollect(p.stream.bytes("/file")), script.requests])
        )
        expect(asText(chunks)).toBe("abcdef")
        expect(requests[0]).toMatchObject({ method: "GET", url: "https://llm.test/file" })
        expect(requests[0]?.headers.accept).toBe("*/*")
      }))

    it.effect("lines - split across chunks, without line ends", () =>
      Effect.gen(function*() {
        const lines = yield* scripted(
          [ScriptedHttpClient.streamed(["one\ntw", "o\r\nthree"])],
          (p) => Stream.runCollect(p.stream.lines("/log"))
        )
        expect(Chunk.toArray(lines)).toEqual(["one", "two", "three"])
      }))

    it.effect("events - SSE parsed with names and ids; a POST body is sent as JSON", () =>
      Effect.gen(function*() {
        const [events, requests] = yield* scripted(
          [ScriptedHttpClient.streamed([": ping\n\n", "event: delta\nid: 1\nda", "ta: hi\n\n", "data: a\ndata: b\n\n"])],
          (p, script) =>
            Effect.all([
              Stream.runCollect(p.stream.events("/v1/chat", { request: Schema.Struct({ q: Schema.String }), body: { q: "hi" } })),
              script.requests
            ])
        )
        expect(Chunk.toArray(events)).toEqual([
          { event: "delta", id: "1", data: "hi" },
          { event: "message", id: undefined, data: "a\nb" }
        ])
        expect(requests[0]).toMatchObject({ method: "POST", body: "{\"q\":\"hi\"}" })
        expect(requests[0]?.headers.accept).toBe("text/event-stream")
      }))

    it.effect("ndjson - blank lines skipped, each line decoded with the item schema", () =>
      Effect.gen(function*() {
        const items = yield* scripted(
          [ScriptedHttpClient.streamed(["{\"text\":\"a\"}\n\n{\"te", "xt\":\"b\"}\n"])],
          (p) => Stream.runCollect(p.stream.ndjson("/export", { item: Token }))
        )
        expect(Chunk.toArray(items)).toEqual([{ text: "a" }, { text: "b" }])
      }))

    it.effect("ndjson - an item that does not match fails with InvalidResponse after the good ones", () =>
      Effect.gen(function*() {
        const { error, seen } = yield* scripted(
          [ScriptedHttpClient.streamed(["{\"text\":\"a\"}\n{\"text\":1}\n{\"text\":\"c\"}\n"])],
          (p) => untilFailure(p.stream.ndjson("/export", { item: Token }))
        )
        expect(seen).toEqual([{ text: "a" }])
        expect(error).toMatchObject({ _tag: "InvalidResponse", status: 200 })
      }))

    it.effect("eventsJson - decodes data until [DONE]; nothing after it is read", () =>
      Effect.gen(function*() {
        const items = yield* scripted(
          [ScriptedHttpClient.streamed([...sse({ data: "{\"text\":\"a\"}" }, { data: "[DONE]" }), ScriptedHttpClient.stall])],
          (p) => Stream.runCollect(p.stream.eventsJson("/v1/chat", { item: Token }))
        )
        expect(Chunk.toArray(items)).toEqual([{ text: "a" }])
      }))
  })

  describe("errors", () => {
    it.effect("a non-2xx answer is the client's mapping: 429 RateLimited, 404 ClientError", () =>
      Effect.gen(function*() {
        const errors = yield* scripted(
          [ScriptedHttpClient.status(429, { retryAfter: "2 seconds" }), ScriptedHttpClient.status(404, { body: "no" })],
          (p) => Effect.all([Effect.flip(Stream.runDrain(p.stream.bytes("/a"))), Effect.flip(Stream.runDrain(p.stream.bytes("/b")))])
        )
        expect(errors[0]).toMatchObject({ _tag: "RateLimited", reason: "provider" })
        expect(errors[1]).toMatchObject({ _tag: "ClientError", status: 404 })
      }))

    it.effect("bad stream options fail with InvalidRequest and send nothing", () =>
      Effect.gen(function*() {
        const [idle, resume, requests] = yield* scripted([], (p, script) =>
          Effect.all([
            Effect.flip(Stream.runDrain(p.stream.bytes("/a", { idle: "-1 seconds" }))),
            Effect.flip(Stream.runDrain(p.stream.events("/a", { resume: "range" as never }))),
            script.requests
          ]))
        expect(idle).toMatchObject({ _tag: "InvalidRequest" })
        expect((idle as { issue: string }).issue).toContain("idle")
        expect(resume).toMatchObject({ _tag: "InvalidRequest" })
        expect(requests).toHaveLength(0)
      }))

    it.effect("the credentials are sent with a stream", () =>
      Effect.gen(function*() {
        const requests = yield* scripted(
          [ScriptedHttpClient.streamed(["x"])],
          (p, script) => Effect.zipRight(Stream.runDrain(p.stream.bytes("/a")), script.requests),
          { credentials: Credentials.fixed("sk_live") }
        )
        expect(requests[0]?.headers.authorization).toBe("Bearer sk_live")
      }))
  })

  describe("time limits", () => {
    it.effect("first-byte - no answer in time is Timeout { scope: first-byte }", () =>
      Effect.gen(function*() {
        const fiber = yield* scripted(
          [ScriptedHttpClient.hang],
          (p) => Effect.flip(Stream.runDrain(p.stream.bytes("/a", { firstByte: "5 seconds" })))
        ).pipe(Effect.fork)
        yield* TestClock.adjust("4999 millis")
        expect(fiber.unsafePoll()).toBeNull()
        yield* TestClock.adjust("1 millis")
        const error = yield* Fiber.join(fiber)
        expect(error).toBeInstanceOf(Timeout)
        expect(error).toMatchObject({ scope: "first-byte", provider: "llm" })
      }))

    it.effect("first-byte - headers in time but no body byte counts the whole wait", () =>
      Effect.gen(function*() {
        const fiber = yield* scripted(
          [ScriptedHttpClient.delay("3 seconds", ScriptedHttpClient.streamed([ScriptedHttpClient.pause("3 seconds"), "a"]))],
          (p) => Effect.flip(Stream.runDrain(p.stream.bytes("/a", { firstByte: "5 seconds" })))
        ).pipe(Effect.fork)
        yield* TestClock.adjust("5 seconds")
        expect(yield* Fiber.join(fiber)).toMatchObject({ _tag: "Timeout", scope: "first-byte" })
      }))

    it.effect("idle - a gap longer than idle after the first byte is Timeout { scope: idle }", () =>
      Effect.gen(function*() {
        const fiber = yield* scripted(
          [ScriptedHttpClient.streamed(["a", ScriptedHttpClient.pause("2 seconds"), "b", ScriptedHttpClient.pause("10 seconds"), "c"])],
          (p) => untilFailure(p.stream.bytes("/a", { idle: "5 seconds" }))
        ).pipe(Effect.fork)
        yield* TestClock.adjust("1 minute")
        const { error, seen } = yield* Fiber.join(fiber)
        expect(seen.map((b) => asText([b]))).toEqual(["a", "b"])
        expect(error).toMatchObject({ _tag: "Timeout", scope: "idle" })
      }))

    it.effect("idle - a consumer slower than idle does not count against the provider", () =>
      Effect.gen(function*() {
        const fiber = yield* scripted(
          [ScriptedHttpClient.streamed(Array.from({ length: 20 }, (_, i) => String(i % 10)))],
          (p) =>
            p.stream.bytes("/a", { idle: "1 second" }).pipe(
              Stream.tap(() => Effect.sleep("10 seconds")),
              Stream.runCollect
            )
        ).pipe(Effect.fork)
        yield* TestClock.adjust("10 minutes")
        expect(asText(yield* Fiber.join(fiber))).toBe("01234567890123456789")
      }))

    it.effect("total - the whole stream past total is Timeout { scope: total }, never retried", () =>
      Effect.gen(function*() {
        const fiber = yield* scripted(
          [ScriptedHttpClient.streamed(["a", ScriptedHttpClient.pause("4 seconds"), "b", ScriptedHttpClient.pause("4 seconds"), "c"])],
          (p, script) => Effect.all([Effect.flip(Stream.runDrain(p.stream.bytes("/a", { total: "6 seconds" }))), script.requests]),
          { policy: retrying(3) }
        ).pipe(Effect.fork)
        yield* TestClock.adjust("6 seconds")
        const [error, requests] = yield* Fiber.join(fiber)
        expect(error).toMatchObject({ _tag: "Timeout", scope: "total" })
        expect(requests).toHaveLength(1)
      }))

    it.effect("the default policy's attempt (10 s) and total (30 s) timeouts do not cut a long stream", () =>
      Effect.gen(function*() {
        const parts = Array.from({ length: 8 }, (_, i) => [String(i), ScriptedHttpClient.pause("20 seconds")]).flat()
        const fiber = yield* Effect.gen(function*() {
          const provider = yield* HttpProvider.make(baseOptions)
          return yield* Stream.runCollect(provider.stream.bytes("/a"))
        }).pipe(Effect.scoped, Effect.provide(ScriptedHttpClient.layer([ScriptedHttpClient.streamed(parts)])), Effect.fork)
        yield* TestClock.adjust("3 minutes")
        expect(asText(yield* Fiber.join(fiber))).toBe("01234567")
      }))
  })

  describe("retry and resume", () => {
    it.effect("before the first byte - a 503 is retried and the stream starts afresh", () =>
      Effect.gen(function*() {
        const [chunks, requests] = yield* scripted(
          [ScriptedHttpClient.status(503), ScriptedHttpClient.streamed(["ok"])],
          (p, script) => Effect.all([Stream.runCollect(p.stream.bytes("/a")), script.requests]),
          { policy: retrying(3) }
        )
        expect(asText(chunks)).toBe("ok")
        expect(requests).toHaveLength(2)
      }))

    it.effect("before the first byte - a first-byte timeout is retried", () =>
      Effect.gen(function*() {
        const fiber = yield* scripted(
          [ScriptedHttpClient.hang, ScriptedHttpClient.streamed(["ok"])],
          (p) => Stream.runCollect(p.stream.bytes("/a", { firstByte: "1 second" })),
          { policy: retrying(3) }
        ).pipe(Effect.fork)
        yield* TestClock.adjust("1 second")
        expect(asText(yield* Fiber.join(fiber))).toBe("ok")
      }))

    it.effect("after the first byte - a cut is not retried: the consumer fails at once, one request", () =>
      Effect.gen(function*() {
        // a retry that waits a minute: the consumer must not wait for it
        const slowRetry: HttpProvider.Policy = (self) =>
          Effect.retry(self, { times: 3, while: isTransient, schedule: Schedule.spaced("1 minute") })
        const fiber = yield* scripted(
          [ScriptedHttpClient.streamed(["a", ScriptedHttpClient.cut]), ScriptedHttpClient.streamed(["a", "b"])],
          (p, script) =>
            Effect.gen(function*() {
              const { error, seen } = yield* untilFailure(p.stream.bytes("/a"))
              return [asText(seen), error, yield* script.requests, yield* Clock.currentTimeMillis] as const
            }),
          { policy: slowRetry }
        ).pipe(Effect.fork)
        yield* TestClock.adjust("2 minutes")
        const [seen, error, requests, failedAt] = yield* Fiber.join(fiber)
        expect(failedAt).toBeLessThan(60_000)
        expect(seen).toBe("a")
        expect(error).toMatchObject({ _tag: "Unavailable", reason: "connection-reset" })
        expect(requests).toHaveLength(1)
      }))

    it.effect("after the first byte - an attempt the policy timed out is not re-sent: the consumer fails with that Timeout", () =>
      Effect.gen(function*() {
        const fiber = yield* scripted(
          [ScriptedHttpClient.streamed(["a\n", ScriptedHttpClient.pause("5 seconds"), "b\n"]), ScriptedHttpClient.streamed(["a\n", "b\n"])],
          (p, script) =>
            Effect.gen(function*() {
              const { error, seen } = yield* untilFailure(p.stream.lines("/log"))
              return [seen, error, yield* script.requests, yield* Clock.currentTimeMillis] as const
            }),
          { policy: (self) => self.pipe(attemptTimeout("1 second"), Retry.transient({ times: 3 })) }
        ).pipe(Effect.fork)
        yield* TestClock.adjust("1 minute")
        const [seen, error, requests, failedAt] = yield* Fiber.join(fiber)
        expect(seen).toEqual(["a"])
        expect(error).toMatchObject({ _tag: "Timeout", scope: "attempt", after: Duration.seconds(1) })
        expect(requests).toHaveLength(1)
        // at once, not after the retry's backoff
        expect(failedAt).toBe(1_000)
      }))

    it.effect("resume range - attempt timeouts meeting a slow consumer: each resume starts where the consumer is, nothing lost or repeated", () =>
      Effect.gen(function*() {
        const content = "abcdefghijklmnopqrstuvwxyz0123456789"
        const from = (start: number) => Array.from(content.slice(start))
        // every resume answers from the byte it asks for, whatever it is
        const resumed = ScriptedHttpClient.respondWith((request) => {
          const start = Number(/^bytes=(\d+)-$/.exec(request.headers.range ?? "")?.[1] ?? Number.NaN)
          return Number.isInteger(start) && request.headers["if-range"] === "\"v1\""
            ? ScriptedHttpClient.streamed(from(start), {
              status: 206,
              headers: { "content-range": `bytes ${start}-${content.length - 1}/${content.length}` }
            })
            : ScriptedHttpClient.status(400)
        })
        const fiber = yield* scripted(
          [ScriptedHttpClient.streamed(from(0), { headers: { etag: "\"v1\"" } }), ...Array(20).fill(resumed)],
          (p, script) =>
            Effect.all([
              p.stream.bytes("/file", { resume: "range" }).pipe(Stream.tap(() => Effect.sleep("1 second")), Stream.runCollect),
              script.requests
            ]),
          { policy: (self) => self.pipe(attemptTimeout("3 seconds"), Retry.transient({ times: 20 })) }
        ).pipe(Effect.fork)
        yield* TestClock.adjust("10 minutes")
        const [chunks, requests] = yield* Fiber.join(fiber)
        expect(asText(chunks)).toBe(content)
        expect(requests.length).toBeGreaterThan(2)
      }))

    it.effect("resume range - a cut download continues with Range and If-Range, without duplicates", () =>
      Effect.gen(function*() {
        const [chunks, requests] = yield* scripted(
          [
            ScriptedHttpClient.streamed(["abc", ScriptedHttpClient.cut], { headers: { etag: "\"v1\"" } }),
            ScriptedHttpClient.respondWith((request) =>
              request.headers.range === "bytes=3-" && request.headers["if-range"] === "\"v1\""
                ? ScriptedHttpClient.streamed(["def"], { status: 206, headers: { "content-range": "bytes 3-5/6" } })
                : ScriptedHttpClient.status(400)
            )
          ],
          (p, script) => Effect.all([Stream.runCollect(p.stream.bytes("/file", { resume: "range" })), script.requests]),
          { policy: retrying(3) }
        )
        expect(asText(chunks)).toBe("abcdef")
        expect(requests).toHaveLength(2)
      }))

    it.effect("resume range - a server that ignores Range (200, no validator) is skipped to where the consumer is", () =>
      Effect.gen(function*() {
        const chunks = yield* scripted(
          [ScriptedHttpClient.streamed(["ab", "c", ScriptedHttpClient.cut]), ScriptedHttpClient.streamed(["abcd", "ef"])],
          (p) => Stream.runCollect(p.stream.bytes("/file", { resume: "range" })),
          { policy: retrying(3) }
        )
        expect(asText(chunks)).toBe("abcdef")
      }))

    it.effect("resume range - a changed file (200 to If-Range) fails with InvalidResponse", () =>
      Effect.gen(function*() {
        const error = yield* scripted(
          [
            ScriptedHttpClient.streamed(["abc", ScriptedHttpClient.cut], { headers: { etag: "\"v1\"" } }),
            ScriptedHttpClient.streamed(["xyzxyz"], { headers: { etag: "\"v2\"" } })
          ],
          (p) => Effect.flip(Stream.runDrain(p.stream.bytes("/file", { resume: "range" }))),
          { policy: retrying(3) }
        )
        expect(error).toMatchObject({ _tag: "InvalidResponse" })
      }))

    it.effect("resume last-event-id - an idle stall reconnects with the last id delivered", () =>
      Effect.gen(function*() {
        const fiber = yield* scripted(
          [
            ScriptedHttpClient.streamed([...sse({ id: "1", data: "a" }, { id: "2", data: "b" }), "id: 3\ndata: par", ScriptedHttpClient.stall]),
            ScriptedHttpClient.respondWith((request) =>
              request.headers["last-event-id"] === "2"
                ? ScriptedHttpClient.streamed(sse({ id: "3", data: "c" }))
                : ScriptedHttpClient.status(400)
            )
          ],
          (p) => Stream.runCollect(p.stream.events("/feed", { resume: "last-event-id", idle: "5 seconds" })),
          { policy: retrying(3) }
        ).pipe(Effect.fork)
        yield* TestClock.adjust("5 seconds")
        expect(Chunk.toArray(yield* Fiber.join(fiber)).map((e) => e.data)).toEqual(["a", "b", "c"])
      }))

    it.effect("resume last-event-id - no id delivered yet: a cut after output cannot resume and fails", () =>
      Effect.gen(function*() {
        const [error, requests] = yield* scripted(
          [ScriptedHttpClient.streamed([...sse({ data: "a" }), ScriptedHttpClient.cut]), ScriptedHttpClient.streamed(sse({ data: "a" }))],
          (p, script) =>
            Effect.all([Effect.flip(Stream.runDrain(p.stream.events("/feed", { resume: "last-event-id" }))), script.requests]),
          { policy: retrying(3) }
        )
        expect(error).toMatchObject({ _tag: "Unavailable" })
        expect(requests).toHaveLength(1)
      }))
  })

  describe("guards see one call", () => {
    it.effect("a consumer that stops early gives the bulkhead slot back and the breaker counts nothing", () =>
      Effect.gen(function*() {
        const bulkhead = yield* Bulkhead.make({ name: "llm", maxConcurrent: 1 })
        const breaker = yield* CircuitBreaker.make({ name: "llm", policy: CircuitBreaker.consecutive(1) })
        const policy: HttpProvider.Policy<any> = (self) => self.pipe(bulkhead, CircuitBreaker.protect(breaker))
        const [during, first, after, snapshot] = yield* scripted(
          [ScriptedHttpClient.streamed(["a", "b", ScriptedHttpClient.stall]), ScriptedHttpClient.streamed(["c"])],
          (p) =>
            Effect.gen(function*() {
              let during = -1
              const first = yield* p.stream.bytes("/a").pipe(
                Stream.tap(() => Effect.map(bulkhead.stats, (s) => (during = s.active))),
                Stream.take(1),
                Stream.runCollect
              )
              const after = yield* Stream.runCollect(p.stream.bytes("/b"))
              return [during, first, after, yield* breaker.snapshot] as const
            }),
          { policy }
        )
        expect(during).toBe(1)
        expect(asText(first)).toBe("a")
        expect(asText(after)).toBe("c")
        expect(snapshot).toMatchObject({ state: "closed", failures: 0 })
        expect((yield* bulkhead.stats).active).toBe(0)
      }).pipe(Effect.scoped))

    it.effect("a half-open probe stopped early gives its slot back", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({
          name: "llm",
          policy: CircuitBreaker.consecutive(1),
          openFor: "1 second",
          halfOpen: { probes: 1 }
        })
        const policy: HttpProvider.Policy<any> = (self) => CircuitBreaker.protect(self, breaker)
        const fiber = yield* scripted(
          [
            ScriptedHttpClient.status(503),
            ScriptedHttpClient.streamed(["a", ScriptedHttpClient.stall]),
            ScriptedHttpClient.streamed(["b"])
          ],
          (p) =>
            Effect.gen(function*() {
              yield* Effect.flip(Stream.runDrain(p.stream.bytes("/a")))
              yield* Effect.sleep("1 second")
              const probe = yield* Stream.runCollect(Stream.take(p.stream.bytes("/a"), 1))
              const next = yield* Stream.runCollect(p.stream.bytes("/a"))
              return [asText(probe), asText(next), yield* breaker.state] as const
            }),
          { policy }
        ).pipe(Effect.fork)
        yield* TestClock.adjust("1 second")
        expect(yield* Fiber.join(fiber)).toEqual(["a", "b", "closed"])
      }).pipe(Effect.scoped))

    it.effect("the breaker counts a stream that fails mid-way, and a whole stream as one success", () =>
      Effect.gen(function*() {
        const breaker = yield* CircuitBreaker.make({
          name: "llm",
          policy: CircuitBreaker.failureRate({ threshold: 0.5, window: "1 minute", minimumThroughput: 2 })
        })
        const policy: HttpProvider.Policy<any> = (self) => CircuitBreaker.protect(self, breaker)
        const snapshots = yield* scripted(
          [ScriptedHttpClient.streamed(["a", "b", "c"]), ScriptedHttpClient.streamed(["a", ScriptedHttpClient.cut])],
          (p) =>
            Effect.gen(function*() {
              yield* Stream.runDrain(p.stream.bytes("/a"))
              const afterSuccess = yield* breaker.snapshot
              yield* Effect.flip(Stream.runDrain(p.stream.bytes("/a")))
              return [afterSuccess, yield* breaker.snapshot]
            }),
          { policy }
        )
        expect(snapshots[0]).toMatchObject({ calls: 1, failures: 0 })
        expect(snapshots[1]).toMatchObject({ state: "open" })
      }).pipe(Effect.scoped))
  })

  describe("usage", () => {
    it.effect("the last usage an item reports is reported to the limiter around the call when the stream ends", () =>
      Effect.gen(function*() {
        const settled: Array<number> = []
        const sink = {
          observe: () => Effect.void,
          settle: (units: number) => Effect.sync(() => void settled.push(units))
        }
        // the adaptive limiter installs its sink around each attempt; this policy does only that
        const policy: HttpProvider.Policy<any> = (self) => Effect.locally(self, currentSink, Option.some(sink))
        const items = yield* scripted(
          [ScriptedHttpClient.streamed(sse(
            { data: "{\"text\":\"a\"}" },
            { data: "{\"text\":\"b\",\"usage\":10}" },
            { data: "{\"text\":\"\",\"usage\":42}" },
            { data: "[DONE]" }
          ))],
          (p) => Stream.runCollect(p.stream.eventsJson("/v1/chat", { item: Token, usage: (t) => t.usage })),
          { policy }
        )
        expect(Chunk.size(items)).toBe(3)
        expect(settled).toEqual([42])
      }))
  })

  describe("Timeout scopes", () => {
    const timeout = (scope: Timeout["scope"]) => new Timeout({ provider: "llm", scope, after: Duration.seconds(5) })

    it("first-byte and idle are outages for the breaker and retryable; total is neither", () => {
      expect([timeout("first-byte"), timeout("idle"), timeout("attempt"), timeout("total")].map(CircuitBreaker.isOutage))
        .toEqual([true, true, true, false])
      expect([timeout("first-byte"), timeout("idle"), timeout("attempt"), timeout("total")].map(Retry.isRetryable))
        .toEqual([true, true, true, false])
    })

    it("the new scopes round-trip through the Schema and say what ran out", () => {
      const idle = timeout("idle")
      expect(Schema.decodeUnknownSync(Timeout)(Schema.encodeSync(Timeout)(idle))).toEqual(idle)
      expect(idle.message).toBe("llm sent nothing for 5s in the middle of its answer (idle timeout)")
      expect(timeout("first-byte").message).toBe("llm did not answer within 5s (first-byte timeout)")
    })
  })
})
