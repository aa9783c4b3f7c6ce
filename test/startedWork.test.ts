import { describe, expect, it } from "@effect/vitest"
import { Effect, type Fiber, FiberRef, FiberRefs, RuntimeFlags, RuntimeFlagsPatch } from "effect"
import * as StartedWork from "../src/internal/startedWork.js"

/** The fiber as its public interface shows it: no fields of Effect's own `FiberRuntime`. */
const publicOnly = (fiber: Fiber.RuntimeFiber<unknown, unknown>) =>
  ({ getFiberRefs: () => fiber.getFiberRefs() }) as unknown as Fiber.RuntimeFiber<unknown, unknown>

interface Read {
  readonly fromFields: ReturnType<typeof StartedWork.stateOf>
  readonly fromPublic: ReturnType<typeof StartedWork.stateOf>
  readonly flags: RuntimeFlags.RuntimeFlags
}

describe("StartedWork.stateOf", () => {
  it.effect("reads a fiber's refs and runtime flags as getFiberRefs gives them, from the fields or without them", () =>
    Effect.gen(function*() {
      const ref = FiberRef.unsafeMake("initial")
      yield* FiberRef.set(ref, "set")
      // flags changed since the fiber's refs last recorded them
      yield* Effect.patchRuntimeFlags(RuntimeFlagsPatch.disable(RuntimeFlags.CooperativeYielding))
      const { flags, fromFields, fromPublic } = yield* Effect.withFiberRuntime<Read>((fiber, status) =>
        Effect.succeed({
          fromFields: StartedWork.stateOf(fiber),
          fromPublic: StartedWork.stateOf(publicOnly(fiber)),
          flags: status.runtimeFlags
        })
      )
      for (const state of [fromFields, fromPublic]) {
        expect(state.flags).toBe(flags)
        expect(RuntimeFlags.cooperativeYielding(state.flags)).toBe(false)
        expect(FiberRefs.getOrDefault(state.refs, ref)).toBe("set")
      }
      expect([...fromFields.refs.locals.keys()].filter((key) => key !== FiberRef.currentRuntimeFlags)).toEqual(
        [...fromPublic.refs.locals.keys()].filter((key) => key !== FiberRef.currentRuntimeFlags)
      )
    }))
})
