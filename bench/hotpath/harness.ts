/**
 * A small timing harness: the cases of a group run in interleaved rounds (every case once per round,
 * the order rotated each round), each round a fixed number of operations sized to about `batchMillis`,
 * so a burst of load from the shared machine lands on every case alike; the figure is the median time
 * per operation over the rounds. No case runs longer than a batch at a time, so nothing starves the
 * event loop for seconds (what broke `vitest bench` here: its worker RPC timed out).
 *
 * Each batch is timed twice: the CPU time of this process (`process.cpuUsage`, user + system, which
 * includes V8's GC threads) and the wall-clock time. On a machine shared with other work the wall
 * clock also counts the time the process waited for a core, so the rows use CPU time; the wall-clock
 * medians are kept next to them in the JSON file. On an idle machine the two agree.
 */

/** One thing to time. `batch(ops)` performs `ops` operations and resolves when they are done. */
export interface Case {
  readonly name: string
  readonly batch: (ops: number) => Promise<unknown>
  /** A fixed operation count per round (a fixed-size workload), instead of one sized to the batch time. */
  readonly fixedOps?: number
  /** The fewest operations per round, when fewer would change what is measured. */
  readonly minOps?: number
}

/** Microseconds per operation over the rounds: CPU time, and the wall-clock median. */
export interface Stats {
  readonly median: number
  readonly p25: number
  readonly p75: number
  readonly min: number
  readonly max: number
  readonly wallMedian: number
  readonly rounds: number
  readonly opsPerRound: number
}

export interface Settings {
  readonly rounds: number
  readonly batchMillis: number
}

const quantile = (sorted: ReadonlyArray<number>, q: number): number => {
  const at = (sorted.length - 1) * q
  const low = Math.floor(at)
  const high = Math.ceil(at)
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low)
}

interface Timing {
  readonly cpuMillis: number
  readonly wallMillis: number
}

const timeBatch = async (c: Case, ops: number): Promise<Timing> => {
  const cpu = process.cpuUsage()
  const start = performance.now()
  await c.batch(ops)
  const wallMillis = performance.now() - start
  const used = process.cpuUsage(cpu)
  return { cpuMillis: (used.user + used.system) / 1000, wallMillis }
}

/**
 * Runs batches of doubling size for at least `millis`, so the JIT has compiled the case before it is
 * sized: sized on cold code, a case got a few dozen operations per round and a spread of 8x.
 */
const warmUp = async (c: Case, millis: number): Promise<void> => {
  let ops = c.fixedOps ?? c.minOps ?? 1
  for (let spent = 0; spent < millis; ops = c.fixedOps ?? ops * 2) spent += (await timeBatch(c, ops)).wallMillis
}

/** Grows the batch until it is long enough to time, then scales it to `batchMillis`. */
const calibrate = async (c: Case, batchMillis: number): Promise<number> => {
  await warmUp(c, 2 * batchMillis)
  if (c.fixedOps !== undefined) return c.fixedOps
  let ops = c.minOps ?? 1
  let millis = (await timeBatch(c, ops)).cpuMillis
  while (millis < batchMillis / 4) {
    ops *= 2
    millis = (await timeBatch(c, ops)).cpuMillis
  }
  ops = Math.max(c.minOps ?? 1, Math.round((ops * batchMillis) / millis))
  await timeBatch(c, ops)
  return ops
}

export const measure = async <K extends string>(
  cases: Readonly<Record<K, Case>>,
  settings: Settings
): Promise<Record<K, Stats>> => {
  const keys = Object.keys(cases) as Array<K>
  const ops = {} as Record<K, number>
  for (const key of keys) ops[key] = await calibrate(cases[key], settings.batchMillis)
  const cpu = Object.fromEntries(keys.map((key) => [key, [] as Array<number>])) as Record<K, Array<number>>
  const wall = Object.fromEntries(keys.map((key) => [key, [] as Array<number>])) as Record<K, Array<number>>
  for (let round = 0; round < settings.rounds; round++) {
    for (let i = 0; i < keys.length; i++) {
      const key = keys[(i + round) % keys.length]!
      const timing = await timeBatch(cases[key], ops[key])
      cpu[key].push(timing.cpuMillis * 1000 / ops[key])
      wall[key].push(timing.wallMillis * 1000 / ops[key])
    }
  }
  const stats = {} as Record<K, Stats>
  for (const key of keys) {
    const sorted = [...cpu[key]].sort((a, b) => a - b)
    stats[key] = {
      median: quantile(sorted, 0.5),
      p25: quantile(sorted, 0.25),
      p75: quantile(sorted, 0.75),
      min: sorted[0]!,
      max: sorted[sorted.length - 1]!,
      wallMedian: quantile([...wall[key]].sort((a, b) => a - b), 0.5),
      rounds: sorted.length,
      opsPerRound: ops[key]
    }
  }
  return stats
}

/** A case that runs a promise-returning call `ops` times, one after the other. */
export const sequential = (name: string, call: () => PromiseLike<unknown>): Case => ({
  name,
  batch: async (ops) => {
    for (let i = 0; i < ops; i++) await call()
  }
})

/** A case that runs a synchronous call `ops` times. */
export const synchronous = (name: string, call: () => unknown): Case => ({
  name,
  batch: async (ops) => {
    for (let i = 0; i < ops; i++) call()
  }
})
