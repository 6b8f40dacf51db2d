import * as assert from 'node:assert/strict';
import {
  appendXY, buildCsv, Ema, formatDuration, formatNum, MinMaxLod, niceCeil, robustUpper, smoothXY, sortRuns, type XY,
} from '../../src/shared/dashboardData';
import type { RunRow, TrainPoint, ValPointWire } from '../../src/shared/protocol';

const tp = (step: number, trainTimeMs: number, trainLoss?: number | null, stepAvgMs: number | null = 10): TrainPoint =>
  ({ step, totalSteps: 100, trainTimeMs, stepAvgMs, ...(trainLoss === undefined ? {} : { trainLoss }) });

suite('dashboard: chart points', () => {
  test('x is the step or the training clock in seconds; points without a y are skipped', () => {
    const out: XY[] = [];
    const n = appendXY(out, [tp(1, 1000, 10), tp(2, 2000, null), tp(3, 3000, 9)], 'step', (p) => p.trainLoss);
    assert.equal(n, 2);
    assert.deepEqual(out, [{ x: 1, y: 10 }, { x: 3, y: 9 }]);
    const t: XY[] = [];
    appendXY(t, [tp(1, 1500, 10), tp(2, 2500, 9)], 'time', (p) => p.trainLoss);
    assert.deepEqual(t, [{ x: 1.5, y: 10 }, { x: 2.5, y: 9 }]);
  });

  test('x stays strictly increasing: the clock restart after step 10 and repeated steps are dropped', () => {
    // Records 4+: steps 1-10 carry compile time, then the clock restarts from ~0.
    const pts = [tp(9, 90_000, 5), tp(10, 91_000, 5), tp(11, 50, 5), tp(12, 100, 5), tp(13, 150, 5)];
    const t: XY[] = [];
    appendXY(t, pts, 'time', (p) => p.trainLoss);
    assert.deepEqual(t.map((p) => p.x), [90, 91]);
    const s: XY[] = [];
    appendXY(s, pts, 'step', (p) => p.trainLoss);
    appendXY(s, [tp(13, 150, 5), tp(14, 200, 4)], 'step', (p) => p.trainLoss);
    assert.deepEqual(s.map((p) => p.x), [9, 10, 11, 12, 13, 14]);
  });

  test('a point with an unknown training time is skipped on the time axis only', () => {
    const v: ValPointWire[] = [{ step: 0, totalSteps: 9, trainTimeMs: null, valLoss: 10 }, { step: 9, totalSteps: 9, trainTimeMs: 900, valLoss: 3.2 }];
    const t: XY[] = [];
    appendXY(t, v, 'time', (p) => p.valLoss);
    assert.deepEqual(t, [{ x: 0.9, y: 3.2 }]);
    const s: XY[] = [];
    appendXY(s, v, 'step', (p) => p.valLoss);
    assert.equal(s.length, 2);
  });
});

suite('dashboard: EMA smoothing', () => {
  test('debiased: the first value is kept, a constant stays constant', () => {
    const e = new Ema(0.9);
    assert.equal(e.push(5), 5);
    for (let i = 0; i < 20; i++) assert.ok(Math.abs(e.push(5) - 5) < 1e-12);
  });

  test('matches the formula and weight 0 is the raw series', () => {
    const ys = [4, 2, 6, 3];
    const w = 0.6;
    const e = new Ema(w);
    let acc = 0;
    ys.forEach((y, i) => {
      acc = w * acc + (1 - w) * y;
      assert.ok(Math.abs(e.push(y) - acc / (1 - w ** (i + 1))) < 1e-12);
    });
    const raw = new Ema(0);
    assert.deepEqual(ys.map((y) => raw.push(y)), ys);
  });

  test('incremental smoothing of appended batches equals smoothing the whole series', () => {
    const pts: XY[] = Array.from({ length: 50 }, (_, i) => ({ x: i, y: Math.sin(i) + i / 10 }));
    const whole = smoothXY(pts, new Ema(0.8));
    const e = new Ema(0.8);
    const parts: XY[] = [];
    smoothXY(pts.slice(0, 17), e, parts);
    smoothXY(pts.slice(17), e, parts);
    assert.deepEqual(parts, whole);
    assert.ok(whole[49].y !== pts[49].y);
  });
});

suite('dashboard: CSV', () => {
  test('train and val rows merged in step order, empty cells for nan or absent values', () => {
    const csv = buildCsv(
      [tp(1, 100, 10.5, null), tp(2, 200, undefined, 100), tp(3, 300, NaN, 100)],
      [{ step: 0, totalSteps: 100, trainTimeMs: 0, valLoss: 10.9 }, { step: 2, totalSteps: 100, trainTimeMs: 200, valLoss: null }],
    );
    assert.equal(csv, [
      'kind,step,total_steps,train_time_ms,step_avg_ms,train_loss,val_loss',
      'val,0,100,0,,,10.9',
      'train,1,100,100,,10.5,',
      'train,2,100,200,100,,',
      'val,2,100,200,,,',
      'train,3,100,300,100,,',
      '',
    ].join('\n'));
  });

  test('an empty run is just the header', () => {
    assert.equal(buildCsv([], []).trim().split('\n').length, 1);
  });
});

