// Repeats, significance and calibration as a user types them: `speedrun run --repeat`, `speedrun significance`
// and `speedrun calibrate` on the simulated box, as a `local` target and over a real sshd. The fixture records
// carry their simulated cost, so record 13's script is really faster than record 12's here.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openTask } from '../../src/core/benchmark/openTask';
import { RunStore } from '../../src/core/runs/store';
import { CalibrationStore } from '../../src/core/stats/calibration';
import { BASELINE_DIR, readGroup, repeatLine, summarizeGroup } from '../../src/core/stats/repeat';
import { testBelow } from '../../src/core/stats/ttest';
import { REPO_ROOT, ensureUser, startSshd, type Sshd } from '../support/sshd';
import { makeShards, removeTemps, tempDir, writeSshConfig } from '../support/runFixture';
import { startSlurm, type SlurmCluster } from '../support/slurm';

const CLI = path.resolve(__dirname, '../../src/cli.js');
const BENCH = path.join(REPO_ROOT, 'test/fixtures/benchmark');
const SIM = path.join(REPO_ROOT, 'test/sim');
const RECORD = (r: number) => path.join(BENCH, 'workspace_templates/nanogpt_speedrun', `record_${r}`, 'train_gpt2.py');

interface Done {
  code: number;
  stdout: string;
  stderr: string;
}

function cli(args: string[], env: Record<string, string> = {}): { done: Promise<Done>; pid: number; stderr: () => string } {
  const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  p.stdout.on('data', (b) => (stdout += b));
  p.stderr.on('data', (b) => (stderr += b));
  return { pid: p.pid!, stderr: () => stderr, done: new Promise((r) => p.on('exit', (c) => r({ code: c ?? -1, stdout, stderr }))) };
}

/** Task 12 opened from the fixture clone, with record 13's script as the attempt (the reference change reproduced). */
function reproducedTask(): string {
  const dest = path.join(tempDir('speedrun-stats-'), 'task-12');
  openTask({ taskId: 12, benchmarkPath: BENCH, dest });
  fs.copyFileSync(RECORD(13), path.join(dest, 'train_gpt2.py'));
  return dest;
}

