import { Context, Effect, ExecutionPlan, Layer } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import type {
  BulkheadFull,
  CircuitOpen,
  ClientError,
  InvalidResponse,
  RateLimited,
  Rejected,
  Timeout,
  Transient,
  Unavailable
} from "../../src/Errors.js"
import * as Fallback from "../../src/Fallback.js"

class Db extends Context.Tag("test/Db")<Db, { readonly query: Effect.Effect<number> }>() {}
class Queue extends Context.Tag("test/Queue")<Queue, { readonly push: Effect.Effect<void> }>() {}
class Mine {
  readonly _tag = "Mine"
}
declare const call: Effect.Effect<number, Transient | Rejected | ClientError, Db>
declare const mixed: Effect.Effect<number, Unavailable | ClientError | Error>
declare const queued: Effect.Effect<"queued", never, Queue>

describe("Fallback", () => {
  it("value removes the default tags and keeps the rest", () => {
    expectTypeOf(call.pipe(Fallback.value(0))).toEqualTypeOf<Effect.Effect<number, ClientError, Db>>()
    expectTypeOf(Fallback.value(call, "none" as const)).toEqualTypeOf<
      Effect.Effect<number | "none", ClientError, Db>
    >()
  })

  it("on chooses the handled tags", () => {
    expectTypeOf(call.pipe(Fallback.value(0, { on: ["Unavailable", "ClientError"] }))).toEqualTypeOf<
      Effect.Effect<number, RateLimited | Timeout | CircuitOpen | BulkheadFull, Db>
    >()
  })

  it("on - a tag the effect cannot fail with is a compile error, in every form; default tags always pass", () => {
    // @ts-expect-error: "ClientEror" is misspelled
    call.pipe(Fallback.value(0, { on: ["ClientEror"] }))
    // @ts-expect-error: data first
    Fallback.value(call, 0, { on: ["Unavailable", "ClientEror"] })
    // @ts-expect-error: compute
    call.pipe(Fallback.compute(() => 0, { on: ["Mine"] }))
    // @ts-expect-error: compute, data first
    Fallback.compute(call, () => 0, { on: ["Mine"] })
    // @ts-expect-error: degrade
    call.pipe(Fallback.degrade(() => 0, { on: ["Error"] }))
    // @ts-expect-error: degrade, data first
    Fallback.degrade(call, () => 0, { on: ["Error"] })
    // a default tag the effect cannot fail with handles nothing, and compiles (code generic in E names them)
    expectTypeOf(mixed.pipe(Fallback.value(0, { on: ["Timeout", "ClientError"] }))).toEqualTypeOf<
      Effect.Effect<number, Unavailable | Error, never>
    >()
    const generic = <E>(self: Effect.Effect<number, E>) => self.pipe(Fallback.value(0, { on: ["Timeout"] }))
    expectTypeOf(generic(mixed)).toEqualTypeOf<Effect.Effect<number, Unavailable | ClientError | Error>>()
    // a tag of the user's own error is a tag like any other
    const mine = Effect.fail(new Mine()) as Effect.Effect<number, Mine | Unavailable>
    expectTypeOf(mine.pipe(Fallback.value(0, { on: ["Mine"] }))).toEqualTypeOf<Effect.Effect<number, Unavailable>>()
  })

  it("compute is given the handled errors only", () => {
    const computed = call.pipe(
      Fallback.compute((error) => {
        expectTypeOf(error).toEqualTypeOf<RateLimited | Unavailable | Timeout | CircuitOpen | BulkheadFull>()
        return error._tag
      })
    )
    expectTypeOf(computed).toEqualTypeOf<
      Effect.Effect<number | "RateLimited" | "Unavailable" | "Timeout" | "CircuitOpen" | "BulkheadFull", ClientError, Db>
    >()
    const onClient = Fallback.compute(call, (error) => error.status, { on: ["ClientError"] })
    expectTypeOf(onClient).toEqualTypeOf<Effect.Effect<number, Transient | Rejected, Db>>()
  })

  it("degrade marks the degraded answer in the type", () => {
    const served = call.pipe(Fallback.degrade(() => -1))
    expectTypeOf(served).toEqualTypeOf<
      Effect.Effect<Fallback.Served<number, Transient | Rejected>, ClientError, Db>
    >()
    Effect.map(served, (answer) => {
      // @ts-expect-error the value is behind the marker: narrow first
      answer.reason
      if (Fallback.isDegraded(answer)) expectTypeOf(answer.reason).toEqualTypeOf<Transient | Rejected>()
      else expectTypeOf(answer).toEqualTypeOf<Fallback.Fresh<number>>()
    })
  })

  it("exhaustive needs every tag, and only those", () => {
    const handled = call.pipe(
      Fallback.exhaustive({
        RateLimited: () => queued,
        Unavailable: () => queued,
        Timeout: (e) => Effect.succeed(e.scope),
        CircuitOpen: () => Effect.succeed(0),
        BulkheadFull: () => Effect.succeed(0),
        ClientError: (e) => Effect.fail(e.status)
      })
    )
    expectTypeOf(handled).toEqualTypeOf<
      Effect.Effect<number | "queued" | "attempt" | "total" | "first-byte" | "idle", number, Db | Queue>
    >()

    const queueRecoverable = {
      RateLimited: () => queued,
      Unavailable: () => queued,
      Timeout: () => queued,
      CircuitOpen: () => queued,
      BulkheadFull: () => queued
    }
    // @ts-expect-error ClientError has no handler
    call.pipe(Fallback.exhaustive(queueRecoverable))

    Fallback.exhaustive(call, {
      ...queueRecoverable,
      ClientError: () => queued,
      // @ts-expect-error the call cannot fail with InvalidResponse
      InvalidResponse: (e: InvalidResponse) => Effect.fail(e)
    })

    call.pipe(
      Fallback.exhaustive({
        ...queueRecoverable,
        // @ts-expect-error a typo is an unknown tag
        ClientErorr: () => queued
      })
    )
  })

  it("exhaustive lets errors without a tag through", () => {
    const handled = mixed.pipe(
      Fallback.exhaustive({ Unavailable: () => Effect.succeed(0), ClientError: () => Effect.fail(new Mine()) })
    )
    expectTypeOf(handled).toEqualTypeOf<Effect.Effect<number, Error | Mine>>()
  })

  it("plan is an ExecutionPlan for Effect.withExecutionPlan", () => {
    const a = Layer.succeed(Db, { query: Effect.succeed(1) })
    const b = Context.make(Db, { query: Effect.succeed(2) })
    const plan = Fallback.plan({ provide: a }, { provide: b })
    expectTypeOf(plan).toExtend<ExecutionPlan.ExecutionPlan<{ provides: Db; input: unknown; error: never; requirements: never }>>()
    expectTypeOf(call.pipe(Effect.withExecutionPlan(plan))).toEqualTypeOf<
      Effect.Effect<number, Transient | Rejected | ClientError>
    >()
  })
})
