import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"
import type * as Scope from "effect/Scope"
import * as Backoff from "../Backoff.js"
import * as Bulkhead from "../Bulkhead.js"
import * as CircuitBreaker from "../CircuitBreaker.js"
import { type InvalidOptions, isRejected } from "../Errors.js"
import * as Hedge from "../Hedge.js"
import type * as Api from "../Policy.js"
import * as RateLimit from "../RateLimit.js"
import * as Retry from "../Retry.js"
import * as Timeout from "../Timeout.js"
import { invalid, nonEmptyString, positiveDuration, validated } from "./options.js"
import { layerGateMemory } from "./rateLimitMemory.js"

/** @internal */
export const defaults = {
  attempt: Duration.seconds(10),
  total: Duration.seconds(30),
  times: 5,
  breaker: {
    threshold: 0.5,
    window: Duration.seconds(30),
    minimumThroughput: 10,
    openFor: { base: Duration.seconds(5), cap: Duration.minutes(1) }
  },
  bulkhead: { maxConcurrent: 50, maxQueued: 100 }
} as const

type Guard = (self: Effect.Effect<any, any, any>) => Effect.Effect<any, any, any>

/** A guard given as a value or as the tag of one; a tag is looked up at each attempt. */
const service = <S>(
  module: string,
  option: string,
  value: unknown,
  is: (u: unknown) => u is S,
  expected: string,
  apply: (service: S, self: Effect.Effect<any, any, any>) => Effect.Effect<any, any, any>
): Guard | undefined => {
  if (value === undefined) return undefined
  if (Context.isTag(value)) {
    const tag = value as Context.Tag<any, S>
    return (self) => Effect.flatMap(tag, (resolved) => apply(resolved, self))
  }
  if (is(value)) return (self) => apply(value, self)
  return invalid({ module, option }, value, expected)
}

const isLimiter = (u: unknown): u is Api.Limiter =>
  Predicate.hasProperty(u, "protect") && Predicate.isFunction(u.protect)

const retryGuard = (name: string | undefined, options: Retry.Options<unknown, any> | undefined): Guard | undefined => {
  if (options === undefined) return undefined
  const retryable = options.while
  // A rejection is a local guard saying no: retrying it would defeat the guard.
  const notRejected = (error: unknown) => !isRejected(error) && (retryable ?? Retry.isRetryable)(error)
  return Retry.transient({
    ...options,
    name: options.name ?? name,
    // anything but a function goes through unchanged, for Retry to reject with its own message
    while: retryable === undefined || Predicate.isFunction(retryable) ? notRejected : retryable
  })
}

const compose = (module: string, guards: Api.Policy.Options<any>): Api.Policy<any, never> => {
  const name = guards.name === undefined ? undefined : nonEmptyString({ module, option: "name" }, guards.name)
  const timeout = (option: "attempt" | "total", duration: Duration.DurationInput | undefined) =>
    duration === undefined
      ? undefined
      : Timeout[option](positiveDuration({ module, option }, duration), { provider: name })
  // innermost first: the order of the module notes, read from the call outwards
  const chain = [
    timeout("attempt", guards.attempt),
    service(module, "bulkhead", guards.bulkhead, Bulkhead.isBulkhead, "a Bulkhead or its tag", (b, self) => b(self)),
    service(
      module,
      "limiter",
      guards.limiter,
      isLimiter,
      "a limiter (with protect) or its tag",
      (l, self) => l.protect(self)
    ),
    service(
      module,
      "gate",
      guards.gate,
      RateLimit.isGate,
      "a RateLimit.Gate or its tag",
      (g, self) => (g as RateLimit.Gate).protect(self)
    ),
    service(
      module,
      "breaker",
      guards.breaker,
      CircuitBreaker.isCircuitBreaker,
      "a CircuitBreaker or its tag",
      (b, self) => b.protect(self)
    ),
    service(module, "hedge", guards.hedge, Hedge.isHedge, "a Hedge or its tag", (h, self) => h(self)),
    retryGuard(name, guards.retry),
    timeout("total", guards.total)
  ].filter((guard): guard is Guard => guard !== undefined)
  return (self) => chain.reduce((effect, guard) => guard(effect), self)
}

/** @internal */
export const make = (guards: Api.Policy.Options<any>): Api.Policy<any, never> => compose("Policy.make", guards)

