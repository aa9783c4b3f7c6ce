import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Api from "../../QueueForLater.js"

/** @internal */
export const DeadLetterStore: Context.Tag<Api.DeadLetterStore, Api.DeadLetterStore> = Context.GenericTag<
  Api.DeadLetterStore
>("effect-resilience/QueueForLater/DeadLetterStore")

/** An in-memory store: dead letters live as long as the process. */
export const memory = (): Api.DeadLetterStore => {
  const queues = new Map<string, Map<string, Api.DeadLetter.Encoded>>()
  const of = (queue: string) => {
    let letters = queues.get(queue)
    if (letters === undefined) queues.set(queue, letters = new Map())
    return letters
  }
  return {
    add: (queue, letter) => Effect.sync(() => void of(queue).set(letter.id, letter)),
    list: (queue) => Effect.sync(() => Array.from(of(queue).values())),
    get: (queue, id) => Effect.sync(() => Option.fromNullable(of(queue).get(id))),
    remove: (queue, id) => Effect.sync(() => void of(queue).delete(id))
  }
}
