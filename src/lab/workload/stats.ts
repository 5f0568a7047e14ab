// Pure statistics of the workload report: percentiles, the largest gap between successes, and the timeline buckets.
// Kept free of sockets and clocks so the definitions the report relies on are unit-tested on tables.

/**
 * Nearest-rank percentile of `values` (any order; not modified): the smallest value such that at least p% of
 * the values are <= it. p in [0, 100]. Empty input gives 0 (the report carries the count next to it).
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return percentileSorted(sorted, p);
}

/** percentile() on an already ascending-sorted array. */
export function percentileSorted(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const q = Math.min(100, Math.max(0, p));
  const rank = Math.ceil((q / 100) * sorted.length);
  return sorted[Math.max(0, rank - 1)]!;
}

/**
 * The largest interval without a success, for one stream of successes at `times` (ms, any order) observed
 * from `start` to `stop`: max over consecutive differences of [start, ...sorted times, end] where
 * end = max(stop, last time). So an outage that is still going on at stop counts up to stop, a success that
 * arrives while draining after stop closes the gap at its real time, and a stream with no success at all has
 * a gap of stop - start. Times before `start` are clamped to it.
 */
export function maxGap(times: readonly number[], start: number, stop: number): number {
  const sorted = times.map((t) => Math.max(t, start)).sort((a, b) => a - b);
  let prev = start;
  let gap = 0;
  for (const t of sorted) {
    gap = Math.max(gap, t - prev);
    prev = t;
  }
  return Math.max(gap, Math.max(stop, prev) - prev);
}

/** Running version of maxGap for successes that arrive in time order (one P slot): O(1) memory. */
export class GapTracker {
  private last: number;
  private gap = 0;
  constructor(start: number) { this.last = start; }
  /** Records a success at time t (ms). Out-of-order times only count forward. */
  hit(t: number): void {
    if (t <= this.last) return;
    this.gap = Math.max(this.gap, t - this.last);
    this.last = t;
  }
  /** The largest gap including the open interval from the last success to `stop` (if stop is later). */
  result(stop: number): number { return Math.max(this.gap, stop - this.last); }
  get lastHit(): number { return this.last; }
}

export interface LatencySummary { count: number; p50: number; p99: number; max: number }

export function summarizeLatencies(values: readonly number[]): LatencySummary {
  if (values.length === 0) return { count: 0, p50: 0, p99: 0, max: 0 };
  const sorted = [...values].sort((a, b) => a - b);
  return { count: sorted.length, p50: round2(percentileSorted(sorted, 50)), p99: round2(percentileSorted(sorted, 99)), max: round2(sorted[sorted.length - 1]!) };
}

export const round2 = (x: number): number => Math.round(x * 100) / 100;

/** Compact, columnar timeline: bucket i covers [i*bucket_ms, (i+1)*bucket_ms) of request send time. */
export interface TimelineReport {
  bucket_ms: number;
  /** requests of all kinds sent in the bucket that got a reply (late ones included) */
  ok: number[];
  /** requests of all kinds sent in the bucket that failed */
  failed: number[];
  /** largest latency among the bucket's successful P requests (0 when none) */
  p_max_latency_ms: number[];
}

/** Accumulates per-bucket counts keyed by request send time. */
export class Timeline {
  private readonly ok: number[] = [];
  private readonly failed: number[] = [];
  private readonly pMax: number[] = [];
  constructor(readonly bucketMs: number) {
    if (!(bucketMs > 0)) throw new RangeError('bucketMs must be > 0');
  }
  private idx(sentAt: number): number {
    const i = Math.max(0, Math.floor(sentAt / this.bucketMs));
    while (this.ok.length <= i) { this.ok.push(0); this.failed.push(0); this.pMax.push(0); }
    return i;
  }
  addOk(sentAt: number, latencyMs: number, isP: boolean): void {
    const i = this.idx(sentAt);
    this.ok[i]!++;
    if (isP && latencyMs > this.pMax[i]!) this.pMax[i] = latencyMs;
  }
  addFailed(sentAt: number): void {
    this.failed[this.idx(sentAt)]!++;
  }
  /** All buckets from time 0 to the last bucket that saw a request, latencies rounded to 0.01 ms. */
  report(): TimelineReport {
    return { bucket_ms: this.bucketMs, ok: [...this.ok], failed: [...this.failed], p_max_latency_ms: this.pMax.map(round2) };
  }
}
