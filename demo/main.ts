/**
 * `npm run demo`: why this library exists, in under a minute. Two clients ask a flaky quotes API for
 * the same thing; one is plain `fetch` with three retries, the other is the library's provider
 * client with its defaults. Watch what each one does to its users and to the provider.
 */
import { Cause, Effect, Either, Logger, LogLevel } from "effect"
import { writeFileSync } from "node:fs"
import * as Cli from "./cli.js"
import * as Display from "./display.js"
import * as Report from "./report.js"
import { run } from "./run.js"
import { story } from "./script.js"

const flags = Cli.parse(process.argv.slice(2))
if (Either.isLeft(flags)) {
  process.stderr.write(`demo: ${flags.left}\n\n${Cli.usage}\n`)
  process.exit(2)
}
const { durationSeconds, help, json, port, redisUrl, users } = flags.right
if (help) {
  process.stdout.write(`${Cli.usage}\n`)
  process.exit(0)
}

const out = process.stdout
const display = Display.make(out)
out.write(`${users} users per client for ${durationSeconds} s; shared state in ${redisUrl === undefined ? "memory" : redisUrl}.\n`)
out.write(`The provider's story: ${story.map((phase) => phase.name).join(" -> ")}.\n`)

const program = run({
  users,
  durationSeconds,
  redisUrl,
  port,
  onServing: (url) =>
    out.write(`Health and metrics while it runs: ${url}/health/ready  ${url}/health/breakers  ${url}/metrics\n\n`),
  onTick: display.show
}).pipe(
  Effect.tap((result) =>
    Effect.sync(() => {
      out.write(`\n${Report.table(result)}\n`)
      if (json !== undefined) {
        writeFileSync(json, Report.json(result))
        out.write(`\nFigures written to ${json}\n`)
      }
    })
  ),
  // The library logs its breaker and gate transitions; the display shows them, and log lines would
  // scribble over it.
  Logger.withMinimumLogLevel(LogLevel.None)
)

Effect.runPromiseExit(program).then((exit) => {
  if (exit._tag === "Failure") {
    process.stderr.write(`demo failed: ${Cause.pretty(exit.cause)}\n`)
    process.exit(1)
  }
})
