import * as HttpClient from "@effect/platform/HttpClient"
import * as HttpClientError from "@effect/platform/HttpClientError"
import type * as HttpClientRequest from "@effect/platform/HttpClientRequest"
import * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Cause from "effect/Cause"
import type * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Ref from "effect/Ref"
import * as Runtime from "effect/Runtime"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import type * as Api from "../../testing/ScriptedHttpClient.js"
import { type Check, invalid, nonNegativeDuration } from "../options.js"

/*
 * Transport failures copy what @effect/platform-node 0.108 produces on Node 20 (observed against a
 * closed 127.0.0.1 port, an `.invalid` host and a server that resets the socket):
 *
 *   RequestError { reason: "Transport", cause: Error { code, errno, syscall, message } }
 *
 *   refused: code "ECONNREFUSED", errno -111,  syscall "connect",     "connect ECONNREFUSED 127.0.0.1:<port>"
 *   reset:   code "ECONNRESET",   errno -104,  syscall "read",        "read ECONNRESET"
 *   dns:     code "ENOTFOUND",    errno -3008, syscall "getaddrinfo", "getaddrinfo ENOTFOUND <host>"
 *
 * The code sits on `cause` itself for NodeHttpClient.layer (node:http) and NodeHttpClient.layerUndici.
 * FetchHttpClient nests it one level deeper: cause is TypeError("fetch failed") and `cause.cause.code`
 * carries the code. A peer that closes the socket without RST after reading the request shows as
 * ECONNRESET "socket hang up" (no errno/syscall) under node:http but as undici's SocketError
 * { code: "UND_ERR_SOCKET", message: "other side closed" } under undici and fetch.
 */

const defaultPorts: Record<string, string> = { "http:": "80", "https:": "443" }

const systemError = (
  fields: { readonly code: string; readonly errno?: number | undefined; readonly syscall?: string | undefined },
  message: string,
  extra: Record<string, unknown> = {}
): Error => {
  const error = new Error(message) as Error & Record<string, unknown>
  if (fields.errno !== undefined) error.errno = fields.errno
  error.code = fields.code
  if (fields.syscall !== undefined) error.syscall = fields.syscall
  return Object.assign(error, extra)
}

const transportCause = (failure: Api.TransportFailure, url: URL): Error => {
  if (failure.message !== undefined) return systemError(failure, failure.message)
  const port = url.port === "" ? defaultPorts[url.protocol] ?? "" : url.port
  switch (failure.code) {
    case "ECONNREFUSED":
      return systemError(failure, `connect ECONNREFUSED ${url.hostname}:${port}`, {
        address: url.hostname,
        port: Number(port)
      })
    case "ENOTFOUND":
      return systemError(failure, `getaddrinfo ENOTFOUND ${url.hostname}`, { hostname: url.hostname })
    default:
      return systemError(failure, failure.syscall === undefined ? failure.code : `${failure.syscall} ${failure.code}`)
  }
}

export const respond = (
  status: number,
  body: string | undefined,
  headers: Record<string, string> = {},
  contentType = "application/json"
): Api.Step => {
  // a fetch Response cannot carry another status: refuse it when the script is written, not when it runs
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    return invalid({ module: "ScriptedHttpClient", option: "status" }, status, "an HTTP status from 200 to 599")
  }
  const lower: Record<string, string> = {}
  for (const [name, value] of Object.entries(headers)) lower[name.toLowerCase()] = value
  if (body !== undefined && lower["content-type"] === undefined) lower["content-type"] = contentType
  return { _tag: "Respond", status, headers: lower, body }
}

const encode = (body: unknown): string | undefined => body === undefined ? undefined : JSON.stringify(body)

export const ok = (body: unknown, options?: Api.OkOptions): Api.Step =>
  respond(options?.status ?? 200, encode(body), options?.headers)

export const text = (body: string, options?: Api.OkOptions): Api.Step =>
  respond(options?.status ?? 200, body, options?.headers, "text/plain")

const isDurationString = (input: string): boolean => {
  try {
    Duration.decode(input as Duration.DurationInput)
    return true
  } catch {
    return false
  }
}

// A duration is sent as (possibly fractional) delta-seconds; any other string is sent verbatim, so a test
// can script HTTP-dates and garbage. A negative or NaN duration is refused, not sent as "0".
export const retryAfterHeader = (check: Check, input: Duration.DurationInput | string): string =>
  typeof input === "string" && !isDurationString(input)
    ? input
    : String(Duration.toSeconds(nonNegativeDuration(check, input as Duration.DurationInput, Duration.infinity)))

