/**
 * Hedging a long latency tail, in virtual time: a provider whose attempts take 50 ms 95% of the time
 * and 2 s otherwise (seeded), 10,000 calls at 100 calls/s, with no hedge and with a hedge at the
 * rolling p95 of latency (`Hedge.make` defaults: at most one hedge, its own retry budget). Goal: p99
 * <= 150 ms with <= 10% extra calls.
 *
 * Run: `node --import tsx bench/scenarios/hedge.ts` (a step of `npm run bench`). Writes
 * bench/results/hedge.{json,md}; exits 1 when the goal is missed.
 */
import { mkdir, writeFile } from "node:fs/promises"
import * as path from "node:path"
import { Clock, Duration, Effect, Fiber, Random } from "effect"
import { Hedge } from "effect-resilience"
import { environment, headline, resultsDirectory } from "../support/environment.js"
import { runVirtual } from "./virtualTime.js"

const calls = 10_000
const spacingMillis = 10
const seed = 2026

/** One attempt: 50 ms, or 2 s for one in twenty, drawn from the seeded `Random`. */
const attempt = (sent: { count: number }): Effect.Effect<string> =>
  Effect.flatMap(Random.next, (draw) => {
    sent.count++
    return Effect.as(Effect.sleep(Duration.millis(draw < 0.05 ? 2_000 : 50)), "ok")
  })

interface Figures {
  readonly p50: number
  readonly p95: number
  readonly p99: number
  readonly p999: number
  readonly max: number
  readonly extra: number
}

const percentile = (sorted: ReadonlyArray<number>, p: number): number =>
  sorted[Math.max(0, Math.ceil(p * sorted.length) - 1)]!

const scenario = (hedged: boolean) =>
  Effect.gen(function*() {
    const sent = { count: 0 }
    const hedge = hedged
      ? yield* Hedge.make({ name: "tail", delay: { percentile: 0.95, initial: "100 millis" } })
      : <A, E, R>(self: Effect.Effect<A, E, R>) => self
    const latencies: Array<number> = []
    const call = Effect.gen(function*() {
      const start = yield* Clock.currentTimeMillis
      yield* hedge(attempt(sent))
      latencies.push((yield* Clock.currentTimeMillis) - start)
    })
    const fibers: Array<Fiber.RuntimeFiber<void>> = []
    for (let i = 0; i < calls; i++) {
      fibers.push(yield* Effect.fork(call))
      yield* Effect.sleep(Duration.millis(spacingMillis))
    }
    yield* Fiber.joinAll(fibers)
    const sorted = latencies.sort((a, b) => a - b)
    const figures: Figures = {
      p50: percentile(sorted, 0.5),
      p95: percentile(sorted, 0.95),
      p99: percentile(sorted, 0.99),
      p999: percentile(sorted, 0.999),
      max: sorted[sorted.length - 1]!,
      extra: sent.count / calls - 1
    }
    return figures
  }).pipe(Effect.scoped, Effect.withRandom(Random.make(seed)))

const run = async (hedged: boolean): Promise<Figures> => {
  const exit = await runVirtual(scenario(hedged))
  if (exit._tag === "Failure") throw new Error(`hedge scenario failed: ${String(exit.cause)}`)
  return exit.value
}

const without = await run(false)
const withHedge = await run(true)
const met = withHedge.p99 <= 150 && withHedge.extra <= 0.1

const millis = (n: number) => `${n} ms`
const percent = (n: number) => `${(n * 100).toFixed(1)}%`
const rows = [
  { figure: "p50 latency", without: millis(without.p50), hedged: millis(withHedge.p50), target: "" },
  { figure: "p95 latency", without: millis(without.p95), hedged: millis(withHedge.p95), target: "" },
  { figure: "p99 latency", without: millis(without.p99), hedged: millis(withHedge.p99), target: "<= 150 ms" },
  { figure: "p99.9 latency", without: millis(without.p999), hedged: millis(withHedge.p999), target: "" },
  { figure: "max latency", without: millis(without.max), hedged: millis(withHedge.max), target: "" },
  { figure: "extra calls to the provider", without: percent(without.extra), hedged: percent(withHedge.extra), target: "<= 10%" }
]

const env = environment()
const scenarioText = `${calls.toLocaleString("en")} calls at ${1000 / spacingMillis}/s in virtual time; each attempt ` +
  `takes 50 ms, or 2 s with probability 5% (seed ${seed}). Hedge: delay at the rolling p95 (window 1000, ` +
  `trusted after 100 samples, 100 ms before), at most one hedge, its own budget (ratio 0.1).`
const table = [
  "| figure | no hedge | p95 hedge | target |",
  "|---|---|---|---|",
  ...rows.map((r) => `| ${r.figure} | ${r.without} | ${r.hedged} | ${r.target} |`)
].join("\n")
const verdict = met ? "Goal met." : "GOAL MISSED."
const header = headline(env)
await mkdir(resultsDirectory, { recursive: true })
await writeFile(
  path.join(resultsDirectory, "hedge.json"),
  JSON.stringify({ ...env, scenario: scenarioText, without, hedged: withHedge, goalMet: met }, null, 2) + "\n"
)
await writeFile(path.join(resultsDirectory, "hedge.md"), `# hedge\n\n${header}\n\n${scenarioText}\n\n${table}\n\n${verdict}\n`)
console.log(`\n${scenarioText}\n\n${table}\n\n${verdict}\n`)
