/**
 * The key under which a guard keeps one of its keys' state in a store (a limiter's counter, a gate's
 * closing, a shared breaker's state). The guard's name comes first, with its length, so that guard "a"
 * with key "b:c" and guard "a:b" with key "c" never share an entry.
 */
export const storeKeyOf = (name: string, key: string): string => `${name.length}:${name}:${key}`
