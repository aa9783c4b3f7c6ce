import * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Predicate from "effect/Predicate"
import type { InvalidOptions } from "../Errors.js"
import type { BudgetOptions, BudgetTypeId, RetryBudget } from "../Retry.js"
import * as Options from "./options.js"

/** @internal */
export const TypeId: BudgetTypeId = Symbol.for("effect-resilience/RetryBudget") as BudgetTypeId

/** @internal */
export const defaults = {
  name: "retry-budget",
  ratio: 0.2,
  minPerSecond: 10,
  ttl: Duration.seconds(10)
} as const

// Credits are kept in thousandths of a retry, so a ratio of 0.2 is exact: five successes buy one retry.
const UNIT = 1000
const SLOTS = 10

/**
 * Net credits (deposits minus withdrawals) in a ring of `SLOTS` time slots covering `ttl`. A slot is
 * cleared when the clock moves past it, so a deposit counts for about `ttl` and a withdrawal stops
 * counting against the balance after the same time. The reserve (`minPerSecond * ttl`) is never
 * deposited; it is the floor that lets a quiet client retry at all.
 *
 * Mutated only inside `Effect.sync`, so each operation is atomic with respect to other fibers.
 */
class Bucket {
  private readonly slots = new Array<number>(SLOTS).fill(0)
  private slot = 0
  private exhausted = false

  constructor(
    private readonly slotMillis: number,
    private readonly reserve: number,
    private readonly depositAmount: number
  ) {}

  private advance(now: number): number {
    const slot = Math.floor(now / this.slotMillis)
    if (slot > this.slot) {
      const expired = Math.min(SLOTS, slot - this.slot)
      for (let i = 1; i <= expired; i++) this.slots[(this.slot + i) % SLOTS] = 0
      this.slot = slot
    }
    return this.slot % SLOTS
  }

  private balance(): number {
    let sum = this.reserve
    for (const credits of this.slots) sum += credits
    return sum
  }

  deposit(now: number): void {
    const index = this.advance(now)
    this.slots[index] = this.slots[index]! + this.depositAmount
  }

  /** Whether a retry may run, and whether that answer changed since the last withdrawal. */
  withdraw(now: number): readonly [allowed: boolean, changed: boolean] {
    const index = this.advance(now)
    const allowed = this.balance() >= UNIT
    if (allowed) this.slots[index] = this.slots[index]! - UNIT
    const changed = this.exhausted === allowed
    this.exhausted = !allowed
    return [allowed, changed]
  }

  available(now: number): number {
    this.advance(now)
    return Math.max(0, Math.floor(this.balance() / UNIT))
  }
}

const make = (module: string, options: BudgetOptions | undefined): RetryBudget => {
  const name = Options.orDefault(options?.name, defaults.name, (n) => Options.nonEmptyString({ module, option: "name" }, n))
  const ratio = Options.orDefault(options?.ratio, defaults.ratio, (r) => Options.ratio({ module, option: "ratio" }, r))
  const minPerSecond = Options.orDefault(
    options?.minPerSecond,
    defaults.minPerSecond,
    (n) => Options.numberAtLeast({ module, option: "minPerSecond" }, n, 0)
  )
  const ttl = Options.orDefault(options?.ttl, defaults.ttl, (d) => Options.positiveDuration({ module, option: "ttl" }, d))
  const ttlMillis = Duration.toMillis(ttl)
  const bucket = new Bucket(
    ttlMillis / SLOTS,
    Math.round(minPerSecond * (ttlMillis / 1000) * UNIT),
    Math.round(ratio * UNIT)
  )
  const annotations = { budget: name, ratio, minPerSecond, ttl: Duration.format(ttl) }
  return {
    [TypeId]: TypeId,
    name,
    deposit: Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => bucket.deposit(now))),
    withdraw: Effect.flatMap(Clock.currentTimeMillis, (now) => {
      const [allowed, changed] = bucket.withdraw(now)
      if (!changed) return Effect.succeed(allowed)
      // One line per change of state, not one per refused retry: an outage would flood the log otherwise.
      const log = allowed
        ? Effect.logInfo(`retry budget ${name} has credit again; retries resume`)
        : Effect.logWarning(`retry budget ${name} is exhausted; failures are returned without retry`)
      return Effect.as(Effect.annotateLogs(log, annotations), allowed)
    }),
    available: Effect.flatMap(Clock.currentTimeMillis, (now) => Effect.sync(() => bucket.available(now)))
  }
}

/** @internal */
export const budget = (options?: BudgetOptions): Effect.Effect<RetryBudget, InvalidOptions> =>
  Options.validated(() => make("Retry.budget", options))

/** @internal */
export const layerBudget = <I>(
  tag: Context.Tag<I, RetryBudget>,
  options?: BudgetOptions
): Layer.Layer<I, InvalidOptions> => Layer.effect(tag, Options.validated(() => make("Retry.layerBudget", options)))

/** @internal */
export const isRetryBudget = (u: unknown): u is RetryBudget => Predicate.hasProperty(u, TypeId)
