import * as Context from "effect/Context"
import * as Data from "effect/Data"
import type * as api from "../../CircuitBreaker.js"

/** A store operation that did not answer: the breaker then applies its `onStoreError`. */
export class StoreError extends Data.TaggedError("CircuitBreakerStoreError")<{
  readonly operation: string
  readonly cause?: unknown
}> {
  override get message(): string {
    const cause = this.cause instanceof Error && this.cause.message !== "" ? `: ${this.cause.message}` : ""
    return `the circuit breaker store could not ${this.operation}${cause}`
  }
}

export const Store: Context.Tag<api.Store, api.Store> = Context.GenericTag<api.Store>(
  "effect-resilience/CircuitBreaker/Store"
)
