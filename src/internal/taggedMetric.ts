import * as Arr from "effect/Array"
import * as Metric from "effect/Metric"
import * as MetricLabel from "effect/MetricLabel"

/**
 * `Metric.tagged` for a guard's per-call metrics, the same series. `Metric.tagged` merges its tags
 * into a new array on every update, and Effect caches a series' hook by the identity of that array,
 * so each update looks the series up in the registry (hashing the whole key). Here the tags are one
 * array made once: with no ambient tags (`Effect.tagMetrics`) the hook is resolved once; with some,
 * they are merged in as `Metric.tagged` does.
 */
export const tagged = <Type, In, Out>(
  metric: Metric.Metric<Type, In, Out>,
  tags: Record<string, string>
): Metric.Metric<Type, In, Out> => {
  const own = Object.entries(tags).map(([key, value]) => MetricLabel.make(key, value))
  const withAmbient = (extraTags: ReadonlyArray<MetricLabel.MetricLabel>) =>
    extraTags.length === 0 ? own : Arr.union(own, extraTags)
  return Metric.make(
    metric.keyType,
    (input: In, extraTags) => metric.unsafeUpdate(input, withAmbient(extraTags)),
    (extraTags) => metric.unsafeValue(withAmbient(extraTags)),
    (input: In, extraTags) => metric.unsafeModify(input, withAmbient(extraTags))
  )
}
