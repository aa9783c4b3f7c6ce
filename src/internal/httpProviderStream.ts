import * as Sse from "@effect/experimental/Sse"
import type * as HttpClientResponse from "@effect/platform/HttpClientResponse"
import * as Chunk from "effect/Chunk"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Mailbox from "effect/Mailbox"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import * as Stream from "effect/Stream"
import { InvalidRequest, InvalidResponse, Timeout } from "../Errors.js"
import type * as HttpProvider from "../HttpProvider.js"
import type { Receiver, RunWith } from "./httpProvider.js"
import { formatIssue, fromClientError } from "./httpProviderTransport.js"
import { fn, invalid, positiveDuration, validated } from "./options.js"
import { reportUsage } from "./rateLimit/adaptiveSink.js"

/**
 * Streaming requests. The policy guards one effect per attempt; for a stream that effect is the pump
 * that moves the body into a small mailbox the consumer reads, so every guard (bulkhead slot, breaker
 * permit, connection) is held until the stream ends, and the consumer stopping early interrupts the
 * pump, which gives them back as an interruption (neither a success nor a failure). At most `window`
 * items wait for the consumer and the body is pulled only when the pump can hand one over, so a slow
 * consumer slows the socket. An item is recorded (the resume point, the usage) in the step that hands
 * it over: a pump interrupted while it waits for room (an attempt timeout meeting a slow consumer) has
 * recorded exactly what the consumer will get, so a resume neither skips nor repeats anything.
 *
 * After the first item reached the consumer, another attempt would deliver it twice: it is either a
 * resume (a `Range` or `Last-Event-ID` request continuing where the consumer is) or refused, and the
 * consumer is failed at once rather than after the retry's backoff.
 */

type Failure = HttpProvider.RequestError

const defaults = {
  firstByte: Duration.seconds(10),
  idle: Duration.seconds(30)
}

/** Items buffered between the pump and the consumer: the back-pressure window. */
const window = 8

/** Where an interrupted stream stands, and how to continue it. */
interface Progress {
  delivered: boolean
  bytes: number
  lastEventId: string | undefined
  validator: string | undefined
  /** How the last attempt ended, when it failed or was interrupted: what a refused attempt fails with. */
  lastError: Failure | undefined
  /** When the current attempt started, on the `Clock`. */
  attemptStartedAt: number
  usage: number | undefined
}

/**
 * How a body becomes items, and how (if at all) a cut stream continues. `decode` gives what the
 * consumer gets (`item`) with what is recorded when it is handed over (`handed`): the byte count of a
 * download, the id of an event.
 */
interface Format<A, I> {
  readonly accept: string
  readonly decode: (
    body: Stream.Stream<Uint8Array, Failure>,
    response: HttpClientResponse.HttpClientResponse,
    progress: Progress,
    clean: (line: string) => string
  ) => Stream.Stream<I, Failure>
  readonly item: (decoded: I) => A
  readonly handed: (progress: Progress, decoded: I) => void
  readonly resumable: (progress: Progress) => boolean
  readonly resumeHeaders: (progress: Progress) => Readonly<Record<string, string>>
}

const itself = <A>(decoded: A): A => decoded
const nothingToRecord = (): void => {}

interface Limits {
  readonly firstByte: Duration.Duration
  readonly idle: Duration.Duration
  readonly total: Duration.Duration | undefined
}

const limitsOf = (options: HttpProvider.StreamOptions<any, any>): Limits => {
  const check = (option: string) => ({ module: "HttpProvider.stream", option })
  const at = (option: "firstByte" | "idle" | "total") => positiveDuration(check(option), options[option]!)
  return {
    firstByte: options.firstByte === undefined ? defaults.firstByte : at("firstByte"),
    idle: options.idle === undefined ? defaults.idle : at("idle"),
    total: options.total === undefined ? undefined : at("total")
  }
}

/**
 * The body with the first-byte and idle limits applied to each pull from the socket, so time spent
 * waiting on the consumer never counts against the provider.
 */
