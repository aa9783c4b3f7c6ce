/**
 * Uploads to an object store behind a circuit breaker and a bulkhead, with a local spool as the
 * fallback: while the store is down, uploads are kept locally and the user is not kept waiting; once
 * the breaker lets a probe through and it succeeds, the spool is sent.
 *
 * The object store runs on 127.0.0.1 (FakeProvider, no external network). It stores the first three
 * photos, then answers 503 to the next four requests, then recovers.
 *
 *   npx tsx examples/storage-upload.ts
 */
import { Console, Context, Effect, Layer, Ref, Schema } from "effect"
import { Bulkhead, CircuitBreaker, HttpProvider, Policy } from "effect-resilience"
import * as HttpProviderNode from "effect-resilience/HttpProviderNode"
import { FakeProvider } from "effect-resilience/testing"

const Upload = Schema.Struct({ name: Schema.String, bytes: Schema.Number })
type Upload = typeof Upload.Type
const Stored = Schema.Struct({ key: Schema.String, etag: Schema.String })

// The guards, one of each for this store, and the client that goes through them.
class StorageBreaker extends Context.Tag("example/StorageBreaker")<StorageBreaker, CircuitBreaker.CircuitBreaker>() {}
class StorageBulkhead extends Context.Tag("example/StorageBulkhead")<StorageBulkhead, Bulkhead.Bulkhead>() {}
class Storage extends Context.Tag("example/Storage")<Storage, HttpProvider.HttpProvider<HttpProvider.DefaultError>>() {}

const GuardsLive = Layer.merge(
  // three failed attempts in a row open it; after half a second one probe may try again
  CircuitBreaker.layer(StorageBreaker, { name: "storage", policy: CircuitBreaker.consecutive(3), openFor: "500 millis" }),
  Bulkhead.layer(StorageBulkhead, { name: "storage", maxConcurrent: 4, maxQueued: 16 })
)

const StorageLive = Layer.unwrapEffect(
  Effect.map(FakeProvider.FakeProvider, (store) =>
    HttpProvider.layer(Storage, {
      name: "storage",
      baseUrl: store.url,
      policy: Policy.make({
        name: "storage",
        total: "2 seconds",
        retry: { times: 1 },
        breaker: StorageBreaker,
        bulkhead: StorageBulkhead,
        attempt: "1 second"
      })
    }))
).pipe(
  Layer.provide(HttpProviderNode.layerPool({ connections: 4 })),
  Layer.provideMerge(GuardsLive)
)

// The store's API: PUT /v1/objects/:key keeps the object.
const objects = new Map<string, Upload>()
const ObjectStore = FakeProvider.layer({
  routes: [{
    method: "PUT",
    path: "/v1/objects/:key",
    handler: (request) => {
      const key = request.params.key ?? ""
      objects.set(key, request.body as Upload)
      return { body: { key, etag: `"${objects.size}"` } }
    }
  }]
})

const program = Effect.gen(function*() {
  const storage = yield* Storage
  const breaker = yield* StorageBreaker
  const store = yield* FakeProvider.FakeProvider
  const spool = yield* Ref.make<ReadonlyArray<Upload>>([])

  const put = (file: Upload) =>
    storage.put("/v1/objects/{key}", { params: { key: file.name }, request: Upload, body: file, response: Stored })

  // The fallback: any failure of the store keeps the file in the spool.
  const upload = (file: Upload) =>
    put(file).pipe(
      Effect.zipRight(Console.log(`   ${file.name}: stored`)),
      Effect.catchAll((error) =>
        Effect.zipRight(
          Ref.update(spool, (files) => [...files, file]),
          Console.log(`   ${file.name}: kept in the local spool (${error._tag})`)
        )
      )
    )

  // Sends what the spool holds, oldest first; stops at the first failure and keeps the rest.
  const drain = Effect.gen(function*() {
    for (const file of yield* Ref.get(spool)) {
      const sent = yield* Effect.either(put(file))
      if (sent._tag === "Left") return false
      yield* Ref.update(spool, (files) => files.filter((f) => f !== file))
      yield* Console.log(`   ${file.name}: sent from the spool`)
    }
    return true
  })

  const photo = (n: number): Upload => ({ name: `photo-${n}.jpg`, bytes: 1000 * n })

  yield* Console.log("1. The store answers.")
  yield* Effect.forEach([1, 2, 3], (n) => upload(photo(n)))

  yield* Console.log("2. The store answers 503 to four requests: uploads fail, the breaker opens, the rest wait in the spool.")
  yield* store.sequence([{ phase: FakeProvider.outage({ status: 503 }), requests: 4 }])
  yield* Effect.forEach([4, 5, 6, 7, 8], (n) => upload(photo(n)))
  yield* Console.log(`   breaker: ${yield* breaker.state}; ${(yield* Ref.get(spool)).length} photos in the spool`)

  yield* Console.log("3. Every 400 ms, the spool is sent once the breaker lets a call through.")
  yield* drain.pipe(
    Effect.delay("400 millis"),
    Effect.repeat({ until: (empty) => empty, times: 20 })
  )

  const requests = (yield* store.requests).length
  yield* Console.log(`the store holds ${objects.size} photos; breaker ${yield* breaker.state}; ${requests} requests reached it`)
})

Effect.runPromise(program.pipe(Effect.provide(StorageLive.pipe(Layer.provideMerge(ObjectStore))))).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
