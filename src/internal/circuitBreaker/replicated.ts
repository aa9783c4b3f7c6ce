import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Metric from "effect/Metric"
import * as Option from "effect/Option"
import * as Schema from "effect/Schema"
import type * as api from "../../CircuitBreaker.js"
import { storeCooldownMillis } from "../storeOutage.js"
import * as machine from "./machine.js"
import { StoreError } from "./store.js"

/**
 * A breaker core shared by replicas through a `Store`. Every event applies the same pure machine
 * functions as the in-memory breaker, to the shared core, and commits the result with a
 * compare-and-set on the record's version; a conflict returns the record another replica wrote, and
 * the event is applied again to it. So failures of every replica count toward one policy, one
 * replica's opening is every replica's, and half-open probes are admitted up to `probes` in total.
 *
 * Optimistic: an event is sent with the version this replica last saw, so when nobody else wrote
 * meanwhile it costs one round trip (a version check when nothing changes, a write otherwise).
 * Group commit: a replica keeps one round trip in flight per record; the events that arrive meanwhile
 * are applied together, in order, and committed with one write, so a replica's concurrent calls
 * never conflict with each other (only replicas do, and a conflict costs one more round trip).
 *
 * What stays per replica: `rejected` (a rejection is never written, so an open breaker's rejections
 * cost no write contention) and the `openFor` schedule state (rebuilt from `streak` when an event
 * opens the breaker, as `restore` does).
 *
 * Events: the record keeps its last transitions, each with the version that committed it. A replica
 * publishes (to `changes`, metrics and logs) the entries newer than the last version it saw, under
 * the breaker's lock, so each transition it observes is published once and in order; its own
 * commits are published the same way. When entries are missing (its first read, a record that
 * expired, more than `logSize` transitions since it last looked, or its own fallback breaker moved
 * apart), it publishes one transition from the state it last published to the record's.
 */

const logSize = 8

/** Versions start at the caller's clock in microseconds, so a record recreated after it expired counts on. */
const versionScale = 1000

/** Generations of a replica's own fallback breaker: far below the shared core's, so tickets never match across. */
const localGenerations = 2 ** 40

/**
 * Round trips a batch may lose to other replicas' commits before it gives up (as a store error). Each
 * lost one is another replica's progress, and the loser has the record to decode before it sends again
 * while the winner sends its next batch at once, so a busy pair of replicas can starve one of them for
 * many rounds: with 10, about one run in three of 100 concurrent calls on two replicas lost a whole
 * replica's outcomes (it fell back to its own breaker). A round trip that is answered
 * costs well under a millisecond on a local network; one that is not ends the loop at once.
 */
const attempts = 100

export type OnStoreError = "local" | "allow" | "reject"

export type Transition<A> = (
  core: machine.Core<any>,
  next: machine.NextBreak | undefined
) => machine.Step<any, A> | machine.NeedBreak

/** The breaker, as the shared path sees it. */
export interface Replica {
  readonly name: string
  core: machine.Core<any>
  /** The state this replica last published. */
  readonly counted: api.State | undefined
}

/** What the in-memory breaker lends the shared path. */
export interface Host<R extends Replica> {
  readonly config: machine.Config<any>
  readonly fixed: machine.NextBreak | undefined
  readonly lock: Effect.Semaphore
  /** The `openFor` schedule state after `streak` openings in a row. */
  readonly cursorAfter: (streak: number, now: number) => Effect.Effect<unknown>
  /** The next break after `streak` openings in a row. */
  readonly nextBreakAfter: (streak: number, now: number, input: unknown) => Effect.Effect<machine.NextBreak>
  readonly publish: (replica: R, changes: ReadonlyArray<machine.Change>) => Effect.Effect<void>
  /** Today's in-memory transaction on `replica.core`. */
  readonly local: <A>(replica: R, now: number, input: unknown, f: Transition<A>) => Effect.Effect<A>
}

export interface Remote {
  readonly transact: <A>(now: number, input: unknown, f: Transition<A>) => Effect.Effect<A>
}

interface Pending {
  readonly now: number
  readonly input: unknown
  readonly f: Transition<unknown>
  readonly wake: Deferred.Deferred<void>
  /** Set when this event must run the next batch. */
  lead: boolean
  result: Exit.Exit<unknown> | undefined
}

interface Applied {
  readonly core: machine.Core<any>
  readonly changes: ReadonlyArray<machine.Change>
  readonly values: ReadonlyArray<unknown>
}

export interface Group<R extends Replica> {
  readonly attach: (replica: R, key: string) => Remote
}

// -----------------------------------------------------------------------------
// the record
// -----------------------------------------------------------------------------

interface Entry extends machine.Change {
  readonly version: number
}

interface Decoded {
  readonly core: machine.Core<any>
  readonly log: ReadonlyArray<Entry>
}

