import * as assert from 'node:assert/strict';
import { ANALYSIS_VAL_LOSS, fsrForRun, fsrForTask } from '../../src/core/benchmark/fsr';

// Task 20: record 20 -> record 21 (train_time means from the benchmark's results.json, docs/benchmark.md section 1).
const TASK20 = { baselineMs: 188_680, targetMs: 184_262 };
const TOY = { baselineMs: 1_000, targetMs: 800 };

suite('logs: FSR', () => {
  test('a run: (t_i - t) / (t_i - t_{i+1}) and the speedup over record i', () => {
    const r = fsrForRun(186_000, 3.27, TASK20);
    assert.ok(Math.abs(r.fsr - (188_680 - 186_000) / 4_418) < 1e-12);
    assert.ok(Math.abs(r.speedup - 188_680 / 186_000) < 1e-12);
    assert.deepEqual([r.valid, r.beatsTarget], [true, false]);
    assert.equal(fsrForRun(800, 3.2, TOY).beatsTarget, true);
    assert.equal(fsrForRun(800, 3.2, TOY).fsr, 1);
  });

  test('a run slower than record i keeps its negative FSR; validity is val_loss <= 3.28', () => {
    assert.equal(fsrForRun(1_100, 3.2, TOY).fsr, -0.5);
    assert.equal(fsrForRun(900, 3.28, TOY).valid, true);
    assert.equal(fsrForRun(900, 3.2801, TOY).valid, false);
    assert.equal(fsrForRun(900, null, TOY).valid, false);
    assert.equal(fsrForRun(900, NaN, TOY).valid, false);
    assert.equal(fsrForRun(800, 3.3, TOY).beatsTarget, false);
  });

  test('a run without a usable time has NaN FSR', () => {
    assert.ok(Number.isNaN(fsrForRun(NaN, 3.2, TOY).fsr));
    assert.ok(Number.isNaN(fsrForRun(0, 3.2, TOY).fsr));
    assert.ok(Number.isNaN(fsrForRun(900, 3.2, { baselineMs: 1_000, targetMs: 1_000 }).fsr));
  });

  test('a task, as the analysis code scores it: min over nodes incl. the root, gate 3.29, clamp to [0, 3]', () => {
    assert.equal(ANALYSIS_VAL_LOSS, 3.29);
    // Nothing faster than the root: 0, never negative.
    assert.equal(fsrForTask([{ trainTimeMs: 1_200, valLoss: 3.2 }], TOY), 0);
    assert.equal(fsrForTask([], TOY), 0);
    // The fastest node that counts: 3.285 counts under the analysis gate, 3.29 and crashes do not.
    const runs = [
      { trainTimeMs: 950, valLoss: 3.27 },
      { trainTimeMs: 900, valLoss: 3.285 },
      { trainTimeMs: 700, valLoss: 3.29 },
      { trainTimeMs: null, valLoss: null },
      { trainTimeMs: 600, valLoss: NaN },
    ];
    assert.ok(Math.abs(fsrForTask(runs, TOY) - 0.5) < 1e-12);
    // Above 3 is treated as an outlier and scores 0; exactly 3 stays.
    assert.equal(fsrForTask([{ trainTimeMs: 399, valLoss: 3.2 }], TOY), 0);
    assert.equal(fsrForTask([{ trainTimeMs: 400, valLoss: 3.2 }], TOY), 3);
    // A degenerate task (no gap) scores 0 rather than NaN.
    assert.equal(fsrForTask([{ trainTimeMs: 900, valLoss: 3.2 }], { baselineMs: 1_000, targetMs: 1_000 }), 0);
  });
});
