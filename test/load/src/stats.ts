/** Latency summary of one stage, in milliseconds. */
export interface Summary {
  count: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentiles (no interpolation: every figure is a latency that was actually observed). */
export function summarize(values: readonly number[]): Summary | null {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
  let sum = 0;
  for (const v of sorted) sum += v;
  return { count: sorted.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: sorted[sorted.length - 1]!, mean: sum / sorted.length };
}

/** Events per whole second (epoch ms timestamps) → the highest one-second count. */
export function peakPerSecond(timestamps: readonly number[]): number {
  const buckets = new Map<number, number>();
  let peak = 0;
  for (const t of timestamps) {
    const s = Math.floor(t / 1000);
    const n = (buckets.get(s) ?? 0) + 1;
    buckets.set(s, n);
    if (n > peak) peak = n;
  }
  return peak;
}

/** Count divided by the span from the first to the last timestamp (per second); 0 for fewer than two. */
export function sustainedRate(timestamps: readonly number[], from?: number): number {
  if (timestamps.length < 2) return 0;
  let min = Infinity;
  let max = -Infinity;
  for (const t of timestamps) {
    if (t < min) min = t;
    if (t > max) max = t;
  }
  const start = from ?? min;
  const span = (max - start) / 1000;
  return span > 0 ? timestamps.length / span : 0;
}
