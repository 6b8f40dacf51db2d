// Runs on a real Slurm (single-node cluster started by test/support/slurm.ts) against the SIMULATED GPU box's
// torchrun: submit, stream, PENDING, cancel, failure, time limit, a login node over our sshd that drops, re-attach
// and a job array. Needs root, slurm-wlm and munge (scripts/ensure-deps.sh).
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { connectTarget } from '../../src/core/remote/connect';
import { parseTargets, type Target } from '../../src/core/remote/targets';
import { RunManager } from '../../src/core/runs/manager';
import { RunStore } from '../../src/core/runs/store';
import type { RunEvent, RunMeta } from '../../src/core/runs/types';
import { makeShards, makeTask, removeTemps, shortScript, tempDir, writeSshConfig } from '../support/runFixture';
import { holdGpus, squeueState, startSlurm, type SlurmCluster } from '../support/slurm';
import { ensureUser, REPO_ROOT, startSshd, type Sshd } from '../support/sshd';

const FAST = { SIM_SPEEDUP: '400', SIM_COMPILE_SECONDS: '0', SIM_VAL_SECONDS: '0' };

interface H {
  manager: RunManager;
  events: RunEvent[];
  until(runId: string, pred: (e: RunEvent) => boolean, timeoutMs?: number): Promise<RunEvent>;
  output(runId: string): string;
}

function harness(target: Target, sshConfig?: string): H {
  const events: RunEvent[] = [];
  const waiters = new Set<() => void>();
  const manager = new RunManager({
    targets: () => [target],
    connect: (t) => connectTarget(t, { confirmHostKey: async () => false, resolve: sshConfig ? { configFile: sshConfig } : undefined }),
    timeLimitMs: () => 10 * 60_000,
    cancelGraceMs: () => 2_000,
    backoff: { initialMs: 200, maxMs: 1_000 },
    lockRetryMs: 1_000,
  });
  manager.onEvent((e) => {
    events.push(e);
    for (const w of [...waiters]) w();
  });
  return {
    manager,
    events,
    output: (runId) => events.map((e) => (e.type === 'output' && e.runId === runId ? e.text : '')).join(''),
    until: (runId, pred, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const hit = events.find((e) => e.runId === runId && pred(e));
          if (hit) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(hit);
          }
        };
        const timer = setTimeout(() => (waiters.delete(check), reject(new Error(`timed out waiting for an event of ${runId}`))), timeoutMs);
        waiters.add(check);
        check();
      }),
  };
}

function slurmTarget(c: SlurmCluster, extra: Record<string, unknown>): Target {
  const { targets, errors } = parseTargets([{ name: 'cluster', kind: 'slurm', partition: c.partition, gpuType: c.gpuType, gpus: 8, setup: c.simSetup, ...extra }]);
  assert.deepEqual(errors, []);
  return targets[0];
}

