import * as Schema from "effect/Schema"

/** @internal */
export class QueueStoreError extends Schema.TaggedError<QueueStoreError>()("QueueStoreError", {
  queue: Schema.String,
  operation: Schema.String,
  detail: Schema.String
}) {
  override get message(): string {
    return `queue ${this.queue} could not ${this.operation}: its store is unreachable (${this.detail})`
  }
}

/** @internal */
export class DeadLetterNotFound extends Schema.TaggedError<DeadLetterNotFound>()("DeadLetterNotFound", {
  queue: Schema.String,
  id: Schema.String
}) {
  override get message(): string {
    return `queue ${this.queue} has no dead letter ${this.id} (replayed already, or never dead-lettered)`
  }
}
