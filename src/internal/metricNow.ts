import type * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import type * as Metric from "effect/Metric"

/**
 * `Metric.increment` for code already running synchronously in `fiber` (a guard's hot path): the same
 * update, with the fiber's ambient tags (`Effect.tagMetrics`), without two more steps of the run loop.
 */
export const increment = (fiber: Fiber.RuntimeFiber<unknown, unknown>, counter: Metric.Metric.Counter<number>): void =>
  counter.unsafeUpdate(1, fiber.getFiberRef(FiberRef.currentMetricLabels))
