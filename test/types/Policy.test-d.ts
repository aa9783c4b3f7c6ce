import type { HttpClient } from "@effect/platform"
import { Context, Effect, Schedule } from "effect"
import type { Duration, Layer, Scope } from "effect"
import { describe, expectTypeOf, it } from "vitest"
import type * as Bulkhead from "../../src/Bulkhead.js"
import type * as CircuitBreaker from "../../src/CircuitBreaker.js"
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
import type * as Hedge from "../../src/Hedge.js"
import * as HttpProvider from "../../src/HttpProvider.js"
import * as Policy from "../../src/Policy.js"
import type * as RateLimit from "../../src/RateLimit.js"

class Db extends Context.Tag("test/Db")<Db, { readonly query: Effect.Effect<number> }>() {}
class QueryError {
  readonly _tag = "QueryError"
}
declare const call: Effect.Effect<number, QueryError, Db>

declare const breaker: CircuitBreaker.CircuitBreaker
declare const gate: RateLimit.Gate
declare const limiter: RateLimit.RateLimit
declare const bulkhead: Bulkhead.Bulkhead
declare const hedge: Hedge.Hedge
declare const adaptiveShaped: { readonly name: string } & Policy.Limiter

class Breaker extends Context.Tag("test/Breaker")<Breaker, CircuitBreaker.CircuitBreaker>() {}
class Gate extends Context.Tag("test/Gate")<Gate, RateLimit.Gate>() {}
class Limiter extends Context.Tag("test/Limiter")<Limiter, Policy.Limiter>() {}
class Slots extends Context.Tag("test/Slots")<Slots, Bulkhead.Bulkhead>() {}
class Hedged extends Context.Tag("test/Hedged")<Hedged, Hedge.Hedge>() {}
class Jitter extends Context.Tag("test/Jitter")<Jitter, { readonly seed: number }>() {}
declare const backoffNeedingJitter: Schedule.Schedule<Duration.Duration, unknown, Jitter>

type Out<E, R> = Effect.Effect<number, QueryError | E, Db | R>

describe("Policy.make", () => {
  it("no guards - adds nothing", () => {
    expectTypeOf(call.pipe(Policy.make({}))).toEqualTypeOf<Out<never, never>>()
  })

  it("each guard alone adds exactly its error", () => {
    expectTypeOf(call.pipe(Policy.make({ total: "1 second" }))).toEqualTypeOf<Out<Timeout, never>>()
    expectTypeOf(call.pipe(Policy.make({ attempt: "1 second" }))).toEqualTypeOf<Out<Timeout, never>>()
    expectTypeOf(call.pipe(Policy.make({ retry: { times: 2 } }))).toEqualTypeOf<Out<never, never>>()
    expectTypeOf(call.pipe(Policy.make({ retry: {} }))).toEqualTypeOf<Out<never, never>>()
    expectTypeOf(call.pipe(Policy.make({ breaker }))).toEqualTypeOf<Out<CircuitOpen, never>>()
    expectTypeOf(call.pipe(Policy.make({ gate }))).toEqualTypeOf<Out<RateLimited, never>>()
    expectTypeOf(call.pipe(Policy.make({ limiter }))).toEqualTypeOf<Out<RateLimited, never>>()
    expectTypeOf(call.pipe(Policy.make({ limiter: adaptiveShaped }))).toEqualTypeOf<Out<RateLimited, never>>()
    expectTypeOf(call.pipe(Policy.make({ bulkhead }))).toEqualTypeOf<Out<BulkheadFull, never>>()
  })

  it("all together - the union of what each adds, nothing wider", () => {
    const policy = Policy.make({
      name: "payments",
      total: "10 seconds",
      retry: { times: 3 },
      breaker,
      gate,
      limiter,
      bulkhead,
      attempt: "2 seconds"
    })
    expectTypeOf(policy).toEqualTypeOf<Policy.Policy<Timeout | CircuitOpen | RateLimited | BulkheadFull, never>>()
    expectTypeOf(call.pipe(policy)).toEqualTypeOf<Out<Timeout | CircuitOpen | RateLimited | BulkheadFull, never>>()
  })

  it("tags - each guard given as a tag adds its identifier to R", () => {
    const policy = Policy.make({ breaker: Breaker, gate: Gate, limiter: Limiter, bulkhead: Slots })
    expectTypeOf(call.pipe(policy)).toEqualTypeOf<
      Out<CircuitOpen | RateLimited | BulkheadFull, Breaker | Gate | Limiter | Slots>
    >()
  })

  it("tags and values mix; only the tags are required", () => {
    const policy = Policy.make({ breaker: Breaker, bulkhead, total: "5 seconds" })
    expectTypeOf(call.pipe(policy)).toEqualTypeOf<Out<CircuitOpen | BulkheadFull | Timeout, Breaker>>()
  })

  it("a retry backoff's requirements join R", () => {
    const policy = Policy.make({ retry: { backoff: backoffNeedingJitter } })
    expectTypeOf(call.pipe(policy)).toEqualTypeOf<Out<never, Jitter>>()
  })

  it("options typed as the wide interface add every error a guard may add", () => {
    const options: Policy.Policy.Options = { total: "1 second" }
    // (R is `any` there: an invariant tag of unknown identifier; write the options inline to keep R exact)
    expectTypeOf<Policy.ErrorsOf<typeof options>>().toEqualTypeOf<
      Timeout | CircuitOpen | RateLimited | BulkheadFull
    >()
  })

  it("catchTags on the result is checked by the compiler", () => {
    const guarded = call.pipe(Policy.make({ breaker: Breaker, bulkhead, attempt: "1 second" }))
    const handled = guarded.pipe(
      Effect.catchTags({
        QueryError: () => Effect.succeed(0),
        CircuitOpen: () => Effect.succeed(1),
        BulkheadFull: () => Effect.succeed(2),
        Timeout: () => Effect.succeed(3)
      })
    )
    expectTypeOf(handled).toEqualTypeOf<Effect.Effect<number, never, Db | Breaker>>()
    guarded.pipe(
      Effect.catchTags({
        // @ts-expect-error: no guard here adds RateLimited
        RateLimited: () => Effect.succeed(4)
      })
    )
  })

  it("a value that is not a guard does not compile", () => {
    // @ts-expect-error: a breaker slot takes a CircuitBreaker or its tag
    Policy.make({ breaker: bulkhead })
    // @ts-expect-error: a tag of another service
    Policy.make({ bulkhead: Db })
  })
})

