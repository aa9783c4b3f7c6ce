/**
 * effect-resilience: typed resilience for Effect programs that call services they do not control.
 *
 * Every guard is usable alone and composes in this order (outermost first): your fallback
 * (`Fallback`, `LastKnownGood`, `QueueForLater`), Timeout.total, Retry, Hedge, CircuitBreaker,
 * RateLimit, Bulkhead, Timeout.attempt, the call. `Policy` composes them; `Health` reports on them.
 *
 * Modules that need optional peers are not re-exported here, so importing the barrel never loads
 * them: `effect-resilience/HttpProviderNode` and `effect-resilience/HealthNode` (need
 * `@effect/platform-node`), `effect-resilience/RateLimitRedis`, `effect-resilience/CircuitBreakerRedis`,
 * `effect-resilience/LastKnownGoodRedis` and `effect-resilience/QueueForLaterRedis` (need `ioredis`),
 * and `effect-resilience/testing` (the scripted client, the fake provider server and chaos).
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as Backoff from "./Backoff.js"

/**
 * @since 0.1.0
 */
export * as Bulkhead from "./Bulkhead.js"

/**
 * @since 0.1.0
 */
export * as CircuitBreaker from "./CircuitBreaker.js"

/**
 * @since 0.1.0
 */
export * as Credentials from "./Credentials.js"

/**
 * @since 0.1.0
 */
export * as Errors from "./Errors.js"

/**
 * @since 0.1.0
 */
export * as Health from "./Health.js"

/**
 * @since 0.1.0
 */
export * as HttpProvider from "./HttpProvider.js"

/**
 * @since 0.1.0
 */
export * as RateLimit from "./RateLimit.js"

/**
 * @since 0.1.0
 */
export * as Retry from "./Retry.js"

/**
 * @since 0.1.0
 */
export * as Timeout from "./Timeout.js"

/**
 * @since 0.1.0
 */
export * as Policy from "./Policy.js"

/**
 * @since 0.1.0
 */
export * as Fallback from "./Fallback.js"

/**
 * @since 0.1.0
 */
export * as Hedge from "./Hedge.js"

/**
 * @since 0.1.0
 */
export * as LastKnownGood from "./LastKnownGood.js"

/**
 * @since 0.1.0
 */
export * as QueueForLater from "./QueueForLater.js"
