import { describe, expect, it } from "@effect/vitest"
import { Cause, Effect, Exit, Logger, LogLevel, Ref, Schema, Stream, TestClock } from "effect"
import type { Scope } from "effect"
import * as Credentials from "../src/Credentials.js"
import { ClientError, InvalidResponse } from "../src/Errors.js"
import * as HttpProvider from "../src/HttpProvider.js"
import * as Retry from "../src/Retry.js"
import * as ScriptedHttpClient from "../src/testing/ScriptedHttpClient.js"
import { recordingTracer } from "./support/recordingTracer.js"

/**
 * A provider that echoes the credential it received, in one form or another, must not get it into
 * any channel an operator reads: the error (its message, JSON, `Cause.pretty`, its Schema encoding),
 * a log line, or a span (attributes, events, the exit it ended with).
 */

// A quote, a backslash, a slash, `+`, `=`, a run of spaces and HTML's specials: every escaping differs.
const secretBase = `sk_live_Qz7"K\\9/p+w=Xy41   <i>&'~end`
const excerptLength = 200

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64")
const base64url = (text: string) => Buffer.from(text, "utf8").toString("base64url")
const unpadded = (text: string) => text.replace(/=+$/, "")
const lowerHex = (text: string) => text.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase())
const formEncoded = (text: string) => new URLSearchParams({ k: text }).toString().slice("k=".length)
const jsonEscaped = (text: string) => JSON.stringify(text).slice(1, -1)

interface Form {
  readonly name: string
  readonly echo: (secret: string, scheme: string) => string
  /** The part of the echo that carries the secret (the echo itself unless given). */
  readonly sensitive?: (echo: string) => string
}

