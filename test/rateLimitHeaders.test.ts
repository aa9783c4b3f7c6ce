import { describe, expect, it } from "@effect/vitest"
import { FastCheck } from "effect"
import {
  hintMillis,
  maxHintMillis,
  parseHttpDate,
  parseRateLimit,
  parseGoDuration,
  parseReset,
  parseRetryAfter,
  parseRfc3339,
  readQuota
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

  describe("counts", () => {
    it("a count past 2^53 - 1 is no count (a double cannot hold it exactly)", () => {
      expect(readQuota({ "x-ratelimit-limit-tokens": "9007199254740992" }, 0)).toEqual({})
      expect(readQuota({ "x-ratelimit-limit-tokens": "9007199254740991" }, 0).units?.limit).toBe(9007199254740991)
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

    it("absolute times (epoch reset, HTTP-date) are measured from the response's Date, not our skewed clock", () => {
      const date = new Date(now).toUTCString()
      const behind = now - 30_000
      expect(hintMillis({ date, "x-ratelimit-reset": String(now / 1000 + 60) }, behind)).toBe(60_000)
      expect(hintMillis({ date, "retry-after": new Date(now + 60_000).toUTCString() }, behind)).toBe(60_000)
      // a Date that cannot be read: our clock
      expect(hintMillis({ date: "yesterday", "x-ratelimit-reset": String(now / 1000 + 60) }, behind)).toBe(90_000)
    })

    it("repeated header values are joined as one list", () => {
      expect(hintMillis({ "ratelimit": ["\"a\";r=0;t=1", "\"b\";r=0;t=4"] }, now)).toBe(4000)
    })

    it("no header, no hint", () => {
      expect(hintMillis({}, now)).toBeUndefined()
    })
  })

  describe("Go durations (OpenAI resets)", () => {
    it.each([
      ["6m0s", 360_000],
      ["1.5s", 1500],
      ["20ms", 20],
      ["1h2m3s", 3_723_000],
      ["2m59.56s", 179_560],
      ["0s", 0],
      ["250us", 1]
    ])("%j -> %d ms", (value, expected) => {
      expect(parseGoDuration(value)).toBe(expected)
    })

    it.each(["", "6", "-1s", "1d", "s", "1.s", "1s2", "25h", "1e3s", "ms"])("%j -> undefined", (value) => {
      expect(parseGoDuration(value)).toBeUndefined()
    })
  })

  describe("RFC 3339 (Anthropic resets)", () => {
    it("UTC, fractions and offsets", () => {
      expect(parseRfc3339("2026-11-23T10:00:30Z")).toBe(now + 30_000)
      expect(parseRfc3339("2026-11-23T10:00:30.250Z")).toBe(now + 30_250)
      expect(parseRfc3339("2026-11-23T11:00:30+01:00")).toBe(now + 30_000)
    })

    it.each(["2026-02-31T10:00:00Z", "2026-11-23T10:00:00", "2026-13-01T00:00:00Z", "23 Nov 2026", "2026-11-23T10:00:00+25:00"])(
      "%j -> undefined",
      (value) => {
        expect(parseRfc3339(value)).toBeUndefined()
      }
    )
  })

  describe("readQuota", () => {
    it("IETF list form: the policy's q/w with the remaining and reset", () => {
      expect(readQuota({ "ratelimit-policy": "\"min\";q=50;w=60", "ratelimit": "\"min\";r=12;t=41" }, now)).toEqual({
        requests: { family: "window", limit: 50, remaining: 12, resetMillis: 41_000, windowMillis: 60_000 }
      })
    })

    it("IETF list form: an exhausted policy binds", () => {
      expect(readQuota({ "ratelimit": "\"a\";r=5;t=1, \"b\";r=0;t=30" }, now).requests).toEqual({
        family: "window",
        remaining: 0,
        resetMillis: 30_000
      })
    })

    it("IETF draft-7 dictionary and draft-6 separate fields", () => {
      expect(readQuota({ "ratelimit": "limit=100, remaining=50, reset=5", "ratelimit-policy": "100;w=60" }, now))
        .toEqual({
          requests: { family: "window", limit: 100, remaining: 50, resetMillis: 5000, windowMillis: 60_000 }
        })
      expect(readQuota({ "ratelimit-limit": "10", "ratelimit-remaining": "1", "ratelimit-reset": "7" }, now)).toEqual({
        requests: { family: "window", limit: 10, remaining: 1, resetMillis: 7000 }
      })
    })

    it("GitHub: an epoch reset is measured from the response's Date, not our clock", () => {
      const serverNow = now - 60_000 // our clock is a minute ahead of the server's
      const headers = {
        "date": new Date(serverNow).toUTCString(),
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "4990",
        "x-ratelimit-reset": String(serverNow / 1000 + 600)
      }
      expect(readQuota(headers, now).requests).toEqual({
        family: "window",
        limit: 5000,
        remaining: 4990,
        resetMillis: 600_000
      })
    })

    it("Discord: reset-after wins over the epoch reset", () => {
      expect(readQuota({ "x-ratelimit-remaining": "0", "x-ratelimit-reset-after": "1.250" }, now).requests).toEqual({
        family: "window",
        remaining: 0,
        resetMillis: 1250
      })
    })

    it("OpenAI: requests and tokens, Go-duration resets, bucket family", () => {
      expect(readQuota({
        "x-ratelimit-limit-requests": "60",
        "x-ratelimit-remaining-requests": "59",
        "x-ratelimit-reset-requests": "1s",
        "x-ratelimit-limit-tokens": "150000",
        "x-ratelimit-remaining-tokens": "149984",
        "x-ratelimit-reset-tokens": "6m0s"
      }, now)).toEqual({
        requests: { family: "bucket", limit: 60, remaining: 59, resetMillis: 1000 },
        units: { family: "bucket", limit: 150_000, remaining: 149_984, resetMillis: 360_000 }
      })
    })

    it("Anthropic: RFC 3339 resets measured from the response's Date", () => {
      expect(readQuota({
        "date": new Date(now).toUTCString(),
        "anthropic-ratelimit-requests-limit": "50",
        "anthropic-ratelimit-requests-remaining": "49",
        "anthropic-ratelimit-requests-reset": "2026-11-23T10:00:02Z",
        "anthropic-ratelimit-tokens-remaining": "79000",
        "anthropic-ratelimit-tokens-reset": "2026-11-23T10:00:01Z"
      }, now + 5000)).toEqual({
        requests: { family: "bucket", limit: 50, remaining: 49, resetMillis: 2000 },
        units: { family: "bucket", remaining: 79_000, resetMillis: 1000 }
      })
    })

    it("sentinels and lies are ignored: -1 limits, remaining above limit", () => {
      expect(readQuota({ "x-ratelimit-limit-tokens": "-1", "x-ratelimit-reset-tokens": "0s" }, now).units).toEqual({
        family: "bucket",
        resetMillis: 0
      })
      expect(readQuota({ "x-ratelimit-limit": "10", "x-ratelimit-remaining": "50" }, now).requests).toEqual({
        family: "window",
        remaining: 50
      })
    })

    it("no quota header, no reading", () => {
      expect(readQuota({ "retry-after": "2", "content-type": "application/json" }, now)).toEqual({})
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

    const quotaNames = [
      "ratelimit",
      "ratelimit-policy",
      "ratelimit-limit",
      "ratelimit-remaining",
      "ratelimit-reset",
      "x-ratelimit-limit",
      "x-ratelimit-remaining",
      "x-ratelimit-reset",
      "x-ratelimit-reset-after",
      "x-ratelimit-remaining-requests",
      "x-ratelimit-reset-requests",
      "x-ratelimit-limit-tokens",
      "x-ratelimit-remaining-tokens",
      "x-ratelimit-reset-tokens",
      "anthropic-ratelimit-requests-remaining",
      "anthropic-ratelimit-requests-reset",
      "anthropic-ratelimit-tokens-reset",
      "date"
    ] as const
    const quotaValue = FastCheck.oneof(
      value,
      FastCheck.string({ unit: FastCheck.constantFrom(..."0123456789.hmsuµ-:TZ+\"pqrtw;=, ".split("")), maxLength: 30 }),
      FastCheck.date({ noInvalidDate: true }).map((d) => d.toISOString())
    )
    const isCount = (n: number | undefined) => n === undefined || (Number.isSafeInteger(n) && n >= 0)
    const isMillis = (n: number | undefined) => n === undefined || (Number.isFinite(n) && n >= 0 && n <= maxHintMillis)

    it.prop(
      "readQuota never throws and gives only non-negative counts and bounded resets",
      [FastCheck.dictionary(FastCheck.constantFrom(...quotaNames), quotaValue), nowArb],
      ([headers, at]) => {
        const quota = readQuota(headers, at)
        return [quota.requests, quota.units].every((r) =>
          r === undefined ||
          (isCount(r.limit) && isCount(r.remaining) && isMillis(r.resetMillis) && isMillis(r.windowMillis) &&
            (r.limit === undefined || r.remaining === undefined || r.remaining <= r.limit))
        )
      },
      { fastCheck: { numRuns: 10_000 } }
    )
  })
})
