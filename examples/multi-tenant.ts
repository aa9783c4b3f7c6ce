/**
 * A multi-tenant SaaS with per-tenant rate limits and bulkheads: when tenant-a
 * floods the system, only tenant-a is throttled; tenant-b and tenant-c are unaffected.
 *
 * - Each tenant has its own request quota (RateLimit keyed by tenant, excess refused at once) and its
 *   own bulkhead for slow report jobs (Bulkhead.keyed: 2 running + 2 queued per tenant).
 * - All tenants reach one partner API through one API key. When the partner answers 429
 *   with Retry-After, the not-before gate closes for every tenant: the waiting calls are sent after
 *   the partner's time, spread over 200 ms, instead of each one collecting its own 429.
 *
 * Everything is in memory (no network, no Redis); swap `RateLimit.layerMemory` for
 * `RateLimitRedis.layer({ url })` to share quotas and the gate between replicas.
 *
 *   npx tsx examples/multi-tenant.ts
 */
import { Clock, Console, Context, Duration, Effect, Either, Layer, Ref } from "effect"
import { Bulkhead, RateLimit } from "effect-resilience"
import { RateLimited } from "effect-resilience/Errors"

type Tenant = "tenant-a" | "tenant-b" | "tenant-c"

// The app's guards, as services of its own tags.
class TenantQuota extends Context.Tag("app/TenantQuota")<TenantQuota, RateLimit.RateLimit<Tenant>>() {}
class PartnerGate extends Context.Tag("app/PartnerGate")<PartnerGate, RateLimit.Gate>() {}

const GuardsLive = Layer.mergeAll(
  // a real quota might be 1000 requests a minute per tenant; 10 a minute here, so a burst of 40 shows it
  RateLimit.layer(TenantQuota, {
    name: "api",
    key: (tenant) => tenant,
    limit: 10,
    window: "1 minute",
    onExceeded: "fail"
  }),
  RateLimit.layerGate(PartnerGate, { name: "partner", key: "partner-api-key", releaseOver: "200 millis" })
).pipe(Layer.provide(RateLimit.layerMemory))

// An API request: refused at once when the tenant is over its quota.
const handleRequest = (tenant: Tenant, id: number) =>
  Effect.succeed(`${tenant}#${id}`).pipe(RateLimit.protect(TenantQuota, tenant))

// The partner API: answers 429 "retry after 500 ms" to the first call, then serves.
const makePartner = Effect.gen(function*() {
  const calls = yield* Ref.make(0)
  const start = yield* Clock.currentTimeMillis
  const call = (tenant: Tenant) =>
    Effect.flatMap(Ref.getAndUpdate(calls, (n) => n + 1), (n) =>
      n === 0
        ? Effect.fail(new RateLimited({ provider: "partner", reason: "provider", retryAfter: Duration.millis(500) }))
        : Effect.map(Clock.currentTimeMillis, (now) => `${tenant} synced at +${now - start} ms`))
  return { call, calls: Ref.get(calls) }
})

const program = Effect.gen(function*() {
  yield* Console.log("1. per-tenant rate limits: tenant-a sends 40 requests, tenant-b and tenant-c 5 each")
  const traffic: Array<[Tenant, number]> = [["tenant-a", 40], ["tenant-b", 5], ["tenant-c", 5]]
  for (const [tenant, count] of traffic) {
    const results = yield* Effect.forEach(
      Array.from({ length: count }, (_, i) => i),
      (i) => Effect.either(handleRequest(tenant, i)),
      { concurrency: "unbounded" }
    )
    const served = results.filter(Either.isRight).length
    yield* Console.log(`   ${tenant}: ${served} served, ${count - served} refused with RateLimited`)
  }

  yield* Console.log("2. per-tenant bulkheads: tenant-a starts 8 slow reports, tenant-b 2")
  const reports = yield* Bulkhead.keyed<Tenant>({
    name: "reports",
    maxConcurrent: 2,
    maxQueued: 2,
    idleTimeToLive: "1 minute"
  })
  const report = (tenant: Tenant) => Effect.as(Effect.sleep("300 millis"), "done").pipe(reports.protect(tenant))
  const [a, b] = yield* Effect.all([
    Effect.forEach(Array.from({ length: 8 }), () => Effect.either(report("tenant-a")), { concurrency: "unbounded" }),
    Effect.forEach(Array.from({ length: 2 }), () => Effect.either(report("tenant-b")), { concurrency: "unbounded" })
  ], { concurrency: "unbounded" })
  const full = a.filter((r) => Either.isLeft(r) && r.left._tag === "BulkheadFull").length
  yield* Console.log(`   tenant-a: ${a.length - full} ran (2 at a time, 2 queued), ${full} refused with BulkheadFull`)
  yield* Console.log(`   tenant-b: ${b.filter(Either.isRight).length} of 2 ran, untouched by tenant-a`)

  yield* Console.log("3. one partner API key for all tenants: its 429 closes the gate for everyone")
  const partner = yield* makePartner
  const sync = (tenant: Tenant) => partner.call(tenant).pipe(RateLimit.protect(PartnerGate))
  const first = yield* Effect.either(sync("tenant-a"))
  yield* Console.log(`   tenant-a: ${Either.isLeft(first) ? first.left.message : first.right}`)
  const others = yield* Effect.forEach(
    ["tenant-b", "tenant-c", "tenant-a", "tenant-b"] as const,
    sync,
    { concurrency: "unbounded" }
  )
  for (const line of others) yield* Console.log(`   ${line}`)
  yield* Console.log(`   the partner saw ${yield* partner.calls} calls: one 429, then one call per waiting sync`)
}).pipe(Effect.scoped)

Effect.runPromise(program.pipe(Effect.provide(GuardsLive))).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
