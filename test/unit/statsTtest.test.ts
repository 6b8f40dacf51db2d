// t-tests against reference figures. scipy cannot be installed here, so the figures come from two independent
// routes, written into the test:
// - mpmath 1.3.0 at 30 significant digits (already on this machine's python3; written here to 15): the t CDF as the regularized incomplete beta,
//   P(T <= t) = I_{v/(v+t^2)}(v/2, 1/2) / 2 for t < 0, with mean, sample sd, t and Welch's df computed from
//   the same data in exact decimal arithmetic (the script is in this suite's comment at the bottom);
// - printed t tables (one-sided 0.01 critical values, 3 decimals) and the closed forms for 1-4 degrees of freedom.
import * as assert from 'node:assert/strict';
import { jStat } from 'jstat';
import { PASS_P, StatsError, sample, testBelow, testFaster } from '../../src/core/stats/ttest';

const close = (actual: number, expected: number, rel: number, what: string) =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.abs(expected), `${what}: ${actual} vs ${expected}`);

suite('stats: t-tests', () => {
  test('val losses of 5 seeds below 3.28 pass (mpmath reference)', () => {
    const r = testBelow([3.276, 3.2771, 3.2749, 3.2782, 3.2755]);
    assert.equal(r.n, 5);
    assert.equal(r.df, 4);
    assert.equal(r.threshold, 3.28);
    close(r.mean, 3.27634, 1e-12, 'mean');
    close(r.std, 0.00131643457870112, 1e-9, 'sample sd');
    close(r.t, -6.21679871530273, 1e-9, 't');
    close(r.p, 0.00170381369341578, 1e-7, 'p');
    assert.equal(r.pass, true);
  });

  test('10 seeds just above the line: p = 0.0106 does not pass (mpmath reference)', () => {
    const r = testBelow([3.2795, 3.2781, 3.2802, 3.2788, 3.2779, 3.281, 3.2791, 3.2785, 3.2798, 3.2783]);
    close(r.std, 0.000999777753080931, 1e-9, 'sample sd');
    close(r.t, -2.78342294812286, 1e-9, 't');
    close(r.p, 0.0106406838900285, 1e-7, 'p');
    assert.equal(r.pass, false, 'p >= 0.01 fails');
  });

  test('another threshold, and a mean above it gives p > 0.5', () => {
    const r = testBelow([3.2795, 3.2781, 3.2802, 3.2788, 3.2779, 3.281, 3.2791, 3.2785, 3.2798, 3.2783], 3.279);
    assert.ok(r.t > 0 && r.p > 0.5 && !r.pass);
  });

  test("Welch: the attempt is faster than the baseline (mpmath reference, unequal n and variances)", () => {
    const fast = testFaster([289.1, 290.4, 288.7, 291.0, 289.9], [317.2, 318.9, 316.5, 318.1]);
    close(fast.t, -41.5534189595479, 1e-9, 't');
    close(fast.df, 6.17331109823024, 1e-9, 'df');
    close(fast.p, 4.28384041782718e-9, 1e-6, 'p');
    assert.equal(fast.pass, true);
    close(fast.diff, fast.attempt.mean - fast.baseline.mean, 1e-15, 'diff');

    const close6 = testFaster([100.2, 99.1, 101.5, 100.8, 99.7, 100.9], [101.0, 100.4, 102.2, 101.7]);
    close(close6.t, -1.80017424079756, 1e-9, 't');
    close(close6.df, 7.08358983934224, 1e-9, 'df');
    close(close6.p, 0.0571764564467886, 1e-7, 'p');
    assert.equal(close6.pass, false);
  });

  test('jstat t CDF against printed one-sided 0.01 critical values', () => {
    // t_{0.99}(df) from a standard t table (3 decimals): P(T <= -t) = 0.01 up to the rounding.
    const table: [number, number][] = [[1, 31.821], [2, 6.965], [4, 3.747], [5, 3.365], [9, 2.821], [10, 2.764], [19, 2.539], [29, 2.462], [79, 2.374]];
    for (const [df, t] of table) close(jStat.studentt.cdf(-t, df), 0.01, 5e-3, `df ${df}`);
  });

  test('jstat t CDF against the closed forms for 1 to 4 degrees of freedom', () => {
    const forms: Record<number, (t: number) => number> = {
      1: (t) => 0.5 + Math.atan(t) / Math.PI,
      2: (t) => 0.5 + t / (2 * Math.sqrt(2 + t * t)),
      3: (t) => 0.5 + (t / Math.sqrt(3) / (1 + (t * t) / 3) + Math.atan(t / Math.sqrt(3))) / Math.PI,
      4: (t) => 0.5 + ((3 / 8) * t / Math.sqrt(1 + (t * t) / 4)) * (1 - (t * t) / (12 * (1 + (t * t) / 4))),
    };
    for (const [df, f] of Object.entries(forms)) {
      for (const t of [-12, -3.1, -1, -0.25, 0.7, 2.5]) close(jStat.studentt.cdf(t, Number(df)), f(t), 1e-8, `df ${df}, t ${t}`);
    }
  });

  test('identical values: no spread, so no test and no verdict (not p = 0), below or above the line', () => {
    // Ten copies whose float mean is not exactly the value: the spread must still be exactly 0.
    for (const xs of [[3.27, 3.27, 3.27], Array(10).fill(3.2781), [3.29, 3.29]]) {
      const r = testBelow(xs);
      assert.deepEqual([r.noSpread, r.pass, r.std, r.mean], [true, false, 0, xs[0]], String(xs));
      assert.ok(Number.isNaN(r.p) && Number.isNaN(r.t));
    }
    assert.equal(testBelow([3.27, 3.2701]).noSpread, false);
    const same = testFaster([5, 5], [6, 6]);
    assert.ok(same.noSpread && Number.isNaN(same.p) && !same.pass);
    // One side varying is enough for Welch.
    assert.equal(testFaster([5, 5], [6, 6.1]).noSpread, false);
  });

  test('too few or unusable values are refused with a sentence', () => {
    assert.throws(() => testBelow([3.27]), (e: unknown) => e instanceof StatsError && /at least 2 values, got 1/.test((e as Error).message));
    assert.throws(() => testBelow([3.27, NaN]), /NaN is not a finite number/);
    assert.throws(() => testFaster([1, 2], [3]), /baseline times: a t-test needs at least 2 values/);
    assert.ok(Number.isNaN(sample([1]).std));
    assert.equal(PASS_P, 0.01);
  });
});

// The mpmath reference script (python3, mpmath 1.3.0):
//   import mpmath as mp; mp.mp.dps = 30
//   def cdf(t, v):
//       x = v / (v + t * t); tail = mp.mpf('0.5') * mp.betainc(v / 2, mp.mpf('0.5'), 0, x, regularized=True)
//       return tail if t < 0 else 1 - tail
//   one-sample: m = sum(xs)/n, s = sqrt(sum((x-m)^2)/(n-1)), t = (m - thr)/(s/sqrt(n)), p = cdf(t, n-1)
//   Welch: se2 = va/na + vb/nb, t = (ma-mb)/sqrt(se2), df = se2^2/((va/na)^2/(na-1) + (vb/nb)^2/(nb-1)), p = cdf(t, df)
// with every input as mp.mpf('<decimal string>').
