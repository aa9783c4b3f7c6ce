/**
 * The command line: `npm run demo -- [--users N] [--duration SECONDS] [--json FILE] [--redis URL] [--port N]`.
 * A bad flag is an error a person can act on, and exit code 2; a run that fails exits with 1.
 */
import { Cause, Effect, Either, Exit, Logger, LogLevel } from "effect"
import { writeFileSync } from "node:fs"
import { parseArgs } from "node:util"
import * as Display from "./display.js"
import * as Report from "./report.js"
import { run } from "./run.js"
import { story } from "./script.js"

export interface Flags {
  readonly users: number
  readonly durationSeconds: number
  readonly json: string | undefined
  readonly redisUrl: string | undefined
  readonly port: number
  readonly help: boolean
}

export const usage = `Usage: npm run demo -- [options]

  --users N           concurrent users per client (1-200, default 20)
  --duration SECONDS  length of the run (5-300, default 35)
  --json FILE         also write the figures to FILE as JSON
  --redis URL         keep the library's shared state (429 gate, rate limiter, breaker) in Redis,
                      e.g. redis://127.0.0.1:6379 (default: in memory)
  --port N            port of the health and metrics endpoints on 127.0.0.1 (default 0: a free one)
  --help              this text`

const integer = (flag: string, value: string | undefined, fallback: number, min: number, max: number) => {
  if (value === undefined) return Either.right(fallback)
  const n = Number(value)
  return Number.isInteger(n) && n >= min && n <= max
    ? Either.right(n)
    : Either.left(`--${flag} must be a whole number from ${min} to ${max}, got "${value}"`)
}

export const parse = (args: ReadonlyArray<string>): Either.Either<Flags, string> => {
  let parsed
  try {
    parsed = parseArgs({
      args: [...args],
      options: {
        users: { type: "string" },
        duration: { type: "string" },
        json: { type: "string" },
        redis: { type: "string" },
        port: { type: "string" },
        help: { type: "boolean" }
      },
      strict: true,
      allowPositionals: false
    }).values
  } catch (error) {
    return Either.left(error instanceof Error ? error.message : String(error))
  }
  const redisUrl = parsed.redis
  if (redisUrl !== undefined && !/^rediss?:\/\/[^\s]+$/.test(redisUrl)) {
    return Either.left(`--redis must be a redis:// or rediss:// URL, got "${redisUrl}"`)
  }
  if (parsed.json === "") return Either.left("--json needs a file name")
  return Either.all({
    users: integer("users", parsed.users, 20, 1, 200),
    durationSeconds: integer("duration", parsed.duration, 35, 5, 300),
    port: integer("port", parsed.port, 0, 0, 65535)
  }).pipe(Either.map((numbers) => ({ ...numbers, json: parsed.json, redisUrl, help: parsed.help === true })))
}

/** Runs the demo for `args`, writing to `out` and `err`; resolves to the exit code. */
export const main = async (args: ReadonlyArray<string>, out: NodeJS.WriteStream, err: NodeJS.WritableStream) => {
  const flags = parse(args)
  if (Either.isLeft(flags)) {
    err.write(`demo: ${flags.left}\n\n${usage}\n`)
    return 2
  }
  const { durationSeconds, help, json, port, redisUrl, users } = flags.right
  if (help) {
    out.write(`${usage}\n`)
    return 0
  }
  const display = Display.make(out)
  out.write(`${users} users per client for ${durationSeconds} s; shared state in ${redisUrl === undefined ? "memory" : redisUrl}.\n`)
  out.write(`The provider's story: ${story.map((phase) => phase.name).join(" -> ")}.\n`)
  const exit = await Effect.runPromiseExit(
    run({
      users,
      durationSeconds,
      redisUrl,
      port,
      onServing: (url) =>
        out.write(`Health and metrics while it runs: ${url}/health/ready  ${url}/health/breakers  ${url}/metrics\n\n`),
      onTick: display.show
    }).pipe(
      // The library logs its breaker and gate transitions; the display shows them, and log lines
      // would scribble over it.
      Logger.withMinimumLogLevel(LogLevel.None)
    )
  )
  if (Exit.isFailure(exit)) {
    err.write(`demo failed: ${Cause.pretty(exit.cause)}\n`)
    return 1
  }
  out.write(`\n${Report.table(exit.value)}\n\n${Report.legend}\n`)
  if (json !== undefined) {
    writeFileSync(json, Report.json(exit.value))
    out.write(`\nFigures written to ${json}\n`)
  }
  return 0
}
