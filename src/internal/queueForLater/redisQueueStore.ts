import * as PersistedQueue from "@effect/experimental/PersistedQueue"
import * as Cause from "effect/Cause"
import type * as Context from "effect/Context"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"
import type { Redis } from "ioredis"
import * as retention from "./retention.js"

/**
 * A `PersistedQueueStore` (the interface of `@effect/experimental`'s `PersistedQueue`) on Redis, in
 * place of experimental's own, whose lock recovery requeues every taken item, locked or not, on each
 * refresh and pushes raw ids that break later takes (docs/QueueForLater.md).
 *
 * Per queue (`<q>` is the name's length, a colon and the name, so that no queue's keys are another's): a
 * list of ready ids (`<q>`), the items by id (`<q>:items`), the ids offered
 * (`<q>:ids`, a sorted set scored by when each is forgotten on Redis's clock: `+inf` while its item
 * is queued or taken, the end of the queue's `rememberIds` once it is finished) and the leases of taken
 * items (`<q>:leases`, a sorted set of id by expiry on Redis's clock, `<q>:holders`, the token
 * of the take that holds each, and `<q>:tokens`, the same the other way round). Taking pops an id
 * and leases it under a token the taker made, in one script; a take whose answer did not come back (a
 * command timeout while Redis was slow) may still run later, so the taker then unleases that token,
 * putting such an item back at the head uncounted instead of leaving it leased to nobody. A worker renews
 * its leases while it holds them; any take first returns the items whose lease ran out (their worker
 * died) to the ready list, counting each such return in `<q>:stalls`: an attempt that ended with its
 * worker, which the take hands over as one more attempt, so QueueForLater dead-letters an item that
 * kills every worker that writes it instead of trying it for ever. Settling an item (done, failed
 * again, interrupted) is one script that does nothing unless the caller still holds the lease, so a
 * worker that lost its lease cannot remove or duplicate an item another worker has taken since. Each
 * offer first forgets up to `pruneBatch` ids whose time is up, in the script that offers, so an id is
 * never forgotten between its check and its offer.
 */
export interface QueueRedis extends Redis {
  resilienceQueueOffer(key: string, id: string, payload: string, custom: string, pruneBatch: number): Promise<number>
  resilienceQueueTake(
    key: string,
    leaseMillis: number,
    token: string
  ): Promise<[payload: string, stalls: string] | null>
  resilienceQueueUnlease(key: string, token: string): Promise<number>
  resilienceQueueRenew(key: string, leaseMillis: number, ...idsAndTokens: Array<string>): Promise<number>
  resilienceQueueSettle(
    key: string,
    id: string,
    token: string,
    outcome: string,
    payload: string,
    rememberMillis: number
  ): Promise<number>
  resilienceQueueForget(key: string, id: string): Promise<number>
}

const nowScript = `
local t = redis.call("TIME")
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`

const offerScript = `
local key = KEYS[1]
${nowScript}
local forgotten = redis.call("ZRANGEBYSCORE", key .. ":ids", "-inf", now, "LIMIT", 0, tonumber(ARGV[4]))
if #forgotten > 0 then redis.call("ZREM", key .. ":ids", unpack(forgotten)) end
if ARGV[3] == "1" then
  local forgetAt = redis.call("ZSCORE", key .. ":ids", ARGV[1])
  if forgetAt and (forgetAt == "inf" or tonumber(forgetAt) > now) then return 0 end
  redis.call("ZADD", key .. ":ids", "+inf", ARGV[1])
end
redis.call("HSET", key .. ":items", ARGV[1], ARGV[2])
redis.call("RPUSH", key, ARGV[1])
return 1
`

const takeScript = `
local key = KEYS[1]
${nowScript}
local expired = redis.call("ZRANGEBYSCORE", key .. ":leases", "-inf", now)
for _, id in ipairs(expired) do
  redis.call("ZREM", key .. ":leases", id)
  local holder = redis.call("HGET", key .. ":holders", id)
  if holder then redis.call("HDEL", key .. ":tokens", holder) end
  redis.call("HDEL", key .. ":holders", id)
  redis.call("HINCRBY", key .. ":stalls", id, 1)
  redis.call("LPUSH", key, id)
end
while true do
  local id = redis.call("LPOP", key)
  if not id then return nil end
  local payload = redis.call("HGET", key .. ":items", id)
  if payload then
    redis.call("ZADD", key .. ":leases", now + tonumber(ARGV[1]), id)
    redis.call("HSET", key .. ":holders", id, ARGV[2])
    redis.call("HSET", key .. ":tokens", ARGV[2], id)
    return { payload, redis.call("HGET", key .. ":stalls", id) or "0" }
  end
end
`