/** Live processes whose working directory is under `dir` (what a job left behind). */
function processesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      if (fs.readlinkSync(`/proc/${d}/cwd`).startsWith(dir)) out.push(`${d} ${fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

suite('slurm: runs on a real Slurm cluster', function () {
  this.timeout(180_000);
  let cluster: SlurmCluster;
  let base: string;
  let target: Target;

  suiteSetup(async () => {
    cluster = await startSlurm();
    base = tempDir('speedrun-slurm-');
    fs.chmodSync(base, 0o755);
    const shards = makeShards(path.join(base, 'data'), 12);
    target = slurmTarget(cluster, { remoteDir: path.join(base, 'work'), ...shards, env: FAST });
  });
  suiteTeardown(() => {
    spawnSync('scancel', ['--user=root'], { stdio: 'ignore' });
    cluster?.stop();
    removeTemps();
  });

  test('a run is one sbatch job: job id stored, output streamed equals the job output file, results from log + Slurm state', async () => {
    const h = harness(target);
    const task = makeTask({ steps: 30, valEvery: 10 });
    const meta = h.manager.enqueue({ taskDir: task, target: 'cluster' });
    const end = await h.manager.waitForEnd(meta.runId);
    assert.equal(end.state, 'finished', JSON.stringify(end.failure ?? end.error));
    assert.match(end.slurmJobId ?? '', /^\d+$/);
    assert.equal(end.schedulerState, 'COMPLETED');
    const store = new RunStore(task);
    const stored = store.read(meta.runId)!;
    assert.equal(stored.slurmJobId, end.slurmJobId);
    const remote = fs.readFileSync(path.join(end.remoteDir!, 'console.log'), 'utf8');
    assert.match(remote, /SIMULATED torchrun/);
    assert.equal(h.output(meta.runId), remote);
    assert.equal(store.readConsole(meta.runId).toString('utf8'), remote);
    assert.equal(squeueState(end.slurmJobId!).state, 'COMPLETED');
    assert.deepEqual(store.readResults(meta.runId)?.status, 'COMPLETED');
    assert.equal(store.readResults(meta.runId)?.metrics.n_steps, 30);
    // The script's own log was fetched at the end.
    assert.ok(end.scriptLog && fs.existsSync(store.file(meta.runId, end.scriptLog)), `scriptLog ${end.scriptLog}`);
    // The job saw unbuffered python and the rendezvous on a port of its own.
    const job = fs.readFileSync(path.join(end.remoteDir!, 'job.sh'), 'utf8');
    assert.match(job, /export PYTHONUNBUFFERED=1/);
    assert.match(job, /--rdzv_endpoint=127\.0\.0\.1:\$\{port:-29500\}/);
    h.manager.dispose();
  });

  test("PENDING with Slurm's reason while another job holds every GPU; it runs once they are free", async () => {
    const blocker = holdGpus(8, 300);
    try {
      const h = harness(slurmTarget(cluster, { ...target, env: { ...FAST, SIM_SPEEDUP: '3' } }));
      const task = makeTask({ steps: 150, valEvery: 50 });
      const meta = h.manager.enqueue({ taskDir: task, target: 'cluster' });
      const pending = await h.until(meta.runId, (e) => e.type === 'state' && e.state === 'queued' && /PENDING \(waiting: (Resources|Priority)\)/.test(e.detail ?? ''), 30_000);
      assert.ok(pending);
      const m = new RunStore(task).read(meta.runId)!;
      assert.equal(m.state, 'queued');
      assert.match(m.schedulerState ?? '', /^PENDING \(waiting: /);
      assert.equal(squeueState(m.slurmJobId!).state, 'PENDING');
      spawnSync('scancel', [blocker]);
      const end = await h.manager.waitForEnd(meta.runId);
      assert.equal(end.state, 'finished');
      assert.ok(h.events.some((e) => e.runId === meta.runId && e.type === 'state' && e.state === 'compiling' && e.detail === 'RUNNING'));
      h.manager.dispose();
    } finally {
      spawnSync('scancel', [blocker]);
    }
  });

  test('no lock of ours: two runs on the same target run at the same time when Slurm has room', async () => {
    const h = harness(slurmTarget(cluster, { ...target, gpus: 4, env: { ...FAST, SIM_SPEEDUP: '3' } }));
    const a = h.manager.enqueue({ taskDir: makeTask({ steps: 60, valEvery: 30 }), target: 'cluster' });
    const b = h.manager.enqueue({ taskDir: makeTask({ steps: 60, valEvery: 30 }), target: 'cluster' });
    await Promise.all([a, b].map((m) => h.until(m.runId, (e) => e.type === 'log' && e.event.type === 'train', 60_000)));
    // Both have streamed a training line while neither has ended.
    assert.ok(!h.events.some((e) => e.type === 'ended'));
    const [ea, eb] = await Promise.all([a, b].map((m) => h.manager.waitForEnd(m.runId)));
    assert.deepEqual([ea.state, eb.state], ['finished', 'finished']);
    assert.notEqual(ea.slurmJobId, eb.slurmJobId);
    h.manager.dispose();
  });

  test('speedrun cancel of a job still PENDING: scancel, CANCELLED in Slurm and in results.json', async () => {
    const blocker = holdGpus(8, 300);
    try {
      const task = makeTask({ steps: 10, valEvery: 10 });
      const targetsFile = path.join(base, 'targets-cancel.json');
      fs.writeFileSync(targetsFile, JSON.stringify([target]));
      const cli = spawn('node', [path.join(REPO_ROOT, 'dist/cli.js'), 'run', '--target', 'cluster', '--task-dir', task, '--targets-file', targetsFile], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      cli.stderr.on('data', (b) => (err += b));
      const t0 = Date.now();
      while (!/PENDING \(waiting: (Resources|Priority)/.test(err) && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 100));
      assert.match(err, /queued: PENDING \(waiting: (Resources|Priority)\)/);
      cli.kill('SIGKILL');
      await new Promise((r) => cli.once('close', r));
      const stored = new RunStore(task).list()[0];
      const r = spawnSync('node', [path.join(REPO_ROOT, 'dist/cli.js'), 'cancel', stored.runId, '--task-dir', task, '--targets-file', targetsFile], { encoding: 'utf8', timeout: 90_000 });
      assert.equal(r.status, 0, r.stderr);
      assert.equal(squeueState(stored.slurmJobId!).state, 'CANCELLED');
      assert.equal(new RunStore(task).read(stored.runId)?.state, 'cancelled');
      assert.equal(new RunStore(task).readResults(stored.runId)?.status, 'CANCELLED');
    } finally {
      spawnSync('scancel', [blocker]);
    }
  });

  test('Slurm requeues the job mid-run: PENDING again, then followed on; the run ends with the second attempt', async () => {
    const h = harness(slurmTarget(cluster, { ...target, env: { ...FAST, SIM_SPEEDUP: '3' } }));
    const task = makeTask({ steps: 100, valEvery: 50 });
    const meta = h.manager.enqueue({ taskDir: task, target: 'cluster' });
    await h.until(meta.runId, (e) => e.type === 'log' && e.event.type === 'train', 60_000);
    const jobId = new RunStore(task).read(meta.runId)!.slurmJobId!;
    assert.equal(spawnSync('scontrol', ['requeue', jobId]).status, 0);
    await h.until(meta.runId, (e) => e.type === 'state' && e.state === 'queued' && /^PENDING/.test(e.detail ?? ''), 30_000);
    // Slurm holds a requeued job back for two minutes (BeginTime); let it go now (again, until it runs).
    for (let i = 0; i < 30 && squeueState(jobId).state !== 'RUNNING'; i++) {
      spawnSync('scontrol', ['update', `JobId=${jobId}`, 'StartTime=now']);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const end = await h.manager.waitForEnd(meta.runId);
    assert.equal(end.state, 'finished', JSON.stringify(end.failure ?? end.error));
    assert.equal(end.schedulerState, 'COMPLETED');
    const remote = fs.readFileSync(path.join(end.remoteDir!, 'console.log'), 'utf8');
    assert.match(remote, /DUE TO JOB REQUEUE/);
    assert.equal((remote.match(/SIMULATED torchrun/g) ?? []).length, 2);
    assert.equal(h.output(meta.runId), remote);
    assert.equal(end.final?.n_steps, 100);
    h.manager.dispose();
  });

  test('cancel uses scancel: job CANCELLED, results CANCELLED, no process of the job left', async () => {
    const h = harness(slurmTarget(cluster, { ...target, env: { ...FAST, SIM_SPEEDUP: '5' } }));
    const task = makeTask({ steps: 400, valEvery: 100 });
    const meta = h.manager.enqueue({ taskDir: task, target: 'cluster' });
    await h.until(meta.runId, (e) => e.type === 'log' && e.event.type === 'train', 60_000);
    await h.manager.cancel(meta.runId);
    const end = await h.manager.waitForEnd(meta.runId);
    assert.equal(end.state, 'cancelled');
    assert.equal(squeueState(end.slurmJobId!).state, 'CANCELLED');
    assert.equal(new RunStore(task).readResults(meta.runId)?.status, 'CANCELLED');
    assert.deepEqual(processesUnder(end.remoteDir!), []);
    h.manager.dispose();
  });

  test('a failing script: FAILED with the root cause from the log and Slurm\'s exit code', async () => {
    const h = harness(slurmTarget(cluster, { ...target, env: { ...FAST, SIM_FAULT: 'exception@3' } }));
    const task = makeTask({ steps: 20, valEvery: 10 });
    const meta = h.manager.enqueue({ taskDir: task, target: 'cluster' });
    const end = await h.manager.waitForEnd(meta.runId);
    assert.equal(end.state, 'failed');
    assert.equal(end.exitCode, 1);
    assert.match(end.schedulerState ?? '', /^FAILED \(exit code 1\)/);
    assert.ok(end.error, 'the log parser found the root cause');
    assert.equal(new RunStore(task).readResults(meta.runId)?.status, 'FAILED');
    h.manager.dispose();
  });

  test("the job's time limit: Slurm ends it as TIMEOUT (Slurm counts whole minutes, so this takes about 90 s)", async function () {
    this.timeout(240_000);
    // The user's sbatchArgs come last and win over the target's time limit.
    const h = harness(slurmTarget(cluster, { ...target, gpus: 1, sbatchArgs: ['--time=1'], env: { ...FAST, SIM_FAULT: 'hang@3' } }));
    const task = makeTask({ steps: 20, valEvery: 10 });
    const meta = h.manager.enqueue({ taskDir: task, target: 'cluster' });
    const end = await h.manager.waitForEnd(meta.runId);
    assert.equal(end.state, 'timed-out');
    assert.equal(end.schedulerState, 'TIMEOUT');
    assert.equal(new RunStore(task).readResults(meta.runId)?.status, 'TIMEOUT');
    assert.match(fs.readFileSync(path.join(end.remoteDir!, 'console.log'), 'utf8'), /DUE TO TIME LIMIT/);
    h.manager.dispose();
  });

  test('data the login node cannot see: a preflight warning that says so, then the job stops on its node with the reason', async () => {
    const h = harness(slurmTarget(cluster, { ...target, trainFiles: path.join(base, 'node-local', 'fineweb_train_*.bin') }));
    const task = makeTask({ steps: 10, valEvery: 10 });
    const meta = h.manager.enqueue({ taskDir: task, target: 'cluster' });
    const end = await h.manager.waitForEnd(meta.runId);
    const warning = h.events.find((e) => e.runId === meta.runId && e.type === 'state' && /^warning: NANOGPT_TRAIN_FILES=/.test(e.detail ?? ''));
    assert.ok(warning && /can only be checked inside the job/.test((warning as { detail: string }).detail), 'the login-node check said what it could not check');
    assert.equal(end.state, 'failed');
    assert.equal(end.exitCode, 2);
    assert.match(end.schedulerState ?? '', /^FAILED \(exit code 2\)/);
    assert.match(new RunStore(task).readConsole(meta.runId).toString(), /speedrun: no training shards match NANOGPT_TRAIN_FILES=.*node-local.* on node /);
    h.manager.dispose();
  });

  test('a job array: three runs in one sbatch, at most two at once, each followed to its end', async () => {
    const h = harness(slurmTarget(cluster, { ...target, gpus: 2 }));
    const tasks = [makeTask({ steps: 10, valEvery: 10 }), makeTask({ steps: 12, valEvery: 12 })];
    // The third runs a script of its own (as a search would), not its task's train_gpt2.py.
    const metas = await h.manager.enqueueBatch({ taskDirs: [tasks[0], tasks[1], tasks[0]], scripts: [undefined, undefined, shortScript(12, 8, 8)], target: 'cluster', parallel: 2 });
    assert.equal(metas.length, 3);
    const arrayId = metas[0].slurmJobId!.split('_')[0];
    assert.deepEqual(metas.map((m) => m.slurmJobId), [0, 1, 2].map((i) => `${arrayId}_${i}`));
    const ends = await Promise.all(metas.map((m) => h.manager.waitForEnd(m.runId)));
    assert.deepEqual(ends.map((e) => e.state), ['finished', 'finished', 'finished']);
    assert.deepEqual(ends.map((e) => e.final?.n_steps), [10, 12, 8]);
    for (const e of ends) assert.equal(h.output(e.runId), fs.readFileSync(path.join(e.remoteDir!, 'console.log'), 'utf8'));
    const job = spawnSync('scontrol', ['show', 'job', '-o', arrayId], { encoding: 'utf8' }).stdout;
    assert.match(job, /ArrayTaskThrottle=2/);
    h.manager.dispose();
  });

  test('re-attach by job id after the CLI is killed mid-run: speedrun attach, then a window reload finds it ended', async () => {
    const task = makeTask({ steps: 150, valEvery: 50 });
    const targetsFile = path.join(base, 'targets.json');
    fs.writeFileSync(targetsFile, JSON.stringify([{ ...target, env: { ...FAST, SIM_SPEEDUP: '3' } }]));
    const cli = spawn('node', [path.join(REPO_ROOT, 'dist/cli.js'), 'run', '--target', 'cluster', '--task-dir', task, '--targets-file', targetsFile], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    cli.stderr.on('data', (b) => (err += b));
    let out = '';
    cli.stdout.on('data', (b) => (out += b));
    const t0 = Date.now();
    while (!/step:\d+\/150/.test(out) && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 100));
    cli.kill('SIGKILL');
    await new Promise((r) => cli.once('close', r));
    const store = new RunStore(task);
    const stored = store.list()[0];
    assert.ok(stored?.slurmJobId, `the CLI stored the job id before it died (stderr: ${err})`);
    assert.match(err, new RegExp(`Slurm job ${stored.slurmJobId}`));
    const attach = spawnSync('node', [path.join(REPO_ROOT, 'dist/cli.js'), 'attach', stored.runId, '--task-dir', task, '--targets-file', targetsFile], { encoding: 'utf8', timeout: 120_000 });
    assert.equal(attach.status, 0, attach.stderr);
    const end = store.read(stored.runId)!;
    assert.equal(end.state, 'finished');
    assert.equal(end.slurmJobId, stored.slurmJobId);
    assert.equal(store.readResults(stored.runId)?.status, 'COMPLETED');
    // A window reload afterwards: nothing left to follow, the run is ended.
    const h = harness(slurmTarget(cluster, { ...target, env: { ...FAST, SIM_SPEEDUP: '30' } }));
    assert.equal((h.manager.attach(task, stored.runId, true) as RunMeta).state, 'finished');
    const remote = fs.readFileSync(path.join(end.remoteDir!, 'console.log'));
    assert.ok(store.readConsole(stored.runId).equals(remote), 'local console.log equals the job output: nothing lost or repeated');
    h.manager.dispose();
  });
});

suite('slurm: a login node over ssh', function () {
  this.timeout(180_000);
  let cluster: SlurmCluster;
  let s: Sshd;

  suiteSetup(async () => {
    cluster = await startSlurm();
    s = await startSshd();
  });
  suiteTeardown(async () => {
    await s?.stop();
    cluster?.stop();
    removeTemps();
  });

  test('sbatch on the login node; the connection drops mid-job and the stream resumes with 0 lines lost or repeated', async () => {
    const { uid } = ensureUser(s.user);
    const shards = makeShards(path.join(s.boxDir, 'data'), 12, uid);
    const cfg = writeSshConfig(s);
    const target = slurmTarget(cluster, { host: 'box', remoteDir: path.join(s.boxDir, 'work'), ...shards, env: { ...FAST, SIM_SPEEDUP: '20' } });
    const h = harness(target, cfg);
    const task = makeTask({ steps: 120, valEvery: 40 });
    const meta = h.manager.enqueue({ taskDir: task, target: 'cluster' });
    await h.until(meta.runId, (e) => e.type === 'log' && e.event.type === 'train' && e.event.step >= 5, 60_000);
    s.kill();
    await new Promise((r) => setTimeout(r, 1500));
    await s.start();
    const end = await h.manager.waitForEnd(meta.runId);
    assert.equal(end.state, 'finished', JSON.stringify(end.failure));
    assert.ok(h.events.some((e) => e.runId === meta.runId && e.type === 'state' && /reconnecting/.test(e.detail ?? '')), 'the drop was noticed');
    const remote = fs.readFileSync(path.join(end.remoteDir!, 'console.log'), 'utf8');
    assert.equal(h.output(meta.runId), remote);
    const steps = [...remote.matchAll(/step:(\d+)\/120 train_time/g)].map((m) => Number(m[1]));
    assert.deepEqual(steps, [...new Set(steps)]);
    // The job ran as the login user, as on a real cluster.
    const owner = spawnSync('scontrol', ['show', 'job', '-o', end.slurmJobId!], { encoding: 'utf8' }).stdout;
    assert.match(owner, new RegExp(`UserId=${s.user}\\(`));
    h.manager.dispose();
  });
});
