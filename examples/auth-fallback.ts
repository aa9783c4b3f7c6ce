/**
 * An auth provider you depend on, both ways it can let you down.
 *
 * - Your service's own access token expires (or is revoked): the token is a rotating credential,
 *   refreshed from the provider's token endpoint, and a 401 refreshes it once and re-sends the call.
 * - The provider goes down: token checks go through a circuit breaker and fall back to local JWT
 *   validation (HS256, node:crypto) while the provider fails or the breaker is open.
 *
 * The auth provider runs on 127.0.0.1 (FakeProvider, no external network): it issues access tokens,
 * checks user tokens, and answers 503 to three checks in the middle.
 *
 *   npx tsx examples/auth-fallback.ts
 */
import { Console, Context, Duration, Effect, Layer, Schema } from "effect"
import { CircuitBreaker, Credentials, HttpProvider, Policy } from "effect-resilience"
import type { CircuitOpen } from "effect-resilience/Errors"
import * as HttpProviderNode from "effect-resilience/HttpProviderNode"
import { FakeProvider } from "effect-resilience/testing"
import { createHmac, timingSafeEqual } from "node:crypto"

// --- user tokens: HS256 JWTs ----------------------------------------------------------------------

const SIGNING_KEY = "example-signing-key" // shared with the provider for local validation

interface Claims {
  readonly sub: string
  readonly exp: number
}

const base64url = (data: string | Buffer) => Buffer.from(data).toString("base64url")

const sign = (claims: Claims): string => {
  const body = `${base64url(JSON.stringify({ alg: "HS256", typ: "JWT" }))}.${base64url(JSON.stringify(claims))}`
  return `${body}.${createHmac("sha256", SIGNING_KEY).update(body).digest("base64url")}`
}

/** Checks signature, algorithm and expiry; the claims, or why the token is refused. Never logs it. */
const verify = (token: string, nowSeconds: number): Claims | string => {
  const [header, payload, signature] = token.split(".")
  if (header === undefined || payload === undefined || signature === undefined) return "malformed token"
  const { alg } = JSON.parse(Buffer.from(header, "base64url").toString()) as { alg?: string }
  if (alg !== "HS256") return `unexpected alg ${alg}`
  const expected = createHmac("sha256", SIGNING_KEY).update(`${header}.${payload}`).digest()
  const actual = Buffer.from(signature, "base64url")
  if (actual.length !== expected.length || !timingSafeEqual(actual, expected)) return "bad signature"
  const claims = JSON.parse(Buffer.from(payload, "base64url").toString()) as Claims
  return claims.exp > nowSeconds ? claims : "expired"
}

// --- the auth provider (a stand-in on 127.0.0.1) ---------------------------------------------------

let issued = 0 // access tokens issued to our service
let validAccessToken = ""

const AuthServer = FakeProvider.layer({
  routes: [
    {
      method: "POST",
      path: "/oauth/token",
      handler: () => {
        validAccessToken = `access-${++issued}`
        return { body: { access_token: validAccessToken, expires_in: 3600 } }
      }
    },
    {
      method: "POST",
      path: "/v1/introspect",
      handler: (request) => {
        if (request.headers.authorization !== `Bearer ${validAccessToken}`) return { status: 401, body: {} }
        const claims = verify((request.body as { token: string }).token, Date.now() / 1000)
        return { body: typeof claims === "string" ? { active: false } : { active: true, sub: claims.sub } }
      }
    }
  ]
})

// --- our client: a rotating access token, and a breaker around token checks ------------------------

const Token = Schema.Struct({ access_token: Schema.String })
const Introspection = Schema.Struct({ active: Schema.Boolean, sub: Schema.optional(Schema.String) })

class AuthBreaker extends Context.Tag("example/AuthBreaker")<AuthBreaker, CircuitBreaker.CircuitBreaker>() {}
class Auth extends Context.Tag("example/Auth")<Auth, HttpProvider.HttpProvider<HttpProvider.RequestError | CircuitOpen>>() {}

