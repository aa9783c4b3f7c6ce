import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import type * as MetricLabel from "effect/MetricLabel"

/**
 * One step of the running fiber that sees its `Clock` time and its ambient metric tags (for
 * `metric.unsafeUpdate`): a guard's synchronous fast path, in one operation where `Clock.currentTimeMillis`
 * and `Metric.increment` would be four.
 */
export const withNow = <A, E, R>(
  f: (now: number, metricTags: ReadonlyArray<MetricLabel.MetricLabel>) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.withFiberRuntime((fiber) =>
    f(
      Context.get(fiber.currentDefaultServices, Clock.Clock).unsafeCurrentTimeMillis(),
      fiber.getFiberRef(FiberRef.currentMetricLabels)
    )
  )
