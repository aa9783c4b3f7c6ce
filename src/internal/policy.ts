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
import { type Check, invalid, nonEmptyString, optionsObject, positiveDuration, validated } from "./options.js"
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

/** An options object without its `undefined` fields. */
type Given<A> = { readonly [K in keyof A]?: Exclude<A[K], undefined> }

/**
 * An options group checked to be an object, without its `undefined` fields: spread over defaults, an
 * option given as `undefined` keeps the default (`retry: { times: config.retries }`), as everywhere else.
 */
const given = <A>(check: Check, options: A | undefined, expected: string): Given<A> =>
  options === undefined ? {} : Object.fromEntries(
    Object.entries(optionsObject(check, options as object, expected)).filter(([, value]) => value !== undefined)
  ) as Given<A>

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

const retryGuard = (
  module: string,
  name: string | undefined,
  retry: Retry.Options<unknown, any> | undefined
): Guard | undefined => {
  if (retry === undefined) return undefined
  const options = given({ module, option: "retry" }, retry, "an options object")
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
    retryGuard(module, name, guards.retry),
    timeout("total", guards.total)
  ].filter((guard): guard is Guard => guard !== undefined)
  return (self) => chain.reduce((effect, guard) => guard(effect), self)
}

/** @internal */
export const make = (guards: Api.Policy.Options<any>): Api.Policy<any, never> =>
  compose("Policy.make", given({ module: "Policy.make", option: "guards" }, guards, "an options object"))

/**
 * An override: `false` turns the guard off, a built guard is used as is, options (checked, without their
 * `undefined` fields) are merged over the defaults by `build`.
 */
const built = <T, G, E, R>(
  check: Check,
  override: T,
  isBuilt: (u: unknown) => u is G,
  expected: string,
  build: (options: Given<Exclude<T, G | false | undefined>>) => Effect.Effect<G, E, R>
): Effect.Effect<G | undefined, E | InvalidOptions, R> =>
  override === false
    ? Effect.succeed(undefined)
    : isBuilt(override)
    ? Effect.succeed(override)
    : Effect.flatten(validated(() => build(given(check, override as Exclude<T, G | false | undefined>, expected))))

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
    const check = (option: string): Check => ({ module, option })
    const o = yield* validated(() => {
      nonEmptyString(check("name"), name)
      return given(check("overrides"), overrides, "an options object")
    })
    const total = o.total === false ? undefined : o.total ?? defaults.total
    const attempt = o.attempt === false ? undefined : o.attempt ?? defaults.attempt
    const budget = yield* built(
      check("budget"),
      o.budget,
      Retry.isRetryBudget,
      "an options object, a RetryBudget or false",
      (options) => Retry.budget({ name, ...options })
    )
    const breaker = yield* built(
      check("breaker"),
      o.breaker,
      CircuitBreaker.isCircuitBreaker,
      "an options object, a CircuitBreaker or false",
      (options) => {
        const halfOpen = given(check("breaker.halfOpen"), options.halfOpen, "an options object")
        return CircuitBreaker.make({
          name,
          policy: CircuitBreaker.failureRate({
            threshold: defaults.breaker.threshold,
            window: defaults.breaker.window,
            minimumThroughput: defaults.breaker.minimumThroughput
          }),
          openFor: Backoff.exponential(defaults.breaker.openFor),
          ...options,
          // A probe is admitted before it waits for the gate, the limiter and the bulkhead: the breaker's
          // default (the break, 5 s at first) called a probe queued that long hung and opened again on a
          // healthy provider. Every wait and the attempt end by the total deadline.
          halfOpen: total === undefined ? halfOpen : { maxWait: total, ...halfOpen }
        })
      }
    )
    const gate = yield* built(
      check("gate"),
      o.gate,
      RateLimit.isGate,
      "an options object, a RateLimit.Gate or false",
      (options) => withGateStore(RateLimit.gate({ name, key: name, ...options }))
    )
    const limiter = yield* built(
      check("limiter"),
      o.limiter,
      isLimiter,
      "an options object, a limiter (with protect) or false",
      (options) => RateLimit.adaptive({ name, key: name, ...options })
    )
    const bulkhead = yield* built(
      check("bulkhead"),
      o.bulkhead,
      Bulkhead.isBulkhead,
      "an options object, a Bulkhead or false",
      (options) => Bulkhead.make({ name, ...defaults.bulkhead, ...options })
    )
    const retry = o.retry === false ? undefined : yield* validated(() => ({
      name,
      times: defaults.times,
      budget,
      ...given(check("retry"), o.retry, "an options object or false")
    }))
    return { name, total, retry, breaker, gate, limiter, bulkhead, attempt }
  })

/** @internal */
export const layerProvider = <I>(
  tag: Context.Tag<I, Api.Policy<any>>,
  name: string,
  overrides?: Api.Policy.ProviderOptions
): Layer.Layer<I, InvalidOptions> => Layer.scoped(tag, provider(name, overrides))