const limited = (
  provider: string,
  body: Stream.Stream<Uint8Array, Failure>,
  limits: Limits,
  firstByteLeft: Duration.Duration
): Stream.Stream<Uint8Array, Failure> =>
  Stream.unwrapScoped(Effect.map(Stream.toPull(body), (pull) => {
    let started = false
    return Stream.repeatEffectChunkOption(Effect.suspend(() => {
      const [duration, error] = started
        ? [limits.idle, new Timeout({ provider, scope: "idle", after: limits.idle })]
        : [firstByteLeft, new Timeout({ provider, scope: "first-byte", after: limits.firstByte })]
      return pull.pipe(
        Effect.timeoutFail({ duration, onTimeout: () => Option.some(error) }),
        Effect.tap((chunk) => {
          if (Chunk.some(chunk, (bytes) => bytes.length > 0)) started = true
        })
      )
    }))
  }))

const invalidResponse = (provider: string, response: HttpClientResponse.HttpClientResponse, issue: string) =>
  new InvalidResponse({ provider, status: response.status, issue })

/** The first `count` bytes of a stream dropped: a server that ignored `Range` re-sends from the start. */
const dropBytes = (body: Stream.Stream<Uint8Array, Failure>, count: number): Stream.Stream<Uint8Array, Failure> =>
  Stream.suspend(() => {
    let left = count
    return Stream.filterMap(body, (bytes) => {
      if (left === 0) return Option.some(bytes)
      const skip = Math.min(left, bytes.length)
      left -= skip
      return skip === bytes.length ? Option.none() : Option.some(bytes.subarray(skip))
    })
  })

/** A strong validator for `If-Range`: a weak ETag may not be used there. */
const validatorOf = (headers: Readonly<Record<string, string>>): string | undefined => {
  const etag = headers["etag"]
  if (etag !== undefined && !etag.startsWith("W/")) return etag
  return headers["last-modified"]
}

const bytes = (provider: string, resume: "range" | undefined): Format<Uint8Array, Uint8Array> => ({
  accept: "*/*",
  decode: (body, response, progress) => {
    if (progress.bytes === 0) {
      if (resume === "range") progress.validator = validatorOf(response.headers)
      return body
    }
    // a resumed attempt: the answer must continue exactly where the consumer is
    const offset = progress.bytes
    if (response.status === 206) {
      const start = /^bytes (\d+)-/.exec(response.headers["content-range"] ?? "")?.[1]
      return start !== undefined && Number(start) === offset
        ? body
        : Stream.fail(invalidResponse(provider, response, `a resumed download answered a range not starting at byte ${offset}`))
    }
    return progress.validator === undefined
      ? dropBytes(body, offset)
      : Stream.fail(invalidResponse(provider, response, "the resource changed since the download started; it cannot be resumed"))
  },
  item: itself,
  handed: (progress, chunk) => {
    progress.bytes += chunk.length
  },
  resumable: () => resume === "range",
  resumeHeaders: (progress) =>
    progress.bytes === 0 ? {} : {
      range: `bytes=${progress.bytes}-`,
      ...(progress.validator === undefined ? {} : { "if-range": progress.validator })
    }
})

const text = (body: Stream.Stream<Uint8Array, Failure>) => Stream.decodeText(body)

const splitLines = (body: Stream.Stream<Uint8Array, Failure>) => Stream.splitLines(text(body))

const lines: Format<string, string> = {
  accept: "*/*",
  decode: splitLines,
  item: itself,
  handed: nothingToRecord,
  resumable: () => false,
  resumeHeaders: () => ({})
}

/** Server-sent events, parsed by @effect/experimental's parser; `retry:` fields are ignored. */
const parseEvents = (
  provider: string,
  body: Stream.Stream<Uint8Array, Failure>,
  response: HttpClientResponse.HttpClientResponse,
  clean: (line: string) => string
) =>
  Stream.suspend(() => {
    let parsed: Array<HttpProvider.ServerSentEvent> = []
    const parser = Sse.makeParser((event) => {
      if (event._tag === "Event") parsed.push({ event: event.event, id: event.id, data: event.data })
    })
    return Stream.mapChunksEffect(text(body), (chunk) =>
      Effect.suspend(() => {
        for (const piece of chunk) {
          const error = parser.feed(piece)
          if (error !== undefined) return Effect.fail(invalidResponse(provider, response, clean(error.message)))
        }
        const out = parsed
        parsed = []
        return Effect.succeed(Chunk.unsafeFromArray(out))
      }))
  })

