import { Effect, Tracer } from "effect"

/** The default tracer, keeping every span it makes (native spans expose `attributes`, `events` and `status`). */
export const recordingTracer = Effect.map(Effect.tracer, (tracer) => {
  const spans: Array<any> = []
  const recording = Tracer.make({
    span: (...args) => {
      const span = tracer.span(...args)
      spans.push(span)
      return span
    },
    context: (f, fiber) => tracer.context(f, fiber)
  })
  return { recording, spans }
})
