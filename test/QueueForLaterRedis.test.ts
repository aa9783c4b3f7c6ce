import { beforeAll, describe, expect, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Layer, Logger, Option, Ref, Schema, Scope } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { ClientError, Unavailable } from "../src/Errors.js"
import * as QueueForLater from "../src/QueueForLater.js"
import { type QueueRedis, scripts } from "../src/internal/queueForLater/redisQueueStore.js"
import * as QueueForLaterRedis from "../src/QueueForLaterRedis.js"
import {
  closedPort,
  failWithoutRedis,
  redisClient,
  redisUnavailable,
  redisUrl,
  withPrefix
} from "./support/redis.js"
import { compile } from "./support/runScript.js"

const Charge = Schema.Struct({ orderId: Schema.String })
const down = new Unavailable({ provider: "payments", reason: "connection-refused" })
const fast = { pollInterval: "100 millis", lockExpiration: "1 seconds", lockRefreshInterval: "200 millis" } as const

/** One "process": a queue over its own Redis connections, built in the test's scope. */
const instance = <B, E>(
  prefix: string,
  write: (charge: typeof Charge.Type, key: string) => Effect.Effect<B, E>,
  extra: Partial<QueueForLater.QueueForLater.Options<typeof Charge.Type, typeof Charge.Encoded, B, E, never>> = {}
) =>
  Effect.flatMap(Scope.Scope, (scope) =>
    Effect.flatMap(
      Layer.buildWithScope(QueueForLaterRedis.layerStore({ url: redisUrl, prefix, ...fast }), scope),
      (context) => Effect.provide(QueueForLater.make({ name: "charges", schema: Charge, write, ...extra }), context)
    ))

/** Polls `done` every 50 ms, for at most `seconds`. */
const eventually = (done: Effect.Effect<boolean>, seconds: number) =>
  Effect.gen(function*() {
    for (let i = 0; i < seconds * 20; i++) {
      if (yield* done) return
      yield* Effect.sleep("50 millis")
    }
    return yield* Effect.dieMessage(`not done within ${seconds} s`)
  })

const fixture = "test/fixtures/queueForLaterWorker.ts"
// the worker program, compiled once for the processes the tests start
let worker = ""
beforeAll(async () => {
  worker = (await compile("queueForLaterWorker", [fixture])).get(fixture)!
})

/** A worker in a child process of its own, killed with SIGKILL when the scope closes if still alive. */
const childWorker = (prefix: string, mode: "hang" | "normal") =>
  Effect.acquireRelease(
    Effect.sync(() =>
      spawn(process.execPath, [worker], {
        env: { ...process.env, REDIS_URL: redisUrl, PREFIX: prefix, MODE: mode },
        stdio: ["ignore", "pipe", "inherit"]
      })
    ),
    (child: ChildProcess) => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL"))
  )

/**
 * `times` takes of the queue at `key` by workers whose process dies while they hold the item: each
 * never settles it, and its 100 ms lease runs out before the next take. Returns the connection that
 * took them, and the stall count each take was handed.
 */
const takenByDeadWorkers = (key: string, times: number) =>
  Effect.gen(function*() {
    const client = yield* redisClient
    client.defineCommand("resilienceQueueTake", { numberOfKeys: 1, lua: scripts.resilienceQueueTake })
    const taker = client as typeof client & Pick<QueueRedis, "resilienceQueueTake">
    const stalls: Array<string> = []
    for (let i = 0; i < times; i++) {
      const taken = yield* Effect.promise(() => taker.resilienceQueueTake(key, 100, `dead-worker-${i}`))
      stalls.push(taken![1])
      yield* Effect.sleep("150 millis")
    }
    return { client, stalls }
  })

/** Starts the queue's worker and returns its first dead letter. */
const firstDeadLetter = <B, E>(queue: QueueForLater.QueueForLater<typeof Charge.Type, B, E, never>) =>
  Effect.gen(function*() {
    yield* Effect.forkScoped(queue.worker)
    yield* eventually(Effect.map(Effect.orDie(queue.deadLetters), (d) => d.length === 1), 10)
    const [letter] = yield* queue.deadLetters
    return letter!
  })