export const status = (code: number, options?: Api.StatusOptions): Api.Step => {
  const headers: Record<string, string> = { ...options?.headers }
  if (options?.retryAfter !== undefined) {
    headers["retry-after"] = retryAfterHeader(
      { module: "ScriptedHttpClient.status", option: "retryAfter" },
      options.retryAfter
    )
  }
  return respond(code, encode(options?.body), headers)
}

const encoder = new TextEncoder()

export const streamed = (parts: Iterable<Api.Part | string | Uint8Array>, options?: Api.StreamedOptions): Api.Step => {
  // respond validates the status and lower-cases the headers; it always builds a Respond
  const head = respond(options?.status ?? 200, "", options?.headers, options?.contentType ?? "application/octet-stream") as Api.Respond
  const asPart = (part: Api.Part | string | Uint8Array): Api.Part =>
    typeof part === "string"
      ? { _tag: "Chunk", bytes: encoder.encode(part) }
      : part instanceof Uint8Array
      ? { _tag: "Chunk", bytes: part }
      : part
  return { _tag: "Streamed", status: head.status, headers: head.headers, parts: Array.from(parts, asPart) }
}

export const pause = (duration: Duration.DurationInput): Api.Part => ({
  _tag: "Pause",
  duration: nonNegativeDuration({ module: "ScriptedHttpClient.pause", option: "duration" }, duration)
})

export const cut: Api.Part = { _tag: "Cut" }

export const stall: Api.Part = { _tag: "Stall" }

/** A body part as the stream the client reads; a cut fails the read as Node reports a reset. */
const partStream = (part: Api.Part): Stream.Stream<Uint8Array, Error> => {
  switch (part._tag) {
    case "Chunk":
      return Stream.succeed(part.bytes)
    case "Pause":
      return Stream.drain(Stream.fromEffect(Effect.sleep(part.duration)))
    case "Cut":
      return Stream.fail(systemError({ code: "ECONNRESET", errno: -104, syscall: "read" }, "read ECONNRESET"))
    case "Stall":
      return Stream.never
  }
}

export const delay = (duration: Duration.DurationInput, step: Api.Step): Api.Step => ({
  _tag: "Delay",
  duration: nonNegativeDuration({ module: "ScriptedHttpClient.delay", option: "duration" }, duration),
  step
})

export const hang: Api.Step = { _tag: "Hang" }

export const transportError = (failure: Omit<Api.TransportFailure, "_tag">): Api.Step => ({
  _tag: "TransportFailure",
  ...failure
})

export const connectionRefused: Api.Step = transportError({ code: "ECONNREFUSED", errno: -111, syscall: "connect" })
export const connectionReset: Api.Step = transportError({ code: "ECONNRESET", errno: -104, syscall: "read" })
export const dnsFailure: Api.Step = transportError({ code: "ENOTFOUND", errno: -3008, syscall: "getaddrinfo" })

export const respondWith = (f: (request: Api.RecordedRequest) => Api.Step): Api.Step => ({ _tag: "Dynamic", f })

const decoder = new TextDecoder()

const bodyText = (
  request: HttpClientRequest.HttpClientRequest
): Effect.Effect<string | undefined, HttpClientError.RequestError> => {
  const body = request.body
  switch (body._tag) {
    case "Empty":
    case "FormData":
      return Effect.succeed(undefined)
    case "Uint8Array":
      return Effect.succeed(decoder.decode(body.body))
    case "Raw":
      return Effect.succeed(
        typeof body.body === "string"
          ? body.body
          : body.body instanceof Uint8Array
          ? decoder.decode(body.body)
          : String(body.body)
      )
    case "Stream":
      return body.stream.pipe(
        Stream.decodeText(),
        Stream.mkString,
        Effect.mapError((cause) => new HttpClientError.RequestError({ request, reason: "Encode", cause }))
      )
  }
}

const nullBodyStatus = (status: number): boolean => status === 204 || status === 205 || status === 304

/**
 * A scripted body as the web stream a client reads. Nothing runs before the first read (a body nobody
 * reads holds no fiber, no timer), one chunk is produced per read (high-water mark 0: nothing is read
 * ahead, so a cut cannot discard a chunk already queued), on `runtime` (TestClock included), and the
 * body stops when the request is aborted (its read interrupted, its scope closed) or the reader cancels:
 * a stalled or paused body never outlives its request, as a real client's socket does not.
 */
