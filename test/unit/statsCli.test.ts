// `speedrun significance` on files, the number-file and run-log readers, and the calibration cost estimate.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { getTask, loadManifest } from '../../src/core/benchmark';
import { CalibrationStore, estimate, recordsOf } from '../../src/core/stats/calibration';
import { parseNumbers, valuesFromFile } from '../../src/core/stats/samples';
import { REPO, cleanupTemps, tempDir } from './benchmarkHelpers';

const LOGS = path.join(REPO, 'test/fixtures/logs');
const cli = (...args: string[]) => spawnSync(process.execPath, [path.join(REPO, 'dist/cli.js'), 'significance', ...args], { encoding: 'utf8' });

function file(name: string, text: string): string {
  const f = path.join(tempDir('speedrun-stats-'), name);
  fs.writeFileSync(f, text);
  return f;
}

suite('stats: speedrun significance and its inputs', function () {
  this.timeout(60_000);
  suiteSetup(function () {
    this.timeout(180_000);
    const b = spawnSync(process.execPath, ['scripts/build.mjs'], { cwd: REPO, encoding: 'utf8' });
    assert.equal(b.status, 0, b.stderr);
  });
  teardown(cleanupTemps);

  test('numbers separated by commas, spaces or newlines; anything else is not a numbers file', () => {
    assert.deepEqual(parseNumbers('3.2760, 3.2771 3.2749\n3.2782\r\n\t3.2755,\n'), [3.276, 3.2771, 3.2749, 3.2782, 3.2755]);
    assert.deepEqual(parseNumbers('1e-3 +2 .5 -4.'), [0.001, 2, 0.5, -4]);
    for (const t of ['', ' \n', '3.27 abc', '3.27;3.28', 'nan 3.2', '0x10']) assert.equal(parseNumbers(t), undefined, JSON.stringify(t));
  });

  test("a run log gives its final val loss (or train time); a log that didn't finish is refused", () => {
    assert.deepEqual(valuesFromFile(path.join(LOGS, 'rec04-14-t1.log'), 'valLoss'), [3.2736]);
    assert.deepEqual(valuesFromFile(path.join(LOGS, 'rec04-14-t1.log'), 'trainTimeMs'), [10721]);
    assert.throws(() => valuesFromFile(path.join(LOGS, 'err-oom.log'), 'valLoss'), /neither a list of numbers nor a run log with a final result \(the run failed\)/);
    assert.throws(() => valuesFromFile(path.join(LOGS, 'crlf-ansi-cr-nan.log'), 'valLoss'), /the run log has no final val loss/);
  });

  test('--json prints { n, mean, std, t, df, p } (plus threshold and pass) that survive a slow reader on a pipe', () => {
    const f = file('losses.txt', '3.2760, 3.2771 3.2749\n3.2782\n3.2755\n');
    // A real pipe into a reader that starts late.
    const r = spawnSync('bash', ['-c', 'node "$0" significance "$1" --json | (sleep 0.5; cat)', path.join(REPO, 'dist/cli.js'), f], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const text = r.stdout;
    const j = JSON.parse(text);
    assert.deepEqual(Object.keys(j), ['n', 'mean', 'std', 't', 'df', 'p', 'threshold', 'pass', 'noSpread']);
    assert.equal(j.n, 5);
    assert.ok(Math.abs(j.p - 0.00170381369341578) < 1e-9, String(j.p)); // mpmath figure, see statsTtest.test.ts
    assert.equal(j.pass, true);
  });

  test('exit 1 when the test fails, --threshold moves the line, text output names the verdict', () => {
    const f = file('close.txt', '3.2795 3.2781 3.2802 3.2788 3.2779 3.2810 3.2791 3.2785 3.2798 3.2783');
    const r = cli(f);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /^n 10, mean val loss 3\.27912, sd 0\.00100 \(sample\), t -2\.783, df 9\np = 0\.0106 \(one-sided: mean below 3\.28\): FAIL/);
    const higher = cli(f, '--threshold', '3.281');
    assert.equal(higher.status, 0, higher.stdout);
    assert.match(higher.stdout, /mean below 3\.281\): PASS/);
  });

  test('identical values (the same seed, a deterministic box): no p-value, no verdict, exit 1', () => {
    const f = file('same.txt', Array(5).fill('3.2781').join('\n'));
    const r = cli(f);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, 'n 5, every val loss is 3.27810\nNO VERDICT: the runs did not vary (likely the same seed, or a deterministic box), so a t-test can tell nothing: no p-value, no verdict\n');
    const j = JSON.parse(cli(f, '--json').stdout);
    assert.deepEqual([j.noSpread, j.pass, j.p, j.t, j.std], [true, false, null, null, 0]);
    // Timing: neither side varied.
    const a = file('a.txt', '289 289 289');
    const b = file('b.txt', '317 317');
    const t = cli(a, '--baseline', b);
    assert.equal(t.status, 1);
    assert.match(t.stdout, /^NO VERDICT on the timing: the runs did not vary/m);
    assert.doesNotMatch(t.stdout, /FASTER|p = /);
  });

  test('several files add up: logs and numbers files together', () => {
    const f = file('more.txt', '3.2701\n3.2712\n');
    const r = cli(f, path.join(LOGS, 'rec04-14-t1.log'), '--json');
    assert.equal(r.status, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).n, 3);
  });

  test('timing: --baseline runs Welch on the two groups (mpmath figure)', () => {
    const a = file('a.txt', '289.1 290.4 288.7 291.0 289.9');
    const b = file('b.txt', '317.2,318.9,316.5,318.1');
    const r = cli(a, '--baseline', b, '--json');
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout);
    assert.ok(Math.abs(j.df - 6.17331109823024) < 1e-8 && Math.abs(j.t + 41.5534189595479) < 1e-8, r.stdout);
    assert.equal(j.pass, true);
  });

  test('bad input: one sentence, exit 3 (or 2 for usage), nothing else', () => {
    const cases: [string[], number, RegExp][] = [
      [[file('one.txt', '3.27')], 3, /val losses: a t-test needs at least 2 values, got 1$/m],
      [[file('words.txt', 'hello world')], 3, /is neither a list of numbers nor a run log/],
      [[path.join(tempDir(), 'missing.txt'), file('x.txt', '1 2')], 3, /missing\.txt does not exist$/m],
      [[tempDir()], 3, /is a folder, not a file$/m],
      [[file('x.txt', '1 2'), '--threshold', 'abc'], 2, /--threshold must be a number, got 'abc'/],
      [[], 2, /give at least two values/],
      [['--runs', 'nope', 'also-nope', '--task-dir', tempDir()], 3, /no run nope in /],
      [['--repeat', '20260101-000000-abcd', '--task-dir', tempDir()], 3, /no repeat 20260101-000000-abcd in /],
    ];
    for (const [args, code, re] of cases) {
      const r = cli(...args);
      assert.equal(r.status, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.equal(r.stdout, '');
    }
  });

  test('calibration cost: records i and i+1 once each, at the paper\'s times until the box has its own', () => {
    const m = loadManifest();
    assert.deepEqual(recordsOf([getTask(12, m)!, getTask(13, m)!]), [12, 13, 14]);
    assert.deepEqual(recordsOf(m.tasks), Array.from({ length: 21 }, (_, i) => i + 1));
    const store = new CalibrationStore(tempDir('speedrun-cal-'));
    const e = estimate(store, 'box', [getTask(12, m)!], 3);
    assert.equal(e.totalRuns, 6);
    assert.equal(e.trainMs, 3 * (317_839 + 289_805));
    assert.equal(store.taskTimes('box', 12), undefined, 'nothing measured yet');
    assert.equal(store.recordDir('box', 12), path.join(store.root, 'runs', 'box', 'record_12'));
    // Target names become distinct, safe folder names.
    const odd = [store.recordDir('a/b', 1), store.recordDir('a_b', 1), store.recordDir('..', 1)];
    assert.equal(new Set(odd).size, 3);
    for (const d of odd) assert.equal(path.dirname(path.dirname(d)), path.join(store.root, 'runs'), d);
  });

  test('calibrate --show alone reports every task: nothing measured yet and the cost of all 21 records', () => {
    const dir = tempDir('speedrun-cal-');
    const targets = path.join(dir, 'targets.json');
    fs.writeFileSync(targets, JSON.stringify([{ name: 'sim', kind: 'local', remoteDir: path.join(dir, 'box'), trainFiles: 'x', valFiles: 'y' }]));
    const r = spawnSync(process.execPath, [path.join(REPO, 'dist/cli.js'), 'calibrate', '--show', '--runs', '1', '--targets-file', targets, '--calibration-dir', path.join(dir, 'cal')], { encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /nothing measured on sim yet/);
    assert.match(r.stdout, /^21 run\(s\) still to do on sim/m);
    assert.ok(!fs.existsSync(path.join(dir, 'cal', 'runs')), '--show starts nothing');
  });
});