const events = (
  provider: string,
  resume: "last-event-id" | undefined
): Format<HttpProvider.ServerSentEvent, HttpProvider.ServerSentEvent> => ({
  accept: "text/event-stream",
  decode: (body, response, _, clean) => parseEvents(provider, body, response, clean),
  item: itself,
  handed: handedEvent,
  resumable: (progress) => resume === "last-event-id" && progress.lastEventId !== undefined,
  resumeHeaders: (progress) => progress.lastEventId === undefined ? {} : { "last-event-id": progress.lastEventId }
})

const handedEvent = (progress: Progress, event: { readonly id: string | undefined }): void => {
  if (event.id !== undefined) progress.lastEventId = event.id
}

/**
 * One JSON text decoded with the item Schema. The issue is formatted as a whole response's is, each
 * line through `clean`: an item may echo the credentials, and it is quoted as the "actual".
 */
const decodeItem = <A, I>(
  provider: string,
  schema: Schema.Schema<A, I>,
  response: HttpClientResponse.HttpClientResponse,
  clean: (line: string) => string
) => {
  const decode = Schema.decodeUnknownEither(schema)
  return (json: string): Effect.Effect<A, Failure> => {
    let value: unknown
    try {
      value = JSON.parse(json)
    } catch {
      return Effect.fail(invalidResponse(provider, response, "an item is not JSON"))
    }
    return Either.match(decode(value, { errors: "all" }), {
      onLeft: (error) => Effect.fail(invalidResponse(provider, response, formatIssue(error, clean))),
      onRight: Effect.succeed
    })
  }
}

const ndjson = <A, I>(provider: string, schema: Schema.Schema<A, I>): Format<A, A> => ({
  accept: "application/x-ndjson",
  decode: (body, response, _, clean) =>
    splitLines(body).pipe(
      Stream.filter((line) => line.trim() !== ""),
      Stream.mapEffect(decodeItem(provider, schema, response, clean))
    ),
  item: itself,
  handed: nothingToRecord,
  resumable: () => false,
  resumeHeaders: () => ({})
})

/** An event's decoded data, with its id: the resume point once the consumer has it. */
interface DecodedEvent<A> {
  readonly id: string | undefined
  readonly value: A
}

const eventsJson = <A, I>(
  provider: string,
  schema: Schema.Schema<A, I>,
  resume: "last-event-id" | undefined
): Format<A, DecodedEvent<A>> => {
  const format = events(provider, resume)
  return {
    ...format,
    decode: (body, response, progress, clean) => {
      const decode = decodeItem(provider, schema, response, clean)
      return format.decode(body, response, progress, clean).pipe(
        Stream.takeWhile((event) => event.data !== "[DONE]"),
        Stream.mapEffect((event) => Effect.map(decode(event.data), (value) => ({ id: event.id, value })))
      )
    },
    item: (decoded) => decoded.value,
    handed: handedEvent
  }
}

