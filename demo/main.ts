/**
 * `npm run demo`: why this library exists, in under a minute. Two clients ask a flaky quotes API for
 * the same thing; one is plain `fetch` with three retries, the other is the library's provider
 * client with its defaults. Watch what each one does to its users and to the provider.
 *
 * The files, in reading order: script.ts (the provider's story), provider.ts (the fake API),
 * naiveClient.ts and policyClient.ts (the two clients), workload.ts (the users), run.ts (both sides
 * at once, with the health and metrics endpoints), display.ts (the live view), figures.ts and
 * report.ts (the result), cli.ts (flags and exit codes).
 */
import { main } from "./cli.js"

process.exitCode = await main(process.argv.slice(2), process.stdout, process.stderr)
