/**
 * Degradation scenario (virtual time): a provider down for one minute in the middle of three.
 *
 * Reads: 100 keys read round-robin, one read every 100 ms, through a retry policy (2 retries,
 * exponential from 100 ms). Without a fallback every read in the outage fails; with
 * `LastKnownGood` (maxStale 5 minutes) each one is served stale, and with maxStale 30 s only the first
 * 30 s of the outage are (the bound holds).
 *
 * Writes: one payment a second, each with its own idempotency key, through the same policy. Without a
 * queue every write in the outage fails (lost unless the caller stores it somewhere); with
 * `QueueForLater` (in memory, 4 workers, 10 attempts, retry delay from 1 s doubling to 30 s) each is
 * accepted as pending and delivered after recovery. "Exactly once" counts successful provider calls
 * per idempotency key (not deduplicated by the provider).
 *
 * Run: `node --import tsx bench/scenarios/degradation.ts`. Writes bench/results/degradation.{json,md}.
 */
import { Clock, Duration, Effect, Fiber, Schema } from "effect"
import { Backoff, Errors, LastKnownGood, QueueForLater, Retry } from "effect-resilience"
import { type Row, writeResults } from "./results.js"
import { runVirtual } from "./virtualTime.js"

const outageStart = 60_000
const outageEnd = 120_000
const trafficEnd = 180_000
const keys = 100

/** The provider: 20 ms a call, `Unavailable` during the outage; counts successful calls per key. */
const makeProvider = (start: number) => {
  const applied = new Map<string, number>()
  const appliedAt = new Map<string, number>()
  let calls = 0
  const call = <A>(key: string, value: A) =>
    Effect.gen(function*() {
      calls++
      yield* Effect.sleep("20 millis")
      const now = (yield* Clock.currentTimeMillis) - start
      if (now >= outageStart && now < outageEnd) {
        return yield* Effect.fail(new Errors.Unavailable({ provider: "provider", reason: "connection-refused" }))
      }
      applied.set(key, (applied.get(key) ?? 0) + 1)
      if (!appliedAt.has(key)) appliedAt.set(key, now)
      return value
    })
  return { applied, call, calls: () => calls, appliedAt }
}

const policy = <A, E extends Errors.Transient, R>(self: Effect.Effect<A, E, R>) =>
  self.pipe(Retry.transient({ times: 2, backoff: Backoff.exponential({ base: "100 millis" }) }))

interface ReadFigures {
  readonly inOutage: number
  readonly served: number
  readonly stale: number
  readonly failed: number
  readonly maxStaleAgeMillis: number
}

const reads = (mode: "none" | "5 minutes" | "30 seconds") =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const provider = makeProvider(start)
    const cache = mode === "none"
      ? undefined
      : yield* LastKnownGood.make({ name: "prices", schema: Schema.Number, maxStale: mode, maxKeys: keys })
    let inOutage = 0, served = 0, stale = 0, failed = 0, maxStaleAgeMillis = 0
    for (let i = 0; i * 100 < trafficEnd; i++) {
      const now = (yield* Clock.currentTimeMillis) - start
      const key = `sku-${i % keys}`
      const read = policy(provider.call(key, i))
      const result = cache === undefined
        ? yield* Effect.either(Effect.map(read, LastKnownGood.fresh))
        : yield* Effect.either(read.pipe(cache.serve(key)))
      if (now >= outageStart && now < outageEnd) {
        inOutage++
        if (result._tag === "Right") {
          served++
          if (result.right._tag === "Stale") {
            stale++
            maxStaleAgeMillis = Math.max(maxStaleAgeMillis, Duration.toMillis(result.right.age))
          }
        } else failed++
      }
      const next = start + (i + 1) * 100
      const after = yield* Clock.currentTimeMillis
      if (next > after) yield* Effect.sleep(next - after)
    }
    return { inOutage, served, stale, failed, maxStaleAgeMillis } satisfies ReadFigures
  }).pipe(Effect.scoped)

interface WriteFigures {
  readonly submitted: number
  readonly inOutage: number
  readonly acceptedPending: number
  readonly lost: number
  readonly appliedOnce: number
  readonly appliedTwice: number
  readonly neverApplied: number
  readonly deadLetters: number
  readonly drainedAfterRecoveryMillis: number
  readonly providerCalls: number
}