async function waitUntil(what: string, ok: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The checks every transport shares: repeats with a baseline, then significance over the same runs. */
async function repeatsWithBaseline(targetArgs: string[], env: Record<string, string>) {
  const task = reproducedTask();
  const r = await cli(['run', ...targetArgs, '--task-dir', task, '--repeat', '3', '--interleave-baseline', '--json'], env).done;
  const j = JSON.parse(r.stdout);
  assert.deepEqual([j.group.attempt.length, j.group.baseline.length], [3, 3], r.stderr);
  assert.match(r.stderr, /attempt 1\/3: run .* finished[\s\S]*baseline 1\/3: run .* finished[\s\S]*attempt 2\/3/, 'interleaved: attempt, baseline, attempt, ...');
  assert.ok(j.attempt.runs.every((x: { state: string }) => x.state === 'finished'), r.stderr);
  // The attempt's val losses as stored in each run's results.json give the same test.
  const losses = j.group.attempt.map((id: string) => new RunStore(task).readResults(id)!.metrics.val_loss as number);
  const expected = testBelow(losses);
  assert.equal(j.significance.n, 3);
  assert.ok(Math.abs(j.significance.p - expected.p) < 1e-12, `${j.significance.p} vs ${expected.p}`);
  assert.equal(r.code, expected.pass ? 0 : 1, 'exit 0 only when the val-loss test passes');
  // Record 13's script against record 12's on the same box: ~28 s apart against ~1 s of jitter.
  assert.equal(j.faster.pass, true, JSON.stringify(j.faster));
  assert.ok(j.faster.diff < -20_000, String(j.faster.diff));
  assert.ok(Math.abs(j.fsr.paper - 1) < 0.15, `FSR of the reproduced change: ${j.fsr.paper}`);
  // Baseline runs live in the baseline folder with record 12's script.
  const base = new RunStore(path.join(task, BASELINE_DIR));
  assert.equal(base.list().length, 3);
  assert.equal(fs.readFileSync(base.file(j.group.baseline[0], 'train_gpt2.py'), 'utf8'), fs.readFileSync(RECORD(12), 'utf8'));
  assert.equal(new RunStore(task).list().length, 3, "the baseline stays out of the task's own runs");

  // The Runs view's one line for each run of the group.
  const line = repeatLine(summarizeGroup(task, readGroup(task, j.group.repeatId)));
  assert.match(line, /^x3\/3 · val 3\.27\d\d ± 0\.\d{4} · 2\d\d\.\d ± \d+\.\d s · p \S+ (PASS|FAIL)$/);

  // significance over the same runs: the group, the run ids, and the timing test by run ids.
  const byGroup = JSON.parse((await cli(['significance', '--repeat', j.group.repeatId, '--task-dir', task, '--json']).done).stdout);
  assert.equal(byGroup.p, j.significance.p);
  assert.equal(byGroup.faster.p, j.faster.p);
  const byIds = JSON.parse((await cli(['significance', '--runs', ...j.group.attempt, '--task-dir', task, '--json']).done).stdout);
  assert.deepEqual(Object.keys(byIds), ['n', 'mean', 'std', 't', 'df', 'p', 'threshold', 'pass', 'noSpread']);
  assert.equal(byIds.p, j.significance.p);
  const timing = await cli(['significance', '--runs', ...j.group.attempt, '--baseline', j.group.baseline.join(','), '--task-dir', task]).done;
  assert.equal(timing.code, 0, timing.stderr);
  assert.match(timing.stdout, /Welch t -[\d.]+, df [\d.]+, p = \S+ \(one-sided: the attempt is faster\): FASTER/);
}

suite('integration: repeats, significance and calibration on the simulated box (local target)', function () {
  this.timeout(120_000);
  let dir: string;
  let targetsFile: string;
  const env = () => ({ SPEEDRUN_CALIBRATION_DIR: path.join(dir, 'calibration') });

  suiteSetup(() => {
    dir = tempDir('speedrun-stats-box-');
    const shards = makeShards(path.join(dir, 'data'), 12);
    const target = (name: string, speedup: string) => ({
      name, kind: 'local', remoteDir: path.join(dir, 'work'), gpus: 8, ...shards,
      setup: `export PATH=${SIM}:"$PATH" PYTHONPATH=${SIM}/pylib`,
      env: { SIM_SPEEDUP: speedup, SIM_COMPILE_SECONDS: '1' },
    });
    targetsFile = path.join(dir, 'targets.json');
    fs.writeFileSync(targetsFile, JSON.stringify([target('sim', '3000'), target('slow', '40')]));
  });
  suiteTeardown(removeTemps);

  test('run --repeat 3 --interleave-baseline: mean ± sd, the t-test and Welch, and significance agrees', async () => {
    await repeatsWithBaseline(['--target', 'sim', '--targets-file', targetsFile], env());
  });

  test('run --repeat prints mean ± sd as text; bad --repeat values are usage errors', async () => {
    const task = reproducedTask();
    const r = await cli(['run', '--target', 'sim', '--targets-file', targetsFile, '--task-dir', task, '--repeat', '2'], env()).done;
    assert.match(r.stdout, /attempt +val loss 3\.27\d+ ± 0\.\d+ \(n 2\) +train time 2\d\d\.\d ± \d+\.\d s \(n 2\)/);
    assert.match(r.stdout, /FSR of the mean train time: (0\.9|1\.0)\d\d against the paper's times/);
    assert.match(r.stdout, /p = \S+ \(one-sided: mean below 3\.28\)/);
    for (const bad of ['0', '2.5', 'x']) {
      const u = await cli(['run', '--target', 'sim', '--targets-file', targetsFile, '--task-dir', task, '--repeat', bad]).done;
      assert.equal(u.code, 2, u.stderr);
      assert.match(u.stderr, /--repeat must be a whole number of at least 1/);
    }
    const lonely = await cli(['run', '--target', 'sim', '--targets-file', targetsFile, '--task-dir', task, '--interleave-baseline']).done;
    assert.equal(lonely.code, 2);
    assert.equal(new RunStore(task).list().length, 2, 'refused commands started nothing');
  });

  test('calibrate: K interleaved runs per record, stored per target; a second call only adds what is missing', async () => {
    const args = ['calibrate', '--task', '12', '--target', 'sim', '--benchmark', BENCH, '--targets-file', targetsFile];
    const one = await cli([...args, '--runs', '1'], env()).done;
    assert.equal(one.code, 0, one.stderr);
    const two = await cli([...args, '--runs', '2', '--json'], env()).done;
    assert.equal(two.code, 0, two.stderr);
    assert.match(two.stderr, /\[calibrate\] 2 run\(s\) still to do on sim/, 'the cost estimate comes first');
    assert.equal((two.stderr.match(/\[calibrate\] \(\d\/2\)/g) ?? []).length, 2, 'one more run per record');
    const store = new CalibrationStore(env().SPEEDRUN_CALIBRATION_DIR);
    for (const r of [12, 13]) assert.equal(new RunStore(store.recordDir('sim', r)).list().length, 2, `record ${r}`);
    const [c] = JSON.parse(two.stdout);
    assert.equal(c.baseline.n, 2);
    assert.ok(Math.abs(c.baseline.meanMs - 317_839) < 0.01 * 317_839, String(c.baseline.meanMs));
    assert.ok(Math.abs(c.next.meanMs - 289_805) < 0.01 * 289_805, String(c.next.meanMs));
    assert.deepEqual(c.box, store.taskTimes('sim', 12));
    // FSR of a run now also against the box's own times.
    const task = reproducedTask();
    const run = await cli(['run', '--target', 'sim', '--targets-file', targetsFile, '--task-dir', task], env()).done;
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /FSR (0\.9|1\.0)\d against the paper's times; -?\d\.\d\d against sim's own times \(calibrated\) \(SIMULATED box/);
    const shown = JSON.parse((await cli(['calibrate', '--show', '--target', 'sim', '--task', '12', '--targets-file', targetsFile, '--json'], env()).done).stdout);
    assert.deepEqual(Object.keys(shown.records).sort(), ['12', '13']);
    assert.equal(shown.estimate.totalRuns, 2, '--show with --runs 3 (default) has one more run per record to do');
  });

  test('calibrate resumes: a run left going when the CLI was stopped is followed, not run twice', async () => {
    const args = ['calibrate', '--task', '13', '--target', 'slow', '--runs', '1', '--benchmark', BENCH, '--targets-file', targetsFile];
    const store = new CalibrationStore(env().SPEEDRUN_CALIBRATION_DIR);
    const first = cli(args, env());
    const runs13 = () => new RunStore(store.recordDir('slow', 13)).list();
    await waitUntil('record 13 training', () => runs13().some((m) => m.state === 'training'));
    process.kill(first.pid, 'SIGINT');
    const stopped = await first.done;
    assert.equal(stopped.code, 1);
    assert.match(stopped.stderr, /detached; the current run goes on\. Run the same command again to resume/);
    const again = await cli(args, env()).done;
    assert.equal(again.code, 0, again.stderr);
    assert.equal(runs13().length, 1, 'the interrupted run was followed to its end, not started again');
    assert.equal(runs13()[0].state, 'finished');
    assert.equal(new RunStore(store.recordDir('slow', 14)).list().length, 1);
    assert.equal(store.record('slow', 13)?.n, 1);
  });

  test('calibrate --all: the cost estimate first, and nothing starts without a yes', async () => {
    const fresh = { SPEEDRUN_CALIBRATION_DIR: path.join(dir, 'calibration-all') };
    const r = await cli(['calibrate', '--all', '--target', 'sim', '--runs', '1', '--benchmark', BENCH, '--targets-file', targetsFile], fresh).done;
    assert.equal(r.code, 0, r.stderr);
    // Records 1-21 once each at the paper's times: 14,802.7 s of training (sum of the manifest's train times).
    assert.match(r.stderr, /\[calibrate\] 21 run\(s\) still to do on sim, about 4 h 07 min of training \(the paper's times/);
    assert.match(r.stderr, /nothing started: add --yes to start without asking/);
    assert.ok(!fs.existsSync(new CalibrationStore(fresh.SPEEDRUN_CALIBRATION_DIR).recordDir('sim', 1)));
    const bad = await cli(['calibrate', '--task', '6', '--target', 'sim', '--targets-file', targetsFile], env()).done;
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /there is no task '6'/);
  });
});

suite('integration: repeats and calibration over real sshd', function () {
  this.timeout(120_000);
  let s: Sshd;
  let targetsFile: string;
  let sshConfig: string;
  let calDir: string;

  suiteSetup(async () => {
    s = await startSshd();
    const uid = ensureUser(s.user).uid;
    const shards = makeShards(path.join(s.boxDir, 'data'), 12, uid);
    sshConfig = writeSshConfig(s);
    targetsFile = path.join(s.dir, 'targets.json');
    calDir = tempDir('speedrun-stats-cal-');
    fs.writeFileSync(targetsFile, JSON.stringify([
      { name: 'box', kind: 'ssh', host: 'box', remoteDir: path.join(s.boxDir, 'work'), ...shards, env: { SIM_SPEEDUP: '2000', SIM_COMPILE_SECONDS: '1' } },
    ]));
  });
  suiteTeardown(async () => {
    await s?.stop();
    removeTemps();
  });

  test('run --repeat 3 --interleave-baseline over ssh', async () => {
    await repeatsWithBaseline(['--target', 'box', '--targets-file', targetsFile, '--ssh-config', sshConfig], { SPEEDRUN_CALIBRATION_DIR: calDir });
  });

  test('calibrate --task 12 over ssh stores the box times', async () => {
    const r = await cli(['calibrate', '--task', '12', '--target', 'box', '--runs', '2', '--benchmark', BENCH, '--targets-file', targetsFile, '--ssh-config', sshConfig], { SPEEDRUN_CALIBRATION_DIR: calDir }).done;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /record 12: 3\d\d\.\d ± \d+\.\d s \(n 2\)/);
    assert.match(r.stdout, /record 13 here scores FSR (0\.9|1\.0)\d against the paper's times/);
    const t = new CalibrationStore(calDir).taskTimes('box', 12)!;
    assert.ok(t.baselineMs > t.targetMs, JSON.stringify(t));
  });
});

suite('integration: repeats on a real Slurm cluster', function () {
  this.timeout(240_000);
  let cluster: SlurmCluster;
  let targetsFile: string;
  let calDir: string;

  suiteSetup(async () => {
    cluster = await startSlurm();
    const base = tempDir('speedrun-stats-slurm-');
    fs.chmodSync(base, 0o755);
    const shards = makeShards(path.join(base, 'data'), 12);
    calDir = path.join(base, 'calibration');
    targetsFile = path.join(base, 'targets.json');
    fs.writeFileSync(targetsFile, JSON.stringify([{
      name: 'cluster', kind: 'slurm', partition: cluster.partition, gpuType: cluster.gpuType, gpus: 8, setup: cluster.simSetup,
      remoteDir: path.join(base, 'work'), ...shards, env: { SIM_SPEEDUP: '2000', SIM_COMPILE_SECONDS: '1' },
    }]));
  });
  suiteTeardown(() => {
    cluster?.stop();
    removeTemps();
  });

  test('run --repeat 3 --interleave-baseline as Slurm jobs', async () => {
    await repeatsWithBaseline(['--target', 'cluster', '--targets-file', targetsFile], { SPEEDRUN_CALIBRATION_DIR: calDir });
  });
});
