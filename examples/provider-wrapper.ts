/**
 * A partner API behind an anti-corruption layer, with per-region credentials: encapsulate the
 * provider, validate what goes out, hold what comes in to a contract, support rotating keys and one
 * account per region.
 *
 * The rest of the program sees `WorkflowBoard`, our own interface in our own words. The partner
 * ("Boardly", served on 127.0.0.1 by FakeProvider) speaks `card_id`, `list` and `due_ts`; only this
 * file knows. Swapping Boardly for another tool means another `WorkflowBoard` layer, nothing else.
 *
 *   npx tsx examples/provider-wrapper.ts
 */
import { Console, Context, Effect, Layer, Option, Redacted, Ref, Schema } from "effect"
import { Credentials, HttpProvider, Retry, Timeout } from "effect-resilience"
import { ClientError } from "effect-resilience/Errors"
import * as HttpProviderNode from "effect-resilience/HttpProviderNode"
import { FakeProvider } from "effect-resilience/testing"

// ---------------------------------------------------------------------------------------------
// Our domain: what the program works with.

const Stage = Schema.Literal("todo", "doing", "done")
type Stage = typeof Stage.Type
type Region = "eu" | "us"

const WorkflowItem = Schema.Struct({ id: Schema.String, stage: Stage, due: Schema.OptionFromSelf(Schema.DateFromSelf) })
type WorkflowItem = typeof WorkflowItem.Type

class WorkflowUnavailable extends Schema.TaggedError<WorkflowUnavailable>()("WorkflowUnavailable", {
  reason: Schema.String
}) {}

class WorkflowBoard extends Context.Tag("example/WorkflowBoard")<WorkflowBoard, {
  readonly item: (id: string, region: Region) => Effect.Effect<WorkflowItem, WorkflowUnavailable>
  readonly proceed: (id: string, to: Stage, region: Region) => Effect.Effect<WorkflowItem, WorkflowUnavailable>
}>() {}

// ---------------------------------------------------------------------------------------------
// The anti-corruption layer: Boardly's wire format, decoded into ours and encoded from ours.

const BoardlyCard = Schema.Struct({
  card_id: Schema.String,
  list: Stage,
  due_ts: Schema.NullOr(Schema.Number.pipe(Schema.int(), Schema.nonNegative()))
})

const Card = Schema.transform(BoardlyCard, WorkflowItem, {
  strict: true,
  decode: (card) => ({
    id: card.card_id,
    stage: card.list,
    due: card.due_ts === null ? Option.none() : Option.some(new Date(card.due_ts * 1000))
  }),
  encode: (item) => ({
    card_id: item.id,
    list: item.stage,
    due_ts: Option.match(item.due, { onNone: () => null, onSome: (d) => Math.floor(d.getTime() / 1000) })
  })
})

const Move = Schema.transform(Schema.Struct({ to_list: Stage }), Schema.Struct({ to: Stage }), {
  strict: true,
  decode: (wire) => ({ to: wire.to_list }),
  encode: (move) => ({ to_list: move.to })
})

// ---------------------------------------------------------------------------------------------
// The Boardly client: one pooled provider, per-region credentials, its own reading of its 429s.

class Boardly extends Context.Tag("example/Boardly")<Boardly, HttpProvider.HttpProvider<HttpProvider.RequestError>>() {}

/** Where the EU key lives; it rotates under our feet. */
class Vault extends Context.Tag("example/Vault")<Vault, Ref.Ref<string>>() {}

const BoardlyLive = Layer.unwrapEffect(Effect.gen(function*() {
  const fake = yield* FakeProvider.FakeProvider
  const vault = yield* Vault
  return HttpProvider.layer(
    Boardly,
    Effect.gen(function*() {
      const eu = yield* Credentials.rotating({ fetch: Ref.get(vault), every: "15 minutes", name: "boardly-eu" })
      return {
        name: "boardly",
        baseUrl: fake.url,
        credentials: Credentials.byKey({ eu, us: Credentials.fixed(Redacted.make("key-us-1")) }),
        credentialsHeader: "X-Boardly-Key",
        credentialsScheme: "",
        // Boardly answers 429 both for "slow down" and for "your daily quota is gone": only the
        // first is worth waiting for.
        classify: (answer) =>
          answer.status === 429 && answer.body.includes("daily_quota_exhausted")
            ? new ClientError({ provider: "boardly", status: 429, body: "daily quota exhausted" })
            : undefined,
        policy: (self) =>
          self.pipe(Timeout.attempt("1 second", { provider: "boardly" }), Retry.transient({ times: 3 }))
      } satisfies HttpProvider.Options
    })
  )
})).pipe(Layer.provide(HttpProviderNode.layerPool({ connections: 8 })))

