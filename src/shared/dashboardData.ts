// Pure data shaping for the dashboard: chart points, smoothing, CSV, table sorting, number formats.
// No DOM and no VS Code here, so unit tests run it on plain Node and the webview bundles it.
import type { RunRow, TrainPoint, ValPointWire } from './protocol';

export type XAxis = 'step' | 'time';
export interface XY { x: number; y: number }

/** x of a point on the chosen axis: the step, or the training clock in seconds (NaN when unknown). */
export function xOf(p: { step: number; trainTimeMs: number | null }, axis: XAxis): number {
  return axis === 'step' ? p.step : p.trainTimeMs === null ? NaN : p.trainTimeMs / 1000;
}

/**
 * Appends chart points for a series, keeping x strictly increasing as chart.js decimation and its binary
 * searches require. Points without a y (nan in the log) are dropped. On the time axis the first steps of
 * records 4+ go backwards (the clock is reset at step 10), so a point whose x does not advance is dropped too.
 * Points with an unknown x are dropped as well. Returns how many points were added.
 */
export function appendXY<P extends { step: number; trainTimeMs: number | null }>(
  out: XY[], points: readonly P[], axis: XAxis, y: (p: P) => number | null | undefined,
): number {
  const before = out.length;
  let last = before ? out[before - 1].x : -Infinity;
  for (const p of points) {
    const v = y(p);
    if (typeof v !== 'number' || !Number.isFinite(v)) continue;
    const x = xOf(p, axis);
    if (!(x > last)) continue;
    out.push({ x, y: v });
    last = x;
  }
  return out.length - before;
}

/**
 * Debiased exponential moving average (the TensorBoard smoothing): s_k = w*s_{k-1} + (1-w)*y_k, divided by
 * (1 - w^k) so the start is not pulled towards zero. Incremental, so live appends cost O(batch).
 */
export class Ema {
  private acc = 0;
  private n = 0;
  constructor(readonly weight: number) {}
  push(y: number): number {
    const w = this.weight;
    if (w <= 0) return y;
    this.acc = w * this.acc + (1 - w) * y;
    this.n++;
    return this.acc / (1 - Math.pow(w, this.n));
  }
}

/** The smoothed copy of a series (same x). */
export function smoothXY(points: readonly XY[], ema: Ema, out: XY[] = []): XY[] {
  for (const p of points) out.push({ x: p.x, y: ema.push(p.y) });
  return out;
}

const csvNum = (v: number | null | undefined) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : '');

/**
 * CSV of a run: one row per printed line, train and validation rows merged in step order (a validation at
 * step s comes after the train row of step s). Empty cells where a value is not printed or was nan.
 */
export function buildCsv(train: readonly TrainPoint[], val: readonly ValPointWire[]): string {
  const rows = ['kind,step,total_steps,train_time_ms,step_avg_ms,train_loss,val_loss'];
  let i = 0;
  let j = 0;
  while (i < train.length || j < val.length) {
    if (j >= val.length || (i < train.length && train[i].step <= val[j].step)) {
      const t = train[i++];
      rows.push(`train,${t.step},${t.totalSteps},${csvNum(t.trainTimeMs)},${csvNum(t.stepAvgMs)},${csvNum(t.trainLoss)},`);
    } else {
      const v = val[j++];
      rows.push(`val,${v.step},${v.totalSteps},${csvNum(v.trainTimeMs)},,,${csvNum(v.valLoss)}`);
    }
  }
  return rows.join('\n') + '\n';
}

export type SortKey = 'createdAt' | 'trainTimeMs' | 'valLoss' | 'valid' | 'fsr' | 'steps' | 'stepAvgMs';
export interface SortSpec { key: SortKey; dir: 'asc' | 'desc' }

/** Sorted copy of the runs table; empty cells always sort last, ties keep the newest run first. */
export function sortRuns(rows: readonly RunRow[], spec: SortSpec): RunRow[] {
  const sign = spec.dir === 'asc' ? 1 : -1;
  const val = (r: RunRow): number | string | null => {
    const v = r[spec.key];
    return typeof v === 'boolean' ? Number(v) : v;
  };
  return [...rows].sort((a, b) => {
    const va = val(a);
    const vb = val(b);
    if (va === null || vb === null) {
      if (va !== vb) return va === null ? 1 : -1;
    } else if (va !== vb) {
      return (va < vb ? -1 : 1) * sign;
    }
    return a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0;
  });
}

