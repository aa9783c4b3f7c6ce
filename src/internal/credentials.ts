import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Ref from "effect/Ref"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type * as Credentials from "../Credentials.js"
import { InvalidOptions } from "../Errors.js"
import {
  headerValueFault,
  invalid,
  invalidDescribed,
  kindOf,
  nonEmptyString,
  positiveDuration,
  validated
} from "./options.js"

/** @internal */
export const TypeId: Credentials.TypeId = Symbol.for("effect-resilience/Credentials") as Credentials.TypeId

const toRedacted = (secret: string | Redacted.Redacted<string>): Redacted.Redacted<string> =>
  Redacted.isRedacted(secret) ? secret : Redacted.make(secret)

const sameSecret = (a: Redacted.Redacted<string>, b: Redacted.Redacted<string>): boolean =>
  Redacted.value(a) === Redacted.value(b)

const make = (
  get: Credentials.Credentials["get"],
  refresh: Credentials.Credentials["refresh"]
): Credentials.Credentials => ({ [TypeId]: TypeId, get, refresh })

/** @internal */
export const isCredentials = (u: unknown): u is Credentials.Credentials =>
  typeof u === "object" && u !== null && TypeId in u

const ProblemId = Symbol.for("effect-resilience/Credentials/problem")

/**
 * `fixed` and `byKey` return a value, not an Effect, so bad input cannot fail where it is given.
 * It is carried instead, and `HttpProvider.make` fails with it: the same `InvalidOptions`, at the
 * construction of the client that would have sent the secret. Used anyway, the value dies with it.
 */
const broken = (problem: InvalidOptions): Credentials.Credentials =>
  Object.assign(make(() => Effect.die(problem), () => Effect.die(problem)), { [ProblemId]: problem })

/** The `InvalidOptions` a Credentials value was built with, if its input was bad. @internal */
export const problemOf = (credentials: Credentials.Credentials): InvalidOptions | undefined => {
  const problem: unknown = (credentials as { readonly [ProblemId]?: unknown })[ProblemId]
  return problem instanceof InvalidOptions ? problem : undefined
}

const checked = (build: () => Credentials.Credentials): Credentials.Credentials => {
  try {
    return build()
  } catch (error) {
    if (error instanceof InvalidOptions) return broken(error)
    throw error
  }
}

/** @internal */
export const fixed = (secret: string | Redacted.Redacted<string>): Credentials.Credentials =>
  checked(() => {
    const value: unknown = Redacted.isRedacted(secret) ? Redacted.value(secret) : secret
    const fault = value === "" ? "is empty" : headerValueFault(value)
    if (fault !== undefined) {
      invalidDescribed(
        { module: "Credentials.fixed", option: "secret" },
        value === "" ? "\"\"" : typeof value === "string" ? `<redacted> (${fault})` : kindOf(value),
        "a non-empty string, or Redacted string, that can be sent in a header (no CR, LF or other control character)"
      )
    }
    const some = Option.some(toRedacted(secret))
    return make(() => Effect.succeed(some), () => Effect.succeedNone)
  })

const defaults = {
  name: "credentials"
}

