import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as FiberRef from "effect/FiberRef"
import * as Option from "effect/Option"
import { unsafeMakeKeptOnJoin } from "./startedWork.js"

/**
 * The active total deadline, as epoch milliseconds on the `Clock` (so `TestClock` drives it). Child
 * fibers inherit it, so every guard below `Timeout.total` can see how much time is left: Retry stops
 * before a backoff that would end after it, an attempt timeout shrinks to min(own, remaining), a
 * rate-limit wait that would pass it fails at once.
 *
 * `Timeout.total` sets it in the fiber that runs its work only; joining that fiber (or any child)
 * keeps the joiner's own deadline, so a deadline never outlives the total that set it.
 */
export const currentDeadline: FiberRef.FiberRef<Option.Option<number>> = unsafeMakeKeptOnJoin(Option.none())

/** Time left until the active deadline (zero once it has passed), or none when no deadline is set. */
export const remaining: Effect.Effect<Option.Option<Duration.Duration>> = Effect.flatMap(
  FiberRef.get(currentDeadline),
  Option.match({
    onNone: () => Effect.succeedNone,
    onSome: (deadline) =>
      Effect.map(Clock.currentTimeMillis, (now) => Option.some(Duration.millis(Math.max(0, deadline - now))))
  })
)