const StateName = Schema.Literal("closed", "open", "half-open", "isolated")
const Why = Schema.Literal(
  "failures",
  "slow-calls",
  "break-elapsed",
  "probe-failed",
  "probe-hung",
  "probes-succeeded",
  "isolated",
  "reset",
  "restored"
)
const Count = Schema.Int.pipe(Schema.nonNegative())

const RecordJson = Schema.parseJson(Schema.Struct({
  state: StateName,
  generation: Count,
  since: Schema.Number,
  until: Schema.Number,
  breakMillis: Schema.Number,
  opens: Count,
  streak: Count,
  succeeded: Count,
  probes: Schema.Array(Schema.Tuple(Schema.Int, Schema.Number)),
  nextProbe: Count,
  books: Schema.Unknown,
  log: Schema.Array(Schema.Struct({
    version: Schema.Number,
    from: StateName,
    to: StateName,
    when: Schema.Number,
    why: Why,
    breakMillis: Schema.optional(Schema.Number)
  }))
}))

const decodeRecord = Schema.decodeUnknownEither(RecordJson)

/** Whether `b` differs from `a` in nothing the store keeps (`rejected` and the schedule state stay local). */
const sameShared = (a: machine.Core<any>, b: machine.Core<any>): boolean =>
  a === b || (a.state === b.state && a.generation === b.generation && a.since === b.since && a.books === b.books &&
    a.until === b.until && a.breakMillis === b.breakMillis && a.opens === b.opens && a.streak === b.streak &&
    a.succeeded === b.succeeded && a.probes === b.probes && a.nextProbe === b.nextProbe)

/** How long the record still holds something pending (a break, a probe); undefined while isolated (kept). */
const pendingMillis = (config: machine.Config<any>, core: machine.Core<any>, now: number): number | undefined => {
  switch (core.state) {
    case "isolated":
      return undefined
    case "open":
      return Math.max(0, core.until - now)
    case "half-open": {
      let pending = 0
      for (const probe of core.probes) pending = Math.max(pending, probe[1] + machine.maxWaitOf(config, core) - now)
      return pending
    }
    case "closed":
      return 0
  }
}

/** One transition from the state a replica last published to the record's, when the entries between are gone. */
const catchUp = (from: api.State, core: machine.Core<any>, log: ReadonlyArray<Entry>): machine.Change => {
  const last = log[log.length - 1]
  const why = last !== undefined && last.to === core.state ? last.why : "restored"
  return core.state === "open"
    ? { from, to: core.state, when: core.since, why, breakMillis: core.breakMillis }
    : { from, to: core.state, when: core.since, why }
}

// -----------------------------------------------------------------------------
// store health: one warning per outage
// -----------------------------------------------------------------------------

const storeErrorsTotal = Metric.counter("resilience_breaker_store_errors_total", {
  description: "Circuit breaker store operations that failed (the breaker then applied its onStoreError)",
  incremental: true
})

const fallbackText: Record<OnStoreError, string> = {
  local: "each replica uses its own breaker",
  allow: "letting every call through (fail open)",
  reject: "rejecting every call (fail closed)"
}

const makeHealth = (name: string, onStoreError: OnStoreError) => {
  let downUntil = 0
  let down = false
  const errors = Metric.tagged(storeErrorsTotal, "breaker", name)
  const annotations = { breaker: name, onStoreError }
  return <A>(now: number, operation: Effect.Effect<A, StoreError>): Effect.Effect<Option.Option<A>> =>
    now < downUntil ? Effect.succeedNone : Effect.matchEffect(operation, {
      onFailure: (error) => {
        downUntil = now + storeCooldownMillis
        const log = down ? Effect.void : Effect.logWarning(
          `circuit breaker ${name} cannot reach its store; ${fallbackText[onStoreError]}`
        ).pipe(Effect.annotateLogs({ ...annotations, error: error.message }))
        down = true
        return Effect.as(Effect.zipRight(Metric.increment(errors), log), Option.none())
      },
      onSuccess: (a) => {
        if (!down) return Effect.succeed(Option.some(a))
        down = false
        return Effect.as(
          Effect.annotateLogs(Effect.logInfo(`circuit breaker ${name} reaches its store again`), annotations),
          Option.some(a)
        )
      }
    })
}

// -----------------------------------------------------------------------------
// the shared path
// -----------------------------------------------------------------------------

