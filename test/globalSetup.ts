import { extractDocBlocks } from "../scripts/docs-blocks.js"

/**
 * Extracts the documentation's code blocks into `.docs-check/` before anything else runs: the type
 * check covers them and test/docs.test.ts runs the runnable ones. In vitest's own process, so
 * `npm test` is one command and starts no separate `tsx` for it.
 */
export default function setup(): void {
  extractDocBlocks()
}
