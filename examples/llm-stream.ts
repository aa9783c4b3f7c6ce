/**
 * Streaming LLM tokens with resilience.
 *
 * A fake LLM runs on 127.0.0.1 and answers `POST /v1/chat` with server-sent events: one token per event,
 * each with an `id`, the token usage in the last event, then `[DONE]`. The first connection drops after
 * three tokens. The client streams the reply with `stream.eventsJson`: the idle limit watches for a stall,
 * `resume: "last-event-id"` reconnects after the cut from the last token it delivered (no token twice),
 * and the usage the stream reports last settles the adaptive limiter's up-front reservation
 * (`RateLimit.withCost`) to what the call really cost.
 *
 *   npx tsx examples/llm-stream.ts
 */
import { Console, Effect, Schema, Stream } from "effect"
import { Backoff, HttpProvider, RateLimit, Retry } from "effect-resilience"
import * as HttpProviderNode from "effect-resilience/HttpProviderNode"
import * as http from "node:http"
import type * as net from "node:net"

const tokens = ["Resilience ", "is ", "a ", "stream ", "that ", "keeps ", "its ", "place."]

/** The fake LLM: a token every 20 ms; the first connection is cut after three tokens. */
const fakeLlm = Effect.acquireRelease(
  Effect.async<{ readonly server: http.Server; readonly url: string }>((resume) => {
    let connections = 0
    const server = http.createServer((req, res) => {
      connections++
      const lastId = req.headers["last-event-id"]
      console.log(`  [llm] connection ${connections}${lastId === undefined ? "" : `, Last-Event-ID: ${lastId}`}`)
      res.writeHead(200, { "content-type": "text/event-stream" })
      let next = lastId === undefined ? 0 : Number(lastId) + 1
      const cutAt = connections === 1 ? 3 : Infinity
      const send = () => {
        if (next === cutAt) return res.socket?.destroy()
        if (next === tokens.length) {
          res.write(`data: {"text":"","usage":{"total_tokens":${12 + tokens.length}}}\n\n`)
          return res.end("data: [DONE]\n\n")
        }
        res.write(`id: ${next}\ndata: ${JSON.stringify({ text: tokens[next] })}\n\n`)
        next++
        setTimeout(send, 20)
      }
      send()
    })
    server.listen(0, "127.0.0.1", () =>
      resume(Effect.succeed({ server, url: `http://127.0.0.1:${(server.address() as net.AddressInfo).port}` })))
  }),
  ({ server }) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
)

const Delta = Schema.Struct({
  text: Schema.String,
  usage: Schema.optional(Schema.Struct({ total_tokens: Schema.Number }))
})

const program = Effect.gen(function*() {
  const { url } = yield* fakeLlm
  const limiter = yield* RateLimit.adaptive({ name: "llm", key: "org-1" })
  const llm = yield* HttpProvider.make({
    name: "llm",
    baseUrl: url,
    // each attempt reserves 100 tokens up front; the usage reported at the end settles it
    policy: (self) =>
      self.pipe(RateLimit.withCost(100), RateLimit.protect(limiter), Retry.transient({ times: 3, backoff: Backoff.constant("50 millis") }))
  })
  let reported: number | undefined
  const reply = llm.stream.eventsJson("/v1/chat", {
    request: Schema.Struct({ prompt: Schema.String }),
    body: { prompt: "What is resilience?" },
    idempotencyKey: "chat-1", // the POST may be re-sent to resume it
    item: Delta,
    resume: "last-event-id",
    firstByte: "5 seconds",
    idle: "2 seconds",
    usage: (delta) => (reported = delta.usage?.total_tokens)
  })
  yield* Console.log("reply:")
  const text = yield* Stream.runFold(reply, "", (all, delta) => {
    process.stdout.write(delta.text)
    return all + delta.text
  })
  yield* Console.log(`\n\nwhole reply, no token twice: ${text === tokens.join("")}`)
  yield* Console.log(`usage reported to the limiter at the end: ${reported} tokens (100 were reserved)`)
}).pipe(Effect.scoped, Effect.provide(HttpProviderNode.layerPool()))

Effect.runPromise(program).catch((error) => {
  console.error(error)
  process.exit(1)
})