/** A stream of `format`'s items, its request run through `run` (and so through the policy). */
const streamOf = <A, I, E>(
  run: RunWith<E>,
  provider: string,
  path: string,
  options: HttpProvider.StreamOptions<any, any> & HttpProvider.UsageOptions<A>,
  formatOf: () => Format<A, I>
): Stream.Stream<A, E | InvalidRequest | Timeout> =>
  Stream.unwrapScoped(Effect.gen(function*() {
    // bad stream options are this request's fault: nothing is sent
    const { format, limits } = yield* validated(() => {
      if (options.usage !== undefined) fn({ module: "HttpProvider.stream", option: "usage" }, options.usage)
      return { format: formatOf(), limits: limitsOf(options) }
    }).pipe(Effect.mapError((error) => new InvalidRequest({ provider, issue: error.message })))
    const usage = options.usage
    // unbounded: `room` keeps it to `window` items, so that handing an item over is one synchronous step
    const mailbox = yield* Mailbox.make<A, E | InvalidRequest | Timeout>()
    const room = yield* Effect.makeLatch(true)
    let waiting = 0
    const progress: Progress = {
      delivered: false,
      bytes: 0,
      lastEventId: undefined,
      validator: undefined,
      lastError: undefined,
      attemptStartedAt: 0,
      usage: undefined
    }

    /**
     * Hands `chunk`'s items to the consumer, waiting for room when `window` items already wait. Each is
     * recorded in the step that hands it over, so an interruption while waiting loses nothing.
     */
    const handOver = (chunk: Chunk.Chunk<I>): Effect.Effect<void> => {
      const decoded = Chunk.toReadonlyArray(chunk)
      let next = 0
      const step: Effect.Effect<void> = Effect.suspend(() => {
        for (; next < decoded.length; next++) {
          if (waiting >= window) {
            room.unsafeClose()
            return Effect.zipRight(room.await, step)
          }
          const item = format.item(decoded[next]!)
          // false once the stream has ended: the consumer is gone
          if (!mailbox.unsafeOffer(item)) return Effect.void
          waiting++
          progress.delivered = true
          format.handed(progress, decoded[next]!)
          if (usage !== undefined) progress.usage = usage(item) ?? progress.usage
        }
        return Effect.void
      })
      return step
    }

    /** An attempt ended without its output: output already delivered and no way to continue it fails the consumer now. */
    const attemptEnded = (error: Failure) =>
      Effect.suspend(() => {
        progress.lastError = error
        return progress.delivered && !format.resumable(progress) ? mailbox.fail(error as E) : Effect.void
      })

    const receiver: Receiver<void> = {
      accept: format.accept,
      firstByte: limits.firstByte,
      refusal: Effect.map(Clock.currentTimeMillis, (now) => {
        progress.attemptStartedAt = now
        return progress.delivered && !format.resumable(progress) ? Option.fromNullable(progress.lastError) : Option.none()
      }),
      resumeHeaders: Effect.sync(() => format.resumeHeaders(progress)),
      receive: (response, firstByteLeft, clean) => {
        const body = limited(
          provider,
          Stream.mapError(response.stream, (error) => fromClientError(provider, error)),
          limits,
          firstByteLeft
        )
        return format.decode(body, response, progress, clean).pipe(
          Stream.runForEachChunk(handOver),
          Effect.zipRight(Effect.suspend(() => progress.usage === undefined ? Effect.void : reportUsage(progress.usage))),
          Effect.tapError(attemptEnded),
          // an attempt interrupted while the stream goes on was cut by the policy: its attempt timeout
          Effect.onInterrupt(() =>
            Effect.flatMap(Clock.currentTimeMillis, (now) =>
              attemptEnded(
                new Timeout({ provider, scope: "attempt", after: Duration.millis(now - progress.attemptStartedAt) })
              ))
          )
        )
      }
    }
    const method = options.method ?? (options.request === undefined ? "GET" : "POST")
    yield* run(method, path, options, receiver).pipe(Mailbox.into(mailbox), Effect.forkScoped)
    const items = Stream.mapChunks(Mailbox.toStream(mailbox), (taken) => {
      waiting -= taken.length
      room.unsafeOpen()
      return taken
    })
    const total = limits.total
    return total === undefined ? items : Stream.interruptWhen(
      items,
      Effect.zipRight(Effect.sleep(total), Effect.fail(new Timeout({ provider, scope: "total", after: total })))
    )
  }))

const resumeOf = <R extends string>(module: string, resume: R | undefined, allowed: R): R | undefined =>
  resume === undefined || resume === allowed ? resume : invalid({ module, option: "resume" }, resume, `"${allowed}"`)

/** @internal */
export const streams = <E>(run: RunWith<E>, provider: string): HttpProvider.Streams<E> => ({
  bytes: (path, options = {}) =>
    streamOf(run, provider, path, options, () => bytes(provider, resumeOf("HttpProvider.stream.bytes", options.resume, "range"))),
  lines: (path, options = {}) => streamOf(run, provider, path, options, () => lines),
  events: (path, options = {}) =>
    streamOf(
      run,
      provider,
      path,
      options,
      () => events(provider, resumeOf("HttpProvider.stream.events", options.resume, "last-event-id"))
    ),
  ndjson: (path, options) => streamOf(run, provider, path, options, () => ndjson(provider, options.item)),
  eventsJson: (path, options) =>
    streamOf(
      run,
      provider,
      path,
      options,
      () => eventsJson(provider, options.item, resumeOf("HttpProvider.stream.eventsJson", options.resume, "last-event-id"))
    )
})
