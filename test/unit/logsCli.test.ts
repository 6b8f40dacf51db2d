import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../../..');
const FIXTURES = path.join(ROOT, 'test/fixtures/logs');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [path.join(ROOT, 'dist/cli.js'), 'parse-log', ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

suite('logs: speedrun parse-log', function () {
  this.timeout(60_000); // each test starts node processes on a shared machine; not a speed check

  suiteSetup(function () {
    this.timeout(180_000);
    const b = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
  });

  test('--json has the documented shape', () => {
    const r = cli(path.join(FIXTURES, 'rec04-14-t1.log'), '--json');
    assert.equal(r.code, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.deepEqual(Object.keys(j), ['val', 'train', 'final', 'peakMemoryMiB', 'error', 'phase']);
    assert.deepEqual(j.val[0], { step: 0, totalSteps: 60, valLoss: 10.859, trainTimeMs: 0, stepAvgMs: null }); // nan -> null
    assert.deepEqual(j.val[3], { step: 60, totalSteps: 60, valLoss: 3.2736, trainTimeMs: 10721, stepAvgMs: 214.43 });
    assert.deepEqual(j.train[11], { step: 12, totalSteps: 60, trainTimeMs: 429, stepAvgMs: 214.34, trainLoss: 5.781 });
    assert.equal(j.train.length, 60);
    assert.deepEqual(j.final, { n_steps: 60, val_loss: 3.2736, train_time: 10721, is_valid: true });
    assert.equal(j.peakMemoryMiB, 37480);
    assert.equal(j.error, null);
  });

  test('no train_loss key where the script prints none; records 1-3 val points have no stepAvgMs', () => {
    const t2 = JSON.parse(cli(path.join(FIXTURES, 'rec15-17-t2.log'), '--json').stdout);
    assert.deepEqual(Object.keys(t2.train[20]), ['step', 'totalSteps', 'trainTimeMs', 'stepAvgMs']);
    const old = JSON.parse(cli(path.join(FIXTURES, 'rec03-old-lrscale.log'), '--json').stdout);
    assert.deepEqual(Object.keys(old.val[0]), ['step', 'totalSteps', 'valLoss', 'trainTimeMs']);
  });

  test('a crashed run still parses (exit 0) and reports the root cause', () => {
    const r = cli(path.join(FIXTURES, 'err-oom.log'), '--json');
    assert.equal(r.code, 0);
    const j = JSON.parse(r.stdout);
    assert.deepEqual([j.error.kind, j.error.file, j.error.line, j.phase], ['oom', '/home/trainer/runs/r-oom/train_gpt2.py', 611, 'failed']);
  });

  test('human summary', () => {
    const r = cli(path.join(FIXTURES, 'err-rank-exception.log'));
    assert.equal(r.code, 0);
    assert.match(r.stdout, /phase: +failed/);
    assert.match(r.stdout, /\[exception\] AssertionError: expected contiguous inputs/);
    assert.match(r.stdout, /train_gpt2\.py:87/);
    const ok = cli(path.join(FIXTURES, 'rec04-14-t1.log'));
    assert.match(ok.stdout, /val_loss 3\.2736 at step 60, train_time 10721 ms .*valid/);
  });

  test('missing or unreadable file: exit 3 with a clear message; bad usage: exit 2', () => {
    const missing = cli(path.join(FIXTURES, 'no-such.log'));
    assert.equal(missing.code, 3);
    assert.match(missing.stderr, /cannot read .*no-such\.log: no such file/);
    const dir = cli(FIXTURES);
    assert.equal(dir.code, 3);
    assert.match(dir.stderr, /it is a folder, not a log file/);
    assert.equal(cli().code, 2);
    assert.equal(cli('a', 'b').code, 2);
    assert.equal(cli('--bogus', 'x').code, 2);
  });
});
