import * as assert from 'node:assert/strict';
import type { TaskFile } from '../../src/core/benchmark/types';
import { headerFor, resultFor, runRow, RunSeries, toTrainWire, toValWire } from '../../src/vscode/dashboard/model';
import { createLogParser, parseLogText } from '../../src/core/logs/parser';
import type { RunMeta } from '../../src/core/runs/types';
import { isHostMessage } from '../../src/shared/protocol';

// A record-4+ style console log (shapes V and T1 of docs/log-format.md), written for this test.
function logLines(from: number, to: number, total = 100): string {
  const out: string[] = [];
  for (let s = from; s <= to; s++) {
    if (s % 25 === 0) out.push(`step:${s}/${total} val_loss:${(3.2 + 8 / (s + 1)).toFixed(4)} train_time:${s * 50}ms step_avg:${s > 10 ? '50.00' : 'nan'}ms`);
    if (s < total) out.push(`step:${s + 1}/${total} train_loss:${(3.3 + 8 / (s + 2)).toFixed(4)} train_time:${(s + 1) * 50}ms step_avg:${s + 1 > 10 ? '50.00' : 'nan'}ms`);
  }
  return out.join('\n') + '\n';
}

const TASK: TaskFile = {
  version: 1, taskId: 1, fromRecord: 1, toRecord: 2, baselineSha256: '0', benchmarkPath: '/b', createdAt: '',
  baseline: { steps: 100, valLoss: 3.27, trainTimeMs: 10_000 }, target: { steps: 90, valLoss: 3.27, trainTimeMs: 4_000 },
};
const meta = (over: Partial<RunMeta> = {}): RunMeta => ({
  runId: '20261126-120000-a1b2', taskId: 1, target: 'box', state: 'training', createdAt: '2026-11-26T12:00:00Z', scriptSha256: 'x', ...over,
});

suite('dashboard: run series and header', () => {
  test('stored history plus live events: replayed lines are not counted twice', () => {
    const history = parseLogText(logLines(0, 39));
    const s = new RunSeries(history);
    assert.equal(s.train.length, 40);
    assert.equal(s.val.length, 2);
    // The live parser (a re-attached run) replays from step 30, then continues.
    const live = createLogParser();
    for (const ev of live.push(logLines(30, 59))) s.add(ev);
    assert.deepEqual(s.train.map((p) => p.step), Array.from({ length: 60 }, (_, i) => i + 1));
    assert.deepEqual(s.val.map((p) => p.step), [0, 25, 50]);
    const pending = s.takePending();
    assert.deepEqual([pending.train.length, pending.val.length], [20, 1]);
    assert.deepEqual(s.takePending(), { train: [], val: [] }, 'pending is emptied');
  });

  test('header: step, recent step time, projected train time and FSR', () => {
    const s = new RunSeries(parseLogText(logLines(0, 59)));
    const h = headerFor(meta(), s, TASK, 123);
    assert.equal(h.step, 60);
    assert.equal(h.totalSteps, 100);
    assert.equal(h.stepAvgMs, 50);
    assert.equal(h.trainTimeMs, 3000);
    assert.equal(h.projectedTrainTimeMs, 5000);
    assert.ok(Math.abs(h.projectedFsr! - (10_000 - 5_000) / 6_000) < 1e-12);
    assert.equal(h.stateSince, 123);
    assert.ok(isHostMessage({ type: 'header', header: h }));
    assert.equal(headerFor(meta({ state: 'finished' }), s, TASK, null).projectedTrainTimeMs, null, 'no projection once ended');
  });

  test('nan in the log travels as null', () => {
    const s = new RunSeries(parseLogText(logLines(0, 5)));
    assert.equal(toTrainWire(s.train[0]).stepAvgMs, null);
    assert.equal(toValWire({ step: 1, totalSteps: 2, trainTimeMs: NaN, valLoss: NaN }).trainTimeMs, null);
    assert.ok(isHostMessage({ type: 'append', runId: 'x', train: s.train.map(toTrainWire), val: s.val.map(toValWire) }));
  });
});

suite('dashboard: results card and runs table', () => {
  const final = { n_steps: 100, val_loss: 3.2791, train_time: 5_000, is_valid: true };

  test('a finished valid run: FSR, speedup, pass', () => {
    const r = resultFor(meta({ state: 'finished', final }), new RunSeries(), TASK, { reproduced: 0.5, extra: 0.25 })!;
    assert.equal(r.valid, true);
    assert.equal(r.trainTimeMs, 5_000);
    assert.ok(Math.abs(r.fsr! - 5 / 6) < 1e-12);
    assert.equal(r.speedup, 2);
    assert.deepEqual(r.coverage, { reproduced: 0.5, extra: 0.25 });
    assert.ok(isHostMessage({ type: 'result', result: r }));
    assert.equal(resultFor(meta(), new RunSeries(), TASK, null), null, 'no card while it runs');
  });

  test('above 3.28 is not valid; a crash carries its error and failure', () => {
    const slow = resultFor(meta({ state: 'finished', final: { ...final, val_loss: 3.2812 } }), new RunSeries(), TASK, null)!;
    assert.equal(slow.valid, false);
    const crashed = resultFor(meta({
      state: 'failed', error: { kind: 'exception', message: 'ValueError: x', file: 'train_gpt2.py', line: 7 },
      failure: { stage: 'stream', message: 'exit 1' },
    }), new RunSeries(), TASK, null)!;
    assert.equal(crashed.valid, false);
    assert.equal(crashed.error?.line, 7);
    assert.deepEqual(crashed.failure, { stage: 'stream', message: 'exit 1' });
    assert.equal(crashed.fsr, null);
  });

  test('a crash after some validations is not scored', () => {
    const r = resultFor(meta({ state: 'failed', final: { ...final, val_loss: 3.84, n_steps: 250, train_time: 40_900 } }), new RunSeries(), TASK, null)!;
    assert.deepEqual([r.fsr, r.speedup, r.trainTimeMs, r.valLoss, r.nSteps, r.valid], [null, null, null, null, null, false]);
    const row = runRow(meta({ state: 'failed', step: 300, trainTimeMs: 49_000, valLoss: 3.84, final: { ...final, val_loss: 3.84 } }), TASK);
    assert.deepEqual([row.trainTimeMs, row.valLoss, row.fsr, row.valid, row.steps], [null, null, null, false, 300]);
  });

  test('table rows: finished, live and failed runs', () => {
    const done = runRow(meta({ state: 'finished', final }), TASK);
    assert.deepEqual([done.trainTimeMs, done.valLoss, done.valid, done.steps, done.stepAvgMs], [5_000, 3.2791, true, 100, 50]);
    assert.ok(Math.abs(done.fsr! - 5 / 6) < 1e-12);
    const live = runRow(meta({ step: 40, trainTimeMs: 2_000 }), TASK);
    assert.deepEqual([live.valid, live.fsr, live.steps, live.stepAvgMs], [null, null, 40, 50]);
    assert.equal(runRow(meta({ state: 'failed' }), TASK).valid, false);
  });
});
