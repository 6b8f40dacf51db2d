// The parser's summary holds a bounded train series (thinned evenly) and every val point, however long the log.
import * as assert from 'node:assert/strict';
import { createLogParser, MAX_TRAIN_POINTS, parseLogText } from '../../src/core/logs/parser';

function log(steps: number, valEvery: number): string {
  const lines: string[] = [];
  for (let s = 1; s <= steps; s++) {
    lines.push(`step:${s}/${steps} train_time:${s * 10}ms step_avg:10.00ms`);
    if (s % valEvery === 0 || s === steps) lines.push(`step:${s}/${steps} val_loss:${(3 + 1 / s).toFixed(4)} train_time:${s * 10}ms step_avg:10.00ms`);
  }
  return lines.join('\n') + '\n';
}

suite('logs: bounded summary', () => {
  test('a log under the bound keeps every train point', () => {
    const s = parseLogText(log(5000, 100));
    assert.equal(s.train.length, 5000);
    assert.deepEqual(s.train.map((t) => t.step).slice(0, 3), [1, 2, 3]);
  });

  test('past the bound the train series is thinned evenly, keeps the last step, and every val point stays', () => {
    const steps = 100_003;
    const s = parseLogText(log(steps, 7));
    assert.ok(s.train.length <= MAX_TRAIN_POINTS + 1, String(s.train.length));
    assert.ok(s.train.length > MAX_TRAIN_POINTS / 2, String(s.train.length));
    const held = s.train.slice(0, -1).map((t) => t.step);
    const gap = held[1] - held[0];
    assert.ok(gap > 1 && (gap & (gap - 1)) === 0, `thinning keeps one line in a power of two, got ${gap}`);
    assert.ok(held.every((st, i) => st === 1 + i * gap), 'evenly spaced from the first step');
    assert.equal(s.train[s.train.length - 1].step, steps);
    assert.equal(s.val.length, Math.floor(steps / 7) + 1);
    assert.deepEqual(s.final, { n_steps: steps, val_loss: 3, train_time: steps * 10, is_valid: true });
    assert.equal(s.phase, 'finished');
  });

  test('the bound is an option; points keep their fields (train loss, step ms)', () => {
    const p = createLogParser({ maxTrainPoints: 16 });
    for (let s = 1; s <= 1000; s++) p.push(`step:${s}/1000 train_loss:${(4 - s / 1000).toFixed(4)} train_time:${s}ms step_avg:1.00ms\n`);
    p.end();
    const t = p.summary().train;
    assert.ok(t.length <= 17, String(t.length));
    for (const x of t) assert.equal(x.trainLoss, Number((4 - x.step / 1000).toFixed(4)));
    const old = parseLogText(Array.from({ length: 300 }, (_, i) => `step ${i + 1}/300 | train loss 3.500000 | norm 0.3 | lr 1.0e-03 | (71.50 ms | 459094 tok/s)`).join('\n'), { maxTrainPoints: 16 });
    assert.ok(old.train.length <= 17);
    assert.ok(old.train.every((x) => x.stepMs === 71.5 && x.trainLoss === 3.5));
  });
});