suite('dashboard: runs table and number formats', () => {
  const row = (runId: string, createdAt: string, trainTimeMs: number | null, valid: boolean | null): RunRow =>
    ({ runId, state: 'finished', createdAt, target: 't', trainTimeMs, valLoss: null, valid, fsr: null, steps: null, stepAvgMs: null });
  const rows = [row('a', '1', 300, true), row('b', '2', null, null), row('c', '3', 100, false), row('d', '4', 300, true)];

  test('sorts either way, empty cells last, ties newest first', () => {
    assert.deepEqual(sortRuns(rows, { key: 'trainTimeMs', dir: 'asc' }).map((r) => r.runId), ['c', 'd', 'a', 'b']);
    assert.deepEqual(sortRuns(rows, { key: 'trainTimeMs', dir: 'desc' }).map((r) => r.runId), ['d', 'a', 'c', 'b']);
    assert.deepEqual(sortRuns(rows, { key: 'valid', dir: 'desc' }).map((r) => r.runId), ['d', 'a', 'c', 'b']);
    assert.deepEqual(sortRuns(rows, { key: 'createdAt', dir: 'desc' }).map((r) => r.runId), ['d', 'c', 'b', 'a']);
    assert.deepEqual(rows.map((r) => r.runId), ['a', 'b', 'c', 'd'], 'input untouched');
  });

  test('durations round to tenths without 60-second minutes', () => {
    assert.equal(formatDuration(125_400), '2:05.4');
    assert.equal(formatDuration(59_960), '1:00.0');
    assert.equal(formatDuration(3_725_000), '1:02:05');
    assert.equal(formatDuration(-1_500), '-0:01.5');
    assert.equal(formatDuration(null), '–');
    assert.equal(formatDuration(NaN), '–');
    assert.equal(formatNum(3.27849, 4), '3.2785');
    assert.equal(formatNum(undefined, 2), '–');
  });
});

suite('dashboard: y range without outliers', () => {
  test('the top of the axis ignores the step-0 loss and lands on a round value', () => {
    const val: XY[] = [10.8, 5.7, 4.2, 3.8, 3.6, 3.5, 3.45, 3.4, 3.37, 3.35, 3.33, 3.31, 3.3].map((y, i) => ({ x: i * 125, y }));
    const top = robustUpper([val])!;
    assert.ok(top >= 5.7 && top < 10.8, String(top));
    assert.ok(Math.abs(top * 2 - Math.round(top * 2)) < 1e-9, `${top} is a multiple of 0.5`);
    assert.equal(robustUpper([val.slice(0, 3)]), undefined, 'too few points to judge');
    // Early in a run: three validations of our own plus the reference record's whole curve.
    const reference = val.map((p) => ({ x: p.x * 1.2, y: p.y - 0.01 }));
    const early = robustUpper([val.slice(0, 3), reference])!;
    assert.ok(early < 7, `the step-0 losses of both curves are left out (${early})`);
  });

  test('stays cheap and sensible on 100,000 points', () => {
    const big: XY[] = Array.from({ length: 100_000 }, (_, i) => ({ x: i, y: i < 100 ? 11 : 3.3 + (i % 7) / 100 }));
    const top = robustUpper([big])!;
    assert.ok(top > 3.36 && top < 4, String(top));
    assert.equal(niceCeil(5.93, 2.9), 6);
    assert.equal(niceCeil(63.2, 23), 65);
    assert.equal(niceCeil(7, 0), 7);
  });
});

suite('dashboard: incremental min-max downsampling', () => {
  const series = (n: number, from = 0): XY[] => Array.from({ length: n }, (_, k) => {
    const i = from + k;
    return { x: i, y: 3.3 + Math.sin(i / 7) + (i === 77_777 ? 5 : 0) - (i === 12_345 ? 2 : 0) };
  });

  test('a short series is drawn as it is', () => {
    const src = series(500);
    const lod = new MinMaxLod(src, 1000);
    lod.sync();
    assert.equal(lod.bucketSize, 1);
    assert.deepEqual(lod.out, src);
  });

  test('100,000 points become at most 2 per bucket, keeping spikes and x order', () => {
    const src = series(100_000);
    const lod = new MinMaxLod(src, 1000);
    lod.sync();
    assert.ok(lod.out.length <= 2000, String(lod.out.length));
    assert.equal(lod.bucketSize, 128);
    assert.ok(lod.out.some((p) => p.x === 77_777), 'the high spike survives');
    assert.ok(lod.out.some((p) => p.x === 12_345), 'the low spike survives');
    for (let i = 1; i < lod.out.length; i++) assert.ok(lod.out[i].x > lod.out[i - 1].x);
  });

  test('appending in batches gives the same result as one pass', () => {
    const src: XY[] = [];
    const lod = new MinMaxLod(src, 300);
    for (let from = 0; from < 20_000; from += 777) {
      src.push(...series(Math.min(777, 20_000 - from), from));
      lod.sync();
    }
    const once = new MinMaxLod(series(20_000), 300);
    once.sync();
    assert.deepEqual(lod.out, once.out);
    assert.equal(lod.bucketSize, once.bucketSize);
    src.length = 10;
    lod.sync();
    assert.equal(lod.out.length, 10, 'a cleared and refilled source starts over');
  });
});
