/**
 * The last `size` latencies, kept twice: in arrival order (a ring, to know which one leaves) and
 * sorted (so a percentile is one index). Recording costs two binary searches and two array shifts of
 * at most `size` numbers; reading a percentile costs nothing, so every call can read the current one.
 *
 * Mutated only inside `Effect.sync`, so each operation is atomic with respect to other fibers.
 */
export class LatencyWindow {
  private readonly ring: Float64Array
  private readonly sorted: Array<number> = []
  private next = 0

  constructor(readonly size: number) {
    this.ring = new Float64Array(size)
  }

  get count(): number {
    return this.sorted.length
  }

  record(millis: number): void {
    if (this.sorted.length === this.size) this.sorted.splice(this.search(this.ring[this.next]!), 1)
    this.ring[this.next] = millis
    this.next = (this.next + 1) % this.size
    this.sorted.splice(this.search(millis), 0, millis)
  }

  /** The nearest-rank percentile (`p` in (0, 1)), or undefined with no samples. */
  percentile(p: number): number | undefined {
    if (this.sorted.length === 0) return undefined
    return this.sorted[Math.max(0, Math.ceil(p * this.sorted.length) - 1)]
  }

  /** The first index whose value is >= `millis`. */
  private search(millis: number): number {
    let low = 0
    let high = this.sorted.length
    while (low < high) {
      const mid = (low + high) >>> 1
      if (this.sorted[mid]! < millis) low = mid + 1
      else high = mid
    }
    return low
  }
}
