/**
 * Where a provider client gets its secret from: a fixed key, a source rotated on a schedule, or one
 * credential per tenant, region or tier.
 *
 * Why a service and not a string in the options? Keys rotate, and an integration that serves many
 * customers often holds several accounts (one per data region for legal reasons, a separate one for a
 * higher tier). The client asks for "the secret for key `eu`" on every attempt, so a rotation is picked
 * up by the next request without rebuilding anything.
 *
 * Secrets are `Redacted` from the moment they enter: `toString`, `JSON.stringify` and Effect's logger
 * print `<redacted>`. `HttpProvider` unwraps one only to write the header it sends, adds that header's
 * name to the redacted header names, and cuts the secret, in every common encoding, from the provider
 * text its errors quote (the forms are listed on `HttpProvider`'s `credentials` option).
 *
 * After a 401, `HttpProvider` calls `refresh(stale)`: concurrent callers that saw the same stale secret
 * share one fetch, and a caller whose stale secret was already replaced gets the new one without
 * another fetch. The request is then sent once more; a second 401 is a `ClientError`.
 *
 * @since 0.1.0
 */
import type { DurationInput } from "effect/Duration"
import type { Effect } from "effect/Effect"
import type { Option } from "effect/Option"
import type { Redacted } from "effect/Redacted"
import type { Scope } from "effect/Scope"
import type { InvalidOptions } from "./Errors.js"
import * as internal from "./internal/credentials.js"

/**
 * @since 0.1.0
 * @category models
 */
export const TypeId: unique symbol = internal.TypeId

/**
 * @since 0.1.0
 * @category models
 */
export type TypeId = typeof TypeId

/**
 * A source of secrets, selected by an optional key (tenant, region, tier).
 *
 * @since 0.1.0
 * @category models
 */
export interface Credentials {
  readonly [TypeId]: TypeId
  /** The current secret for `key` (the default one when `key` is undefined); `None` when there is none. */
  readonly get: (key?: string | undefined) => Effect<Option<Redacted<string>>>
  /**
   * The provider rejected `stale`: fetch a fresh secret once and return it, or `None` when no fresher
   * secret can be had (a fixed key, a failed fetch).
   */
  readonly refresh: (stale: Redacted<string>, key?: string | undefined) => Effect<Option<Redacted<string>>>
}

/**
 * @since 0.1.0
 * @category models
 */
export interface RotatingOptions<E, R> {
  /** Fetches the current secret (a vault, a token endpoint, a config file). Required. */
  readonly fetch: Effect<string | Redacted<string>, E, R>
  /** How often the secret is fetched again in the background. Required. */
  readonly every: DurationInput
  /** Named in log lines ("credentials payments-eu rotated"). Defaults to `"credentials"`. */
  readonly name?: string | undefined
}

/**
 * @since 0.1.0
 * @category models
 */
export interface ByKeyOptions {
  /** The key used when a request names none. Defaults to `undefined` (a request must name its key). */
  readonly default?: string | undefined
}

/**
 * A single secret that never changes. A 401 is final: there is nothing fresher to try.
 *
 * The secret must be a non-empty string that can be sent in a header (no CR, LF or other control
 * character). This returns a value, not an Effect, so bad input cannot fail here: the value carries
 * the `InvalidOptions` (the secret never quoted), and `HttpProvider.make` fails with it when the
 * client is built. Used directly, its `get` dies with it.
 *
 * @example
 * ```ts
 * import { Redacted } from "effect"
 * import { Credentials } from "effect-resilience"
 *
 * const key = Credentials.fixed(Redacted.make("sk_test_123"))
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const fixed: (secret: string | Redacted<string>) => Credentials = internal.fixed

/**
 * A secret fetched once when built (a failure fails the constructor, so a Layer that cannot
 * authenticate fails at startup), fetched again every `every` in a background fiber of the scope, and
 * on demand after a 401. A failed background fetch is logged as a warning and the current secret kept.
 *
 * Fails with `InvalidOptions` when `fetch` is not an Effect, `every` is not a finite duration > 0 or
 * `name` is empty. A fetched secret is checked where it is used: `HttpProvider` does not send one
 * holding CR, LF or another control character (`InvalidRequest`).
 *
 * @example
 * ```ts
 * import { Effect } from "effect"
 * import { Credentials } from "effect-resilience"
 *
 * declare const readFromVault: Effect.Effect<string, Error>
 *
 * // Effect<Credentials, Error | InvalidOptions, Scope>
 * const rotating = Credentials.rotating({ fetch: readFromVault, every: "15 minutes", name: "payments" })
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const rotating: <E, R>(
  options: RotatingOptions<E, R>
) => Effect<Credentials, E | InvalidOptions, R | Scope> = internal.rotating

/**
 * One credential per key: per tenant, per data region, per tier. A request names its key
 * (`credentialsKey` in `HttpProvider` requests); a key with no credential gives `None`, which the
 * client reports as `InvalidRequest` without sending anything.
 *
 * Like {@link fixed}, bad input (a record that is not one, a value that is not a Credentials, a
 * `default` that is not one of the keys, a bad `fixed` inside) is carried as an `InvalidOptions` that
 * `HttpProvider.make` fails with.
 *
 * @example
 * ```ts
 * import { Credentials } from "effect-resilience"
 *
 * const perRegion = Credentials.byKey(
 *   { eu: Credentials.fixed("key-eu"), us: Credentials.fixed("key-us") },
 *   { default: "us" }
 * )
 * ```
 *
 * @since 0.1.0
 * @category constructors
 */
export const byKey: (
  credentials: Readonly<Record<string, Credentials>>,
  options?: ByKeyOptions
) => Credentials = internal.byKey

/**
 * Whether `u` is a {@link Credentials}.
 *
 * @example
 * ```ts
 * import { Credentials } from "effect-resilience"
 *
 * Credentials.isCredentials(Credentials.fixed("k")) // true
 * ```
 *
 * @since 0.1.0
 * @category guards
 */
export const isCredentials: (u: unknown) => u is Credentials = internal.isCredentials
