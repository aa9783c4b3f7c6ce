import * as PersistedQueue from "@effect/experimental/PersistedQueue"
import * as Cause from "effect/Cause"
import * as Clock from "effect/Clock"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"
import * as retention from "./retention.js"

/**
 * An in-memory `PersistedQueueStore`, in place of experimental's `layerStoreMemory`, whose takers all
 * wake when an item arrives and each take the head of the queue without looking again: with more than
 * one worker, the second finds the queue empty and dies ("unsafeHead: empty iterable"), and with it
 * every worker of the pool. Here a woken taker looks again and waits again if another was first.
 *
 * Like experimental's: items are taken first in, first out; an interrupted item goes back without an
 * attempt counted; an id offered again is dropped. Unlike it, an id is remembered while its item is
 * queued or taken and then for the queue's `rememberIds` (on `Clock`), not for ever: each offer first
 * forgets up to `pruneBatch` ids whose time is up, oldest first.
 */
interface Item {
  readonly id: string
  readonly element: unknown
  attempts: number
}

interface Queue {
  readonly ready: Set<Item>
  readonly latch: Effect.Latch
  /** Ids of items queued or taken. */
  readonly live: Set<string>
  /** Ids of finished items, in the order they finished, with when they are forgotten. */
  readonly finished: Map<string, number>
}

export const make = (): Context.Tag.Service<typeof PersistedQueue.PersistedQueueStore> => {
  const queues = new Map<string, Queue>()
  const bounds = retention.bounds()
  const queueOf = (name: string): Queue => {
    let queue = queues.get(name)
    if (queue === undefined) {
      queues.set(name, queue = { ready: new Set(), latch: Effect.unsafeMakeLatch(false), live: new Set(), finished: new Map() })
    }
    return queue
  }
  const putBack = (queue: Queue, item: Item) => {
    queue.ready.add(item)
    queue.latch.unsafeOpen()
  }
  const prune = (queue: Queue, now: number) => {
    let budget = retention.pruneBatch
    for (const [id, forgetAt] of queue.finished) {
      if (forgetAt > now || budget-- === 0) return
      queue.finished.delete(id)
    }
  }
  const finish = (name: string, queue: Queue, id: string) =>
    Effect.map(Clock.currentTimeMillis, (now) => {
      if (!queue.live.delete(id)) return
      queue.finished.set(id, now + bounds.millis(name))
    })
  const store = PersistedQueue.PersistedQueueStore.of({
    offer: ({ element, id, name }) =>
      Effect.map(Clock.currentTimeMillis, (now) => {
        const queue = queueOf(name)
        prune(queue, now)
        // An id whose time is up but which this offer's budget did not reach yet is already forgotten.
        if (queue.live.has(id) || (queue.finished.get(id) ?? now) > now) return
        queue.finished.delete(id)
        queue.live.add(id)
        putBack(queue, { id, element, attempts: 0 })
      }),
    take: ({ maxAttempts, name }) =>
      Effect.uninterruptibleMask((restore) => {
        const queue = queueOf(name)
        const loop: Effect.Effect<Item, never, Scope.Scope> = Effect.suspend(() => {
          const [item] = queue.ready
          if (item === undefined) {
            queue.latch.unsafeClose()
            return Effect.zipRight(restore(queue.latch.await), loop)
          }
          queue.ready.delete(item)
          return Effect.as(
            Effect.addFinalizer((exit) =>
              Effect.suspend(() => {
                if (Exit.isSuccess(exit)) return finish(name, queue, item.id)
                if (!Cause.isInterruptedOnly(exit.cause)) item.attempts += 1
                if (item.attempts >= maxAttempts) return finish(name, queue, item.id)
                return Effect.sync(() => putBack(queue, item))
              })
            ),
            item
          )
        })
        return loop
      })
  })
  return retention.withRetention(store, {
    rememberIds: bounds.set,
    forget: (name, id) =>
      Effect.sync(() => {
        const queue = queueOf(name)
        if (queue.live.has(id)) return false
        queue.finished.delete(id)
        return true
      })
  })
}
