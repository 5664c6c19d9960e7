// Sliding windows over time: latency histograms in one-minute slices (HDR), and per-second counters for throughput.
import { createRequire } from 'node:module';
import type * as Hdr from 'hdr-histogram-js';

// Loaded with the first histogram (a model's first inference): ~45 modules and ~20 ms an idle server's start need not pay.
let hdr: typeof Hdr | undefined;
const loadHdr = (): typeof Hdr => {
  hdr ??= createRequire(import.meta.url)('hdr-histogram-js') as typeof Hdr;
  return hdr;
};

/** Latencies are recorded in microseconds, 1 µs to 1 h, with 3 significant digits (0.1% relative error). */
export const HISTOGRAM_RELATIVE_ERROR = 0.001;
const newHistogram = () =>
  loadHdr().build({ lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: 3 });

export class LatencyWindow {
  private readonly slices: Array<{ minute: number; histogram: Hdr.Histogram }> = [];

  constructor(private readonly windowMinutes = 5) {}

  record(latencyMs: number, at: number): void {
    const minute = Math.floor(at / 60_000);
    let slice = this.slices.at(-1);
    if (!slice || slice.minute !== minute) {
      slice = { minute, histogram: newHistogram() };
      this.slices.push(slice);
    }
    slice.histogram.recordValue(Math.max(1, Math.round(latencyMs * 1000)));
    this.prune(at);
  }

  private prune(now: number): void {
    const oldest = Math.floor(now / 60_000) - this.windowMinutes + 1;
    for (let first = this.slices[0]; first && first.minute < oldest; first = this.slices[0]) {
      this.slices.shift();
      first.histogram.destroy();
    }
  }

  /** Count and percentiles (ms) over the window ending now. */
  summary(now: number): { count: number; p50: number | null; p95: number | null; p99: number | null; mean: number | null } {
    this.prune(now);
    if (this.slices.length === 0) return { count: 0, p50: null, p95: null, p99: null, mean: null };
    const merged = newHistogram();
    for (const slice of this.slices) merged.add(slice.histogram);
    const count = merged.totalCount;
    const ms = (us: number) => Math.round(us) / 1000;
    const result =
      count === 0
        ? { count: 0, p50: null, p95: null, p99: null, mean: null }
        : {
            count,
            p50: ms(merged.getValueAtPercentile(50)),
            p95: ms(merged.getValueAtPercentile(95)),
            p99: ms(merged.getValueAtPercentile(99)),
            mean: ms(merged.mean),
          };
    merged.destroy();
    return result;
  }
}

/** Events per second over the last `seconds` seconds, in one-second buckets. */
export class RateWindow {
  private readonly buckets = new Map<number, number>();

  constructor(private readonly seconds = 60) {}

  add(at: number, amount = 1): void {
    const second = Math.floor(at / 1000);
    this.buckets.set(second, (this.buckets.get(second) ?? 0) + amount);
    if (this.buckets.size > this.seconds * 2) this.prune(at);
  }

  private prune(now: number): void {
    const oldest = Math.floor(now / 1000) - this.seconds + 1;
    for (const second of this.buckets.keys()) if (second < oldest) this.buckets.delete(second);
  }

  /** Total over the window, and per second. */
  rate(now: number): { total: number; perSecond: number } {
    this.prune(now);
    let total = 0;
    for (const value of this.buckets.values()) total += value;
    return { total, perSecond: Math.round((total / this.seconds) * 1000) / 1000 };
  }
}