const bodyStream = (
  parts: Stream.Stream<Uint8Array, Error>,
  runtime: Runtime.Runtime<never>,
  signal: AbortSignal
): ReadableStream<Uint8Array> => {
  let puller: { readonly scope: Scope.CloseableScope; readonly pull: Effect.Effect<Chunk.Chunk<Uint8Array>, Option.Option<Error>> } | undefined
  let pulling: Fiber.RuntimeFiber<Chunk.Chunk<Uint8Array>, Option.Option<Error>> | undefined
  let stopped = false
  let reading: ReadableStreamDefaultController<Uint8Array> | undefined
  const stop = () => {
    if (stopped) return
    stopped = true
    // a read still waiting fails, as a real body's does when its request is aborted (a no-op once cancelled)
    reading?.error(signal.reason ?? new Error("the request was aborted"))
    const scope = puller?.scope
    Runtime.runFork(runtime)(Effect.zipRight(
      pulling === undefined ? Effect.void : Fiber.interrupt(pulling),
      scope === undefined ? Effect.void : Scope.close(scope, Exit.void)
    ))
  }
  signal.addEventListener("abort", stop, { once: true })
  return new ReadableStream<Uint8Array>({
    start: (controller) => {
      reading = controller
    },
    pull: (controller) => {
      if (stopped) return
      if (puller === undefined) {
        const scope = Runtime.runSync(runtime)(Scope.make())
        puller = { scope, pull: Runtime.runSync(runtime)(Scope.extend(Stream.toPull(parts), scope)) }
      }
      const fiber = pulling = Runtime.runFork(runtime)(puller.pull)
      return new Promise<void>((resolve) =>
        fiber.addObserver((exit) => {
          pulling = undefined
          // cancelled meanwhile: the controller is closed, nothing may be enqueued
          if (stopped) return resolve()
          if (Exit.isSuccess(exit)) {
            for (const bytes of exit.value) controller.enqueue(bytes)
          } else {
            const failure = Cause.failureOption(exit.cause)
            if (Option.isSome(failure) && Option.isSome(failure.value)) controller.error(failure.value.value)
            else controller.close()
            stop()
          }
          resolve()
        })
      )
    },
    cancel: stop
  }, { highWaterMark: 0 })
}

const run = (
  step: Api.Step,
  request: HttpClientRequest.HttpClientRequest,
  recorded: Api.RecordedRequest,
  url: URL,
  signal: AbortSignal
): Effect.Effect<HttpClientResponse.HttpClientResponse, HttpClientError.HttpClientError> => {
  switch (step._tag) {
    case "Respond":
      return Effect.sync(() =>
        HttpClientResponse.fromWeb(
          request,
          new Response(nullBodyStatus(step.status) ? null : step.body ?? null, {
            status: step.status,
            headers: step.headers
          })
        )
      )
    case "Delay":
      return Effect.zipRight(Effect.sleep(step.duration), run(step.step, request, recorded, url, signal))
    case "Hang":
      return Effect.never
    case "TransportFailure":
      return Effect.fail(
        new HttpClientError.RequestError({ request, reason: "Transport", cause: transportCause(step, url) })
      )
    case "Dynamic":
      return Effect.suspend(() => run(step.f(recorded), request, recorded, url, signal))
    case "Streamed":
      return Effect.map(Effect.runtime<never>(), (runtime) =>
        HttpClientResponse.fromWeb(
          request,
          new Response(
            nullBodyStatus(step.status)
              ? null
              : bodyStream(Stream.flatMap(Stream.fromIterable(step.parts), partStream), runtime, signal),
            { status: step.status, headers: step.headers }
          )
        ))
  }
}

interface State {
  readonly next: number
  readonly recorded: ReadonlyArray<Api.RecordedRequest>
}

export const make = (
  steps: Iterable<Api.Step>,
  options?: Api.Options
): Effect.Effect<Api.Service> =>
  Effect.gen(function*() {
    const script = Array.from(steps)
    const repeatLast = options?.onExhausted === "repeat-last"
    const state = yield* Ref.make<State>({ next: 0, recorded: [] })

    const client = HttpClient.make((request, url, signal) =>
      Effect.gen(function*() {
        const body = yield* bodyText(request)
        const at = yield* Clock.currentTimeMillis
        const recorded: Api.RecordedRequest = {
          method: request.method,
          url: url.toString(),
          headers: { ...request.headers },
          body,
          at
        }
        // Recording and taking the step happen in one update, so concurrent requests see the script in
        // the order they were recorded.
        const index = yield* Ref.modify(state, (s): [number, State] => [s.next, {
          next: s.next + 1,
          recorded: [...s.recorded, recorded]
        }])
        const step = index < script.length ? script[index] : repeatLast ? script[script.length - 1] : undefined
        if (step === undefined) {
          return yield* Effect.dieMessage(
            `ScriptedHttpClient: request #${index + 1} (${request.method} ${url.toString()}) ` +
              `but the script has ${script.length} step(s); add steps or use onExhausted: "repeat-last"`
          )
        }
        return yield* run(step, request, recorded, url, signal)
      })
    )

    return {
      client,
      requests: Effect.map(Ref.get(state), (s) => s.recorded),
      remaining: Effect.map(Ref.get(state), (s) => Math.max(0, script.length - s.next))
    }
  })
