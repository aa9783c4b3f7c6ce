import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import type * as Api from "../../QueueForLater.js"

/**
 * Where items that exhausted their attempts wait for a person: kept per queue name, in their encoded
 * form, so a schema that changed meanwhile does not lose them.
 */
export interface DeadLetterStore {
  readonly add: (queue: string, letter: Api.DeadLetter.Encoded) => Effect.Effect<void, Api.QueueStoreError>
  readonly list: (queue: string) => Effect.Effect<ReadonlyArray<Api.DeadLetter.Encoded>, Api.QueueStoreError>
  readonly get: (queue: string, id: string) => Effect.Effect<Option.Option<Api.DeadLetter.Encoded>, Api.QueueStoreError>
  readonly remove: (queue: string, id: string) => Effect.Effect<void, Api.QueueStoreError>
}

/** @internal */
export class DeadLetters extends Context.Tag("effect-resilience/QueueForLater/DeadLetterStore")<
  DeadLetters,
  DeadLetterStore
>() {}

/** An in-memory store: dead letters live as long as the process. */
export const memory = (): DeadLetterStore => {
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
