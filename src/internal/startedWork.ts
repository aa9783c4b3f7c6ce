import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import type * as FiberId from "effect/FiberId"
import * as FiberRef from "effect/FiberRef"
import * as FiberRefs from "effect/FiberRefs"
import * as GlobalValue from "effect/GlobalValue"
import * as Runtime from "effect/Runtime"
import * as RuntimeFlags from "effect/RuntimeFlags"

/**
 * Work started in a fiber of its own, at once, on the caller's runtime (what the timeouts run their
 * work in), with what is needed to hand its fiber refs back to the caller as `Fiber.join` does.
 */
export interface StartedWork<A, E> {
  readonly fiber: Fiber.RuntimeFiber<A, E>
  readonly caller: FiberRefs.FiberRefs
  readonly callerFlags: RuntimeFlags.RuntimeFlags
  /** The refs the work's fiber started with. */
  readonly started: FiberRefs.FiberRefs
}

/**
 * Starts `self` in a new fiber on `runtime` and runs it until it ends or first suspends (so work that
 * needs nothing asynchronous has ended when this returns). `refs` adjusts the new fiber's refs.
 */
export const start = <A, E, R>(
  runtime: Runtime.Runtime<R>,
  self: Effect.Effect<A, E, R>,
  refs?: (refs: FiberRefs.FiberRefs, fiberId: FiberId.Runtime) => FiberRefs.FiberRefs
): StartedWork<A, E> => {
  let started: FiberRefs.FiberRefs = runtime.fiberRefs
  const fiber = Runtime.runFork(runtime, self, {
    updateRefs: (forked, fiberId) => (started = refs === undefined ? forked : refs(forked, fiberId))
  })
  return { fiber, caller: runtime.fiberRefs, callerFlags: runtime.runtimeFlags, started }
}

/**
 * The work's exit, for the caller to return: a success first hands the work's fiber refs back, as
 * `Fiber.join` does, but only when that could change something. `Fiber.inheritAll` diffs and patches
 * every ref (the context included, which `Runtime.runFork` sets in every fiber it starts), which was
 * a quarter of a guarded call; most work sets no ref, and then the join leaves the caller as it was.
 */
export const exit = <A, E>(work: StartedWork<A, E>, exit: Exit.Exit<A, E>): Effect.Effect<A, E> =>
  Exit.isSuccess(exit) && joinChangesRefs(work) ? Effect.zipRight(Fiber.inheritAll(work.fiber), exit) : exit

/**
 * A fiber's refs and runtime flags: what `fiber.getFiberRefs()` gives, without the copy it makes.
 * `getFiberRefs` first writes the fiber's flags into its refs, which copies the map of every ref. Twice
 * per timeout (the caller's refs to start the work, the work's to join it), that was a third of
 * `Timeout.attempt`'s cost through `runPromise` (4.7 µs, now 3.1) and a sixth inside `Effect.forEach`.
 * Effect's fibers keep both in fields; a fiber without them (another version of Effect) is read with
 * `getFiberRefs`: slower, never wrong.
 */
export const stateOf = (
  fiber: Fiber.RuntimeFiber<unknown, unknown>
): { readonly refs: FiberRefs.FiberRefs; readonly flags: RuntimeFlags.RuntimeFlags } => {
  const fields = fiber as Partial<FiberFields>
  if (fields._fiberRefs !== undefined && typeof fields.currentRuntimeFlags === "number") {
    return { refs: fields._fiberRefs, flags: fields.currentRuntimeFlags }
  }
  const refs = fiber.getFiberRefs()
  return { refs, flags: FiberRefs.getOrDefault(refs, FiberRef.currentRuntimeFlags) }
}

/** The fields of Effect's `FiberRuntime` that `stateOf` reads. */
interface FiberFields {
  readonly _fiberRefs: FiberRefs.FiberRefs
  readonly currentRuntimeFlags: RuntimeFlags.RuntimeFlags
}

/**
 * False only when joining cannot change the caller's refs: the work set none (each holds the stack it
 * started with), its runtime flags are the caller's, and each ref its fiber started with differs from
 * the caller's only where the join keeps the caller's value anyway, or (the context) in who set it.
 */
const joinChangesRefs = <A, E>(work: StartedWork<A, E>): boolean => {
  const { flags, refs } = stateOf(work.fiber)
  if (inheritedFlags(flags) !== inheritedFlags(work.callerFlags)) return true
  for (const [ref, stack] of refs.locals) {
    // compared above, as the fiber runs them (a fiber's refs hold its flags only once they are read)
    if (ref === FiberRef.currentRuntimeFlags) continue
    if (stack !== work.started.locals.get(ref)) return true
    const callerStack = work.caller.locals.get(ref)
    if (stack === callerStack || keepsCallerValue.has(ref)) continue
    if (ref === FiberRef.currentContext && callerStack !== undefined && stack[0][1] === callerStack[0][1]) continue
    return true
  }
  return false
}

/** The runtime flags a join hands back: all but interruption and wind-down (set once a fiber ends). */
const inheritedFlags = (flags: RuntimeFlags.RuntimeFlags): number =>
  flags & ~(RuntimeFlags.Interruption | RuntimeFlags.WindDown)

const isFiberRef = (u: unknown): u is FiberRef.FiberRef<unknown> =>
  typeof u === "object" && u !== null && FiberRef.FiberRefTypeId in u

/**
 * Refs whose join keeps the caller's value, so a work fiber that starts with another value hands
 * nothing back: ours (`unsafeMakeKeptOnJoin`: the deadline refs) and two of Effect's that every fork
 * resets (the fork scope override, which each fiber of a concurrent `Effect.forEach` holds, and the
 * interrupted cause). Effect does not
 * export those two; they are read from the global registry under the keys Effect gives them. Were a
 * key to change, the lookup would miss and such calls would take the full join: slower, never wrong.
 */
const keepsCallerValue = new Set<FiberRef.FiberRef<any>>(
  ["effect/FiberRef/currentForkScopeOverride", "effect/FiberRef/currentInterruptedCause"].flatMap((key) => {
    const ref: unknown = GlobalValue.globalValue(Symbol.for(key), () => undefined)
    return isFiberRef(ref) ? [ref] : []
  })
)

/**
 * A fiber ref whose join keeps the joiner's value: set in a fiber, it never flows back to the fiber that
 * joins it (a deadline must not outlive the `Timeout.total` that set it).
 */
export const unsafeMakeKeptOnJoin = <A>(initial: A): FiberRef.FiberRef<A> => {
  const ref = FiberRef.unsafeMake(initial, { join: (joiner) => joiner })
  keepsCallerValue.add(ref)
  return ref
}
