import type * as Effect from "effect/Effect"
import type { BulkheadFull } from "../Errors.js"

/**
 * Where a caller stands. A waiter moves forward only, and every move happens inside one synchronous
 * block (JavaScript runs one fiber at a time), so each transition is atomic:
 *
 *   New ──> Queued ──> Granted | Expired | Left
 *    └────> Granted | Rejected
 *
 * `Granted` is the only status that owns a slot; whoever sees it on a path that will not run the
 * effect must release that slot.
 */
export type Status = "new" | "queued" | "granted" | "expired" | "rejected" | "left"

/** A caller waiting for a slot: a node of an intrusive doubly linked list, so leaving is O(1). */
export class Waiter {
  status: Status = "new"
  prev: Waiter | undefined = undefined
  next: Waiter | undefined = undefined
  /** Epoch millis on the bulkhead's Clock after which the reaper rejects it (`Infinity`: never). */
  deadline = Infinity
  /** Resumes the waiting fiber: `Effect.void` hands it the slot, a failure rejects it. */
  resume: (effect: Effect.Effect<void, BulkheadFull>) => void = noop
}

const noop = () => {}

/** A FIFO of waiters that also removes any waiter from the middle in O(1). */
export class WaiterQueue {
  head: Waiter | undefined = undefined
  tail: Waiter | undefined = undefined
  length = 0

  push(waiter: Waiter): void {
    waiter.prev = this.tail
    waiter.next = undefined
    if (this.tail === undefined) this.head = waiter
    else this.tail.next = waiter
    this.tail = waiter
    this.length++
  }

  shift(): Waiter | undefined {
    const waiter = this.head
    if (waiter !== undefined) this.remove(waiter)
    return waiter
  }

  remove(waiter: Waiter): void {
    if (waiter.prev === undefined) this.head = waiter.next
    else waiter.prev.next = waiter.next
    if (waiter.next === undefined) this.tail = waiter.prev
    else waiter.next.prev = waiter.prev
    waiter.prev = undefined
    waiter.next = undefined
    this.length--
  }
}