failWithoutRedis("QueueForLaterRedis")

describe.skipIf(redisUnavailable !== undefined)("QueueForLaterRedis (real Redis)", () => {
  it.scopedLive("a worker killed with SIGKILL after writing, before finishing: the item is delivered again, applied once", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("qfl-kill")
      const client = yield* redisClient
      const producer = yield* instance(prefix, () => Effect.fail(down))
      expect(yield* producer.submit({ orderId: "o-1" }, "order-o-1")).toEqual(
        QueueForLater.pending("order-o-1", "order-o-1")
      )
      const deliveries = Effect.promise(() => client.hget(`${prefix}deliveries`, "order-o-1")).pipe(Effect.map(Number))

      const first = yield* childWorker(prefix, "hang")
      yield* eventually(Effect.map(deliveries, (n) => n === 1), 60)
      first.kill("SIGKILL")
      yield* Effect.async<void>((resume) => {
        if (first.exitCode !== null || first.signalCode !== null) return resume(Effect.void)
        first.once("exit", () => resume(Effect.void))
      })
      expect(first.signalCode).toBe("SIGKILL")
      // Still leased to the dead worker: nobody else may take it until the lease runs out.
      expect(yield* Effect.promise(() => client.zcard(`${prefix}queue:7:charges:leases`))).toBe(1)

      yield* childWorker(prefix, "normal")
      yield* eventually(Effect.map(deliveries, (n) => n === 2), 60)
      yield* eventually(
        Effect.map(Effect.promise(() => client.hlen(`${prefix}queue:7:charges:items`)), (n) => n === 0),
        10
      )
      // Nothing left to deliver a third time: no lease, nothing ready.
      yield* Effect.sleep("1500 millis")
      expect(yield* deliveries).toBe(2)
      expect(yield* Effect.promise(() => client.zcard(`${prefix}queue:7:charges:leases`))).toBe(0)
      const sink = yield* Effect.promise(() => client.hgetall(`${prefix}sink`))
      expect(Object.keys(sink)).toEqual(["order-o-1"])
      expect(sink["order-o-1"]).toContain(`o-1 by ${first.pid}`)
      expect(yield* Effect.promise(() => client.llen(`${prefix}queue:7:charges`))).toBe(0)
      expect(yield* producer.deadLetters).toEqual([])
    }), 180_000)

  it.scopedLive("a write that kills its worker every time: each lease that runs out counts, and the take after the last dead-letters it unwritten", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("qfl-stall")
      const key = `${prefix}queue:7:charges`
      const writes = yield* Ref.make(0)
      const queue = yield* instance(prefix, () => Ref.update(writes, (n) => n + 1), { maxAttempts: 3 })
      yield* queue.enqueue({ orderId: "o-1" }, "order-o-1")
      // each take puts back the item the last one left behind, and counts that attempt
      const { client, stalls } = yield* takenByDeadWorkers(key, 3)
      expect(stalls).toEqual(["0", "1", "2"])
      const letter = yield* firstDeadLetter(queue)
      expect(letter).toMatchObject({ id: "order-o-1", attempts: 3 })
      expect(letter.error).toContain("its lease ran out")
      expect(yield* Ref.get(writes)).toBe(0)
      expect(yield* Effect.promise(() => client.hlen(`${key}:items`))).toBe(0)
      expect(yield* Effect.promise(() => client.hlen(`${key}:stalls`))).toBe(0)
      expect(yield* Effect.promise(() => client.zcard(`${key}:leases`))).toBe(0)
    }), 30_000)

  it.scopedLive("a take answered after its timeout is given back, not leased to nobody: the item is written, no attempt spent", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("qfl-slow-take")
      const applied: Array<string> = []
      const queue = yield* Effect.flatMap(Scope.Scope, (scope) =>
        Effect.flatMap(
          Layer.buildWithScope(
            QueueForLaterRedis.layerStore({ url: redisUrl, prefix, ...fast, timeout: "100 millis", lockExpiration: "3 seconds" }),
            scope
          ),
          (context) =>
            Effect.provide(
              QueueForLater.make({
                name: "charges",
                schema: Charge,
                maxAttempts: 1,
                write: (_, key: string) => Effect.sync(() => void applied.push(key))
              }),
              context
            )
        ))
      yield* queue.enqueue({ orderId: "o-1" }, "order-o-1")
      // Redis busy for 400 ms (a long script): the worker's take gives up after 100 ms, and Redis runs it
      // afterwards, leasing the item to a taker that is no longer waiting
      const blocker = yield* redisClient
      const busyFor400ms = "local t = redis.call('TIME') local start = t[1] * 1000000 + t[2] " +
        "repeat t = redis.call('TIME') until t[1] * 1000000 + t[2] - start > 400000 return 1"
      yield* Effect.fork(Effect.promise(() => blocker.eval(busyFor400ms, 0)))
      yield* Effect.sleep("50 millis")
      yield* Effect.forkScoped(queue.worker)
      // before the 3 s lease would have run out (and then counted, dead-lettering it unwritten)
      yield* eventually(Effect.sync(() => applied.length === 1), 2.5)
      expect(applied).toEqual(["order-o-1"])
      expect(yield* queue.deadLetters).toEqual([])
    }))

  it.scopedLive("queues whose names end up as each other's keys (a and a:items) keep their items apart", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("qfl-names")
      const applied: Array<string> = []
      const context = yield* Effect.flatMap(Scope.Scope, (scope) =>
        Layer.buildWithScope(QueueForLaterRedis.layerStore({ url: redisUrl, prefix, ...fast }), scope))
      const queueNamed = (name: string) =>
        Effect.provide(
          QueueForLater.make({ name, schema: Charge, write: (_, key: string) => Effect.sync(() => void applied.push(`${name}/${key}`)) }),
          context
        )
      const a = yield* queueNamed("a")
      const aItems = yield* queueNamed("a:items")
      yield* a.enqueue({ orderId: "o-1" }, "key-a")
      yield* aItems.enqueue({ orderId: "o-2" }, "key-b")
      yield* Effect.forkScoped(a.worker)
      yield* Effect.forkScoped(aItems.worker)
      yield* eventually(Effect.sync(() => applied.length === 2), 5)
      expect(applied.sort()).toEqual(["a/key-a", "a:items/key-b"])
    }))

  it.scopedLive("a lease that ran out is an attempt the next worker counts; settling clears it", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("qfl-stall-once")
      const key = `${prefix}queue:7:charges`
      const declined = new ClientError({ provider: "payments", status: 402, body: "card declined" })
      const queue = yield* instance(prefix, () => Effect.fail(declined), { maxAttempts: 5 })
      yield* queue.enqueue({ orderId: "o-1" }, "order-o-1")
      const { client } = yield* takenByDeadWorkers(key, 1)
      // the write's error is not one to retry: dead-lettered at once, as the second attempt
      const letter = yield* firstDeadLetter(queue)
      expect(letter).toMatchObject({ id: "order-o-1", attempts: 2 })
      expect(letter.error).toContain("card declined")
      expect(yield* Effect.promise(() => client.hlen(`${key}:stalls`))).toBe(0)
    }), 30_000)

  it.scopedLive("dead letters are on Redis: another instance lists them and replays one", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("qfl-dead")
      const healthy = yield* Ref.make(false)
      const applied = yield* Ref.make<Array<string>>([])
      const write = (charge: typeof Charge.Type, key: string) =>
        Effect.flatMap(Ref.get(healthy), (ok) =>
          ok ? Ref.update(applied, (a) => [...a, `${charge.orderId}/${key}`]) : Effect.fail(down))
      const a = yield* instance(prefix, write, { maxAttempts: 2, retryDelay: "10 millis" })
      yield* a.enqueue({ orderId: "o-1" }, "order-o-1")
      yield* Effect.forkScoped(a.worker)
      const b = yield* instance(prefix, write)
      yield* eventually(Effect.map(Effect.orDie(b.deadLetters), (d) => d.length === 1), 10)
      const [letter] = yield* b.deadLetters
      expect(letter).toMatchObject({ id: "order-o-1", attempts: 2, value: Option.some({ orderId: "o-1" }) })
      yield* Ref.set(healthy, true)
      yield* b.replay("order-o-1")
      yield* eventually(Effect.map(Ref.get(applied), (x) => x.length === 1), 10)
      expect(yield* Ref.get(applied)).toEqual(["o-1/order-o-1"])
      expect(yield* a.deadLetters).toEqual([])
    }), 30_000)

  it.scopedLive("an item held by a live worker past lockExpiration is not given to another worker", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("qfl-lease")
      const starts = yield* Ref.make<Array<string>>([])
      const slow = (who: string) => (_: typeof Charge.Type, key: string) =>
        Ref.update(starts, (s) => [...s, `${who}:${key}`]).pipe(Effect.zipRight(Effect.sleep("3 seconds")))
      const a = yield* instance(prefix, slow("a"))
      yield* a.enqueue({ orderId: "o-1" }, "order-o-1")
      yield* Effect.forkScoped(a.worker)
      yield* eventually(Effect.map(Ref.get(starts), (s) => s.length === 1), 10)
      const b = yield* instance(prefix, slow("b"))
      yield* Effect.forkScoped(b.worker)
      // Three lease lengths: a renews its lease all along, so b never takes the item.
      yield* Effect.sleep("3500 millis")
      expect(yield* Ref.get(starts)).toEqual(["a:order-o-1"])
    }), 30_000)

  it.scopedLive("Redis down - submit answers with the write's own error, the worker warns once, nothing hangs", () =>
    Effect.gen(function*() {
      const port = yield* Effect.promise(closedPort)
      const logs: Array<string> = []
      const logger = Logger.make(({ message }) => logs.push(String(message)))
      const queue = yield* Effect.flatMap(Scope.Scope, (scope) =>
        Effect.flatMap(
          Layer.buildWithScope(
            QueueForLaterRedis.layerStore({ url: `redis://127.0.0.1:${port}`, timeout: "200 millis", ...fast }),
            scope
          ),
          (context) =>
            Effect.provide(QueueForLater.make({ name: "charges", schema: Charge, write: () => Effect.fail(down) }), context)
        ))
      yield* Effect.gen(function*() {
        expect(yield* Effect.flip(queue.submit({ orderId: "o-1" }, "order-o-1"))).toBe(down)
        expect(yield* Effect.flip(queue.deadLetters)).toBeInstanceOf(QueueForLater.QueueStoreError)
        yield* Effect.forkScoped(queue.worker)
        yield* Effect.sleep("2500 millis")
      }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)), Effect.timeout("10 seconds"))
      expect(logs.filter((line) => line.includes("is unreachable"))).toHaveLength(1)
    }), 30_000)

  it.scopedLive("rememberIds - a delivered id is a duplicate until the bound on Redis's clock, then a new item", () =>
    Effect.gen(function*() {
      const client = yield* redisClient
      const redisNow = Effect.promise(() => client.time()).pipe(
        Effect.map(([s, us]) => Number(s) * 1000 + Math.floor(Number(us) / 1000))
      )
      const applied = yield* Ref.make(0)
      const write = () => Ref.update(applied, (n) => n + 1)
      const deliveredOnce = (prefix: string, rememberIds: Duration.DurationInput) =>
        Effect.gen(function*() {
          const queue = yield* instance(prefix, write, { rememberIds })
          const worker = yield* Effect.fork(queue.worker)
          yield* queue.enqueue({ orderId: "o-1" }, "order-o-1")
          yield* eventually(Effect.map(Ref.get(applied), (n) => n === 1), 10)
          yield* Fiber.interrupt(worker)
          return queue
        })

      // A week: still a duplicate now, and forgotten a week after delivery, not never.
      const week = yield* withPrefix("qfl-ids-week")
      const weekly = yield* deliveredOnce(week, "7 days")
      const forgetAt = Number(yield* Effect.promise(() => client.zscore(`${week}queue:7:charges:ids`, "order-o-1")))
      const now = yield* redisNow
      expect(forgetAt).toBeGreaterThan(now + 7 * 86_400_000 - 60_000)
      expect(forgetAt).toBeLessThanOrEqual(now + 7 * 86_400_000)
      yield* weekly.enqueue({ orderId: "o-1" }, "order-o-1")
      expect(yield* Effect.promise(() => client.llen(`${week}queue:7:charges`))).toBe(0)

      // 300 ms (real time, on Redis's clock): after it the key is a new item, and the old id is gone.
      yield* Ref.set(applied, 0)
      const short = yield* withPrefix("qfl-ids-short")
      const brief = yield* deliveredOnce(short, "300 millis")
      yield* Effect.sleep("400 millis")
      yield* brief.enqueue({ orderId: "o-1" }, "order-o-1")
      expect(yield* Effect.promise(() => client.llen(`${short}queue:7:charges`))).toBe(1)
      expect(yield* Effect.promise(() => client.zscore(`${short}queue:7:charges:ids`, "order-o-1"))).toBe("inf")
      yield* Effect.forkScoped(brief.worker)
      yield* eventually(Effect.map(Ref.get(applied), (n) => n === 2), 10)
    }), 30_000)

  it.scopedLive("rememberIds - an id queued, being written or dead-lettered never ages out on Redis", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("qfl-ids-live")
      const client = yield* redisClient
      const ready = Effect.promise(() => client.llen(`${prefix}queue:7:charges`))
      const score = (id: string) => Effect.promise(() => client.zscore(`${prefix}queue:7:charges:ids`, id))
      const declined = new ClientError({ provider: "payments", status: 402, body: "card declined" })
      const attempts = yield* Ref.make<Array<string>>([])
      const write = (charge: typeof Charge.Type) =>
        Ref.update(attempts, (a) => [...a, charge.orderId]).pipe(
          Effect.zipRight(
            charge.orderId === "o-2" ? Effect.fail(declined) : charge.orderId === "o-3" ? Effect.sleep("900 millis") : Effect.void
          )
        )
      const queue = yield* instance(prefix, write, { rememberIds: "300 millis" })

      // Queued, no worker: past the bound it is still one item.
      yield* queue.enqueue({ orderId: "o-1" }, "order-o-1")
      yield* Effect.sleep("400 millis")
      yield* queue.enqueue({ orderId: "o-1" }, "order-o-1")
      expect(yield* ready).toBe(1)
      expect(yield* score("order-o-1")).toBe("inf")

      // Dead-lettered, and being written past the bound.
      yield* queue.enqueue({ orderId: "o-2" }, "order-o-2")
      yield* queue.enqueue({ orderId: "o-3" }, "order-o-3")
      yield* Effect.forkScoped(queue.worker)
      yield* eventually(Effect.map(Ref.get(attempts), (a) => a.includes("o-3")), 10)
      yield* Effect.sleep("400 millis")
      yield* queue.enqueue({ orderId: "o-2" }, "order-o-2")
      yield* queue.enqueue({ orderId: "o-3" }, "order-o-3")
      expect(yield* ready).toBe(0)
      expect(yield* score("order-o-3")).toBe("inf")
      yield* eventually(Effect.map(Effect.promise(() => client.zcard(`${prefix}queue:7:charges:leases`)), (n) => n === 0), 10)
      expect(yield* Ref.get(attempts)).toEqual(["o-1", "o-2", "o-3"])
      expect((yield* queue.deadLetters).map((letter) => letter.id)).toEqual(["order-o-2"])

      // Replay queues the dead letter again under its own id.
      expect(yield* queue.replay("order-o-2")).toEqual(QueueForLater.pending("order-o-2", "order-o-2"))
      yield* eventually(Effect.map(Ref.get(attempts), (a) => a.length === 4), 10)
    }), 30_000)

  it.scopedLive("the same idempotency key from two instances is one item", () =>
    Effect.gen(function*() {
      const prefix = yield* withPrefix("qfl-dedupe")
      const client = yield* redisClient
      const a = yield* instance(prefix, () => Effect.fail(down))
      const b = yield* instance(prefix, () => Effect.fail(down))
      yield* a.submit({ orderId: "o-1" }, "order-o-1")
      yield* b.submit({ orderId: "o-1" }, "order-o-1")
      expect(yield* Effect.promise(() => client.llen(`${prefix}queue:7:charges`))).toBe(1)
    }), 30_000)
})
