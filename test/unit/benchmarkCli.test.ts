// The `speedrun tasks` / `speedrun open-task` commands as a script sees them: exit codes, JSON, files.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { FIXTURE, REPO, cleanupTemps, cloneCopy, rec, tempDir } from './benchmarkHelpers';

const CLI = path.join(REPO, 'dist/cli.js');

function speedrun(...args: string[]) {
  const env = { ...process.env };
  delete env.SPEEDRUN_BENCHMARK;
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

suite('benchmark CLI', function () {
  this.timeout(120_000);
  suiteSetup(() => {
    const b = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: REPO, encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
  });
  teardown(cleanupTemps);

  test('tasks --json lists the 19 tasks with metrics read from the clone', () => {
    const r = speedrun('tasks', '--benchmark', FIXTURE, '--json');
    assert.equal(r.code, 0, r.stderr);
    const tasks = JSON.parse(r.stdout);
    assert.equal(tasks.length, 19);
    for (const t of tasks) {
      for (const [key, record] of [['baseline', t.fromRecord], ['target', t.toRecord]]) {
        const file = JSON.parse(fs.readFileSync(rec(FIXTURE, record, 'results.json'), 'utf8')).metrics;
        assert.deepEqual(t[key], { steps: file.n_steps, valLoss: file.val_loss, trainTimeMs: file.train_time });
      }
      assert.equal(t.toRecord, t.fromRecord + 1);
      assert.equal(t.complete, true);
      assert.ok(!t.hintLevels.includes(0));
      assert.ok(t.hints.every((h: { name: string }) => !h.name.startsWith('level_0')));
    }
    assert.deepEqual(tasks.map((t: { id: number }) => t.id), [1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    assert.deepEqual(tasks.find((t: { id: number }) => t.id === 2).hintLevels, [1, 2, 3, 9]);
    assert.deepEqual(tasks.find((t: { id: number }) => t.id === 4).hintLevels, [1, 2, 3]);
  });

  test('tasks prints a table for humans', () => {
    const r = speedrun('tasks', '--benchmark', FIXTURE);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^20 +20 -> 21 +188680 +184262 +4\.4 s +1393 -> 1770 +1,2,3 +ok$/m);
    assert.match(r.stdout, /19\/19 tasks complete\./);
  });

  test('tasks exits 1 on an incomplete clone, still with JSON, and warns about changed metrics on stderr', () => {
    const root = cloneCopy();
    fs.rmSync(rec(root, 16), { recursive: true });
    const f = rec(root, 2, 'results.json');
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').replace('3.2603', '3.2703'));
    const r = speedrun('tasks', '--benchmark', root, '--json');
    assert.equal(r.code, 1);
    const tasks = JSON.parse(r.stdout);
    assert.deepEqual(tasks.filter((t: { complete: boolean }) => !t.complete).map((t: { id: number }) => t.id), [15, 16]);
    assert.equal(tasks.find((t: { id: number }) => t.id === 15).target, null);
    assert.ok(r.stderr.includes(`warning: ${f}: val_loss 3.2703 (manifest 3.2603)`));
  });

  test('tasks: usage errors exit 2, a folder that is not a clone exits 3', () => {
    assert.equal(speedrun('tasks').code, 2);
    assert.equal(speedrun('tasks', '--benchmark', FIXTURE, '--bogus').code, 2);
    const r = speedrun('tasks', '--benchmark', tempDir());
    assert.equal(r.code, 3);
    assert.match(r.stderr, /^speedrun tasks: .* is not an llm-speedrunner clone/);
    assert.equal(r.stdout, '');
  });

  test('open-task creates the workspace and refuses to clobber edits without --force', () => {
    const dest = path.join(tempDir(), 'ws');
    let r = speedrun('open-task', '12', '--benchmark', FIXTURE, '--dest', dest, '--json');
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout);
    assert.equal(out.task.taskId, 12);
    assert.equal(out.task.target.trainTimeMs, 289805);
    assert.ok(fs.existsSync(path.join(dest, '.speedrun/TASK.md')));
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dest, '.speedrun/task.json'), 'utf8')), out.task);

    fs.appendFileSync(path.join(dest, 'train_gpt2.py'), '# my change\n');
    r = speedrun('open-task', '12', '--benchmark', FIXTURE, '--dest', dest);
    assert.equal(r.code, 3);
    assert.match(r.stderr, /differs from record 12's script/);
    assert.match(fs.readFileSync(path.join(dest, 'train_gpt2.py'), 'utf8'), /# my change\n$/);
    r = speedrun('open-task', '12', '--benchmark', FIXTURE, '--dest', dest, '--force');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Task 12 \(record 12 -> 13\) opened in/);
    assert.doesNotMatch(fs.readFileSync(path.join(dest, 'train_gpt2.py'), 'utf8'), /# my change/);
  });

  test('open-task: task 6, a non-number or a missing --dest are usage errors (exit 2)', () => {
    const dest = tempDir();
    const r = speedrun('open-task', '6', '--benchmark', FIXTURE, '--dest', dest);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no task 6/);
    assert.equal(speedrun('open-task', 'x', '--benchmark', FIXTURE, '--dest', dest).code, 2);
    // No --dest: the current folder (this repository, not empty) is refused.
    assert.equal(speedrun('open-task', '3', '--benchmark', FIXTURE).code, 2);
    assert.equal(speedrun('open-task', '3', '--benchmark', path.join(dest, 'none'), '--dest', dest).code, 3);
  });
});