const writes = (mode: "none" | "queue") =>
  Effect.gen(function*() {
    const start = yield* Clock.currentTimeMillis
    const provider = makeProvider(start)
    const charge = (cents: number, idempotencyKey: string) => policy(provider.call(idempotencyKey, `ch_${cents}`))
    const queue = yield* QueueForLater.make({
      name: "payments",
      schema: Schema.Number,
      write: charge,
      concurrency: 4,
      maxAttempts: 10,
      retryDelay: "1 seconds",
      maxRetryDelay: "30 seconds"
    })
    const worker = yield* Effect.fork(queue.worker)
    let submitted = 0, inOutage = 0, acceptedPending = 0, lost = 0
    const pendingKeys: Array<string> = []
    for (let i = 0; i * 1_000 < trafficEnd; i++) {
      const now = (yield* Clock.currentTimeMillis) - start
      const key = `payment-${i}`
      submitted++
      const result = mode === "none"
        ? yield* Effect.either(Effect.map(charge(i, key), QueueForLater.done))
        : yield* Effect.either(queue.submit(i, key))
      if (now >= outageStart && now < outageEnd) inOutage++
      if (result._tag === "Left") lost++
      else if (result.right._tag === "Pending") {
        acceptedPending++
        pendingKeys.push(key)
      }
      const next = start + (i + 1) * 1_000
      const after = yield* Clock.currentTimeMillis
      if (next > after) yield* Effect.sleep(next - after)
    }
    // Wait (at most ten virtual minutes) for the queue to drain.
    const allApplied = () =>
      Array.from({ length: submitted }, (_, i) => `payment-${i}`).every((key) => (provider.applied.get(key) ?? 0) >= 1)
    for (let t = 0; t < 600 && mode === "queue" && !allApplied(); t++) yield* Effect.sleep("1 seconds")
    const drainedAt = allApplied() ? Math.max(...pendingKeys.map((key) => provider.appliedAt.get(key)!)) : Infinity
    // A further minute: nothing is delivered twice late.
    yield* Effect.sleep("1 minutes")
    yield* Fiber.interrupt(worker)
    const counts = Array.from({ length: submitted }, (_, i) => provider.applied.get(`payment-${i}`) ?? 0)
    return {
      submitted,
      inOutage,
      acceptedPending,
      lost,
      appliedOnce: counts.filter((n) => n === 1).length,
      appliedTwice: counts.filter((n) => n > 1).length,
      neverApplied: counts.filter((n) => n === 0).length,
      deadLetters: (yield* queue.deadLetters).length,
      drainedAfterRecoveryMillis: drainedAt - outageEnd,
      providerCalls: provider.calls()
    } satisfies WriteFigures
  })

const run = async <A>(effect: Effect.Effect<A, unknown>): Promise<A> => {
  const exit = await runVirtual(effect)
  if (exit._tag === "Failure") throw new Error(`scenario failed: ${String(exit.cause)}`)
  return exit.value
}

const pct = (part: number, whole: number) => whole === 0 ? "n/a" : `${((100 * part) / whole).toFixed(1)}%`

const main = async () => {
  const noCache = await run(reads("none"))
  const lkg = await run(reads("5 minutes"))
  const lkgShort = await run(reads("30 seconds"))
  const noQueue = await run(writes("none"))
  const queued = await run(writes("queue"))
  const rows: Array<Row> = [
    {
      scenario: "reads: provider down 60 s of 180 s, 100 keys, 10 reads/s (virtual time)",
      figure: "reads in the outage answered",
      naive: `${pct(noCache.served, noCache.inOutage)} of ${noCache.inOutage}`,
      library: `${pct(lkg.served, lkg.inOutage)} of ${lkg.inOutage} (stale: ${lkg.stale})`,
      target: "100% within staleness"
    },
    {
      scenario: "",
      figure: "oldest value served (maxStale 5 min)",
      naive: "n/a",
      library: `${(lkg.maxStaleAgeMillis / 1_000).toFixed(1)} s`,
      target: "<= 300 s"
    },
    {
      scenario: "",
      figure: "with maxStale 30 s: served / errors passed through",
      naive: "n/a",
      library: `${lkgShort.served} / ${lkgShort.failed} (oldest ${(lkgShort.maxStaleAgeMillis / 1_000).toFixed(1)} s)`,
      target: "none older than 30 s"
    },
    {
      scenario: "writes: one payment/s for 180 s, provider down 60 s (virtual time)",
      figure: "writes failed to the caller (lost)",
      naive: `${noQueue.lost} of ${noQueue.submitted}`,
      library: `${queued.lost} of ${queued.submitted} (${queued.acceptedPending} accepted, pending)`,
      target: "0"
    },
    {
      scenario: "",
      figure: "applied exactly once / twice / never",
      naive: `${noQueue.appliedOnce} / ${noQueue.appliedTwice} / ${noQueue.neverApplied}`,
      library: `${queued.appliedOnce} / ${queued.appliedTwice} / ${queued.neverApplied}`,
      target: `${queued.submitted} / 0 / 0`
    },
    {
      scenario: "",
      figure: "last queued write delivered, after recovery / dead letters",
      naive: "n/a",
      library: `${(queued.drainedAfterRecoveryMillis / 1_000).toFixed(1)} s / ${queued.deadLetters}`,
      target: "0 dead letters"
    },
    {
      scenario: "",
      figure: "provider calls (writes)",
      naive: noQueue.providerCalls,
      library: queued.providerCalls,
      target: ""
    }
  ]
  await writeResults("degradation", rows, ["the policy alone", "with LastKnownGood / QueueForLater"])
}

await main()
