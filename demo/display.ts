/**
 * What a person watches while the demo runs. On a terminal, a small table redrawn in place four
 * times a second; when stdout is a file or a pipe, one plain line every five seconds and at each
 * change of phase (nothing a log reader would have to un-draw).
 */
import type { Tally } from "./provider.js"
import type { Phase } from "./script.js"
import type { Record } from "./workload.js"

export interface View {
  readonly elapsedMillis: number
  readonly durationMillis: number
  readonly phase: Phase
  /** The library's breaker and 429 gate for the provider, as its health checks read them. */
  readonly guards: string
  readonly naive: { readonly record: Record; readonly tally: Tally }
  readonly library: { readonly record: Record; readonly tally: Tally }
}

export interface Display {
  readonly show: (view: View) => void
}

const seconds = (millis: number) => `${(millis / 1000).toFixed(1)} s`

const row = (label: string, side: View["naive"], guards: string) =>
  `${label.padEnd(19)}${String(side.record.ok).padStart(7)}${String(side.record.fallback).padStart(10)}${
    String(side.record.failed).padStart(8)
  }${String(side.tally.requests).padStart(10)}   ${guards}`

const table = (view: View): Array<string> => [
  `elapsed ${seconds(view.elapsedMillis)} of ${seconds(view.durationMillis)}   provider: ${view.phase.name} (${view.phase.says})`,
  "",
  `${"client".padEnd(19)}${"ok".padStart(7)}${"fallback".padStart(10)}${"failed".padStart(8)}${"requests".padStart(10)}   guards`,
  row("naive fetch", view.naive, "(none)"),
  row("effect-resilience", view.library, view.guards)
]

const terminal = (write: (text: string) => void): Display => {
  let drawn = 0
  return {
    show: (view) => {
      const lines = table(view)
      // back to the first line drawn, then overwrite every line (clearing what was there)
      write((drawn > 0 ? `\x1b[${drawn}A` : "") + lines.map((line) => `\x1b[2K${line}\n`).join(""))
      drawn = lines.length
    }
  }
}

const plain = (write: (text: string) => void): Display => {
  let lastPhase: string | undefined
  let lastAt = -Infinity
  return {
    show: (view) => {
      if (view.phase.name === lastPhase && view.elapsedMillis - lastAt < 5_000) return
      lastPhase = view.phase.name
      lastAt = view.elapsedMillis
      const side = (side: View["naive"]) =>
        `ok ${side.record.ok} fallback ${side.record.fallback} failed ${side.record.failed} requests ${side.tally.requests}`
      write(
        `[${seconds(view.elapsedMillis)}] ${view.phase.name}: naive ${side(view.naive)} | effect-resilience ${
          side(view.library)
        } (${view.guards})\n`
      )
    }
  }
}

export const make = (stream: NodeJS.WriteStream): Display => {
  const write = (text: string) => void stream.write(text)
  return stream.isTTY ? terminal(write) : plain(write)
}
