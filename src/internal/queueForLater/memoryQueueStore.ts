import * as PersistedQueue from "@effect/experimental/PersistedQueue"
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"

/**
 * An in-memory `PersistedQueueStore`, in place of experimental's `layerStoreMemory`, whose takers all
 * wake when an item arrives and each take the head of the queue without looking again: with more than
 * one worker, the second finds the queue empty and dies ("unsafeHead: empty iterable"), and with it
 * every worker of the pool. Here a woken taker looks again and waits again if another was first.
 *
 * Like experimental's: items are taken first in, first out; an interrupted item goes back without an
 * attempt counted; an id is one item for ever (the ids are kept for the life of the store).
 */
interface Item {
  readonly id: string
  readonly element: unknown
  attempts: number
}

interface Queue {
  readonly ready: Set<Item>
  readonly latch: Effect.Latch
}

export const make = (): Context.Tag.Service<typeof PersistedQueue.PersistedQueueStore> => {
  const ids = new Set<string>()
  const queues = new Map<string, Queue>()
  const queueOf = (name: string): Queue => {
    let queue = queues.get(name)
    if (queue === undefined) queues.set(name, queue = { ready: new Set(), latch: Effect.unsafeMakeLatch(false) })
    return queue
  }
  const putBack = (queue: Queue, item: Item) => {
    queue.ready.add(item)
    queue.latch.unsafeOpen()
  }
  return PersistedQueue.PersistedQueueStore.of({
    offer: ({ element, id, name }) =>
      Effect.sync(() => {
        if (ids.has(id)) return
        ids.add(id)
        putBack(queueOf(name), { id, element, attempts: 0 })
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
              Effect.sync(() => {
                if (Exit.isSuccess(exit)) return
                if (!Cause.isInterruptedOnly(exit.cause)) item.attempts += 1
                if (item.attempts < maxAttempts) putBack(queue, item)
              })
            ),
            item
          )
        })
        return loop
      })
  })
}
