// Is it real? The speedrun's rule for a record: a one-sided one-sample t-test that the mean val loss over
// repeated runs is below 3.28 gives p < 0.01. And for timing, Welch's t-test that the attempt's training time
// is below the baseline's (runs interleaved on the same box). The t distribution comes from jstat.
import { jStat } from 'jstat';
import { TARGET_VAL_LOSS } from '../benchmark/types';

/** p below this passes (the speedrun's rule). */
export const PASS_P = 0.01;

export class StatsError extends Error {}

export interface Sample {
  n: number;
  mean: number;
  /** Sample standard deviation (n - 1 in the denominator); NaN for one value. */
  std: number;
}

export interface OneSampleTest extends Sample {
  threshold: number;
  /** (mean - threshold) / (std / sqrt(n)); NaN when every value is the same. */
  t: number;
  df: number;
  /** One-sided: the probability of a t this low if the true mean were the threshold; NaN when the values did not vary. */
  p: number;
  pass: boolean;
  /** Every value is the same (the same seed, or a deterministic box): a t-test says nothing, so no verdict. */
  noSpread: boolean;
}

export interface WelchTest {
  attempt: Sample;
  baseline: Sample;
  /** attempt mean - baseline mean (negative = the attempt is faster). */
  diff: number;
  t: number;
  /** Welch-Satterthwaite degrees of freedom. */
  df: number;
  /** One-sided: the attempt's mean is below the baseline's; NaN when neither side varied. */
  p: number;
  pass: boolean;
  /** Neither side varied: no verdict (see OneSampleTest.noSpread). */
  noSpread: boolean;
}

export function sample(xs: readonly number[]): Sample {
  const n = xs.length;
  // Identical values give exactly 0 (a rounded mean would leave a tiny spread and a huge t).
  if (n > 1 && xs.every((x) => x === xs[0])) return { n, mean: xs[0], std: 0 };
  const mean = xs.reduce((a, b) => a + b, 0) / n;
  const ss = xs.reduce((a, x) => a + (x - mean) ** 2, 0);
  return { n, mean, std: n > 1 ? Math.sqrt(ss / (n - 1)) : NaN };
}

function check(xs: readonly number[], what: string): void {
  if (xs.length < 2) throw new StatsError(`${what}: a t-test needs at least 2 values, got ${xs.length}`);
  const bad = xs.find((x) => !Number.isFinite(x));
  if (bad !== undefined) throw new StatsError(`${what}: ${bad} is not a finite number`);
}

/**
 * Lower-tail p of t with df degrees of freedom. With no spread there is no test: identical runs (a fixed seed, a
 * deterministic box) say nothing about the noise, and a p of 0 would read as certainty.
 */
function lowerTail(diff: number, se: number, df: number): { t: number; p: number; pass: boolean; noSpread: boolean } {
  if (se === 0) return { t: NaN, p: NaN, pass: false, noSpread: true };
  const t = diff / se;
  const p = jStat.studentt.cdf(t, df);
  return { t, p, pass: p < PASS_P, noSpread: false };
}

/** One-sided one-sample t-test that the mean is below `threshold` (default 3.28, the benchmark's gate). */
export function testBelow(xs: readonly number[], threshold = TARGET_VAL_LOSS): OneSampleTest {
  check(xs, 'val losses');
  const s = sample(xs);
  const df = s.n - 1;
  return { ...s, threshold, df, ...lowerTail(s.mean - threshold, s.std / Math.sqrt(s.n), df) };
}

/** Welch's t-test (unequal variances), one-sided: the attempt's mean is below the baseline's. */
export function testFaster(attempt: readonly number[], baseline: readonly number[]): WelchTest {
  check(attempt, 'attempt times');
  check(baseline, 'baseline times');
  const a = sample(attempt);
  const b = sample(baseline);
  const va = a.std ** 2 / a.n;
  const vb = b.std ** 2 / b.n;
  const se = Math.sqrt(va + vb);
  const df = se === 0 ? a.n + b.n - 2 : (va + vb) ** 2 / (va ** 2 / (a.n - 1) + vb ** 2 / (b.n - 1));
  return { attempt: a, baseline: b, diff: a.mean - b.mean, df, ...lowerTail(a.mean - b.mean, se, df) };
}
