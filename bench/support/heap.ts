/** Heap readings for the memory scripts: run them with `node --expose-gc --import tsx <script>`. */
const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) {
  console.error(`run with: node --expose-gc --import tsx ${process.argv[1] ?? "<script>"}`)
  process.exit(1)
}

/** Heap in use after full collections, so garbage does not count. */
export const heap = (): number => {
  for (let i = 0; i < 3; i++) gc()
  return process.memoryUsage().heapUsed
}

export const kb = (bytes: number): string => `${(bytes / 1024).toFixed(1)} KB`.padStart(10)
export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`.padStart(10)