/** An override: `false` turns the guard off, a built guard is used as is, options are merged over the defaults. */
const built = <T, G, E, R>(
  override: T,
  isBuilt: (u: unknown) => u is G,
  build: (options: Exclude<T, G | false> | undefined) => Effect.Effect<G, E, R>
): Effect.Effect<G | undefined, E, R> =>
  override === false
    ? Effect.succeed(undefined)
    : isBuilt(override)
    ? Effect.succeed(override)
    : build(override as Exclude<T, G | false>)

/** Runs `build` with the gate store in context if the user provided one, else with a memory store of its own. */
const withGateStore = <A, E, R>(
  build: Effect.Effect<A, E, R>
): Effect.Effect<A, E, Exclude<R, RateLimit.GateStore>> =>
  Effect.flatMap(Effect.serviceOption(RateLimit.GateStore), (store) =>
    Option.isSome(store)
      ? Effect.provideService(build, RateLimit.GateStore, store.value)
      : Effect.provide(build, layerGateMemory))

/** @internal */
export const provider = (
  name: string,
  overrides: Api.Policy.ProviderOptions = {}
): Effect.Effect<Api.Policy<any, never>, InvalidOptions, Scope.Scope> =>
  Effect.flatMap(providerGuards(name, overrides), (guards) => validated(() => compose("Policy.provider", guards)))

/**
 * The provider recipe twice over one set of guards: `request` as `provider` builds it, and `stream`
 * without its attempt and total timeouts (a stream lives longer than any attempt limit; it has its own
 * first-byte, idle and total limits), sharing the breaker, gate, limiter, bulkhead and retry budget.
 * @internal
 */
export const providerWithStream = (
  name: string
): Effect.Effect<{ readonly request: Api.Policy<any, never>; readonly stream: Api.Policy<any, never> }, InvalidOptions, Scope.Scope> =>
  Effect.flatMap(providerGuards(name, {}), (guards) =>
    validated(() => ({
      request: compose("Policy.provider", guards),
      stream: compose("Policy.provider", { ...guards, attempt: undefined, total: undefined })
    })))

const providerGuards = (
  name: string,
  overrides: Api.Policy.ProviderOptions
): Effect.Effect<Api.Policy.Options<any>, InvalidOptions, Scope.Scope> =>
  Effect.gen(function*() {
    const module = "Policy.provider"
    yield* validated(() => nonEmptyString({ module, option: "name" }, name))
    const total = overrides.total === false ? undefined : overrides.total ?? defaults.total
    const attempt = overrides.attempt === false ? undefined : overrides.attempt ?? defaults.attempt
    const budget = yield* built(overrides.budget, Retry.isRetryBudget, (o) => Retry.budget({ name, ...o }))
    const breaker = yield* built(overrides.breaker, CircuitBreaker.isCircuitBreaker, (o) =>
      CircuitBreaker.make({
        name,
        policy: CircuitBreaker.failureRate({
          threshold: defaults.breaker.threshold,
          window: defaults.breaker.window,
          minimumThroughput: defaults.breaker.minimumThroughput
        }),
        openFor: Backoff.exponential(defaults.breaker.openFor),
        ...o,
        // A probe is admitted before it waits for the gate, the limiter and the bulkhead: the breaker's
        // default (the break, 5 s at first) called a probe queued that long hung and opened again on a
        // healthy provider. Every wait and the attempt end by the total deadline.
        halfOpen: total === undefined ? o?.halfOpen : { maxWait: total, ...o?.halfOpen }
      }))
    const gate = yield* built(overrides.gate, RateLimit.isGate, (o) =>
      withGateStore(RateLimit.gate({ name, key: name, ...o })))
    const limiter = yield* built(overrides.limiter, isLimiter, (o) => RateLimit.adaptive({ name, key: name, ...o }))
    const bulkhead = yield* built(overrides.bulkhead, Bulkhead.isBulkhead, (o) =>
      Bulkhead.make({ name, ...defaults.bulkhead, ...o }))
    const retry = overrides.retry === false
      ? undefined
      : { name, times: defaults.times, budget, ...overrides.retry }
    return { name, total, retry, breaker, gate, limiter, bulkhead, attempt }
  })

/** @internal */
export const layerProvider = <I>(
  tag: Context.Tag<I, Api.Policy<any>>,
  name: string,
  overrides?: Api.Policy.ProviderOptions
): Layer.Layer<I, InvalidOptions> => Layer.scoped(tag, provider(name, overrides))
