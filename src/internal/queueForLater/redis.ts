import * as PersistedQueue from "@effect/experimental/PersistedQueue"
import * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Option from "effect/Option"
import type { Redis } from "ioredis"
import type { InvalidOptions } from "../../Errors.js"
import type * as QueueForLater from "../../QueueForLater.js"
import type * as Api from "../../QueueForLaterRedis.js"
import * as options from "../options.js"
import { acquireClient, redisOptions } from "../redisClient.js"
import { DeadLetterStore } from "./deadLetterStore.js"
import { QueueStoreError } from "./errors.js"
import * as redisQueueStore from "./redisQueueStore.js"

/** @internal */
export const defaults = {
  prefix: "resilience:",
  pollInterval: Duration.seconds(1),
  lockExpiration: Duration.seconds(30)
} as const

const failed = (queue: string, operation: string) => (cause: unknown) =>
  new QueueStoreError({ queue, operation, detail: cause instanceof Error ? cause.message : String(cause) })

const parse = (raw: string): QueueForLater.DeadLetter.Encoded => JSON.parse(raw)

// One hash per queue, field = the item's id: listing, reading and removing one are single commands.
const deadLettersFrom = (client: Redis, prefix: string): QueueForLater.DeadLetterStore => ({
  add: (queue, letter) =>
    Effect.asVoid(Effect.tryPromise({
      try: () => client.hset(`${prefix}${queue}`, letter.id, JSON.stringify(letter)),
      catch: failed(queue, "store a dead letter")
    })),
  list: (queue) =>
    Effect.tryPromise({
      try: () => client.hvals(`${prefix}${queue}`).then((values) => values.map(parse)),
      catch: failed(queue, "list its dead letters")
    }),
  get: (queue, id) =>
    Effect.tryPromise({
      try: () => client.hget(`${prefix}${queue}`, id).then((raw) => Option.map(Option.fromNullable(raw), parse)),
      catch: failed(queue, "read a dead letter")
    }),
  remove: (queue, id) =>
    Effect.asVoid(Effect.tryPromise({
      try: () => client.hdel(`${prefix}${queue}`, id),
      catch: failed(queue, "remove a dead letter")
    }))
})

/** @internal */
export const layerStore = (
  o: Api.Options = {}
): Layer.Layer<PersistedQueue.PersistedQueueStore | QueueForLater.DeadLetterStore, InvalidOptions> => {
  const module = "QueueForLaterRedis.layerStore"
  return Layer.scopedContext(Effect.gen(function*() {
    const resolved = yield* options.validated(() => {
      const lockExpiration = options.orDefault(
        o.lockExpiration,
        defaults.lockExpiration,
        (d) => options.positiveDuration({ module, option: "lockExpiration" }, d)
      )
      const lockRefreshInterval = options.orDefault(
        o.lockRefreshInterval,
        Duration.divide(lockExpiration, 3).pipe(Option.getOrElse(() => lockExpiration)),
        (d) => options.positiveDuration({ module, option: "lockRefreshInterval" }, d)
      )
      if (Duration.greaterThanOrEqualTo(lockRefreshInterval, lockExpiration)) {
        options.invalid({ module, option: "lockRefreshInterval" }, lockRefreshInterval, "shorter than lockExpiration")
      }
      return {
        prefix: options.orDefault(o.prefix, defaults.prefix, (p) => options.string({ module, option: "prefix" }, p)),
        pollInterval: options.orDefault(
          o.pollInterval,
          defaults.pollInterval,
          (d) => options.positiveDuration({ module, option: "pollInterval" }, d)
        ),
        lockExpiration,
        lockRefreshInterval,
        redis: redisOptions(module, o)
      }
    })
    const client = yield* acquireClient<redisQueueStore.QueueRedis>(resolved.redis, redisQueueStore.scripts)
    const queueStore = yield* redisQueueStore.make(client, { ...resolved, prefix: `${resolved.prefix}queue:` })
    return Context.make(PersistedQueue.PersistedQueueStore, queueStore).pipe(
      Context.add(DeadLetterStore, deadLettersFrom(client, `${resolved.prefix}dead:`))
    )
  }))
}
