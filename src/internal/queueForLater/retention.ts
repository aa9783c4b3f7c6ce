import type * as PersistedQueue from "@effect/experimental/PersistedQueue"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import type * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Predicate from "effect/Predicate"

/**
 * What our queue stores add to `PersistedQueueStore` so that ids age out instead of piling up for
 * ever: each queue says how long the ids of its finished items are remembered, and `replay` can
 * release a dead letter's id to queue it again under that id. A store of your own without it keeps
 * ids as it always did, and replay queues a dead letter under a new id.
 */
export const TypeId: unique symbol = Symbol.for("effect-resilience/QueueForLater/Retention")

export interface Retention {
  /** How long after queue `name`'s item is delivered (or dead-lettered) its id is still a duplicate. */
  readonly rememberIds: (name: string, bound: Duration.Duration) => void
  /**
   * Forgets the id of a finished item (a dead letter about to be replayed), so it can be queued again;
   * `false`, and nothing forgotten, while its item is queued or taken.
   */
  readonly forget: (name: string, id: string) => Effect.Effect<boolean, PersistedQueue.PersistedQueueError>
}

type Store = Context.Tag.Service<typeof PersistedQueue.PersistedQueueStore>

/** A week: longer than the 24 hours Stripe keeps idempotency keys, shorter than the 30 days some keep. */
export const defaultRememberIds: Duration.Duration = Duration.days(7)

/** Ids forgotten per offer at most, so one call's work stays bounded; an offer adds at most one. */
export const pruneBatch = 100

export const withRetention = (store: Store, retention: Retention): Store => Object.assign(store, { [TypeId]: retention })

export const retentionOf = (store: Store): Option.Option<Retention> =>
  Predicate.hasProperty(store, TypeId) ? Option.some(store[TypeId] as Retention) : Option.none()

/** Per queue name, the bound its queue set, else the default. */
export const bounds = () => {
  const byName = new Map<string, number>()
  return {
    set: (name: string, bound: Duration.Duration) => void byName.set(name, Duration.toMillis(bound)),
    millis: (name: string): number => byName.get(name) ?? Duration.toMillis(defaultRememberIds)
  }
}
