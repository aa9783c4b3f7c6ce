import { Effect } from "effect"
import * as http from "node:http"
import type * as net from "node:net"

/**
 * A real HTTP server on 127.0.0.1 for streaming tests and the streaming benchmark: a body that stalls,
 * one whose connection drops, a resumable download (`Range`), a resumable event stream
 * (`Last-Event-ID`), and a large body written only as fast as the socket drains (so `written` minus
 * what the client consumed is what sits in buffers).
 */
export interface StreamingServer {
  readonly url: string
  /** Bytes of `/big` written into the socket so far. */
  readonly written: () => number
  /** Requests received, with their resume headers. */
  readonly requests: ReadonlyArray<{ readonly path: string; readonly range?: string; readonly lastEventId?: string }>
}

/** The content of `/download`: 1,000 bytes, `0123456789` repeated. */
export const downloadBody = "0123456789".repeat(100)

const chunkSize = 64 * 1024

export const make = Effect.acquireRelease(
  Effect.async<{ server: http.Server; state: StreamingServer & { bytes: number } }>((resume) => {
    const requests: Array<{ path: string; range?: string; lastEventId?: string }> = []
    const state = {
      url: "",
      bytes: 0,
      written: () => state.bytes,
      requests
    }
    const server = http.createServer((req, res) => {
      const url = new URL(req.url ?? "/", "http://127.0.0.1")
      const range = req.headers.range
      const lastEventId = req.headers["last-event-id"] as string | undefined
      requests.push({
        path: url.pathname,
        ...(range === undefined ? {} : { range }),
        ...(lastEventId === undefined ? {} : { lastEventId })
      })
      switch (url.pathname) {
        case "/stall":
          res.writeHead(200, { "content-type": "application/octet-stream" })
          res.write("first")
          return // never ends: the client's idle limit must
        case "/drop":
          res.writeHead(200, { "content-type": "application/octet-stream" })
          res.write("first", () => setTimeout(() => res.socket?.destroy(), 20))
          return
        case "/download": {
          const start = range === undefined ? 0 : Number(/bytes=(\d+)-/.exec(range)?.[1] ?? 0)
          const rest = downloadBody.slice(start)
          if (start === 0) {
            // the first answer breaks half way
            res.writeHead(200, { "content-length": String(rest.length), etag: "\"v1\"" })
            res.write(rest.slice(0, 400), () => setTimeout(() => res.socket?.destroy(), 20))
            return
          }
          res.writeHead(206, {
            "content-length": String(rest.length),
            "content-range": `bytes ${start}-${downloadBody.length - 1}/${downloadBody.length}`,
            etag: "\"v1\""
          })
          res.end(rest)
          return
        }
        case "/events": {
          res.writeHead(200, { "content-type": "text/event-stream" })
          const from = lastEventId === undefined ? 1 : Number(lastEventId) + 1
          const last = lastEventId === undefined ? 2 : 4
          for (let id = from; id <= last; id++) res.write(`id: ${id}\ndata: {"n":${id}}\n\n`)
          if (lastEventId === undefined) {
            res.write("id: 3\ndata: {\"n\"", () => setTimeout(() => res.socket?.destroy(), 20))
            return
          }
          res.end("data: [DONE]\n\n")
          return
        }
        case "/big": {
          const total = Number(url.searchParams.get("mb") ?? "1") * 1024 * 1024
          const chunk = Buffer.alloc(chunkSize, 120)
          res.writeHead(200, { "content-type": "application/octet-stream", "content-length": String(total) })
          const pump = () => {
            while (state.bytes < total) {
              const size = Math.min(chunkSize, total - state.bytes)
              state.bytes += size
              if (!res.write(size === chunkSize ? chunk : chunk.subarray(0, size))) return res.once("drain", pump)
            }
            res.end()
          }
          pump()
          return
        }
        default:
          res.writeHead(404).end()
      }
    })
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo
      state.url = `http://127.0.0.1:${port}`
      resume(Effect.succeed({ server, state }))
    })
  }),
  ({ server }) =>
    Effect.async<void>((resume) => {
      server.closeAllConnections()
      server.close(() => resume(Effect.void))
    })
).pipe(Effect.map(({ state }): StreamingServer => state))
