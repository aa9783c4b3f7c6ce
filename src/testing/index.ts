/**
 * `effect-resilience/testing`: tools to test code that calls unreliable services.
 *
 * - `ScriptedHttpClient`: an `HttpClient` layer that answers from a script (429s, 503s, delays on the
 *   `TestClock`, hangs, refused connections) and records every request.
 * - `FakeProvider`: a real HTTP server on 127.0.0.1 with phases (normal, rate limiting, outage, slow,
 *   recovery), idempotency-key dedupe and a drop-after-commit mode, for integration tests and demos.
 *   It needs the optional peer `@effect/platform-node`, loaded only when a fake provider starts.
 * - `Chaos`: seeded fault injection (error rate, latency) around any effect, off unless provided.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as ScriptedHttpClient from "./ScriptedHttpClient.js"

/**
 * @since 0.1.0
 */
export * as FakeProvider from "./FakeProvider.js"

/**
 * @since 0.1.0
 */
export * as Chaos from "./Chaos.js"