export const makeGroup = <R extends Replica>(
  store: api.Store,
  name: string,
  onStoreError: OnStoreError,
  host: Host<R>
): Group<R> => {
  const { config } = host
  const health = makeHealth(name, onStoreError)
  const encodeBooks = Schema.encodeSync(config.policy.schema)
  const decodeBooks = Schema.decodeUnknownEither(config.policy.schema)
  const encode = (core: machine.Core<any>, log: ReadonlyArray<Entry>): string =>
    JSON.stringify({
      state: core.state,
      generation: core.generation,
      since: core.since,
      until: core.until,
      breakMillis: core.breakMillis,
      opens: core.opens,
      streak: core.streak,
      succeeded: core.succeeded,
      probes: core.probes,
      nextProbe: core.nextProbe,
      books: encodeBooks(core.books),
      log
    })
  // An unreadable record (another library version, a hand edit) reads as absent: the next write replaces it.
  const decode = (record: string, rejected: number): Decoded | undefined => {
    const decoded = decodeRecord(record)
    if (Either.isLeft(decoded)) return undefined
    const books = decodeBooks(decoded.right.books)
    if (Either.isLeft(books)) return undefined
    const { log, ...fields } = decoded.right
    return { core: { ...fields, books: books.right, rejected, schedule: config.scheduleInitial }, log }
  }
  const zeroBreak: machine.NextBreak = { millis: 0, schedule: config.scheduleInitial }

  /** The core a call meets under "allow" or "reject" while the store is down; nothing done to it is kept. */
  const standIn = (now: number): machine.Core<any> => {
    const closed = { ...machine.initial(config, now), generation: -1 }
    return onStoreError === "allow" ? closed : {
      ...closed,
      state: "open",
      until: now + storeCooldownMillis,
      breakMillis: storeCooldownMillis
    }
  }

  const attach = (replica: R, key: string): Remote => {
    /** The shared core as last read (undefined: absent), its version (0: absent) and its log. */
    let known: machine.Core<any> | undefined
    let version = 0
    let log: ReadonlyArray<Entry> = []
    /** The highest version published from; -1 before the first answer. */
    let seen = -1
    /** Whether the last event fell back to this replica's own breaker. */
    let local = false

    const observe = (at: number, core: machine.Core<any>, force: boolean): Effect.Effect<void> => {
      if (at <= seen && !force) return Effect.void
      return host.lock.withPermits(1)(Effect.uninterruptible(Effect.suspend(() => {
        if (at <= seen && !force) return Effect.void
        const news = seen < 0 ? [] : log.filter((entry) => entry.version > seen)
        // Published from where this replica stands: entries before that (its own fallback breaker made
        // the same transition while the store was out of reach) were published already.
        const from = news.findIndex((entry) => entry.from === replica.counted)
        const changes: Array<machine.Change> = from < 0 ? [] : news.slice(from)
        seen = Math.max(seen, at)
        const last = changes.length > 0 ? changes[changes.length - 1]!.to : replica.counted
        if (last !== undefined && last !== core.state) changes.push(catchUp(last, core, log))
        return changes.length === 0 ? Effect.void : host.publish(replica, changes)
      })))
    }

    const adopt = (current: number, record: string | undefined, now: number): Effect.Effect<void> => {
      const decoded = record === undefined ? undefined : decode(record, replica.core.rejected)
      const forgotten = decoded === undefined && seen > 0
      known = decoded?.core
      version = current
      log = decoded?.log ?? []
      if (forgotten) seen = 0 // entries of a new record are all news
      // a record forgotten at rest reads as a closed breaker; the lifetime counters only grow
      replica.core = known ?? { ...machine.initial(config, now), rejected: replica.core.rejected, opens: replica.core.opens }
      return observe(current, replica.core, forgotten)
    }

    /** Applies the events of a batch in order, stepping the `openFor` schedule where one opens the breaker. */
    const applyAll = (base: machine.Core<any>, batch: ReadonlyArray<Pending>): Effect.Effect<Applied> => {
      const values: Array<unknown> = []
      const changes: Array<machine.Change> = []
      const from = (core: machine.Core<any>, i: number): Effect.Effect<Applied> => {
        for (; i < batch.length; i++) {
          const { f, input, now } = batch[i]!
          let step = f(core, host.fixed)
          if (step === machine.NeedBreak) {
            const at = i
            const before = core
            return Effect.flatMap(host.nextBreakAfter(before.streak, now, input), (next) => {
              step = f(before, next)
              if (step === machine.NeedBreak) return Effect.dieMessage("a break was needed twice")
              values.push(step.value)
              changes.push(...step.changes)
              return from(step.core, at + 1)
            })
          }
          values.push(step.value)
          changes.push(...step.changes)
          core = step.core
        }
        return Effect.succeed({ core, changes, values })
      }
      return from(base, 0)
    }

    /** Commits a batch's result if the record is still at `version`; on a conflict adopts the record and answers false. */
    const commit = (base: machine.Core<any>, applied: Applied, now: number): Effect.Effect<boolean, StoreError> => {
      const { changes, core } = applied
      const expected = version
      const changed = !sameShared(base, core)
      const written = changed ? Math.max(expected + 1, Math.floor(now * versionScale)) : expected
      const nextLog = !changed || changes.length === 0
        ? log
        : [...log, ...changes.map((change) => ({ ...change, version: written }))].slice(-logSize)
      const request: api.Store.Request = changed
        ? {
          key,
          version: expected,
          write: { version: written, record: encode(core, nextLog), pendingMillis: pendingMillis(config, core, now) }
        }
        : { key, version: expected }
      return Effect.flatMap(store.sync(request), (response) => {
        if (!response.committed) return Effect.as(adopt(response.version, response.record, now), false)
        if (changed) {
          known = core
          version = written
          log = nextLog
        }
        replica.core = core
        const reconcile = local
        local = false
        return Effect.as(observe(written, core, reconcile), true)
      })
    }

    const shared = (batch: ReadonlyArray<Pending>, left: number): Effect.Effect<ReadonlyArray<unknown>, StoreError> =>
      Effect.suspend(() => {
        if (left === 0) return Effect.fail(new StoreError({ operation: `commit after ${attempts} conflicting writes` }))
        const now = batch[batch.length - 1]!.now
        // no record (never written, or forgotten at rest): a closed breaker, with this replica's lifetime counts
        const current = known ?? { ...machine.initial(config, batch[0]!.now), opens: replica.core.opens }
        const base = current.rejected === replica.core.rejected ? current : { ...current, rejected: replica.core.rejected }
        return Effect.flatMap(applyAll(base, batch), (applied) =>
          Effect.flatMap(
            commit(base, applied, now),
            (committed) => committed ? Effect.succeed(applied.values) : shared(batch, left - 1)
          ))
      })

    const fallback = (now: number, input: unknown, f: Transition<unknown>): Effect.Effect<unknown> => {
      if (onStoreError !== "local") {
        const step = f(standIn(now), zeroBreak)
        return step === machine.NeedBreak ? Effect.dieMessage("a stand-in core needed a break") : Effect.succeed(step.value)
      }
      if (local) return host.local(replica, now, input, f)
      // From the last shared core seen, under generations of its own and with its schedule rebuilt.
      local = true
      const core = replica.core
      replica.core = { ...core, generation: core.generation - localGenerations }
      return Effect.flatMap(host.cursorAfter(core.streak, now), (schedule) => {
        replica.core = { ...replica.core, schedule }
        return host.local(replica, now, input, f)
      })
    }

    // Group commit: one batch in flight per record and replica, so a replica's concurrent events never
    // conflict with each other. Events that arrive meanwhile queue up; when the batch is settled, the
    // first of them leads the next batch, which carries all of them in one round trip.
    let queue: Array<Pending> = []
    let busy = false

    const runBatch = (batch: ReadonlyArray<Pending>): Effect.Effect<void> =>
      Effect.flatMap(
        Effect.exit(Effect.flatMap(health(batch[batch.length - 1]!.now, shared(batch, attempts)), (answer) =>
          Option.isSome(answer)
            ? Effect.sync(() => answer.value.forEach((value, i) => batch[i]!.result = Exit.succeed(value)))
            : Effect.forEach(batch, (pending) =>
              Effect.map(fallback(pending.now, pending.input, pending.f), (value) => {
                pending.result = Exit.succeed(value)
              }), { discard: true }))),
        (exit) =>
          Effect.suspend(() => {
            const wake: Array<Deferred.Deferred<void>> = []
            for (const pending of batch) {
              pending.result ??= Exit.isFailure(exit) ? exit : Exit.die("an event of a batch got no result")
              wake.push(pending.wake)
            }
            const next = queue[0]
            if (next === undefined) busy = false
            else {
              next.lead = true
              wake.push(next.wake)
            }
            return Effect.forEach(wake, (deferred) => Deferred.succeed(deferred, undefined), { discard: true })
          })
      )

    const settled = (pending: Pending): Effect.Effect<unknown> =>
      Effect.suspend(() => {
        if (pending.result !== undefined) return pending.result
        if (!pending.lead) return Effect.zipRight(Deferred.await(pending.wake), settled(pending))
        pending.lead = false
        const batch = queue
        queue = []
        return Effect.zipRight(runBatch(batch), settled(pending))
      })

    return {
      // uninterruptible: a batch's leader must finish it, and others' events wait on it; each round
      // trip is bounded by the store's own timeout
      transact: <A>(now: number, input: unknown, f: Transition<A>) =>
        Effect.uninterruptible(Effect.flatMap(Deferred.make<void>(), (wake) => {
          const pending: Pending = { now, input, f, wake, lead: !busy, result: undefined }
          busy = true
          queue.push(pending)
          return settled(pending) as Effect.Effect<A>
        }))
    }
  }

  return { attach }
}