/** 125_400 ms -> "2:05.4"; an hour or more -> "1:02:05". */
export function formatDuration(ms: number | null | undefined): string {
  if (typeof ms !== 'number' || !Number.isFinite(ms)) return '–';
  // Round to tenths first so 59.96 s reads 1:00.0, not 0:60.0.
  const tenths = Math.round(Math.abs(ms) / 100);
  const h = Math.floor(tenths / 36000);
  const m = Math.floor(tenths / 600) % 60;
  const t = tenths % 600;
  const text = h > 0
    ? `${h}:${String(m).padStart(2, '0')}:${String(Math.floor(t / 10)).padStart(2, '0')}`
    : `${m}:${String(Math.floor(t / 10)).padStart(2, '0')}.${t % 10}`;
  return ms < 0 && tenths > 0 ? `-${text}` : text;
}

/** A number with fixed digits, or an en dash for "unknown". */
export function formatNum(v: number | null | undefined, digits: number): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '–';
}

/**
 * Upper y bound that ignores outliers: the loss at step 0 is ~10.8 (ln of the vocabulary size) and would
 * flatten the part that matters near 3.28. Values in the first `skip` share of the x range (where every loss
 * curve falls steeply, and where records 1-3 count the compile in the first step) are left out, the top
 * (1 - q) of the rest is treated as spikes, and a margin is added. Quantiles come from an evenly strided
 * sample so this stays cheap at 100,000 points. Undefined when too few values are left to judge.
 */
export function robustUpper(series: readonly (readonly XY[])[], q = 0.98, skip = 0.05, maxSamples = 4000): number | undefined {
  let x0 = Infinity;
  let x1 = -Infinity;
  let total = 0;
  for (const s of series) {
    if (!s.length) continue;
    x0 = Math.min(x0, s[0].x);
    x1 = Math.max(x1, s[s.length - 1].x);
    total += s.length;
  }
  const cutoff = x0 + skip * (x1 - x0);
  const stride = Math.max(1, Math.ceil(total / maxSamples));
  const ys: number[] = [];
  for (const s of series) for (let i = 0; i < s.length; i += stride) if (s[i].x >= cutoff) ys.push(s[i].y);
  if (ys.length < 3) return undefined;
  ys.sort((a, b) => a - b);
  const hi = ys[Math.ceil(q * (ys.length - 1))];
  const lo = ys[0];
  return niceCeil(hi + Math.max((hi - lo) * 0.08, Math.abs(hi) * 1e-3), hi - lo);
}

/** Round up to half a power of ten of the range, so the top of the axis lands on a tick (6.0, not 5.93). */
export function niceCeil(v: number, range: number): number {
  if (!(range > 0)) return v;
  const step = Math.pow(10, Math.floor(Math.log10(range))) / 2;
  return Math.ceil(v / step - 1e-9) * step;
}

/**
 * Incremental min-max downsampling of a growing, x-sorted series, so a chart of 100,000 points redraws from
 * about 2 * maxBuckets points and an append costs O(batch) instead of a pass over the whole series (what
 * chart.js decimation would do on every update). Consecutive source points are grouped in buckets of `size`;
 * each full bucket contributes its lowest and highest point in x order. When the buckets outgrow maxBuckets the
 * bucket size doubles and `out` is rebuilt, which happens O(log n) times over a run.
 */
export class MinMaxLod {
  /** The points to draw (same objects as in the source). */
  readonly out: XY[] = [];
  private size = 1;
  /** Source points already folded into `out` as full buckets. */
  private done = 0;
  /** `out` entries that belong to the unfinished last bucket (rewritten on each sync). */
  private partial = 0;

  constructor(private readonly src: readonly XY[], private readonly maxBuckets = 1000) {}

  get bucketSize(): number {
    return this.size;
  }

  /** Starts over (after the source array was cleared and refilled). */
  reset(): void {
    this.size = 1;
    this.rebuild();
  }

  /** Folds in the points appended to the source since the last call. */
  sync(): void {
    if (this.src.length < this.done) return this.reset();
    if (Math.ceil(this.src.length / this.size) > this.maxBuckets) {
      while (Math.ceil(this.src.length / this.size) > this.maxBuckets) this.size *= 2;
      return this.rebuild();
    }
    this.out.length -= this.partial;
    this.partial = 0;
    const n = this.src.length;
    while (this.done < n) {
      const end = Math.min(this.done + this.size, n);
      const added = this.bucket(this.done, end);
      if (end - this.done < this.size) {
        this.partial = added;
        break;
      }
      this.done = end;
    }
  }

  private rebuild(): void {
    this.out.length = 0;
    this.done = 0;
    this.partial = 0;
    this.sync();
  }

  /** Appends bucket [from, to) to `out`; returns how many points it added. */
  private bucket(from: number, to: number): number {
    const s = this.src;
    let lo = from;
    let hi = from;
    for (let i = from + 1; i < to; i++) {
      if (s[i].y < s[lo].y) lo = i;
      if (s[i].y > s[hi].y) hi = i;
    }
    if (lo === hi) {
      this.out.push(s[lo]);
      return 1;
    }
    this.out.push(s[Math.min(lo, hi)], s[Math.max(lo, hi)]);
    return 2;
  }
}