const AuthBreakerLive = CircuitBreaker.layer(AuthBreaker, {
  name: "auth",
  policy: CircuitBreaker.consecutive(2),
  openFor: "500 millis"
})

const AuthLive = Layer.unwrapScoped(Effect.gen(function*() {
  const server = yield* FakeProvider.FakeProvider
  // the token endpoint, authenticated with the client secret
  const tokens = yield* HttpProvider.make({
    name: "auth-token",
    baseUrl: server.url,
    credentials: Credentials.fixed("example-client-secret"),
    policy: (self) => self
  })
  // fetched once now, again every 15 minutes, and at once after a 401
  const accessToken = yield* Credentials.rotating({
    fetch: Effect.map(
      tokens.post("/oauth/token", { request: Schema.Unknown, body: { grant_type: "client_credentials" }, response: Token }),
      (token) => token.access_token
    ),
    every: "15 minutes",
    name: "auth-access-token"
  })
  return HttpProvider.layer(Auth, {
    name: "auth",
    baseUrl: server.url,
    credentials: accessToken,
    // token checks are on the request path: one attempt (a 401's refresh and re-send included) of at
    // most 2 s, behind the breaker
    policy: Policy.make({ name: "auth", breaker: AuthBreaker, attempt: "2 seconds" })
  })
})).pipe(
  Layer.provide(HttpProviderNode.layerPool({ connections: 10 })),
  Layer.provideMerge(AuthBreakerLive)
)

// --- token checks, remote first, local while the provider is down ----------------------------------

const validateLocally = (token: string, why: string) =>
  Effect.sync(() => {
    const claims = verify(token, Date.now() / 1000)
    return typeof claims === "string" ? `refused locally: ${claims}` : `${claims.sub}, checked locally (${why})`
  })

const validate = (token: string) =>
  Effect.flatMap(Auth, (auth) =>
    auth.post("/v1/introspect", { request: Schema.Struct({ token: Schema.String }), body: { token }, response: Introspection })
  ).pipe(
    Effect.map((answer) => answer.active ? `${answer.sub}, checked by the auth provider` : "refused by the auth provider"),
    Effect.catchTags({
      Unavailable: (e) =>
        validateLocally(token, e.status === undefined ? `provider unreachable: ${e.reason}` : `provider answered ${e.status}`),
      Timeout: () => validateLocally(token, "provider too slow"),
      CircuitOpen: (e) =>
        validateLocally(token, `breaker open, next try in ${Duration.format(e.retryAfter ?? Duration.zero)}`)
    })
  )

const program = Effect.gen(function*() {
  const server = yield* FakeProvider.FakeProvider
  const breaker = yield* AuthBreaker
  const alice = sign({ sub: "alice", exp: Math.floor(Date.now() / 1000) + 3600 })

  yield* Console.log("1. A user token, checked by the auth provider with our access token.")
  yield* Console.log(`   ${yield* validate(alice)}`)

  yield* Console.log("2. The provider revokes our access token: the 401 fetches a new one, the check is re-sent.")
  validAccessToken = "revoked"
  yield* Console.log(`   ${yield* validate(alice)}; access tokens issued: ${issued}`)

  yield* Console.log("3. The provider answers 503 to three checks: local validation, the breaker opens, probes.")
  yield* server.sequence([{ phase: FakeProvider.outage({ status: 503 }), requests: 3 }])
  for (let i = 0; i < 10; i++) {
    yield* Console.log(`   ${yield* validate(alice)}`)
    yield* Effect.sleep("250 millis")
  }

  yield* Console.log("4. A forged token is refused whichever way it is checked.")
  const forged = `${alice.slice(0, -4)}AAAA`
  yield* Console.log(`   ${yield* validate(forged)}`)
  yield* Console.log(`   ${yield* validateLocally(forged, "")}`)
  const snapshot = yield* breaker.snapshot
  yield* Console.log(`breaker ${snapshot.state}; it refused ${snapshot.rejected} checks without calling the provider`)
})

Effect.runPromise(program.pipe(Effect.provide(AuthLive.pipe(Layer.provideMerge(AuthServer))))).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
