import { Effect, Stream } from "effect"

const decoder = new TextDecoder()

/** Byte chunks (an array, a collected Chunk) as one text. */
export const asText = (chunks: Iterable<Uint8Array>): string => Array.from(chunks, (b) => decoder.decode(b)).join("")

/** Runs a stream that must fail: the items it delivered first, and the error. */
export const untilFailure = <A, E, R>(
  stream: Stream.Stream<A, E, R>
): Effect.Effect<{ readonly seen: ReadonlyArray<A>; readonly error: E }, never, R> =>
  Effect.gen(function*() {
    const seen: Array<A> = []
    const error = yield* Stream.runForEach(stream, (item) => Effect.sync(() => void seen.push(item))).pipe(
      Effect.flip,
      Effect.orDieWith(() => new Error("the stream ended without failing"))
    )
    return { seen, error }
  })
