import type { HttpClient } from "@effect/platform"
import { Effect, Schema } from "effect"
import type { Stream } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import type {
  BulkheadFull,
  CircuitOpen,
  ClientError,
  InvalidOptions,
  InvalidRequest,
  InvalidResponse,
  RateLimited,
  Timeout,
  Unavailable
} from "../../src/Errors.js"
import * as HttpProvider from "../../src/HttpProvider.js"

type Documented = RateLimited | Unavailable | Timeout | ClientError | InvalidRequest | InvalidResponse

declare const plain: HttpProvider.HttpProvider<HttpProvider.RequestError>
declare const byDefault: HttpProvider.HttpProvider
/** A client whose policy handles every RateLimited (a fallback): the streams' E follows the policy. */
declare const handled: HttpProvider.HttpProvider<Exclude<Documented, RateLimited>>

const Token = Schema.Struct({ text: Schema.String, usage: Schema.optional(Schema.Number) })
const Prompt = Schema.Struct({ prompt: Schema.String })

describe("HttpProvider.stream", () => {
  it("every stream fails with the client's E plus InvalidRequest and Timeout, and needs nothing", () => {
    expectTypeOf(plain.stream.bytes("/file")).toEqualTypeOf<Stream.Stream<Uint8Array, Documented, never>>()
    expectTypeOf(plain.stream.lines("/log")).toEqualTypeOf<Stream.Stream<string, Documented, never>>()
    expectTypeOf(plain.stream.events("/feed")).toEqualTypeOf<
      Stream.Stream<HttpProvider.ServerSentEvent, Documented, never>
    >()
    expectTypeOf(byDefault.stream.bytes("/file")).toEqualTypeOf<
      Stream.Stream<Uint8Array, Documented | CircuitOpen | BulkheadFull, never>
    >()
  })

  it("a policy that handles an error removes it from the streams too; Timeout stays for the total limit", () => {
    expectTypeOf(handled.stream.bytes("/file")).toEqualTypeOf<
      Stream.Stream<Uint8Array, Exclude<Documented, RateLimited>, never>
    >()
  })

  it("items are the item Schema's type", () => {
    const items = plain.stream.eventsJson("/v1/chat", {
      request: Prompt,
      body: { prompt: "hi" },
      item: Token,
      usage: (token) => token.usage
    })
    expectTypeOf(items).toEqualTypeOf<
      Stream.Stream<{ readonly text: string; readonly usage?: number | undefined }, Documented, never>
    >()
    expectTypeOf(plain.stream.ndjson("/export", { item: Token })).toEqualTypeOf<
      Stream.Stream<{ readonly text: string; readonly usage?: number | undefined }, Documented, never>
    >()
  })

  it("the body must match the request Schema", () => {
    // @ts-expect-error: prompt must be a string
    plain.stream.events("/v1/chat", { request: Prompt, body: { prompt: 1 } })
  })

  it("resume is offered only where it works: range for bytes, last-event-id for events", () => {
    plain.stream.bytes("/file", { resume: "range" })
    plain.stream.events("/feed", { resume: "last-event-id" })
    plain.stream.eventsJson("/feed", { item: Token, resume: "last-event-id" })
    // @ts-expect-error: bytes resume by range only
    plain.stream.bytes("/file", { resume: "last-event-id" })
    // @ts-expect-error: events resume by last-event-id only
    plain.stream.events("/feed", { resume: "range" })
    // @ts-expect-error: lines cannot resume
    plain.stream.lines("/log", { resume: "range" })
    // @ts-expect-error: NDJSON cannot resume
    plain.stream.ndjson("/export", { item: Token, resume: "range" })
  })

  it("usage reads the item type", () => {
    plain.stream.eventsJson("/v1/chat", {
      item: Token,
      usage: (token) => {
        expectTypeOf(token).toEqualTypeOf<{ readonly text: string; readonly usage?: number | undefined }>()
        return token.usage
      }
    })
  })

  it("streamPolicy has the request policy's type", () => {
    const policy: HttpProvider.Policy = (self) => self
    expectTypeOf(HttpProvider.make({ name: "llm", baseUrl: "https://llm.test", policy, streamPolicy: policy }))
      .toEqualTypeOf<
        Effect.Effect<HttpProvider.HttpProvider<HttpProvider.RequestError>, InvalidOptions, HttpClient.HttpClient>
      >()
    const narrower: HttpProvider.Policy<Exclude<Documented, RateLimited>> = (self) =>
      Effect.catchTag(self, "RateLimited", () => Effect.die("handled"))
    // @ts-expect-error: a stream policy must give the same errors as the request policy
    HttpProvider.make({ name: "llm", baseUrl: "https://llm.test", policy: narrower, streamPolicy: policy })
  })
})
