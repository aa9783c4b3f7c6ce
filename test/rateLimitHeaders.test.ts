import { describe, expect, it } from "@effect/vitest"
import { FastCheck } from "effect"
import {
  hintMillis,
  maxHintMillis,
  parseHttpDate,
  parseRateLimit,
  parseReset,
  parseRetryAfter
} from "../src/internal/rateLimitHeaders.js"

// 2026-11-23T10:00:00Z
const now = Date.UTC(2026, 10, 23, 10, 0, 0)

describe("rateLimitHeaders", () => {
  describe("Retry-After delta-seconds", () => {
    it.each([
      ["0", 0],
      ["1", 1000],
      ["120", 120_000],
      [" 7 ", 7000],
      ["1.5", 1500],
      ["0.25", 250],
      ["0.0001", 1],
      ["86400", maxHintMillis]
    ])("%j -> %d ms", (value, expected) => {
      expect(parseRetryAfter(value, now)).toBe(expected)
    })

    it.each([
      ..."-1|-0.5|1e3|Infinity|NaN|abc|1.|.5|1,5|0x10|86401|99999999999".split("|"),
      "",
      " "
    ])(
      "%j -> no hint",
      (value) => {
        expect(parseRetryAfter(value, now)).toBeUndefined()
      }
    )
  })

  describe("Retry-After HTTP-date", () => {
    it("IMF-fixdate, relative to the clock", () => {
      expect(parseRetryAfter("Mon, 23 Nov 2026 10:00:30 GMT", now)).toBe(30_000)
    })

    it("RFC 850 with a two-digit year", () => {
      expect(parseRetryAfter("Monday, 23-Nov-26 10:01:00 GMT", now)).toBe(60_000)
    })

    it("RFC 850 - a year more than 50 years ahead is read as the past century", () => {
      expect(parseHttpDate("Sunday, 06-Nov-94 08:49:37 GMT", now)).toBe(Date.UTC(1994, 10, 6, 8, 49, 37))
      expect(parseHttpDate("Sunday, 06-Nov-76 08:49:37 GMT", now)).toBe(Date.UTC(2076, 10, 6, 8, 49, 37))
      expect(parseHttpDate("Sunday, 06-Nov-77 08:49:37 GMT", now)).toBe(Date.UTC(1977, 10, 6, 8, 49, 37))
    })

    it("asctime, with a space-padded day", () => {
      expect(parseHttpDate("Sun Nov  6 08:49:37 1994", now)).toBe(Date.UTC(1994, 10, 6, 8, 49, 37))
      expect(parseRetryAfter("Mon Nov 23 10:00:02 2026", now)).toBe(2000)
    })

    it("a date in the past means retry now", () => {
      expect(parseRetryAfter("Sun, 06 Nov 1994 08:49:37 GMT", now)).toBe(0)
    })

    it("a date more than a day ahead is no hint", () => {
      expect(parseRetryAfter("Wed, 25 Nov 2026 10:00:00 GMT", now)).toBeUndefined()
    })

    it.each([
      "Mon, 31 Feb 2026 10:00:00 GMT",
      "Mon, 23 Nov 2026 25:00:00 GMT",
      "Mon, 23 Nov 2026 10:00:00 UTC",
      "Xyz, 23 Nov 2026 10:00:00 GMT",
      "Mon, 23 Foo 2026 10:00:00 GMT",
      "Mon, 23 Nov 2026",
      "2026-11-23T10:00:30Z",
      "Mon, 23 Nov 2026 10:00:30 GMT trailing"
    ])("%j -> no hint", (value) => {
      expect(parseRetryAfter(value, now)).toBeUndefined()
    })
  })

  describe("RateLimit-Reset / X-RateLimit-Reset", () => {
    it("delta seconds", () => {
      expect(parseReset("5", now)).toBe(5000)
    })

    it("epoch seconds", () => {
      expect(parseReset(String(now / 1000 + 42), now)).toBe(42_000)
    })

    it("epoch milliseconds", () => {
      expect(parseReset(String(now + 1234), now)).toBe(1234)
    })

    it("an epoch in the past means retry now", () => {
      expect(parseReset(String(now / 1000 - 10), now)).toBe(0)
    })

    it.each(["-5", "soon", "", "1e9", String(now / 1000 + 10 * 86400), "500000000"])("%j -> no hint", (value) => {
      expect(parseReset(value, now)).toBeUndefined()
    })
  })

  describe("IETF RateLimit", () => {
    it.each([
      ["limit=10, remaining=0, reset=5", 5000],
      ["limit=100, reset=7", 7000],
      ["\"default\";r=0;t=5", 5000],
      ["\"default\";q=100;r=0;t=30", 30_000],
      ["\"burst\";r=0;t=2, \"daily\";r=0;t=60", 60_000],
      ["\"burst\";r=3;t=2, \"daily\";r=0;t=60", 60_000],
      ["\"default\";t=9", 9000],
      ["\"a,b\";r=0;t=4", 4000]
    ])("%j -> %d ms", (value, expected) => {
      expect(parseRateLimit(value)).toBe(expected)
    })

    it.each([
      "limit=10, remaining=3, reset=5",
      "\"default\";r=5;t=10",
      "limit=10, remaining=0, reset=-1",
      "limit=10, remaining=0, reset=999999999",
      "\"default\";r=0;t=abc",
      "",
      "garbage"
    ])("%j -> no hint", (value) => {
      expect(parseRateLimit(value)).toBeUndefined()
    })
  })

  describe("hintMillis", () => {
    it("Retry-After wins over the rate-limit headers", () => {
      expect(hintMillis({ "retry-after": "2", "ratelimit": "\"p\";r=0;t=9", "x-ratelimit-reset": "20" }, now)).toBe(
        2000
      )
    })

    it("a garbage Retry-After falls through to RateLimit, then RateLimit-Reset, then X-RateLimit-Reset", () => {
      expect(hintMillis({ "retry-after": "later", "ratelimit": "\"p\";r=0;t=9" }, now)).toBe(9000)
      expect(hintMillis({ "retry-after": "later", "ratelimit-reset": "3", "x-ratelimit-reset": "20" }, now)).toBe(3000)
      expect(hintMillis({ "x-ratelimit-reset": "20" }, now)).toBe(20_000)
    })

    it("repeated header values are joined as one list", () => {
      expect(hintMillis({ "ratelimit": ["\"a\";r=0;t=1", "\"b\";r=0;t=4"] }, now)).toBe(4000)
    })

    it("no header, no hint", () => {
      expect(hintMillis({}, now)).toBeUndefined()
    })
  })

  describe("property", () => {
    const names = ["retry-after", "ratelimit", "ratelimit-reset", "x-ratelimit-reset"] as const
    const alphabet = FastCheck.constantFrom(..."0123456789.-,;=\" :abcdefrtGMTNovSunMon\t".split(""))
    const value = FastCheck.oneof(
      FastCheck.string(),
      FastCheck.string({ unit: alphabet, maxLength: 40 }),
      FastCheck.double().map(String),
      FastCheck.integer().map(String),
      FastCheck.date({ noInvalidDate: true }).map((d) => d.toUTCString())
    )
    const nowArb = FastCheck.integer({ min: 0, max: 4_102_444_800_000 })

    it.prop(
      "any header value gives no hint or a bounded, finite, non-negative integer",
      [FastCheck.constantFrom(...names), value, nowArb],
      ([name, v, at]) => {
        const hint = hintMillis({ [name]: v }, at)
        return hint === undefined ||
          (Number.isInteger(hint) && Number.isFinite(hint) && hint >= 0 && hint <= maxHintMillis)
      },
      { fastCheck: { numRuns: 10_000 } }
    )
  })
})
