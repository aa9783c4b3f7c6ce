import * as RateLimiter from "@effect/experimental/RateLimiter"
import * as Layer from "effect/Layer"
import type * as RateLimit from "../RateLimit.js"
import { layerGateMemory } from "./rateLimitGate.js"

export const layerStoreMemory: Layer.Layer<RateLimiter.RateLimiterStore> = RateLimiter.layerStoreMemory

export const layerMemory: Layer.Layer<RateLimiter.RateLimiterStore | RateLimit.GateStore> = Layer.merge(
  layerStoreMemory,
  layerGateMemory
)
