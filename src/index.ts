/**
 * effect-resilience: typed resilience for Effect programs that call services they do not control.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as Errors from "./Errors.js"
