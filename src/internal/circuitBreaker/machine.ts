import type { Outcome, Policy, State as StateName, Why } from "../../CircuitBreaker.js"

/**
 * The breaker's state machine as pure functions of (core, event, now). The Effect layer keeps the core
 * in a `Ref` and applies these inside `Ref.modify`, so every transition is atomic and testable alone.
 *
 * Generations: every transition bumps `generation`, and a call's ticket remembers the generation it
 * was admitted in. An outcome whose ticket is from another generation (a failure that lands after the
 * breaker opened, a probe that outlived its `maxWait`) changes nothing.
 *
 * Time is lazy: nothing runs when a break ends or a probe hangs. Every event first applies the
 * transitions that the passage of time implies (`elapse`), so the next call or state read sees them.
 */

export type { StateName, Why }

export interface Core<S> {
  readonly state: StateName
  readonly generation: number
  readonly since: number
  readonly books: S
  /** Open: when a probe may run. */
  readonly until: number
  /** The length of the current (or last) break. */
  readonly breakMillis: number
  /** Openings in the breaker's life (a restore adopts the exported count). */
  readonly opens: number
  /** Openings since the breaker last closed: how far the `openFor` schedule has stepped. */
  readonly streak: number
  /** Half-open: probes that succeeded, and probes in flight as [id, startedAt]. */
  readonly succeeded: number
  readonly probes: ReadonlyArray<readonly [id: number, startedAt: number]>
  readonly nextProbe: number
  readonly rejected: number
  /** State of the `openFor` schedule (not serialised; rebuilt from `opens` on restore). */
  readonly schedule: unknown
}

export interface Config<S> {
  readonly policy: Policy<S>
  readonly probes: number
  /** Milliseconds, or undefined for "the current break duration". */
  readonly maxWait: number | undefined
  readonly maxHint: number
  readonly scheduleInitial: unknown
}

/** A break duration for the next opening, with the schedule state that produced it. */
export interface NextBreak {
  readonly millis: number
  readonly schedule: unknown
}

export interface Ticket {
  readonly generation: number
  /** -1 for a call admitted while closed. */
  readonly probe: number
  readonly startedAt: number
}

export interface Change {
  readonly from: StateName
  readonly to: StateName
  readonly when: number
  readonly why: Why
  /** Set when `to` is "open": how long the break lasts. */
  readonly breakMillis?: number | undefined
}

export type Rejection = {
  readonly reason: "open" | "half-open-full" | "isolated"
  readonly retryAfter: number | undefined
}

export interface Step<S, A> {
  readonly core: Core<S>
  readonly value: A
  readonly changes: ReadonlyArray<Change>
}

/** Returned when an event opens the breaker and no break duration was supplied. */
export const NeedBreak: unique symbol = Symbol.for("effect-resilience/CircuitBreaker/NeedBreak")
export type NeedBreak = typeof NeedBreak

const noChanges: ReadonlyArray<Change> = []

export const initial = <S>(config: Config<S>, now: number): Core<S> => ({
  state: "closed",
  generation: 0,
  since: now,
  books: config.policy.initial,
  until: 0,
  breakMillis: 0,
  opens: 0,
  streak: 0,
  succeeded: 0,
  probes: [],
  nextProbe: 0,
  rejected: 0,
  schedule: config.scheduleInitial
})

/** The shortest default wait for a probe: a zero or jittered-tiny break would call every probe hung. */
const minimumDefaultMaxWait = 1_000

export const maxWaitOf = <S>(config: Config<S>, core: Core<S>): number =>
  config.maxWait ?? Math.max(core.breakMillis, minimumDefaultMaxWait)

const oldestProbe = <S>(core: Core<S>): number => {
  let oldest = Number.POSITIVE_INFINITY
  for (const probe of core.probes) oldest = Math.min(oldest, probe[1])
  return oldest
}

const enter = <S>(core: Core<S>, to: StateName, now: number, patch: Partial<Core<S>>): Core<S> => ({
  ...core,
  state: to,
  generation: core.generation + 1,
  since: now,
  until: 0,
  succeeded: 0,
  probes: [],
  ...patch
})

const change = <S>(from: Core<S>, to: Core<S>, when: number, why: Why): Change =>
  to.state === "open" ? { from: from.state, to: to.state, when, why, breakMillis: to.breakMillis } :
    { from: from.state, to: to.state, when, why }

const open = <S>(
  config: Config<S>,
  core: Core<S>,
  now: number,
  hint: number | undefined,
  next: NextBreak | undefined
): Core<S> | NeedBreak => {
  if (next === undefined) return NeedBreak
  const breakMillis = hint === undefined ? next.millis : Math.max(next.millis, Math.min(hint, config.maxHint))
  return enter(core, "open", now, {
    until: now + breakMillis,
    breakMillis,
    opens: core.opens + 1,
    streak: core.streak + 1,
    schedule: next.schedule
  })
}

const close = <S>(config: Config<S>, core: Core<S>, now: number): Core<S> =>
  enter(core, "closed", now, { books: config.policy.initial, streak: 0, schedule: config.scheduleInitial })

/** The transitions that the passage of time implies: a break that ended, a probe that hung. */
const elapse = <S>(
  config: Config<S>,
  core: Core<S>,
  now: number,
  next: NextBreak | undefined,
  changes: Array<Change>
): Core<S> | NeedBreak => {
  let current = core
  if (current.state === "open" && now >= current.until) {
    const halfOpen = enter(current, "half-open", now, {})
    changes.push(change(current, halfOpen, now, "break-elapsed"))
    current = halfOpen
  }
  if (current.state === "half-open" && current.probes.length > 0) {
    if (now >= oldestProbe(current) + maxWaitOf(config, current)) {
      const reopened = open(config, current, now, undefined, next)
      if (reopened === NeedBreak) return NeedBreak
      changes.push(change(current, reopened, now, "probe-hung"))
      current = reopened
    }
  }
  return current
}