// The take of ARGV[1] never reached its taker: what it leased goes back to the head, uncounted.
const unleaseScript = `
local key = KEYS[1]
local id = redis.call("HGET", key .. ":tokens", ARGV[1])
if not id then return 0 end
redis.call("HDEL", key .. ":tokens", ARGV[1])
if redis.call("HGET", key .. ":holders", id) ~= ARGV[1] then return 0 end
redis.call("ZREM", key .. ":leases", id)
redis.call("HDEL", key .. ":holders", id)
redis.call("LPUSH", key, id)
return 1
`

const renewScript = `
local key = KEYS[1]
${nowScript}
local renewed = 0
for i = 2, #ARGV, 2 do
  if redis.call("HGET", key .. ":holders", ARGV[i]) == ARGV[i + 1] then
    renewed = renewed + redis.call("ZADD", key .. ":leases", "XX", "CH", now + tonumber(ARGV[1]), ARGV[i])
  end
end
return renewed
`

// outcome: "done" removes the item, "again" puts it back (payload carries its attempts, the stalls
// its take handed over included), "failed" moves it to <name>:failed. Only the lease holder's settle
// counts: an item whose lease ran out and was taken again is settled by its new holder. A finished
// item's id is forgotten ARGV[5] ms from now.
const settleScript = `
local key = KEYS[1]
local id = ARGV[1]
if redis.call("HGET", key .. ":holders", id) ~= ARGV[2] then return 0 end
redis.call("ZREM", key .. ":leases", id)
redis.call("HDEL", key .. ":holders", id)
redis.call("HDEL", key .. ":tokens", ARGV[2])
redis.call("HDEL", key .. ":stalls", id)
if ARGV[3] == "again" then
  redis.call("HSET", key .. ":items", id, ARGV[4])
  redis.call("RPUSH", key, id)
  return 1
end
redis.call("HDEL", key .. ":items", id)
if ARGV[3] == "failed" then redis.call("HSET", key .. ":failed", id, ARGV[4]) end
${nowScript}
redis.call("ZADD", key .. ":ids", "XX", now + tonumber(ARGV[5]), id)
return 1
`

// Forgets a finished id and answers 1; an id still queued or taken (scored +inf) stays, and 0.
const forgetScript = `
local key = KEYS[1]
if redis.call("ZSCORE", key .. ":ids", ARGV[1]) == "inf" then return 0 end
redis.call("ZREM", key .. ":ids", ARGV[1])
return 1
`

export const scripts = {
  resilienceQueueOffer: offerScript,
  resilienceQueueTake: takeScript,
  resilienceQueueUnlease: unleaseScript,
  resilienceQueueRenew: renewScript,
  resilienceQueueSettle: settleScript,
  resilienceQueueForget: forgetScript
}

interface Stored {
  readonly id: string
  readonly element: unknown
  readonly attempts: number
  readonly lastFailure?: string
}

export interface Options {
  readonly prefix: string
  readonly pollInterval: Duration.Duration
  readonly lockExpiration: Duration.Duration
  readonly lockRefreshInterval: Duration.Duration
}

const queueError = (message: string) => (cause: unknown) => new PersistedQueue.PersistedQueueError({ message, cause })

