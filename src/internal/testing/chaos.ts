import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Ref from "effect/Ref"
import { type InvalidOptions, type Transient, Unavailable } from "../../Errors.js"
import * as Check from "../options.js"
import type * as Api from "../../testing/Chaos.js"

const faults = Metric.counter("resilience_chaos_faults_total", {
  description: "Failures injected by Chaos",
  incremental: true
})

const delayed = Metric.counter("resilience_chaos_delays_total", {
  description: "Calls Chaos delayed",
  incremental: true
})

interface Config {
  readonly errorRate: number
  readonly latency: ((u: number) => Duration.Duration) | undefined
  readonly error: (call: number) => Transient
  readonly when: "before" | "after"
}

const latencyOf = (module: string, latency: Api.Latency | undefined): Config["latency"] => {
  if (latency === undefined) return undefined
  if (typeof latency === "function") {
    return (u) => Check.nonNegativeDuration({ module, option: "latency" }, latency(u))
  }
  const min = Check.nonNegativeDuration({ module, option: "latency.min" }, latency.min)
  const max = Check.nonNegativeDuration({ module, option: "latency.max" }, latency.max)
  if (Duration.lessThan(max, min)) {
    Check.invalid({ module, option: "latency.max" }, latency.max, "a duration >= latency.min")
  }
  const from = Duration.toMillis(min)
  const span = Duration.toMillis(max) - from
  return (u) => Duration.millis(from + u * span)
}

const configOf = (module: string, options: Api.Options): Config => {
  const provider = Check.nonEmptyString({ module, option: "provider" }, options.provider ?? "chaos")
  const when = options.when ?? "before"
  if (when !== "before" && when !== "after") Check.invalid({ module, option: "when" }, when, "\"before\" or \"after\"")
  return {
    errorRate: Check.ratio({ module, option: "errorRate" }, options.errorRate),
    latency: latencyOf(module, options.latency),
    error: options.error === undefined
      ? () => new Unavailable({ provider, reason: "transport", detail: "chaos" })
      : Check.fn({ module, option: "error" }, options.error),
    when
  }
}

/** `module` is the function the user called, for the `InvalidOptions` it may fail with. */
const build = (module: string, options: Api.Options): Effect.Effect<Api.Service, InvalidOptions> =>
  Effect.gen(function*() {
    const config = yield* Check.validated(() => configOf(module, options))
    const counts = yield* Ref.make({ calls: 0, faults: 0 })

    // Every call draws the same numbers in the same order (fault, then latency), so a seeded Random
    // gives the same faults and delays whatever the effects do.
    const inject = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | Transient, R> =>
      Effect.gen(function*() {
        const fault = (yield* Random.next) < config.errorRate
        const delay = config.latency === undefined ? undefined : config.latency(yield* Random.next)
        const call = yield* Ref.modify(counts, (c) => [c.calls, {
          calls: c.calls + 1,
          faults: c.faults + (fault ? 1 : 0)
        }])
        if (delay !== undefined && Duration.greaterThan(delay, Duration.zero)) {
          yield* Metric.increment(delayed)
          yield* Effect.sleep(delay)
        }
        if (!fault) return yield* self
        yield* Metric.increment(faults)
        const error = config.error(call)
        yield* Effect.logDebug("chaos: injected a fault").pipe(Effect.annotateLogs({ call, error: error._tag }))
        if (config.when === "after") yield* self
        return yield* Effect.fail(error)
      })

    return {
      inject,
      calls: Effect.map(Ref.get(counts), (c) => c.calls),
      faults: Effect.map(Ref.get(counts), (c) => c.faults)
    }
  })

export const make = (options: Api.Options): Effect.Effect<Api.Service, InvalidOptions> => build("Chaos.make", options)

export const layer = <I>(tag: Context.Tag<I, Api.Service>, options: Api.Options): Layer.Layer<I, InvalidOptions> =>
  Layer.effect(tag, build("Chaos.layer", options))

export const inject = <S extends { readonly inject: Api.Service["inject"] }>(
  service: Effect.Effect<Option.Option<S>>
) =>
<A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<A, E | Transient, R> =>
  Effect.flatMap(service, (chaos) => Option.isNone(chaos) ? self : chaos.value.inject(self))
