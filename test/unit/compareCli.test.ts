// `speedrun compare` as a user runs it: the built CLI (node scripts/build.mjs) on a task made from the fixture clone.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openTask } from '../../src/core/benchmark/openTask';
import { scriptPath } from '../../src/core/benchmark/catalog';

const ROOT = path.resolve(__dirname, '../../..');
const CLI = path.join(ROOT, 'dist/cli.js');
const BENCHMARK = path.join(ROOT, 'test/fixtures/benchmark');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [CLI, 'compare', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

suite('compare: CLI', function () {
  // Each case starts node a few times; the machine is shared.
  this.timeout(30_000);
  let tmp: string;
  let taskDir: string;

  suiteSetup(() => {
    assert.ok(fs.existsSync(CLI), `${CLI} missing: run node scripts/build.mjs first`);
  });

  setup(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-compare-'));
    taskDir = openTask({ benchmarkPath: BENCHMARK, taskId: 12, dest: path.join(tmp, 'task12') }).taskDir;
  });

  teardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const addRun = (runId: string, script: string, results?: object) => {
    const dir = path.join(taskDir, '.speedrun/runs', runId);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'train_gpt2.py'), script);
    if (results) fs.writeFileSync(path.join(dir, 'results.json'), JSON.stringify(results));
  };

  test('the untouched working script reproduces nothing and lists every reference hunk as missed', () => {
    const r = cli('--task-dir', taskDir);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Task 12: record 12 -> record 13/);
    assert.match(r.out, /Coverage: 0\.0% of the reference change reproduced \(0 of \d+ lines\)/);
    const missed = r.out.split('\n').filter((l) => /^\s+missed\s+@@/.test(l));
    assert.ok(missed.length >= 2, r.out);
    assert.doesNotMatch(r.out, /FSR/);
  });

  test('a run with the reference script and results: FSR, full coverage, JSON per hunk', () => {
    const reference = fs.readFileSync(scriptPath(BENCHMARK, 13), 'utf8');
    // Records 12 and 13 take 317839 and 289805 ms; 300000 ms recovers (317839-300000)/(317839-289805) of the gap.
    addRun('r1', reference, { status: 'COMPLETED', metrics: { n_steps: 1750, val_loss: 3.2771, train_time: 300000, is_valid: true } });
    const text = cli('--task-dir', taskDir, '--run', 'r1');
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, /Attempt: run r1/);
    assert.match(text.out, /FSR 0\.636/);
    assert.match(text.out, /Coverage: 100\.0%/);

    const json = cli('--task-dir', taskDir, '--run', 'r1', '--json');
    assert.equal(json.code, 0, json.err);
    const j = JSON.parse(json.out);
    assert.equal(j.coverage, 1);
    assert.equal(j.extraneous, 0);
    assert.ok(Math.abs(j.fsr - 17839 / 28034) < 1e-9);
    assert.equal(j.valid, true);
    assert.ok(j.hunks.length >= 2);
    assert.ok(j.hunks.every((h: { status: string; side: string }) => h.status === 'matched' && h.side === 'reference'));
    assert.equal(j.files.attempt, path.join(taskDir, '.speedrun/runs/r1/train_gpt2.py'));
  });

  test('an invalid run\'s FSR does not count; a partial attempt lists matched and missed hunks', () => {
    const start = fs.readFileSync(scriptPath(BENCHMARK, 12), 'utf8');
    const partial = start.replace(/num_iterations : int = \d+/, 'num_iterations : int = 1750').replace('import os', 'import os\nimport gc');
    assert.notEqual(partial, start);
    addRun('r2', partial, { status: 'COMPLETED', metrics: { n_steps: 1750, val_loss: 3.2912, train_time: 280000, is_valid: false } });
    const j = JSON.parse(cli('--task-dir', taskDir, '--run', 'r2', '--json').out);
    // Faster than record 13 (FSR > 1) but above the 3.28 gate.
    assert.ok(Math.abs(j.fsr - (317839 - 280000) / 28034) < 1e-9);
    assert.equal(j.valid, false);
    assert.ok(j.coverage > 0 && j.coverage < 1, String(j.coverage));
    const statuses = new Set(j.hunks.map((h: { status: string }) => h.status));
    assert.ok(statuses.has('matched') && statuses.has('missed'), [...statuses].join());
    assert.equal(j.extraHunks.length, 1);
    assert.deepEqual(j.extraHunks[0].lines, [{ op: '+', text: 'import gc', matched: false }]);
    const text = cli('--task-dir', taskDir, '--run', 'r2');
    assert.match(text.out, /invalid, FSR 1\.350 \(does not count\)/);
    assert.match(text.out, /Attempt hunks not in the reference \(1\)/);
  });

  test('--benchmark overrides the clone recorded in task.json', () => {
    const moved = path.join(tmp, 'moved-benchmark');
    fs.cpSync(BENCHMARK, moved, { recursive: true });
    fs.writeFileSync(scriptPath(moved, 13), fs.readFileSync(scriptPath(moved, 12)));
    const j = JSON.parse(cli('--task-dir', taskDir, '--benchmark', moved, '--json').out);
    assert.equal(j.coverage, null, 'record 13 made identical to 12 in the copy: nothing to reproduce');
    assert.equal(j.benchmarkPath, moved);
  });

  test('exit codes: 2 for usage, 3 for a missing task, run or clone', () => {
    assert.equal(cli('--task-dir', taskDir, '--bogus').code, 2);
    const noTask = cli('--task-dir', tmp);
    assert.equal(noTask.code, 3);
    assert.match(noTask.err, /task\.json/);
    const noRun = cli('--task-dir', taskDir, '--run', 'nope');
    assert.equal(noRun.code, 3);
    assert.match(noRun.err, /run nope's script snapshot .* is missing/);
    assert.equal(cli('--task-dir', taskDir, '--run', '../escape').code, 3);
    const noClone = cli('--task-dir', taskDir, '--benchmark', path.join(tmp, 'nowhere'));
    assert.equal(noClone.code, 3);
    assert.match(noClone.err, /record 12's script/);
  });
});
