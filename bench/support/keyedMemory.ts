/**
 * Heap per idle key of a keyed guard: `keys` keys each called once, then idle, measured against the
 * heap before the first of them, and the heap once they are evicted. Time is a `TestClock`, so no key
 * expires while the others are created, however slow the machine. Needs `node --expose-gc`.
 */
import { Duration, Effect, Scope, TestClock, TestContext } from "effect"
import { heap } from "./heap.js"
import { report, type Row, verdict } from "./report.js"

export interface KeyedGuard {
  /** One call through the guard of `key`. */
  readonly touch: (key: string) => Effect.Effect<void, unknown>
  readonly keys: Effect.Effect<ReadonlyArray<unknown>>
}

export interface Options {
  /** What the row calls a key, e.g. "idle `Bulkhead.keyed` key". */
  readonly what: string
  readonly keys: number
  readonly ttlMillis: number
  readonly make: (idleTimeToLive: Duration.Duration) => Effect.Effect<KeyedGuard, unknown, Scope.Scope>
}

export interface Reading {
  readonly before: number
  readonly idle: number
  readonly evicted: number
  readonly keysLive: number
  readonly keysAfter: number
  readonly bytesPerKey: number
}

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`

/** Target: at most 1 KB per idle key (issue 11). */
const maxBytesPerKey = 1024

const idleKeyMemory = (options: Options): Effect.Effect<Reading, unknown> =>
  Effect.gen(function*() {
    const scope = yield* Scope.make()
    const guard = yield* Scope.extend(options.make(Duration.millis(options.ttlMillis)), scope)
    // warm up: one key through its whole life, so code and shared structures are not counted per key
    yield* guard.touch("warm-up")
    yield* TestClock.adjust(options.ttlMillis + 500)

    const before = heap()
    yield* Effect.forEach(
      Array.from({ length: options.keys }, (_, i) => `tenant-${i}`),
      guard.touch,
      { discard: true }
    )
    const idle = heap()
    const keysLive = (yield* guard.keys).length
    yield* TestClock.adjust(options.ttlMillis + 1_000)
    const evicted = heap()
    const keysAfter = (yield* guard.keys).length
    yield* Scope.close(scope, Effect.void.pipe(Effect.exit) as never)
    return { before, idle, evicted, keysLive, keysAfter, bytesPerKey: (idle - before) / keysLive }
  }).pipe(Effect.provide(TestContext.TestContext))

const row = (options: Options, r: Reading): Row => ({
  what: `${options.what} (${options.keys.toLocaleString("en")} keys, ${r.keysLive.toLocaleString("en")} live)`,
  ours: `${r.bytesPerKey.toFixed(0)} B`,
  baseline: `heap before the keys: ${megabytes(r.before)}; after eviction (${r.keysAfter} left): ` +
    `${r.evicted >= r.before ? "+" : ""}${megabytes(r.evicted - r.before)}`,
  ratio: "",
  goal: `<= ${maxBytesPerKey} B`,
  verdict: verdict(r.bytesPerKey <= maxBytesPerKey)
})

/** Measures, prints and reports (as section `id`) the memory per idle key of one keyed guard. */
export const reportIdleKeyMemory = (id: string, title: string, options: Options): Promise<void> =>
  Effect.runPromise(idleKeyMemory(options)).then((reading) =>
    report({ id, title, rows: [row(options, reading)], data: reading })
  )
