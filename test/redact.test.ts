import { describe, expect, it } from "@effect/vitest"
import { Redacted } from "effect"
import { marker, redactor } from "../src/internal/redact.js"

const cutter = (secrets: Array<string>, scheme = "Bearer") => redactor(secrets.map((s) => Redacted.make(s)), scheme)

const base64 = (text: string) => Buffer.from(text, "utf8").toString("base64")
const base64url = (text: string) => Buffer.from(text, "utf8").toString("base64url")
const lowerHex = (text: string) => text.replace(/%[0-9A-F]{2}/g, (escape) => escape.toLowerCase())

describe("redact", () => {
  const secret = `sk_live_Qz7"K\\9/p+w=Xy41`
  const cut = cutter([secret])

  it.each([
    ["as sent", secret],
    ["JSON-escaped", JSON.stringify(secret).slice(1, -1)],
    ["JSON-escaped twice (a JSON text quoted in a JSON string)", JSON.stringify(JSON.stringify(secret)).slice(3, -3)],
    ["JSON \\u-escaped, either case", `sk_live_Qz7\\u0022K\\\\9\\/p\\u002Bw\\u003dXy41`],
    ["encodeURIComponent", encodeURIComponent(secret)],
    ["encodeURIComponent, lower-case hex", lowerHex(encodeURIComponent(secret))],
    ["form-encoded", new URLSearchParams({ k: secret }).toString().slice(2)],
    ["escapes mixed", `sk_live_Qz7%22K\\\\9&#x2F;p%2bw&#61;Xy41`],
    ["HTML-escaped", secret.replace(/"/g, "&quot;")],
    ["base64", base64(secret)],
    ["base64 without padding", base64(secret).replace(/=+$/, "")],
    ["base64url", base64url(secret)],
    ["base64 of the header value", base64(`Bearer ${secret}`)],
    ["base64url of the header value", base64url(`Bearer ${secret}`)],
    ["base64 of the header value, URL-encoded", encodeURIComponent(base64(`Bearer ${secret}`))]
  ])("%s - cut whole", (_, form) => {
    expect(cut(`key: ${form}; retry`)).toBe(`key: ${marker}; retry`)
  })

  it("base64 - a secret inside a longer base64 text keeps at most one character each side", () => {
    const basic = cutter(["pa55:w0rd/+secret"], "Basic")
    // "user:" then the secret: "dXNlcjp" carries "user:" and 2 bits of the secret, "A==" 4 bits and padding
    expect(basic(base64("user:pa55:w0rd/+secret"))).toBe(`dXNlcjp${marker}A==`)
    expect(basic(base64(`{"token":"pa55:w0rd/+secret"}`))).toBe(`eyJ0b2tlbiI6In${marker}In0=`)
    expect(basic(base64url(`{"token":"pa55:w0rd/+secret"}`))).toBe(`eyJ0b2tlbiI6In${marker}In0`)
  })

  it("whitespace - a run in the secret matches any run, as sent, collapsed or encoded", () => {
    const spaced = cutter(["ab  cd\tef"])
    const forms = ["ab  cd\tef", "ab cd ef", "ab\n\n cd ef", "ab%20%20cd%09ef", "ab++cd+ef", "ab\\n\\tcd\\u0020ef"]
    for (const form of forms) {
      expect(spaced(`[${form}]`)).toBe(`[${marker}]`)
    }
  })

  it("non-ASCII - UTF-8 percent escapes, UTF-16 JSON escapes and HTML entities by code point", () => {
    const unicode = cutter(["clé🔑x"], "")
    for (const form of ["clé🔑x", encodeURIComponent("clé🔑x"), "cl\\u00e9\\uD83D\\uDD11x", "cl&#233;&#x1F511;x"]) {
      expect(unicode(`(${form})`)).toBe(`(${marker})`)
    }
  })

  it("backslashes - a run as sent or escaped up to three levels", () => {
    const slashes = cutter(["a\\\\b-key"])
    for (const level of [0, 1, 2, 3]) {
      const escaped = `a${"\\".repeat(2 * 2 ** level)}b-key`
      expect(slashes(`<${escaped}>`)).toBe(`<${marker}>`)
    }
  })

  it("several secrets - the old and the new one are both cut", () => {
    const both = cutter(["old-secret-1", "new-secret-2"])
    expect(both(`old-secret-1 then ${base64("new-secret-2")}`)).toBe(`${marker} then ${marker}`)
  })

  it("keeps what is not the secret", () => {
    expect(cut("Bearer sk_live_Qz7\"K\\9/p+w=Xy42 and sk_live")).toBe("Bearer sk_live_Qz7\"K\\9/p+w=Xy42 and sk_live")
    expect(cut(base64("Bearer "))).toBe(base64("Bearer "))
  })

  it("no secret - the text is returned as it is", () => {
    expect(cutter([])("a \"b\" c")).toBe("a \"b\" c")
    expect(cutter([""])("a \"b\" c")).toBe("a \"b\" c")
  })

  it("a large body of backslashes and whitespace - cut without runaway backtracking", () => {
    const spiky = cutter(["x\\\\  \\\\y"])
    const body = `${"\\".repeat(100_000)}${" ".repeat(100_000)}x\\\\  \\\\y`
    expect(spiky(body).endsWith(marker)).toBe(true)
  })
})