describe("Policy.make - hedge", () => {
  it("a hedge adds no error; its tag joins the requirements", () => {
    expectTypeOf(call.pipe(Policy.make({ hedge }))).toEqualTypeOf<Effect.Effect<number, QueryError, Db>>()
    expectTypeOf(call.pipe(Policy.make({ hedge: Hedged, breaker, attempt: "1 second" }))).toEqualTypeOf<
      Effect.Effect<number, QueryError | CircuitOpen | Timeout, Db | Hedged>
    >()
  })

  it("only a hedge or its tag fits", () => {
    // @ts-expect-error a bulkhead is not a hedge
    Policy.make({ hedge: bulkhead })
  })
})

describe("Policy.provider", () => {
  it("is built in a Scope and adds the four guard errors", () => {
    expectTypeOf(Policy.provider("payments")).toEqualTypeOf<
      Effect.Effect<Policy.Policy<Timeout | CircuitOpen | RateLimited | BulkheadFull>, InvalidOptions, Scope.Scope>
    >()
  })

  it("a guard turned off takes its error with it", () => {
    expectTypeOf(Policy.provider("p", { breaker: false, bulkhead: false })).toEqualTypeOf<
      Effect.Effect<Policy.Policy<Timeout | RateLimited>, InvalidOptions, Scope.Scope>
    >()
    expectTypeOf(Policy.provider("p", { attempt: false, total: false, gate: false, limiter: false })).toEqualTypeOf<
      Effect.Effect<Policy.Policy<CircuitOpen | BulkheadFull>, InvalidOptions, Scope.Scope>
    >()
    // one of two guards adding the same error keeps it
    expectTypeOf(Policy.provider("p", { attempt: false, gate: false })).toEqualTypeOf<
      Effect.Effect<Policy.Policy<Timeout | CircuitOpen | RateLimited | BulkheadFull>, InvalidOptions, Scope.Scope>
    >()
  })

  it("tuned and replaced guards keep the errors", () => {
    expectTypeOf(Policy.provider("p", { breaker, bulkhead: { maxConcurrent: 4 }, attempt: "1 second" })).toEqualTypeOf<
      Effect.Effect<Policy.Policy<Timeout | CircuitOpen | RateLimited | BulkheadFull>, InvalidOptions, Scope.Scope>
    >()
  })

  it("layerProvider provides the user's tag", () => {
    class Crm extends Context.Tag("test/Crm")<Crm, Policy.Policy<Policy.ProviderError>>() {}
    expectTypeOf(Policy.layerProvider(Crm, "crm")).toEqualTypeOf<Layer.Layer<Crm, InvalidOptions>>()
  })
})

type Documented = RateLimited | Unavailable | Timeout | ClientError | InvalidRequest | InvalidResponse

describe("Policy and HttpProvider", () => {
  it("a Policy.make value fits the policy option without annotations", () => {
    const made = HttpProvider.make({
      name: "payments",
      baseUrl: "https://p.test",
      policy: Policy.make({ breaker: Breaker, bulkhead, retry: {}, attempt: "2 seconds" })
    })
    expectTypeOf(made).toEqualTypeOf<
      Effect.Effect<
        HttpProvider.HttpProvider<Documented | CircuitOpen | BulkheadFull>,
        InvalidOptions,
        HttpClient.HttpClient | Breaker
      >
    >()
  })

  it("a Policy.provider value fits the policy option without annotations", () => {
    const made = Effect.flatMap(
      Policy.provider("payments"),
      (policy) => HttpProvider.make({ name: "payments", baseUrl: "https://p.test", policy })
    )
    expectTypeOf(made).toEqualTypeOf<
      Effect.Effect<
        HttpProvider.HttpProvider<Documented | CircuitOpen | BulkheadFull>,
        InvalidOptions,
        HttpClient.HttpClient | Scope.Scope
      >
    >()
  })
})