const step = <S, A>(core: Core<S>, value: A, changes: ReadonlyArray<Change>): Step<S, A> => ({ core, value, changes })

export const observe = <S>(
  config: Config<S>,
  core: Core<S>,
  now: number,
  next: NextBreak | undefined
): Step<S, Core<S>> | NeedBreak => {
  const changes: Array<Change> = []
  const current = elapse(config, core, now, next, changes)
  return current === NeedBreak ? NeedBreak : step(current, current, changes.length === 0 ? noChanges : changes)
}

export const acquire = <S>(
  config: Config<S>,
  core: Core<S>,
  now: number,
  next: NextBreak | undefined
): Step<S, Ticket | Rejection> | NeedBreak => {
  if (core.state === "closed") {
    return step(core, { generation: core.generation, probe: -1, startedAt: now }, noChanges)
  }
  const changes: Array<Change> = []
  const current = elapse(config, core, now, next, changes)
  if (current === NeedBreak) return NeedBreak
  switch (current.state) {
    case "closed":
      return step(current, { generation: current.generation, probe: -1, startedAt: now }, changes)
    case "open":
      return step(
        { ...current, rejected: current.rejected + 1 },
        { reason: "open", retryAfter: current.until - now },
        changes
      )
    case "isolated":
      return step({ ...current, rejected: current.rejected + 1 }, { reason: "isolated", retryAfter: undefined }, changes)
    case "half-open": {
      if (current.succeeded + current.probes.length < config.probes) {
        const id = current.nextProbe
        return step(
          { ...current, probes: [...current.probes, [id, now]], nextProbe: id + 1 },
          { generation: current.generation, probe: id, startedAt: now },
          changes
        )
      }
      const settledBy = oldestProbe(current) + maxWaitOf(config, current)
      return step(
        { ...current, rejected: current.rejected + 1 },
        { reason: "half-open-full", retryAfter: Number.isFinite(settledBy) ? settledBy - now : undefined },
        changes
      )
    }
  }
}

/**
 * Records how an admitted call ended. `outcome` is undefined when the call counts as nothing
 * (interrupted, rejected by an inner guard, a defect); a probe that ends so gives its slot back.
 */
export const settle = <S>(
  config: Config<S>,
  core: Core<S>,
  ticket: Ticket,
  outcome: Outcome | undefined,
  hint: number | undefined,
  now: number,
  next: NextBreak | undefined
): Step<S, void> | NeedBreak => {
  // a closed breaker has no time-driven change to catch up on: the common case allocates no changes
  if (core.state === "closed") return settleIn(config, core, ticket, outcome, hint, now, next, noChanges)
  const changes: Array<Change> = []
  const current = elapse(config, core, now, next, changes)
  if (current === NeedBreak) return NeedBreak
  return settleIn(config, current, ticket, outcome, hint, now, next, changes)
}

/** `settle` once the state is current; `elapsed` are the changes that made it so. */
const settleIn = <S>(
  config: Config<S>,
  current: Core<S>,
  ticket: Ticket,
  outcome: Outcome | undefined,
  hint: number | undefined,
  now: number,
  next: NextBreak | undefined,
  elapsed: ReadonlyArray<Change>
): Step<S, void> | NeedBreak => {
  if (ticket.generation !== current.generation) return step(current, undefined, elapsed)
  if (ticket.probe < 0) {
    if (outcome === undefined) return step(current, undefined, elapsed)
    const verdict = config.policy.record(current.books, outcome, now)
    if (verdict.trip === undefined) {
      return step(verdict.state === current.books ? current : { ...current, books: verdict.state }, undefined, elapsed)
    }
    const opened = open(config, { ...current, books: verdict.state }, now, hint, next)
    if (opened === NeedBreak) return NeedBreak
    return step(opened, undefined, [...elapsed, change(current, opened, now, verdict.trip)])
  }
  const probes = current.probes.filter((probe) => probe[0] !== ticket.probe)
  if (outcome === undefined) return step({ ...current, probes }, undefined, elapsed)
  if (config.policy.healthy(outcome)) {
    const succeeded = current.succeeded + 1
    if (succeeded < config.probes) return step({ ...current, probes, succeeded }, undefined, elapsed)
    const closed = close(config, current, now)
    return step(closed, undefined, [...elapsed, change(current, closed, now, "probes-succeeded")])
  }
  const reopened = open(config, current, now, hint, next)
  if (reopened === NeedBreak) return NeedBreak
  return step(reopened, undefined, [...elapsed, change(current, reopened, now, "probe-failed")])
}

export const isolate = <S>(core: Core<S>, now: number): Step<S, void> => {
  if (core.state === "isolated") return step(core, undefined, noChanges)
  const isolated = enter(core, "isolated", now, {})
  return step(isolated, undefined, [change(core, isolated, now, "isolated")])
}

export const reset = <S>(config: Config<S>, core: Core<S>, now: number): Step<S, void> => {
  const closed = close(config, core, now)
  return step(closed, undefined, core.state === "closed" ? noChanges : [change(core, closed, now, "reset")])
}

/**
 * Adopts a core exported elsewhere. Probes in flight there can never report here, so their slots are
 * freed; the generation moves past this instance's own, so calls in flight here are ignored.
 */
export const restore = <S>(core: Core<S>, restored: Core<S>, now: number): Step<S, void> => {
  const adopted: Core<S> = {
    ...restored,
    generation: Math.max(core.generation, restored.generation) + 1,
    probes: [],
    schedule: restored.schedule
  }
  return step(adopted, undefined, core.state === adopted.state ? noChanges : [change(core, adopted, now, "restored")])
}
