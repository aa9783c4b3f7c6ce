/**
 * The provider's story: what the fake quotes API does, phase by phase. Phases are fractions of the
 * run, so `--duration 10` plays the same story faster. Both clients get their own provider playing
 * this script from the same start, so neither client's traffic changes what the other one sees.
 */

export type PhaseName = "steady" | "429 storm" | "outage: 503s" | "outage: refused" | "slow" | "recovered"

export interface Phase {
  readonly name: PhaseName
  /** Where the phase starts, as a fraction of the run. */
  readonly from: number
  /** What a person reads in the live display. */
  readonly says: string
}

export const story: ReadonlyArray<Phase> = [
  { name: "steady", from: 0, says: "answers in about 20 ms" },
  { name: "429 storm", from: 0.15, says: "quota cut to a quarter of the traffic: 429 + Retry-After beyond it" },
  { name: "outage: 503s", from: 0.35, says: "every request gets 503" },
  { name: "outage: refused", from: 0.45, says: "the port is closed: connection refused" },
  { name: "slow", from: 0.55, says: "up again, answers take 1.5 s" },
  { name: "recovered", from: 0.7, says: "answers in about 20 ms" }
]

export const phaseAt = (elapsedMillis: number, durationMillis: number): Phase => {
  const at = elapsedMillis / durationMillis
  let current = story[0]!
  for (const phase of story) if (at >= phase.from) current = phase
  return current
}

/** When (millis into the run) the outage ends and the provider answers again. */
export const outageEndMillis = (durationMillis: number): number =>
  story.find((phase) => phase.name === "slow")!.from * durationMillis

/**
 * How the provider behaves. Like most APIs it has a per-second quota and says so on every answer
 * (`x-ratelimit-limit`, `-remaining`, `-reset`, as GitHub does); beyond it, 429 with `Retry-After`
 * until the next window. Users ask for up to 4 quotes a second each: the quota is twice that, and
 * during the storm a quarter of it.
 */
export const behaviour = {
  latencyMillis: 20,
  slowLatencyMillis: 1_500,
  quotaWindowMillis: 1_000,
  quotaPerUser: 8,
  stormQuotaPerUser: 1
} as const
