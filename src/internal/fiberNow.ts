import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import type * as Metric from "effect/Metric"
import type * as MetricLabel from "effect/MetricLabel"

/**
 * What a guard's synchronous fast path reads from the fiber it runs in, where `Clock.clockWith`,
 * `Clock.currentTimeMillis` and `Metric.increment` would each take steps of the run loop of their own.
 */

/** The fiber's `Clock` (what `Effect.clockWith` gives). */
export const clockOf = (fiber: Fiber.RuntimeFiber<unknown, unknown>): Clock.Clock =>
  Context.get(fiber.currentDefaultServices, Clock.Clock)

/** `Metric.increment` for code running synchronously in `fiber`: the same update, with its ambient tags. */
export const increment = (fiber: Fiber.RuntimeFiber<unknown, unknown>, counter: Metric.Metric.Counter<number>): void =>
  counter.unsafeUpdate(1, fiber.getFiberRef(FiberRef.currentMetricLabels))

/** One step that sees the fiber's `Clock` time and its ambient metric tags (for `metric.unsafeUpdate`). */
export const withNow = <A, E, R>(
  f: (now: number, metricTags: ReadonlyArray<MetricLabel.MetricLabel>) => Effect.Effect<A, E, R>
): Effect.Effect<A, E, R> =>
  Effect.withFiberRuntime((fiber) =>
    f(clockOf(fiber).unsafeCurrentTimeMillis(), fiber.getFiberRef(FiberRef.currentMetricLabels))
  )
