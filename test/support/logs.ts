import { Effect, Logger, Ref } from "effect"

/** Captures log lines (level and message) instead of printing them. */
export const captureLogs = Effect.map(Ref.make<Array<string>>([]), (lines) => ({
  lines: Ref.get(lines),
  layer: Logger.replace(
    Logger.defaultLogger,
    Logger.make(({ logLevel, message }) => {
      const text = Array.isArray(message) ? String(message[0]) : String(message)
      Effect.runSync(Ref.update(lines, (ls) => [...ls, `${logLevel.label} ${text}`]))
    })
  )
}))
