import type * as PersistedQueue from "@effect/experimental/PersistedQueue"
import { Context, type Duration, Effect, Layer, Schema } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import type { ClientError, InvalidOptions, Unavailable } from "../../src/Errors.js"
import * as QueueForLater from "../../src/QueueForLater.js"
import * as QueueForLaterRedis from "../../src/QueueForLaterRedis.js"

class Payments extends Context.Tag("test/Payments")<Payments, { readonly token: string }>() {}
const Charge = Schema.Struct({ orderId: Schema.String, cents: Schema.Int })
declare const write: (
  charge: typeof Charge.Type,
  idempotencyKey: string
) => Effect.Effect<{ readonly id: string }, Unavailable | ClientError, Payments>
type Queue = QueueForLater.QueueForLater<typeof Charge.Type, { readonly id: string }, Unavailable | ClientError, Payments>
class Charges extends Context.Tag("test/Charges")<Charges, Queue>() {}
declare const queue: Queue

describe("QueueForLater", () => {
  it("make may fail with InvalidOptions and needs nothing; its types come from the schema and the write", () => {
    expectTypeOf(QueueForLater.make({ name: "charges", schema: Charge, write })).toEqualTypeOf<
      Effect.Effect<Queue, InvalidOptions>
    >()
  })

  it("submit keeps the write's E and R and marks the answer Done or Pending", () => {
    expectTypeOf(queue.submit({ orderId: "o", cents: 1 }, "k")).toEqualTypeOf<
      Effect.Effect<QueueForLater.Result<{ readonly id: string }>, Unavailable | ClientError, Payments>
    >()
    const result = {} as QueueForLater.Result<{ readonly id: string }>
    if (result._tag === "Pending") expectTypeOf(result.idempotencyKey).toEqualTypeOf<string>()
    else expectTypeOf(result.value).toEqualTypeOf<{ readonly id: string }>()
    // @ts-expect-error a Result may be pending: it has no value until narrowed
    void result.value
  })

  it("the worker never fails and needs the write's R; the dead letters may fail with store errors only", () => {
    expectTypeOf(queue.worker).toEqualTypeOf<Effect.Effect<never, never, Payments>>()
    expectTypeOf(queue.deadLetters).toEqualTypeOf<
      Effect.Effect<ReadonlyArray<QueueForLater.DeadLetter<typeof Charge.Type>>, QueueForLater.QueueStoreError>
    >()
    expectTypeOf(queue.replay("k")).toEqualTypeOf<
      Effect.Effect<QueueForLater.Pending, QueueForLater.QueueStoreError | QueueForLater.DeadLetterNotFound>
    >()
    expectTypeOf(queue.enqueue({ orderId: "o", cents: 1 }, "k")).toEqualTypeOf<
      Effect.Effect<QueueForLater.Pending, QueueForLater.QueueStoreError>
    >()
  })

  it("rememberIds takes a duration and leaves the queue's types as they are", () => {
    expectTypeOf<QueueForLater.QueueForLater.Options<string, string, void, never, never>["rememberIds"]>()
      .toEqualTypeOf<Duration.DurationInput | undefined>()
    expectTypeOf(QueueForLater.make({ name: "charges", schema: Charge, write, rememberIds: "30 days" })).toEqualTypeOf<
      Effect.Effect<Queue, InvalidOptions>
    >()
    // @ts-expect-error a duration needs its unit
    QueueForLater.make({ name: "charges", schema: Charge, write, rememberIds: "7" })
  })

  it("submit accepts only the queue's item type", () => {
    // @ts-expect-error cents is missing
    queue.submit({ orderId: "o" }, "k")
  })

  it("layers: the queue needs nothing, its worker needs the queue and the write's R", () => {
    expectTypeOf(QueueForLater.layer(Charges, { name: "charges", schema: Charge, write })).toEqualTypeOf<
      Layer.Layer<Charges, InvalidOptions>
    >()
    expectTypeOf(QueueForLater.layerWorker(Charges)).toEqualTypeOf<Layer.Layer<never, never, Charges | Payments>>()
    expectTypeOf(QueueForLaterRedis.layerStore()).toEqualTypeOf<
      Layer.Layer<PersistedQueue.PersistedQueueStore | QueueForLater.DeadLetterStore, InvalidOptions>
    >()
  })
})