const WorkflowBoardLive = Layer.effect(
  WorkflowBoard,
  Effect.map(Boardly, (boardly) => {
    // Everything Boardly can fail with becomes our one domain error, with the reason for the log.
    const translate = <A>(call: Effect.Effect<A, HttpProvider.RequestError>) =>
      Effect.mapError(call, (error) => new WorkflowUnavailable({ reason: error.message }))
    return {
      item: (id, region) =>
        translate(boardly.get("/v2/cards/{id}", { params: { id }, response: Card, credentialsKey: region })),
      proceed: (id, to, region) =>
        translate(boardly.post("/v2/cards/{id}/moves", {
          params: { id },
          request: Move,
          body: { to },
          response: Card,
          credentialsKey: region,
          idempotencyKey: `move-${id}-${to}`
        }))
    }
  })
)

// ---------------------------------------------------------------------------------------------
// A stand-in for Boardly: cards per region, keys per region, a rotation, a quota and a bad record.

const validKeys = new Map<Region, string>([["eu", "key-eu-1"], ["us", "key-us-1"]])
const cards = new Map<string, { card_id: string; list: Stage; due_ts: number | null }>([
  ["c-eu-1", { card_id: "c-eu-1", list: "todo", due_ts: 1_800_000_000 }],
  ["c-us-1", { card_id: "c-us-1", list: "doing", due_ts: null }],
  ["c-eu-bad", { card_id: "c-eu-bad", list: "archived" as Stage, due_ts: null }]
])
let quotaLeft = 6

const authorized = (id: string, key: string | undefined) => validKeys.get(id.includes("-eu-") ? "eu" : "us") === key

const BoardlyFake = FakeProvider.layer({
  routes: [
    {
      method: "GET",
      path: "/v2/cards/:id",
      handler: (request) => {
        if (quotaLeft-- <= 0) return { status: 429, body: { error: "daily_quota_exhausted" } }
        const id = request.params.id ?? ""
        if (!authorized(id, request.headers["x-boardly-key"])) return { status: 401, body: { error: "bad_key" } }
        const card = cards.get(id)
        return card === undefined ? { status: 404, body: { error: "no_such_card" } } : { body: card }
      }
    },
    {
      method: "POST",
      path: "/v2/cards/:id/moves",
      handler: (request) => {
        const id = request.params.id ?? ""
        if (!authorized(id, request.headers["x-boardly-key"])) return { status: 401, body: { error: "bad_key" } }
        const card = cards.get(id)
        const to = (request.body as { to_list?: Stage }).to_list
        if (card === undefined || to === undefined) return { status: 404, body: { error: "no_such_card" } }
        card.list = to
        return { body: card }
      }
    }
  ]
})

// ---------------------------------------------------------------------------------------------

/** One line a person can read: `c-eu-1 (todo, due 2027-01-15)`. */
const show = (item: WorkflowItem) =>
  `${item.id} (${item.stage}, ${
    Option.match(item.due, { onNone: () => "no due date", onSome: (due) => `due ${due.toISOString().slice(0, 10)}` })
  })`

const program = Effect.gen(function*() {
  const board = yield* WorkflowBoard
  const vault = yield* Vault

  const eu = yield* board.item("c-eu-1", "eu")
  yield* Console.log(`EU card, in our words: ${show(eu)}`)
  yield* Console.log(`US card, with the US account: ${show(yield* board.item("c-us-1", "us"))}`)

  yield* Console.log("Boardly rotates the EU key; the vault already has the new one.")
  validKeys.set("eu", "key-eu-2")
  yield* Ref.set(vault, "key-eu-2")
  // An idempotent write: the 401 proves nothing was processed, so after one refresh the same
  // Idempotency-Key is sent again with the new key and the move happens once.
  yield* Console.log(`moved after one 401 and one refresh: ${show(yield* board.proceed("c-eu-1", "doing", "eu"))}`)
  yield* Console.log(`read with the new key: ${show(yield* board.item("c-eu-1", "eu"))}`)

  const bad = yield* Effect.flip(board.item("c-eu-bad", "eu"))
  yield* Console.log(`a card Boardly sends in a shape we do not accept: ${bad.reason}`)

  const quota = yield* board.item("c-us-1", "us").pipe(
    Effect.zipRight(board.item("c-us-1", "us")),
    Effect.zipRight(board.item("c-us-1", "us")),
    Effect.flip
  )
  yield* Console.log(`quota exhausted is not retried: ${quota.reason}`)
})

const VaultLive = Layer.effect(Vault, Ref.make("key-eu-1"))

const MainLive = WorkflowBoardLive.pipe(
  Layer.provide(BoardlyLive),
  Layer.provide(BoardlyFake),
  Layer.provideMerge(VaultLive)
)

Effect.runPromise(program.pipe(Effect.provide(MainLive))).catch((error) => {
  console.error(error)
  process.exitCode = 1
})
