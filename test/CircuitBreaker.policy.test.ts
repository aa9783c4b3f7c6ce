/**
 * The policies are pure functions of (state, outcome, now): tested here without fibers or clocks.
 */
import { describe, expect, it } from "@effect/vitest"
import { Schema } from "effect"
import * as CircuitBreaker from "../src/CircuitBreaker.js"

const success: CircuitBreaker.Outcome = { failure: false, millis: 10 }
const failure: CircuitBreaker.Outcome = { failure: true, millis: 10 }

/** Feeds outcomes at the given times; returns the final state and the trip of each step. */
const feed = <S>(
  policy: CircuitBreaker.Policy<S>,
  steps: ReadonlyArray<readonly [CircuitBreaker.Outcome, number]>,
  from: S = policy.initial
) => {
  let state = from
  const trips: Array<CircuitBreaker.Trip | undefined> = []
  for (const [outcome, now] of steps) {
    const verdict = policy.record(state, outcome, now)
    state = verdict.state
    trips.push(verdict.trip)
  }
  return { state, trips }
}

const at = (outcomes: ReadonlyArray<CircuitBreaker.Outcome>, now = 0) =>
  outcomes.map((outcome) => [outcome, now] as const)

const roundTrip = <S>(policy: CircuitBreaker.Policy<S>, state: S): S =>
  Schema.decodeUnknownSync(policy.schema)(JSON.parse(JSON.stringify(Schema.encodeSync(policy.schema)(state))))

describe("CircuitBreaker.consecutive", () => {
  it("trips on the n-th failure in a row; a success starts over", () => {
    const policy = CircuitBreaker.consecutive(3)
    expect(feed(policy, at([failure, failure, success, failure, failure, failure])).trips).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      "failures"
    ])
  })

  it("state is a JSON number", () => {
    const policy = CircuitBreaker.consecutive(3)
    const { state } = feed(policy, at([failure, failure]))
    expect(roundTrip(policy, state)).toBe(2)
    expect(policy.stats(state, 0)).toEqual({ calls: 2, failures: 2, slow: 0 })
  })
})

describe("CircuitBreaker.failureRate over a count window", () => {
  it("opens at rate >= threshold, not only above it", () => {
    const policy = CircuitBreaker.failureRate({ threshold: 0.5, window: { calls: 4 } })
    expect(feed(policy, at([success, failure, success, failure])).trips.at(-1)).toBe("failures")
    expect(feed(policy, at([success, failure, success, success])).trips.at(-1)).toBeUndefined()
  })

  it("opens at exactly the threshold whatever its decimal: 7 failures in 100 trip 0.07, 7 slow calls in 100 trip 0.07", () => {
    const outcomes = (n: number, bad: CircuitBreaker.Outcome) =>
      at(Array.from({ length: 100 }, (_, i) => i < 100 - n ? success : bad))
    const failures = CircuitBreaker.failureRate({ threshold: 0.07, window: { calls: 100 } })
    expect(feed(failures, outcomes(7, failure)).trips.at(-1)).toBe("failures")
    expect(feed(failures, outcomes(6, failure)).trips.at(-1)).toBeUndefined()
    const slow = CircuitBreaker.failureRate({
      threshold: 1,
      window: { calls: 100 },
      slowCall: { slowerThan: "100 millis", threshold: 0.07 }
    })
    expect(feed(slow, outcomes(7, { failure: false, millis: 500 })).trips.at(-1)).toBe("slow-calls")
  })

  it("judges nothing below minimumThroughput", () => {
    const policy = CircuitBreaker.failureRate({ threshold: 0.5, window: { calls: 10 }, minimumThroughput: 3 })
    expect(feed(policy, at([failure, failure, failure])).trips).toEqual([undefined, undefined, "failures"])
  })

  it("forgets the oldest outcome once the window is full", () => {
    const policy = CircuitBreaker.failureRate({ threshold: 0.75, window: { calls: 4 } })
    const { state, trips } = feed(policy, at([failure, failure, success, success, failure, failure]))
    // windows: [f f s s] 0.5, [f s s f] 0.5, [s s f f] 0.5
    expect(trips).toEqual([undefined, undefined, undefined, undefined, undefined, undefined])
    expect(policy.stats(state, 0)).toEqual({ calls: 4, failures: 2, slow: 0 })
    expect(policy.record(state, failure, 0).trip).toBe("failures")
  })

  it("counts slow calls, and a slow probe is unhealthy", () => {
    const policy = CircuitBreaker.failureRate({
      threshold: 1,
      window: { calls: 4 },
      minimumThroughput: 2,
      slowCall: { slowerThan: "100 millis", threshold: 0.5 }
    })
    const slow = { failure: false, millis: 101 }
    const edge = { failure: false, millis: 100 }
    expect(feed(policy, at([success, edge])).trips).toEqual([undefined, undefined])
    expect(feed(policy, at([success, slow])).trips).toEqual([undefined, "slow-calls"])
    expect(policy.healthy(edge)).toBe(true)
    expect(policy.healthy(slow)).toBe(false)
    expect(policy.healthy(failure)).toBe(false)
  })

  it("state round-trips through JSON, and a corrupt ring is refused", () => {
    const policy = CircuitBreaker.failureRate({ threshold: 0.5, window: { calls: 4 } })
    const { state } = feed(policy, at([success, failure, { failure: true, millis: 1e9 }]))
    expect(roundTrip(policy, state)).toEqual(state)
    expect(() => Schema.decodeUnknownSync(policy.schema)({ ring: "0123x" })).toThrow()
    expect(() => Schema.decodeUnknownSync(policy.schema)({ ring: "00000" })).toThrow()
  })
})

describe("CircuitBreaker.failureRate over a time window", () => {
  const policy = CircuitBreaker.failureRate({
    threshold: 0.5,
    window: "10 seconds",
    buckets: 10,
    minimumThroughput: 4
  })

  it("counts only the buckets inside the window", () => {
    const { state } = feed(policy, [[failure, 0], [failure, 500], [success, 1_000], [success, 9_999]])
    expect(policy.stats(state, 9_999)).toEqual({ calls: 4, failures: 2, slow: 0 })
    // at 10 s the first bucket [0, 1 s) has left the window
    expect(policy.stats(state, 10_000)).toEqual({ calls: 2, failures: 0, slow: 0 })
    expect(policy.stats(state, 30_000)).toEqual({ calls: 0, failures: 0, slow: 0 })
  })

  it("failures that age out do not trip the breaker", () => {
    const old = feed(policy, [[failure, 0], [failure, 100], [failure, 200]])
    expect(policy.record(old.state, success, 10_500).trip).toBeUndefined()
    const recent = feed(policy, [[failure, 0], [failure, 100], [failure, 200]])
    expect(policy.record(recent.state, success, 9_000).trip).toBe("failures")
  })

  it("an outcome stamped before the newest bucket (another replica's clock, a late commit) keeps every count", () => {
    // replicas share this state: one whose clock is 1 ms behind records after one already in the next bucket
    const { state, trips } = feed(policy, [[failure, 500], [failure, 1_000], [failure, 999], [success, 1_001]])
    expect(policy.stats(state, 1_001)).toEqual({ calls: 4, failures: 3, slow: 0 })
    expect(trips).toEqual([undefined, undefined, undefined, "failures"])
  })

  it("keeps at most one entry per bucket", () => {
    const { state } = feed(policy, Array.from({ length: 1000 }, (_, i) => [i % 2 ? success : failure, i * 100] as const))
    expect((state as ReadonlyArray<unknown>).length).toBeLessThanOrEqual(10)
    expect(roundTrip(policy, state)).toEqual(state)
  })
})