/** @internal */
export const rotating = <E, R>(
  options: Credentials.RotatingOptions<E, R>
): Effect.Effect<Credentials.Credentials, E | InvalidOptions, R | Scope.Scope> =>
  Effect.gen(function*() {
    const check = (option: string) => ({ module: "Credentials.rotating", option })
    const { every, name } = yield* validated(() => {
      if (!Effect.isEffect(options.fetch)) {
        invalidDescribed(check("fetch"), kindOf(options.fetch), "an Effect (e.g. Effect.tryPromise(() => read()))")
      }
      return {
        name: options.name === undefined ? defaults.name : nonEmptyString(check("name"), options.name),
        every: positiveDuration(check("every"), options.every)
      }
    })
    // The fetch's requirements are resolved now, so `get` and `refresh` need nothing from the caller.
    const context = yield* Effect.context<R>()
    const fetch = Effect.provide(Effect.map(options.fetch, toRedacted), context)
    // The first secret is fetched while the layer is built: a provider that cannot authenticate at
    // startup fails there, in the layer's error channel, rather than on every request.
    const current = yield* Ref.make(yield* fetch)
    const lock = yield* Effect.makeSemaphore(1)
    // Fetches that finished so far, succeeded or failed: a caller that waited for the lock while one
    // finished does not fetch again (during a token endpoint outage, N rejected callers would
    // otherwise make N fetches in a row, the last one waiting for all of them).
    let fetchesDone = 0
    const log = Effect.annotateLogs({ credentials: name })

    const replace = (reason: string) =>
      fetch.pipe(
        Effect.tap((fresh) => Ref.set(current, fresh)),
        Effect.tap(() => Effect.logDebug(`credentials ${name} rotated (${reason})`)),
        Effect.asSome,
        // A failed refresh keeps the secret we have: it may still be valid, and if it is not the
        // provider's 401 says so on the next request. The cause is the fetch's, never a secret.
        Effect.catchAllCause((cause) =>
          Effect.as(
            Effect.logWarning(
              `credentials ${name} could not be refreshed (${reason}); keeping the current secret`,
              cause
            ),
            Option.none()
          )
        ),
        // counted once it has an answer (a secret or a logged failure), not when it was interrupted
        Effect.tap(() =>
          Effect.sync(() => {
            fetchesDone++
          })
        ),
        log
      )

    yield* Effect.sleep(every).pipe(
      Effect.zipRight(lock.withPermits(1)(replace("schedule"))),
      Effect.repeat(Schedule.forever),
      Effect.interruptible,
      Effect.forkScoped
    )

    return make(
      () => Effect.asSome(Ref.get(current)),
      (stale) =>
        Effect.suspend(() => {
          const seen = fetchesDone
          return lock.withPermits(1)(
            Effect.flatMap(Ref.get(current), (now) => {
              // Another caller's 401 already replaced the stale secret: use the new one, do not fetch again.
              if (!sameSecret(now, stale)) return Effect.succeedSome(now)
              // A fetch finished while this caller waited and gave nothing new: its answer is this one's.
              if (fetchesDone !== seen) return Effect.succeedNone
              return replace("the provider rejected it")
            })
          )
        })
    )
  })

/** @internal */
export const byKey = (
  credentials: Readonly<Record<string, Credentials.Credentials>>,
  options?: Credentials.ByKeyOptions
): Credentials.Credentials =>
  checked(() => {
    const check = (option: string) => ({ module: "Credentials.byKey", option })
    if (typeof credentials !== "object" || credentials === null || Array.isArray(credentials)) {
      invalidDescribed(check("credentials"), kindOf(credentials), "a record of Credentials by key")
    }
    for (const [key, value] of Object.entries(credentials)) {
      if (!isCredentials(value)) {
        // never the value itself: a string here is likely a secret that was meant for `fixed`
        invalidDescribed(check(`credentials.${key}`), kindOf(value), "a Credentials value (fixed, rotating, byKey)")
      }
      const problem = problemOf(value)
      if (problem !== undefined) throw problem
    }
    const fallback = options?.default
    if (fallback !== undefined && (typeof fallback !== "string" || !Object.hasOwn(credentials, fallback))) {
      invalid(check("default"), fallback, `one of the keys (${Object.keys(credentials).join(", ")})`)
    }
    return keyed(credentials, fallback)
  })

const keyed = (
  credentials: Readonly<Record<string, Credentials.Credentials>>,
  fallback: string | undefined
): Credentials.Credentials => {
  const pick = (key: string | undefined): Credentials.Credentials | undefined => {
    const k = key ?? fallback
    return k !== undefined && Object.hasOwn(credentials, k) ? credentials[k] : undefined
  }
  return make(
    (key) => {
      const picked = pick(key)
      return picked === undefined ? Effect.succeedNone : picked.get(key ?? fallback)
    },
    (stale, key) => {
      const picked = pick(key)
      return picked === undefined ? Effect.succeedNone : picked.refresh(stale, key ?? fallback)
    }
  )
}
