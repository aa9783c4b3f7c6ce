import { Context, Duration, Effect, Layer, Schedule, Scope, Stream } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import * as Backoff from "../../src/Backoff.js"
import * as CircuitBreaker from "../../src/CircuitBreaker.js"
import * as CircuitBreakerRedis from "../../src/CircuitBreakerRedis.js"
import type { CircuitOpen, InvalidOptions, RateLimited, Timeout, Unavailable } from "../../src/Errors.js"

class PaymentsBreaker extends Context.Tag("app/PaymentsBreaker")<PaymentsBreaker, CircuitBreaker.CircuitBreaker>() {}
class Db extends Context.Tag("app/Db")<Db, { readonly query: Effect.Effect<number> }>() {}

declare const breaker: CircuitBreaker.CircuitBreaker
declare const call: Effect.Effect<string, Unavailable, Db>

describe("CircuitBreaker", () => {
  it("protect with a value adds CircuitOpen to E and nothing to R", () => {
    expectTypeOf(call.pipe(CircuitBreaker.protect(breaker))).toEqualTypeOf<
      Effect.Effect<string, Unavailable | CircuitOpen, Db>
    >()
    expectTypeOf(CircuitBreaker.protect(call, breaker)).toEqualTypeOf<
      Effect.Effect<string, Unavailable | CircuitOpen, Db>
    >()
    expectTypeOf(breaker.protect(call)).toEqualTypeOf<Effect.Effect<string, Unavailable | CircuitOpen, Db>>()
  })

  it("protect with a tag adds CircuitOpen to E and the tag to R", () => {
    expectTypeOf(call.pipe(CircuitBreaker.protect(PaymentsBreaker))).toEqualTypeOf<
      Effect.Effect<string, Unavailable | CircuitOpen, Db | PaymentsBreaker>
    >()
    expectTypeOf(CircuitBreaker.protect(call, PaymentsBreaker)).toEqualTypeOf<
      Effect.Effect<string, Unavailable | CircuitOpen, Db | PaymentsBreaker>
    >()
  })

  it("protect refuses a tag for another service", () => {
    // @ts-expect-error Db is not a CircuitBreaker
    CircuitBreaker.protect(call, Db)
  })

  it("make, layer and keyed say they can fail with InvalidOptions", () => {
    expectTypeOf(CircuitBreaker.make()).toEqualTypeOf<
      Effect.Effect<CircuitBreaker.CircuitBreaker, InvalidOptions, Scope.Scope>
    >()
    expectTypeOf(CircuitBreaker.layer(PaymentsBreaker, { halfOpen: { probes: 3 } })).toEqualTypeOf<
      Layer.Layer<PaymentsBreaker, InvalidOptions>
    >()
    expectTypeOf(CircuitBreaker.keyed<string>({ idleTimeToLive: "1 minute" })).toEqualTypeOf<
      Effect.Effect<CircuitBreaker.Keyed<string>, InvalidOptions, Scope.Scope>
    >()
  })

  it("openFor takes a duration, a Schedule of durations or a Backoff, not a Schedule of numbers", () => {
    CircuitBreaker.make({ openFor: "10 seconds" })
    CircuitBreaker.make({ openFor: Schedule.exponential("1 second") })
    CircuitBreaker.make({ openFor: Backoff.exponential({ base: "1 second", cap: "1 minute" }).pipe(Backoff.fullJitter) })
    // @ts-expect-error Schedule.spaced outputs a count, not a duration
    CircuitBreaker.make({ openFor: Schedule.spaced("1 second") })
  })

  it("a count window is { calls }, a time window a duration; a bare number is neither", () => {
    CircuitBreaker.failureRate({ threshold: 0.5, window: { calls: 100 } })
    CircuitBreaker.failureRate({ threshold: 0.5, window: "30 seconds", buckets: 30 })
    CircuitBreaker.failureRate({ threshold: 0.5, window: Duration.seconds(30) })
    // @ts-expect-error a bare number reads as calls to some and as milliseconds to others
    CircuitBreaker.failureRate({ threshold: 0.5, window: 30000 })
  })

  it("isOutage narrows to the errors the breaker counts by default", () => {
    const error = null as unknown as Unavailable | RateLimited | Timeout
    if (CircuitBreaker.isOutage(error)) expectTypeOf(error).toEqualTypeOf<Unavailable | Timeout>()
  })

  it("keyed protect is dual and keeps E and R", () => {
    const keyed = null as unknown as CircuitBreaker.Keyed<string>
    expectTypeOf(call.pipe(keyed.protect("tenant-a"))).toEqualTypeOf<
      Effect.Effect<string, Unavailable | CircuitOpen, Db>
    >()
    expectTypeOf(keyed.protect(call, "tenant-a")).toEqualTypeOf<Effect.Effect<string, Unavailable | CircuitOpen, Db>>()
  })

  it("observability", () => {
    expectTypeOf(breaker.state).toEqualTypeOf<Effect.Effect<"closed" | "open" | "half-open" | "isolated">>()
    expectTypeOf(breaker.changes).toEqualTypeOf<Stream.Stream<CircuitBreaker.StateChange>>()
    expectTypeOf(breaker.restore).returns.toEqualTypeOf<Effect.Effect<void, InvalidOptions>>()
  })

  it("a shared store: the Redis layer provides Store and fails only with InvalidOptions", () => {
    expectTypeOf(CircuitBreakerRedis.layerStore({ url: "redis://127.0.0.1:6379" })).toEqualTypeOf<
      Layer.Layer<CircuitBreaker.Store, InvalidOptions>
    >()
    expectTypeOf(
      CircuitBreaker.layer(PaymentsBreaker, { onStoreError: "reject" }).pipe(
        Layer.provide(CircuitBreakerRedis.layerStore())
      )
    ).toEqualTypeOf<Layer.Layer<PaymentsBreaker, InvalidOptions>>()
  })

  it("a shared store is optional: make, layer and keyed do not require it", () => {
    expectTypeOf(CircuitBreaker.make({ onStoreError: "local" })).toEqualTypeOf<
      Effect.Effect<CircuitBreaker.CircuitBreaker, InvalidOptions, Scope.Scope>
    >()
    expectTypeOf(CircuitBreaker.layer(PaymentsBreaker)).toEqualTypeOf<Layer.Layer<PaymentsBreaker, InvalidOptions>>()
    // @ts-expect-error onStoreError is "local", "allow" or "reject"
    CircuitBreaker.make({ onStoreError: "open" })
  })

  it("a Store is one compare-and-set that fails with StoreError", () => {
    expectTypeOf<CircuitBreaker.Store["sync"]>().returns.toEqualTypeOf<
      Effect.Effect<CircuitBreaker.Store.Response, CircuitBreaker.StoreError>
    >()
    expectTypeOf(CircuitBreaker.Store).toEqualTypeOf<Context.Tag<CircuitBreaker.Store, CircuitBreaker.Store>>()
  })
})
