import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type * as Scope from "effect/Scope"
import { Redis, type RedisOptions } from "ioredis"
import * as options from "./options.js"

/**
 * The ioredis client of the Redis stores (rate limits, breakers): options from a URL with bounded
 * commands, and one client per layer that always closes.
 */

/** How a Redis store connects: the options every Redis entry point shares. */
export interface ConnectionOptions {
  /**
   * `redis://[user:password@]host[:port][/db]`, or `rediss://` for TLS. Pass a `Redacted` when it
   * carries a password. Defaults to ioredis's `127.0.0.1:6379`.
   */
  readonly url?: string | Redacted.Redacted<string> | undefined
  /** Bound on every command, queued ones included (ioredis `commandTimeout`). Defaults to `"500 millis"`. */
  readonly timeout?: Duration.DurationInput | undefined
  /** Bound on establishing the connection (ioredis `connectTimeout`). Defaults to `"2 seconds"`. */
  readonly connectTimeout?: Duration.DurationInput | undefined
  /** Further ioredis options, applied last (they override the ones above). Defaults to `{}`. */
  readonly redis?: RedisOptions | undefined
}

export const connectionDefaults = {
  timeout: Duration.millis(500),
  connectTimeout: Duration.seconds(2)
} as const

const fromUrl = (module: string, input: string | Redacted.Redacted<string>): RedisOptions => {
  const check = { module, option: "url" }
  const expected = "a redis:// or rediss:// URL"
  let url: URL
  try {
    url = new URL(Redacted.isRedacted(input) ? Redacted.value(input) : input)
  } catch {
    return options.invalid(check, "<redacted>", expected)
  }
  if (url.protocol !== "redis:" && url.protocol !== "rediss:") return options.invalid(check, url.protocol, expected)
  const parsed: RedisOptions = { host: url.hostname.replace(/^\[(.*)\]$/, "$1") || "127.0.0.1" }
  if (url.port !== "") parsed.port = Number(url.port)
  try {
    if (url.username !== "") parsed.username = decodeURIComponent(url.username)
    if (url.password !== "") parsed.password = decodeURIComponent(url.password)
  } catch {
    return options.invalid(check, "<redacted>", `${expected} (its user or password has a malformed %-escape)`)
  }
  if (url.pathname.length > 1) {
    parsed.db = options.integerAtLeast({ module, option: "url (database)" }, Number(url.pathname.slice(1)), 0)
  }
  if (url.protocol === "rediss:") parsed.tls = {}
  return parsed
}

// Every command is bounded by `timeout`, queued ones included (ioredis arms commandTimeout before
// queueing). With maxRetriesPerRequest 0 a queued command fails at the first failed reconnection
// instead of waiting for 20 of them; reconnection continues in the background, at most every 2 s.
export const redisOptions = (module: string, o: ConnectionOptions): RedisOptions => {
  const timeout = o.timeout === undefined
    ? connectionDefaults.timeout
    : options.positiveDuration({ module, option: "timeout" }, o.timeout)
  const connectTimeout = o.connectTimeout === undefined
    ? connectionDefaults.connectTimeout
    : options.positiveDuration({ module, option: "connectTimeout" }, o.connectTimeout)
  return {
    ...(o.url === undefined ? {} : fromUrl(module, o.url)),
    commandTimeout: Math.ceil(Duration.toMillis(timeout)),
    connectTimeout: Math.ceil(Duration.toMillis(connectTimeout)),
    maxRetriesPerRequest: 0,
    retryStrategy: (times: number) => Math.min(times * 200, 2_000),
    ...o.redis
  }
}

// One client per layer. Closing it never waits on Redis: QUIT only when connected (bounded by the
// command timeout), then a disconnect in every case, which also stops the reconnecting. Each script
// becomes a command of one key.
export const acquireClient = <C extends Redis>(
  redis: RedisOptions,
  scripts: Record<string, string>
): Effect.Effect<C, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => {
      const client = new Redis(redis) as C
      // Connection errors surface as failed commands, which the guards log once per outage.
      client.on("error", () => {})
      for (const [name, lua] of Object.entries(scripts)) client.defineCommand(name, { lua, numberOfKeys: 1 })
      return client
    }),
    (client) =>
      Effect.promise(() =>
        (client.status === "ready" ? client.quit().then(() => undefined, () => undefined) : Promise.resolve())
          .then(() => client.disconnect())
      )
  )

/** Deletes every key under `prefix`, with SCAN in pages rather than KEYS, which blocks Redis for the whole key space. */
export const deleteByPrefix = async (client: Redis, prefix: string): Promise<void> => {
  let cursor = "0"
  do {
    const [next, keys] = await client.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 500)
    if (keys.length > 0) await client.del(...keys)
    cursor = next
  } while (cursor !== "0")
}