/** A document that quotes the Authorization header, sent back base64-encoded. */
const document = (secret: string, scheme: string) => `{"authorization":"${scheme} ${secret}","n":1}`
/** As PHP's `json_encode` with every `JSON_HEX_*` flag writes it: `\u0022`, `\u003C`, `\/`, upper-case hex. */
const hexEscaped = (text: string) =>
  text.replace(/[\\/"'<>&]/g, (c) =>
    c === "\\" || c === "/"
      ? `\\${c}`
      : `\\u${c.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")}`)

const forms: ReadonlyArray<Form> = [
  { name: "as sent", echo: (s) => s },
  { name: "JSON-escaped", echo: jsonEscaped },
  { name: "JSON \\u-escaped", echo: hexEscaped },
  { name: "URL-encoded", echo: (s) => `key=${encodeURIComponent(s)}` },
  { name: "URL-encoded, lower-case hex", echo: (s) => `key=${lowerHex(encodeURIComponent(s))}` },
  { name: "form-encoded", echo: (s) => `key=${formEncoded(s)}` },
  { name: "form-encoded, lower-case hex", echo: (s) => `key=${lowerHex(formEncoded(s))}` },
  { name: "base64", echo: base64 },
  { name: "base64 without padding", echo: (s) => unpadded(base64(s)) },
  { name: "base64url", echo: (s) => `${base64url(s)}${"=".repeat((4 - (base64url(s).length % 4)) % 4)}` },
  { name: "base64url without padding", echo: base64url },
  { name: "base64 of the Authorization header", echo: (s, scheme) => base64(`${scheme} ${s}`) },
  { name: "base64url of the Authorization header", echo: (s, scheme) => base64url(`${scheme} ${s}`) },
  {
    name: "base64 of a document holding it",
    echo: (s, scheme) => base64(document(s, scheme)),
    // the characters that carry the secret's bytes only (the document's head and tail are no secret)
    sensitive: (echo) => echo.slice(40, -16)
  },
  { name: "HTML-escaped", echo: (s) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`) },
  { name: "whitespace collapsed", echo: (s) => s.replace(/\s+/g, " ") },
  {
    name: "across the excerpt boundary",
    echo: (s) => `${"x".repeat(excerptLength - 50)}${s}`,
    sensitive: (echo) => echo.slice(-32)
  }
]

/** Every 12 characters of every form of a secret: finding one in a channel is a leak. */
const windowsOf = (secret: string, scheme: string): Array<{ readonly form: string; readonly window: string }> =>
  forms.flatMap((form) => {
    const echo = form.echo(secret, scheme)
    const text = form.sensitive === undefined ? echo : form.sensitive(echo)
    return Array.from(
      { length: Math.max(0, text.length - 11) },
      (_, i) => ({ form: form.name, window: text.slice(i, i + 12) })
    )
  })

const Charge = Schema.Struct({ id: Schema.String, amount: Schema.Number })

interface Answer {
  readonly name: string
  readonly step: (echo: string) => ScriptedHttpClient.Step
  readonly error: "ClientError" | "InvalidResponse"
  /** The call that gets the answer: a GET decoded with `Charge` unless given. */
  readonly call?: (provider: HttpProvider.HttpProvider<HttpProvider.RequestError>) => Effect.Effect<unknown, HttpProvider.RequestError>
}

/** An item that echoes the request in a field whose Schema it fails, as one line of JSON. */
const echoingItem = (echo: string) => JSON.stringify({ id: { key: echo }, amount: 1 })

const answers: ReadonlyArray<Answer> = [
  {
    name: "401",
    step: (echo) => ScriptedHttpClient.text(`{"error":"invalid api key","key":"${echo}"}`, { status: 401 }),
    error: "ClientError"
  },
  {
    name: "403",
    step: (echo) => ScriptedHttpClient.text(`{"error":"forbidden","key":"${echo}"}`, { status: 403 }),
    error: "ClientError"
  },
  // echoes the request in a field whose Schema it fails, so the parse issue quotes the value
  {
    name: "200 failing its Schema",
    step: (echo) => ScriptedHttpClient.ok({ id: { key: echo }, amount: 1 }),
    error: "InvalidResponse"
  },
  // the same in a streamed item: each item's issue is quoted as a whole response's is
  {
    name: "an ndjson item failing its Schema",
    step: (echo) => ScriptedHttpClient.streamed([`${echoingItem(echo)}\n`]),
    error: "InvalidResponse",
    call: (provider) => Stream.runDrain(provider.stream.ndjson("/v1/charges", { item: Charge }))
  },
  {
    name: "an SSE JSON item failing its Schema",
    step: (echo) => ScriptedHttpClient.streamed([`data: ${echoingItem(echo)}\n\n`]),
    error: "InvalidResponse",
    call: (provider) => Stream.runDrain(provider.stream.eventsJson("/v1/charges", { item: Charge }))
  }
]

/** One text an operator may read, and where it was found. */
interface Seen {
  readonly channel: string
  readonly text: string
}

const jsonOf = (u: unknown) => JSON.stringify(u, (_, value) => typeof value === "bigint" ? String(value) : value)

const encoded = (error: ClientError | InvalidResponse) =>
  error._tag === "ClientError" ? Schema.encodeSync(ClientError)(error) : Schema.encodeSync(InvalidResponse)(error)

/** Every text the errors, the log lines and the spans of one run put in front of an operator. */
const channelsOf = (
  errors: ReadonlyArray<ClientError | InvalidResponse>,
  lines: ReadonlyArray<string>,
  spans: ReadonlyArray<any>
): Array<Seen> => [
  ...errors.flatMap((error) => [
    { channel: "error message", text: error.message },
    { channel: "JSON.stringify(error)", text: JSON.stringify(error) },
    { channel: "Cause.pretty", text: Cause.pretty(Cause.fail(error)) },
    { channel: "Schema-encoded error", text: JSON.stringify(encoded(error)) }
  ]),
  ...lines.map((text) => ({ channel: "log", text })),
  ...spans.flatMap((span) => [
    { channel: "span name", text: String(span.name) },
    { channel: "span attributes", text: jsonOf([...span.attributes]) },
    { channel: "span events", text: jsonOf(span.events) },
    {
      channel: "span exit",
      text: span.status._tag === "Ended" && Exit.isFailure(span.status.exit) ? Cause.pretty(span.status.exit.cause) : ""
    }
  ])
]

interface Kind {
  readonly name: string
  readonly scheme: string
  readonly credentials: Effect.Effect<Credentials.Credentials, never, Scope.Scope>
  /** Requests to make; between them, a rotating source rotates. */
  readonly requests: number
}

const kinds: ReadonlyArray<Kind> = [
  {
    name: "fixed",
    scheme: "Bearer",
    credentials: Effect.succeed(Credentials.fixed(secretBase)),
    requests: 1
  },
  {
    name: "rotating",
    scheme: "Token",
    credentials: Effect.flatMap(Ref.make(0), (version) =>
      Credentials.rotating({
        fetch: Effect.map(Ref.updateAndGet(version, (n) => n + 1), (n) => `${secretBase}-v${n}`),
        every: "1 hour"
      })).pipe(Effect.orDie),
    requests: 2
  }
]

describe("HttpProvider secrets", () => {
  describe.each(kinds)("$name credentials", (kind) => {
    describe.each(answers)("$name echoing the secret", (answer) => {
      it.effect.each(forms)("$name - cut from errors, logs and spans", (form) =>
        Effect.gen(function*() {
          const lines: Array<string> = []
          const logger = Logger.make(({ annotations, cause, message }) => {
            lines.push(jsonOf({ message, cause: Cause.pretty(cause), annotations: [...annotations] }))
          })
          const { recording, spans } = yield* recordingTracer
          const credentials = yield* kind.credentials
          const prefix = `${kind.scheme} `
          const carried: Array<string> = []
          // the provider echoes whichever secret the request carried
          const echoing = ScriptedHttpClient.respondWith((request) => {
            const secret = request.headers.authorization!.slice(prefix.length)
            carried.push(secret)
            return answer.step(form.echo(secret, kind.scheme))
          })
          const errors: Array<HttpProvider.RequestError> = []
          yield* Effect.gen(function*() {
            const provider = yield* HttpProvider.make({
              name: "payments",
              baseUrl: "https://payments.test",
              credentials,
              credentialsScheme: kind.scheme,
              excerptLength,
              policy: Retry.transient({ times: 2 })
            })
            for (let n = 0; n < kind.requests; n++) {
              if (n > 0) yield* TestClock.adjust("1 hour")
              const call = answer.call?.(provider) ??
                provider.get("/v1/charges/{id}", { params: { id: "ch_1" }, response: Charge })
              const error = yield* call.pipe(
                Effect.tapErrorCause(Effect.logError),
                Effect.withSpan("checkout"),
                Effect.flip
              )
              errors.push(error)
            }
          }).pipe(
            Effect.provide(ScriptedHttpClient.layer([echoing], { onExhausted: "repeat-last" })),
            Effect.withTracer(recording),
            Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
            Logger.withMinimumLogLevel(LogLevel.All)
          )
          // a rotating source rotated between the requests, and after each 401: every request had its own secret
          const sent = kind.name === "fixed" ? 1 : answer.name === "401" ? 4 : 2
          expect(new Set(carried).size).toBe(sent)
          expect(carried).toHaveLength(sent)
          expect(errors.map((error) => error._tag)).toEqual(Array(kind.requests).fill(answer.error))

          const texts = channelsOf(errors as Array<ClientError | InvalidResponse>, lines, spans)
          const leaks = new Set<string>()
          for (const [index, secret] of carried.entries()) {
            for (const { form: leaked, window } of windowsOf(secret, kind.scheme)) {
              for (const { channel, text } of texts) {
                if (text.includes(window)) leaks.add(`secret ${index + 1} ${leaked} in ${channel}`)
              }
            }
          }
          expect([...leaks]).toEqual([])
          expect(texts.some(({ text }) => text.includes("<redacted>"))).toBe(true)
        }).pipe(Effect.scoped))
    })
  })
})