export const make = (
  client: QueueRedis,
  o: Options
): Effect.Effect<Context.Tag.Service<typeof PersistedQueue.PersistedQueueStore>, never, Scope.Scope> =>
  Effect.gen(function*() {
    const leaseMillis = Math.ceil(Duration.toMillis(o.lockExpiration))
    // the name's length first, as storeKeyOf does: the ready list of queue "a:items" must not be the
    // items hash of queue "a"
    const keyOf = (name: string) => `${o.prefix}${name.length}:${name}`
    const bounds = retention.bounds()
    // Per queue key, the items this store holds: id -> token of the take.
    const held = new Map<string, Map<string, string>>()
    const hold = (key: string, id: string, token: string) => {
      let ids = held.get(key)
      if (ids === undefined) held.set(key, ids = new Map())
      ids.set(id, token)
    }
    const release = (key: string, id: string) => held.get(key)?.delete(id)

    // Renewing is best effort: a renewal Redis misses only shortens the lease, and an item whose
    // lease runs out is delivered again, with its idempotency key.
    yield* Effect.forkScoped(Effect.forever(Effect.zipRight(
      Effect.sleep(o.lockRefreshInterval),
      Effect.forEach(
        held,
        ([key, ids]) =>
          ids.size === 0 ? Effect.void : Effect.ignore(Effect.tryPromise(() =>
            client.resilienceQueueRenew(key, leaseMillis, ...Array.from(ids).flat())
          )),
        { discard: true }
      )
    )))

    const settle = (name: string, token: string, item: Stored, maxAttempts: number) => (exit: Exit.Exit<unknown, unknown>) => {
      const key = keyOf(name)
      release(key, item.id)
      const interrupted = Exit.isFailure(exit) && Cause.isInterruptedOnly(exit.cause)
      const attempts = Exit.isSuccess(exit) || interrupted ? item.attempts : item.attempts + 1
      const outcome = Exit.isSuccess(exit) ? "done" : attempts >= maxAttempts ? "failed" : "again"
      const payload = Exit.isSuccess(exit) ? "" : JSON.stringify({
        ...item,
        attempts,
        ...(interrupted ? {} : { lastFailure: Cause.pretty(exit.cause) })
      })
      return Effect.tryPromise(() => client.resilienceQueueSettle(key, item.id, token, outcome, payload, bounds.millis(name))).pipe(
        Effect.catchAll((error) =>
          Effect.logWarning("queue store could not settle an item; it is delivered again when its lease runs out")
            .pipe(Effect.annotateLogs({ queue: key, id: item.id, error: String(error) }))
        )
      )
    }

    // A take that failed may still have run (Redis answers after the command timeout): its lease is
    // given back, best effort, by a command Redis runs after it (one connection keeps their order).
    const poll = (key: string) => {
      const token = globalThis.crypto.randomUUID()
      return Effect.tryPromise({
        try: () => client.resilienceQueueTake(key, leaseMillis, token),
        catch: queueError("Failed to take an element from the persisted queue")
      }).pipe(Effect.tapError(() =>
        Effect.sync(() => {
          client.resilienceQueueUnlease(key, token).catch(() => undefined)
        })
      ), Effect.map((taken) => taken === null ? null : [token, ...taken] as const))
    }

    const store = PersistedQueue.PersistedQueueStore.of({
      offer: ({ element, id, isCustomId, name }) =>
        Effect.asVoid(Effect.tryPromise({
          try: () =>
            client.resilienceQueueOffer(
              keyOf(name),
              id,
              JSON.stringify({ id, element, attempts: 0 } satisfies Stored),
              isCustomId ? "1" : "0",
              retention.pruneBatch
            ),
          catch: queueError("Failed to offer element to persisted queue")
        })),
      take: ({ maxAttempts, name }) =>
        Effect.uninterruptibleMask((restore) => {
          const key = keyOf(name)
          const loop: Effect.Effect<Stored, PersistedQueue.PersistedQueueError, Scope.Scope> = Effect.flatMap(
            poll(key),
            (taken) => {
              if (taken === null) return Effect.zipRight(restore(Effect.sleep(o.pollInterval)), loop)
              const [token, payload, stalls] = taken
              const stored: Stored = JSON.parse(payload)
              const item: Stored = { ...stored, attempts: stored.attempts + Number(stalls) }
              hold(key, item.id, token)
              return Effect.as(Effect.addFinalizer(settle(name, token, item, maxAttempts)), item)
            }
          )
          return loop
        })
    })
    return retention.withRetention(store, {
      rememberIds: bounds.set,
      forget: (name, id) =>
        Effect.tryPromise({
          try: () => client.resilienceQueueForget(keyOf(name), id).then((released) => released === 1),
          catch: queueError("Failed to forget an id of the persisted queue")
        })
    })
  })
