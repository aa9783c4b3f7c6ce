/**
 * Finds the Redis the Redis tests talk to (`REDIS_URL`, default redis://127.0.0.1:6379). When it is
 * absent the tests are skipped with a visible warning, unless `REQUIRE_REDIS=1` (CI), where they fail.
 */
import { describe, it } from "@effect/vitest"
import { Effect, type Scope } from "effect"
import { Redis, type RedisOptions } from "ioredis"
import { createServer } from "node:net"
import { deleteByPrefix, redisOptions } from "../../src/internal/redisClient.js"

export const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379"
export const redisRequired = process.env.REQUIRE_REDIS === "1"

/**
 * A client of `redisUrl` for the tests' own use, with `options` over the library's defaults. The URL
 * is parsed by the library, as the stores parse it: ioredis would parse it with `url.parse`, which
 * Node 24 reports as deprecated (DEP0169).
 */
export const newClient = (options: RedisOptions = {}): Redis =>
  new Redis(redisOptions("tests", { url: redisUrl, redis: options }))

const probe = async (): Promise<string | undefined> => {
  const client = newClient({
    lazyConnect: true,
    connectTimeout: 1_000,
    commandTimeout: 1_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null
  })
  let firstError: Error | undefined
  client.on("error", (error: Error) => {
    firstError ??= error
  })
  try {
    await client.connect()
    await client.ping()
    return undefined
  } catch (error) {
    return (firstError ?? (error instanceof Error ? error : new Error(String(error)))).message
  } finally {
    client.disconnect()
  }
}

/** Why Redis cannot be used, or `undefined` when it answers. */
export const redisUnavailable: string | undefined = await probe()

if (redisUnavailable !== undefined && !redisRequired) {
  console.warn(
    `Redis tests SKIPPED: no Redis at ${redisUrl} (${redisUnavailable}). Set REQUIRE_REDIS=1 to fail instead.`
  )
}

let counter = 0
/** A key prefix no other test (or earlier run) uses. */
export const uniquePrefix = (name: string): string =>
  `test:resilience:${name}:${process.pid}:${Date.now()}:${counter++}:`

/** A client of the test's own, closed with the scope. */
export const redisClient: Effect.Effect<Redis, never, Scope.Scope> = Effect.acquireRelease(
  Effect.sync(() => {
    const client = newClient({ commandTimeout: 2_000 })
    client.on("error", () => {})
    return client
  }),
  (client) => Effect.promise(() => client.quit().catch(() => client.disconnect()))
)

/** Deletes every key under `prefix`, so a test leaves nothing behind before the keys expire. */
export const deleteKeys = async (prefix: string): Promise<void> => {
  const client = newClient({ commandTimeout: 2_000 })
  client.on("error", () => {})
  try {
    await deleteByPrefix(client, prefix)
  } finally {
    await client.quit().catch(() => client.disconnect())
  }
}

/** A local TCP port nothing listens on: bound, then closed. */
export const closedPort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** A fresh key prefix for the test, whose keys are deleted when the test's scope closes. */
export const withPrefix = (name: string): Effect.Effect<string, never, Scope.Scope> =>
  Effect.acquireRelease(Effect.sync(() => uniquePrefix(name)), (prefix) => Effect.promise(() => deleteKeys(prefix)))

/** With REQUIRE_REDIS=1 and no Redis, a failing test in place of the skipped suite `name`. */
export const failWithoutRedis = (name: string): void => {
  if (redisUnavailable === undefined || !redisRequired) return
  describe(name, () => {
    it("Redis is required (REQUIRE_REDIS=1)", () => {
      throw new Error(`no Redis at ${redisUrl}: ${redisUnavailable}`)
    })
  })
}
