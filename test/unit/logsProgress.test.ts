import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseLogText } from '../../src/core/logs/parser';
import { ProgressTracker, inUntimedWarmup, projectedTrainTimeMs, recentStepMs, remainingTrainMs } from '../../src/core/logs/progress';
import type { TrainStep } from '../../src/core/logs/types';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/logs');
const trainOf = (name: string) => parseLogText(readFileSync(path.join(FIXTURES, name), 'utf8')).train;
const near = (actual: number | null, expected: number, rel: number) =>
  assert.ok(actual !== null && Math.abs(actual - expected) <= rel * expected, `${actual} is not within ${rel * 100}% of ${expected}`);

suite('logs: progress and projections', () => {
  const rec4 = trainOf('rec04-14-t1.log'); // steps 1..60, final train_time 10721 ms, ~214.4 ms/step
  const upTo = (steps: TrainStep[], k: number) => steps.filter((t) => t.step <= k);

  test('step time over the recent steps', () => {
    near(recentStepMs(rec4), 214.4, 0.01);
  });

  test('records 4-21: during the untimed warm-up the projection leaves out the compile time in train_time', () => {
    const early = upTo(rec4, 5);
    assert.ok(inUntimedWarmup(early[early.length - 1]));
    assert.ok(early[4].trainTimeMs > 70_000); // the clock still holds the compile
    near(projectedTrainTimeMs(early), 60 * 214.4, 0.05);
  });

  test('records 4-21: right after the clock restarts there is no rate yet, then the slope never spans the restart', () => {
    assert.equal(projectedTrainTimeMs(upTo(rec4, 11)), null);
    near(recentStepMs(upTo(rec4, 13)), 214.4, 0.01);
    near(projectedTrainTimeMs(upTo(rec4, 30)), 10721, 0.01);
    near(remainingTrainMs(upTo(rec4, 30)), 30 * 214.4, 0.01);
  });

  test('records 1-3: the median printed step time ignores the slow compiling first step', () => {
    const rec1 = trainOf('rec01-old-norm.log');
    const at20 = upTo(rec1, 20);
    near(recentStepMs(at20), 72, 0.01);
    near(projectedTrainTimeMs(at20), rec1[rec1.length - 1].trainTimeMs, 0.01);
  });

  test('no steps, no projection', () => {
    assert.equal(recentStepMs([]), null);
    assert.equal(projectedTrainTimeMs([]), null);
    assert.equal(remainingTrainMs([]), null);
  });

  test('tracker: compile time runs until the first step, then stays; silence is measured', () => {
    const t = new ProgressTracker(1_000);
    t.onEvent({ type: 'phase', phase: 'compiling' }, 1_000);
    let s = t.snapshot(61_000);
    assert.deepEqual([s.phase, s.step, s.compileMs, s.silentMs], ['compiling', null, 60_000, 60_000]);
    t.onEvent({ type: 'phase', phase: 'training' }, 91_000);
    for (const step of rec4.slice(0, 40)) t.onEvent({ type: 'train', ...step }, 91_000 + step.step * 215);
    s = t.snapshot(200_000);
    assert.equal(s.compileMs, 91_215 - 1_000); // until step 1 arrived
    assert.deepEqual([s.phase, s.step, s.totalSteps], ['training', 40, 60]);
    near(s.projectedTrainTimeMs, 10721, 0.01);
    assert.equal(s.silentMs, 200_000 - (91_000 + 40 * 215));
  });
});
