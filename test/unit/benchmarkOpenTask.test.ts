import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OpenTaskError, TaskFileError, getTask, openTask, readTaskFile } from '../../src/core/benchmark';
import { FIXTURE, cleanupTemps, cloneCopy, rec, tempDir } from './benchmarkHelpers';

const sha = (f: string) => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex');

suite('benchmark openTask', () => {
  teardown(cleanupTemps);

  test('copies record i, writes task.json with the baseline sha and a brief', () => {
    const dest = path.join(tempDir(), 'task12');
    const res = openTask({ benchmarkPath: FIXTURE, taskId: 12, dest });
    const script = path.join(dest, 'train_gpt2.py');
    assert.equal(fs.readFileSync(script, 'utf8'), fs.readFileSync(rec(FIXTURE, 12, 'train_gpt2.py'), 'utf8'));
    assert.equal(res.scriptPath, script);
    assert.equal(res.alreadyOpen, false);
    const task = readTaskFile(dest);
    assert.deepEqual(task, res.task);
    assert.equal(task.baselineSha256, sha(rec(FIXTURE, 12, 'train_gpt2.py')));
    assert.equal(task.taskId, 12);
    assert.equal(task.fromRecord, 12);
    assert.equal(task.toRecord, 13);
    assert.equal(task.benchmarkPath, FIXTURE);
    assert.deepEqual(task.baseline, { steps: 1875, valLoss: 3.2739, trainTimeMs: 317839 });
    assert.deepEqual(task.target, { steps: 1750, valLoss: 3.2739, trainTimeMs: 289805 });

    const brief = fs.readFileSync(path.join(dest, '.speedrun/TASK.md'), 'utf8');
    assert.match(brief, /^# Task 12: record 12 → record 13/);
    assert.match(brief, /at most \*\*3\.28\*\*/);
    assert.match(brief, /\| target: record 13 \| 1750 \| 3\.2739 \| 289805 \|/);
    assert.match(brief, /gap to recover is \*\*28\.0 s\*\*/);
    assert.match(brief, /NANOGPT_TRAIN_FILES/);
    assert.match(brief, /`save_checkpoint` stays `False`/);
    assert.match(brief, /print0/);
    assert.match(brief, /Level 1 · pseudocode, Level 2 · description, Level 3 · mini-paper, Extra · flexattn/);
    // The brief must not give the answer away.
    assert.ok(!brief.includes(getTask(12)!.summary));
    assert.ok(!brief.includes('level_0'));
  });

  test('reopening the same task is a no-op that keeps createdAt', () => {
    const dest = tempDir();
    const first = openTask({ benchmarkPath: FIXTURE, taskId: 3, dest });
    const again = openTask({ benchmarkPath: FIXTURE, taskId: 3, dest });
    assert.equal(again.alreadyOpen, true);
    assert.equal(again.task.createdAt, first.task.createdAt);
  });

  test('refuses to overwrite a different train_gpt2.py unless forced', () => {
    const dest = tempDir();
    const script = path.join(dest, 'train_gpt2.py');
    fs.writeFileSync(script, 'print("my edits")\n');
    assert.throws(
      () => openTask({ benchmarkPath: FIXTURE, taskId: 7, dest }),
      (e: unknown) => e instanceof OpenTaskError && e.problem === 'conflict' && /differs from record 7's script/.test(e.message),
    );
    assert.equal(fs.readFileSync(script, 'utf8'), 'print("my edits")\n');
    assert.ok(!fs.existsSync(path.join(dest, '.speedrun/task.json')));
    const res = openTask({ benchmarkPath: FIXTURE, taskId: 7, dest, force: true });
    assert.equal(sha(script), res.task.baselineSha256);
  });

  test('refuses a folder that already holds another task', () => {
    const dest = tempDir();
    openTask({ benchmarkPath: FIXTURE, taskId: 7, dest });
    assert.throws(() => openTask({ benchmarkPath: FIXTURE, taskId: 8, dest }), /already holds task 7/);
    assert.equal(openTask({ benchmarkPath: FIXTURE, taskId: 8, dest, force: true }).task.taskId, 8);
  });

  test('task 6 and unknown ids are refused with the reason', () => {
    const dest = tempDir();
    assert.throws(
      () => openTask({ benchmarkPath: FIXTURE, taskId: 6, dest }),
      (e: unknown) => e instanceof OpenTaskError && e.problem === 'unknown-task' && /PyTorch/.test(e.message),
    );
    assert.throws(() => openTask({ benchmarkPath: FIXTURE, taskId: 21, dest }), /Unknown task 21/);
    assert.deepEqual(fs.readdirSync(dest), []);
  });

  test('a missing baseline script is an error; a missing target results.json falls back to the manifest with a warning', () => {
    const root = cloneCopy();
    fs.rmSync(rec(root, 10, 'train_gpt2.py'));
    assert.throws(
      () => openTask({ benchmarkPath: root, taskId: 10, dest: tempDir() }),
      (e: unknown) => e instanceof OpenTaskError && e.problem === 'no-baseline' && /record_10\/train_gpt2\.py is missing/.test(e.message),
    );
    fs.rmSync(rec(root, 21, 'results.json'));
    const res = openTask({ benchmarkPath: root, taskId: 20, dest: tempDir() });
    assert.deepEqual(res.task.target, { steps: 1770, valLoss: 3.2739, trainTimeMs: 184262 });
    assert.equal(res.warnings.length, 1);
    assert.match(res.warnings[0], /record_21\/results\.json is missing; using the manifest's reference values/);
  });

  test('a destination that is a file is refused', () => {
    const f = path.join(tempDir(), 'afile');
    fs.writeFileSync(f, '');
    assert.throws(() => openTask({ benchmarkPath: FIXTURE, taskId: 1, dest: f }), /is a file/);
  });
});

suite('benchmark readTaskFile', () => {
  teardown(cleanupTemps);

  test('explains what is wrong with a task.json', () => {
    const dir = tempDir();
    assert.throws(() => readTaskFile(dir), (e: unknown) => e instanceof TaskFileError && /not a task workspace/.test(e.message));
    fs.mkdirSync(path.join(dir, '.speedrun'));
    const file = path.join(dir, '.speedrun/task.json');
    fs.writeFileSync(file, '{"version": 1, "taskId"');
    assert.throws(() => readTaskFile(dir), (e: unknown) => e instanceof TaskFileError && e.message.startsWith(file));
    const good = openTask({ benchmarkPath: FIXTURE, taskId: 1, dest: tempDir() }).task;
    const bad = (patch: object, field: string) => {
      fs.writeFileSync(file, JSON.stringify({ ...good, ...patch }));
      assert.throws(() => readTaskFile(dir), new RegExp(`"${field}"`));
    };
    bad({ version: 2 }, 'version');
    bad({ baselineSha256: 'abc' }, 'baselineSha256');
    bad({ toRecord: 5 }, 'toRecord');
    bad({ target: { steps: 1, valLoss: 'x', trainTimeMs: 3 } }, 'target.valLoss');
    bad({ taskId: 1.5 }, 'taskId');
    fs.writeFileSync(file, JSON.stringify(good));
    assert.deepEqual(readTaskFile(dir), good);
  });
});
