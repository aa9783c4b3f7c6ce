/**
 * The client most code starts with: `fetch`, and on any failure three more tries, 250 ms apart. No
 * timeout, no idea what a 429 or its `Retry-After` means, no memory that the provider was down a
 * second ago: every user finds out on their own, four requests at a time.
 */
import { Effect } from "effect"

const retries = 3
const pauseMillis = 250

const sleep = (millis: number) => new Promise((resolve) => setTimeout(resolve, millis))

export const fetchQuote = async (baseUrl: string, signal: AbortSignal): Promise<unknown> => {
  let lastError: unknown
  for (let attempt = 0; attempt <= retries; attempt++) {
    try {
      const response = await fetch(`${baseUrl}/v1/quote`, { signal })
      if (response.ok) return await response.json()
      lastError = new Error(`HTTP ${response.status}`)
    } catch (error) {
      if (signal.aborted) throw error
      lastError = error
    }
    if (attempt < retries) await sleep(pauseMillis)
  }
  throw lastError
}

/** The same call as an Effect, so the workload runs both clients alike. Every error is a failure. */
export const make = (baseUrl: string): Effect.Effect<unknown, unknown> =>
  Effect.tryPromise({ try: (signal) => fetchQuote(baseUrl, signal), catch: (error) => error })
