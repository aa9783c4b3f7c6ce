import * as Redacted from "effect/Redacted"

/**
 * Cuts secrets out of text a provider sent back, before that text becomes part of an error
 * (`ClientError.body`, `InvalidResponse.issue`) and from there of a log line, a span or an encoded
 * error.
 *
 * A provider that echoes a credential seldom echoes it as sent: it quotes it in JSON, URL-encodes it
 * in a query string, base64-encodes the Authorization header it got, or HTML-escapes it in an error
 * page. One regular expression matches each of these forms anywhere in the text:
 *
 * - as sent, a run of whitespace in the secret matching any run of whitespace (an excerpt or a
 *   provider that collapses whitespace);
 * - JSON-escaped, one to three levels deep (`\"`, `\\\"`, `\u0022`, `\/`);
 * - URL-encoded, `encodeURIComponent` or form style (`+` for a space), hex digits in either case;
 * - HTML-escaped (`&quot;`, `&#34;`, `&#x22;`);
 * - base64 and base64url, padded or not, of the secret and of the header value `"<scheme> <secret>"`,
 *   and of the secret inside a longer base64 text (a Basic `user:secret`, a JSON document). There the
 *   one character on each side that also carries a neighbouring byte stays: at most 4 bits of the
 *   secret each.
 *
 * The escapes of the characters of one secret may mix (`%22` next to `\"`), and the base64 forms may
 * themselves be URL-encoded or JSON-escaped. What no pattern can see: a hash of the secret, a part of
 * it (a provider that prints its first 8 characters), hex, encryption, or other nestings of encodings
 * (base64 of a URL-encoded secret).
 */

/** What a cut form is replaced with, as a `Redacted` prints itself. */
export const marker = "<redacted>"

const specials = /[.*+?^${}()|[\]\\]/g
const literal = (text: string): string => text.replace(specials, "\\$&")

/** A number in hex, each letter in either case: 47 -> "2[fF]". */
const hex = (n: number, width: number): string =>
  n.toString(16).padStart(width, "0").replace(/[a-f]/g, (digit) => `[${digit}${digit.toUpperCase()}]`)

const encoder = new TextEncoder()

/** JSON escaped one to three levels deep: `\"`, `\\\"` (a JSON text quoted in a JSON string), `\\\\\\\"`. */
const jsonEscape = "\\\\{1,7}"

/** JSON's two-character escapes (besides the backslash, which goes by runs below). */
const jsonShort: Readonly<Record<string, string>> = {
  "\"": "\"",
  "/": "/",
  "\b": "b",
  "\f": "f",
  "\n": "n",
  "\r": "r",
  "\t": "t"
}

const htmlNamed: Readonly<Record<string, string>> = {
  "\"": "&quot;",
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  "'": "&apos;"
}

/** Every escaped form of one character (a code point), as regex sources; the character as sent is not among them. */
const escapes = (char: string): Array<string> => {
  const code = char.codePointAt(0)!
  const forms = [
    Array.from({ length: char.length }, (_, i) => `${jsonEscape}u${hex(char.charCodeAt(i), 4)}`).join(""),
    Array.from(encoder.encode(char), (byte) => `%${hex(byte, 2)}`).join(""),
    `&#0*${code};`,
    `&#[xX]0*${hex(code, 1)};`
  ]
  const short = jsonShort[char]
  if (short !== undefined) forms.push(`${jsonEscape}${literal(short)}`)
  const named = htmlNamed[char]
  if (named !== undefined) forms.push(named)
  if (char === " ") forms.push("\\+")
  return forms
}

const whitespace = /\s/
/** A run of whitespace, as sent or escaped, whatever whitespace the secret had there. */
const anyWhitespace = `(?:\\s|${[" ", "\t", "\n", "\r"].flatMap(escapes).join("|")})+`
/** Characters no JSON, URL or HTML encoder escapes. */
const plain = /[A-Za-z0-9_.-]/

/**
 * A secret as a regex source that matches any of its text encodings. Runs of backslashes and of
 * whitespace are matched with one quantifier each, so a body full of either cannot make the match
 * backtrack out of bounds.
 */
const pattern = (secret: string): string => {
  const chars = Array.from(secret)
  const parts: Array<string> = []
  let i = 0
  while (i < chars.length) {
    const char = chars[i]!
    const inRun = char === "\\"
      ? (c: string) => c === "\\"
      : whitespace.test(char)
      ? (c: string) => whitespace.test(c)
      : undefined
    let end = i + 1
    if (inRun !== undefined) while (end < chars.length && inRun(chars[end]!)) end++
    const n = end - i
    if (char === "\\") {
      // as sent or JSON-escaped (each level doubles a backslash), or each one escaped another way
      parts.push(`(?:\\\\{${n},${8 * n}}|(?:${escapes(char).join("|")}){${n}})`)
    } else if (inRun !== undefined) {
      parts.push(anyWhitespace)
    } else if (plain.test(char)) {
      parts.push(literal(char))
    } else {
      parts.push(`(?:${[literal(char), ...escapes(char)].join("|")})`)
    }
    i = end
  }
  return parts.join("")
}

const base64 = (bytes: Uint8Array): string => {
  let binary = ""
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary)
}

/** Shorter cores would be cut wherever they happen to occur in unrelated base64 text. */
const minimumCore = 8

/** The base64 forms of a secret: whole, as a header value, and the core of it inside a longer text. */
const base64Forms = (secret: string, scheme: string): Array<string> => {
  const bytes = encoder.encode(secret)
  const whole = [bytes, ...(scheme === "" ? [] : [encoder.encode(`${scheme} ${secret}`)])].map(base64)
  // At each of the three byte offsets, the characters made of the secret's bits only.
  const inside = [0, 1, 2].map((offset) => {
    const shifted = new Uint8Array(offset + bytes.length)
    shifted.set(bytes, offset)
    return base64(shifted).slice(Math.ceil(offset * 8 / 6), Math.floor((offset + bytes.length) * 8 / 6))
  }).filter((core) => core.length >= minimumCore)
  return [...whole, ...inside].flatMap((standard) => {
    const url = standard.replace(/\+/g, "-").replace(/\//g, "_")
    return [standard, standard.replace(/=+$/, ""), url, url.replace(/=+$/, "")]
  })
}

const compile = (secrets: ReadonlyArray<string>, scheme: string): RegExp => {
  const forms = new Set(secrets.flatMap((secret) => [secret, ...base64Forms(secret, scheme)]))
  // Longest first: where two forms start at one place, the whole header echo wins over the secret in it.
  const sources = [...forms].sort((a, b) => b.length - a.length).map(pattern)
  return new RegExp(sources.join("|"), "g")
}

/**
 * A function that replaces every form of `secrets` in a text with {@link marker}. `scheme` is
 * what is written before a secret in its header (`"Bearer"`, or `""` for none). The expression is
 * built on first use, so an answer that is never quoted costs nothing.
 */
export const redactor = (
  secrets: Iterable<Redacted.Redacted<string>>,
  scheme: string
): (text: string) => string => {
  const values = [...new Set(Array.from(secrets, Redacted.value))].filter((value) => value !== "")
  if (values.length === 0) return (text) => text
  let compiled: RegExp | undefined
  return (text) => {
    compiled ??= compile(values, scheme)
    return text.replace(compiled, marker)
  }
}
