/**
 * An auth provider you depend on: validate tokens with the remote provider behind a circuit breaker, and fall
 * back to local JWT validation (HS256, node:crypto) while the provider is down or the breaker is open.
 *
 * No network: the remote validator is an Effect that answers at first, then refuses connections for
 * 650 ms, then recovers. Each transition is logged once (WARN when the breaker opens). Run: `npx tsx examples/auth-fallback.ts`
 */
import { Clock, Console, Context, Duration, Effect, Either, Stream } from "effect"
import { createHmac, timingSafeEqual } from "node:crypto"
import { CircuitBreaker } from "effect-resilience"
import { Unavailable } from "effect-resilience/Errors"

// --- local JWT (HS256) --------------------------------------------------------------------------

interface Claims {
  readonly sub: string
  readonly exp: number
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString("base64url")

const sign = (claims: Claims, secret: string): string => {
  const body = `${base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${base64url(JSON.stringify(claims))}`
  return `${body}.${createHmac("sha256", secret).update(body).digest("base64url")}`
}

class InvalidToken extends Error {
  readonly _tag = "InvalidToken"
}

/** Verifies signature, algorithm and expiry. Never logs the token. */
const validateLocal = (token: string, secret: string, nowSeconds: number): Effect.Effect<Claims, InvalidToken> =>
  Effect.suspend(() => {
    const [header, payload, signature] = token.split(".")
    if (header === undefined || payload === undefined || signature === undefined) {
      return Effect.fail(new InvalidToken("malformed token"))
    }
    const { alg } = JSON.parse(Buffer.from(header, "base64url").toString()) as { alg?: string }
    if (alg !== "HS256") return Effect.fail(new InvalidToken(`unexpected alg ${alg}`))
    const expected = createHmac("sha256", secret).update(`${header}.${payload}`).digest()
    const actual = Buffer.from(signature, "base64url")
    if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) {
      return Effect.fail(new InvalidToken("bad signature"))
    }
    const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Claims
    return claims.exp > nowSeconds ? Effect.succeed(claims) : Effect.fail(new InvalidToken("expired"))
  })

// --- the remote provider (simulated) ------------------------------------------------------------

/** Answers at first, refuses connections from 150 ms to 800 ms after it started, then recovers. */
const makeRemote = Effect.map(Clock.currentTimeMillis, (start) => ({
  validate: (token: string): Effect.Effect<Claims & { readonly source: "remote" }, Unavailable> =>
    Effect.flatMap(Clock.currentTimeMillis, (now) =>
      now - start >= 150 && now - start < 800
        ? Effect.fail(new Unavailable({ provider: "auth", reason: "connection-refused" }))
        : Effect.map(validateLocal(token, SECRET, now / 1000).pipe(Effect.orDie), (claims) => ({
          ...claims,
          source: "remote" as const
        })))
}))

// --- wiring -------------------------------------------------------------------------------------

const SECRET = "example-shared-secret"

class AuthBreaker extends Context.Tag("example/AuthBreaker")<AuthBreaker, CircuitBreaker.CircuitBreaker>() {}

const AuthBreakerLive = CircuitBreaker.layer(AuthBreaker, {
  name: "remote_auth_provider",
  policy: CircuitBreaker.consecutive(3),
  openFor: "250 millis",
  halfOpen: { probes: 1 }
})

const program = Effect.gen(function*() {
  const breaker = yield* AuthBreaker
  const remote = yield* makeRemote
  yield* Effect.forkScoped(
    Stream.runForEach(breaker.changes, (c) => Console.log(`      [breaker] ${c.from} -> ${c.to} (${c.why})`))
  )
  yield* Effect.sleep("10 millis")

  const token = sign({ sub: "alice", exp: Math.floor(Date.now() / 1000) + 3600 }, SECRET)

  const validate = (token: string) =>
    remote.validate(token).pipe(
      CircuitBreaker.protect(AuthBreaker),
      Effect.catchTags({
        Unavailable: (e) =>
          Effect.map(validateLocal(token, SECRET, Date.now() / 1000), (claims) => ({
            ...claims,
            source: `local (remote failed: ${e.reason})`
          })),
        CircuitOpen: (e) =>
          Effect.map(validateLocal(token, SECRET, Date.now() / 1000), (claims) => ({
            ...claims,
            source: `local (breaker ${e.reason}, retry after ${Duration.format(e.retryAfter ?? Duration.zero)})`
          }))
      })
    )

  for (let i = 1; i <= 18; i++) {
    const result = yield* Effect.either(validate(token))
    yield* Console.log(
      Either.match(result, {
        onLeft: (e) => `#${String(i).padStart(2)} rejected: ${e.message}`,
        onRight: (claims) => `#${String(i).padStart(2)} ${claims.sub} validated by ${claims.source}`
      })
    )
    yield* Effect.sleep("60 millis")
  }

  const forged = `${token.slice(0, -4)}AAAA`
  const rejected = yield* Effect.flip(validateLocal(forged, SECRET, Date.now() / 1000))
  yield* Console.log(`forged token, validated locally: ${rejected.message}`)
  const snapshot = yield* breaker.snapshot
  yield* Console.log(`final: ${snapshot.state}; ${snapshot.rejected} calls were rejected by the breaker without calling the provider`)
})

Effect.runPromise(program.pipe(Effect.scoped, Effect.provide(AuthBreakerLive)))
