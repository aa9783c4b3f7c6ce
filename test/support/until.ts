import { Effect } from "effect"

/** Yields until `done` holds, so forked fibers are known to have reached a point; dies after 1,000 turns. */
export const until = (done: Effect.Effect<boolean>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 1_000; i++) {
      if (yield* done) return
      yield* Effect.yieldNow()
    }
    return yield* Effect.dieMessage("condition never held")
  })
