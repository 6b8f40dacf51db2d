// Runs end to end against a REAL OpenSSH sshd on 127.0.0.1 with the simulated GPU box on the user's PATH.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { RunStore } from '../../src/core/runs/store';
import type { RunMeta } from '../../src/core/runs/types';
import { ensureUser, startSshd, type Sshd } from '../support/sshd';
import { harness, liveInGroup, liveUnder, makeShards, makeTask, removeTemps, tempDir } from '../support/runFixture';

/** Every `step:k/N` train line of a log, in order. */
function trainSteps(log: string): number[] {
  return [...log.matchAll(/^step:(\d+)\/\d+ (?:train_loss:\S+ )?train_time/gm)].map((m) => Number(m[1]));
}

function pgidOf(meta: RunMeta): number {
  return Number(fs.readFileSync(path.join(meta.remoteDir!, 'pgid'), 'utf8'));
}

suite('integration: runs over real sshd', function () {
  this.timeout(60_000);
  let s: Sshd;
  let shards: { trainFiles: string; valFiles: string };
  let uid: number;

  suiteSetup(async () => {
    s = await startSshd();
    uid = ensureUser(s.user).uid;
    shards = makeShards(path.join(s.boxDir, 'data'), 12, uid);
  });
  suiteTeardown(async () => {
    await s?.stop();
    removeTemps();
  });

  const fast = { SIM_SPEEDUP: '400', SIM_COMPILE_SECONDS: '20' };

  test('a full run streams every line in order and stores the run with benchmark-format results', async () => {
    const task = makeTask({ record: 12, steps: 40, valEvery: 10 });
    const h = harness(s, { target: { ...shards, env: fast } });
    const meta = h.manager.enqueue({ taskDir: task, target: 'box' });
    const end = await h.manager.waitForEnd(meta.runId);
    assert.equal(end.state, 'finished', JSON.stringify(end.failure));
    assert.equal(end.exitCode, 0);
    assert.equal(end.simulated, true);

    const store = new RunStore(task);
    const local = store.readConsole(meta.runId).toString('utf8');
    const remote = fs.readFileSync(path.join(end.remoteDir!, 'console.log'), 'utf8');
    assert.equal(local, remote, 'local console.log is byte-identical to the box');
    assert.equal(h.output(meta.runId), remote, 'the output events carry exactly the log');
    assert.deepEqual(trainSteps(local), Array.from({ length: 40 }, (_, i) => i + 1));

    const results = store.readResults(meta.runId)!;
    assert.equal(results.status, 'COMPLETED');
    assert.equal(results.metrics.n_steps, 40);
    const lastVal = [...local.matchAll(/^step:40\/40 val_loss:([\d.]+) train_time:(\d+)ms/gm)][0];
    assert.equal(results.metrics.val_loss, Number(lastVal[1]));
    assert.equal(results.metrics.train_time, Number(lastVal[2]));
    assert.equal(results.metrics.is_valid, Number(lastVal[1]) <= 3.28);

    assert.match(end.scriptLog ?? '', /^logs\/[0-9a-f-]{36}\.txt$/);
    assert.equal(
      fs.readFileSync(path.join(store.dir(meta.runId), end.scriptLog!), 'utf8'),
      fs.readFileSync(path.join(end.remoteDir!, end.scriptLog!), 'utf8'),
    );
    assert.equal(store.script(meta.runId).toString(), fs.readFileSync(path.join(task, 'train_gpt2.py'), 'utf8'));
    const stored = store.read(meta.runId)!;
    assert.equal(stored.state, 'finished');
    assert.equal(stored.target, 'box');
    assert.ok(stored.startedAt && stored.endedAt);
    assert.equal(stored.preflight?.gpus, 8);
    assert.equal(stored.preflight?.torch, '2.7.1+simulated');
    // The state machine went through every phase, in order.
    const states = h.events.filter((e) => e.type === 'state' && e.runId === meta.runId).map((e) => (e as { state: string }).state);
    const firsts = states.filter((x, i) => states.indexOf(x) === i);
    assert.deepEqual(firsts.slice(0, 6), ['queued', 'connecting', 'preflight', 'uploading', 'compiling', 'training']);
    assert.equal(states[states.length - 1], 'finished');
    // The lock is released for the next run.
    assert.equal(fs.existsSync(path.join(s.boxDir, 'work', 'lock')), false);
  });

  test('cancel ends the whole process group (SIGTERM) and leaves no process behind', async () => {
    const task = makeTask({ steps: 2000, valEvery: 500 });
    const h = harness(s, { target: { ...shards, env: { SIM_SPEEDUP: '5', SIM_COMPILE_SECONDS: '1' } } });
    const meta = h.manager.enqueue({ taskDir: task, target: 'box' });
    await h.until(meta.runId, (e) => e.type === 'state' && e.state === 'training');
    const pgid = pgidOf(h.manager.get(meta.runId)!);
    assert.ok(liveInGroup(pgid).length >= 9, `torchrun + 8 workers alive before cancel: ${liveInGroup(pgid)}`);
    await h.manager.cancel(meta.runId);
    const end = await h.manager.waitForEnd(meta.runId);
    assert.equal(end.state, 'cancelled');
    assert.deepEqual(liveInGroup(pgid), []);
    assert.deepEqual(liveUnder(end.remoteDir!, uid), []);
    assert.equal(new RunStore(task).readResults(meta.runId)!.status, 'CANCELLED');
    assert.match(h.output(meta.runId), /Received 15 death signal, shutting down workers/);
  });

  test('cancel escalates to SIGKILL when a process ignores SIGTERM', async () => {
    const task = makeTask({ steps: 2000, valEvery: 500 });
    const h = harness(s, {
      target: { ...shards, env: { SIM_SPEEDUP: '5', SIM_COMPILE_SECONDS: '1', SIM_IGNORE_SIGTERM: '1' } },
      manager: { cancelGraceMs: () => 1000 },
    });
    const meta = h.manager.enqueue({ taskDir: task, target: 'box' });
    await h.until(meta.runId, (e) => e.type === 'state' && e.state === 'training');
    const pgid = pgidOf(h.manager.get(meta.runId)!);
    await h.manager.cancel(meta.runId);
    const end = await h.manager.waitForEnd(meta.runId);
    assert.equal(end.state, 'cancelled');
    assert.equal(end.failure ?? null, null);
    assert.deepEqual(liveInGroup(pgid), []);
    assert.doesNotMatch(h.output(meta.runId), /death signal/, 'the stubborn process never handled TERM');
  });

  test('killing sshd mid-run and starting it again ends with the complete log, no gaps or duplicates', async () => {
    const task = makeTask({ steps: 120, valEvery: 40 });
    const h = harness(s, { target: { ...shards, env: { SIM_SPEEDUP: '4', SIM_COMPILE_SECONDS: '1', SIM_VAL_SECONDS: '1' } } });
    const meta = h.manager.enqueue({ taskDir: task, target: 'box' });
    await h.until(meta.runId, (e) => e.type === 'log' && e.event.type === 'train' && e.event.step >= 20);
    s.kill();
    await h.until(meta.runId, (e) => e.type === 'state' && /reconnecting/.test(e.detail ?? ''));
    await new Promise((r) => setTimeout(r, 1500));
    const before = h.events.filter((e) => e.type === 'log' && e.event.type === 'train').length;
    assert.ok(before < 100, `still running when sshd comes back (${before} steps seen)`);
    await s.start();
    await h.until(meta.runId, (e) => e.type === 'log' && e.event.type === 'train' && e.event.step >= before + 5);
    // The box hung up the follower of the dropped connection: one tail, not one per connection.
    const tails = liveUnder(h.manager.get(meta.runId)!.remoteDir!, uid).filter((p) => / tail -c /.test(` ${p.split(' ').slice(1).join(' ')}`));
    assert.equal(tails.length, 1, tails.join('\n'));
    const end = await h.manager.waitForEnd(meta.runId);
    assert.equal(end.state, 'finished', JSON.stringify(end.failure));
    const local = new RunStore(task).readConsole(meta.runId).toString('utf8');
    assert.equal(local, fs.readFileSync(path.join(end.remoteDir!, 'console.log'), 'utf8'));
    assert.equal(h.output(meta.runId), local);
    assert.deepEqual(trainSteps(local), Array.from({ length: 120 }, (_, i) => i + 1));
    assert.equal(h.events.filter((e) => e.runId === meta.runId && e.type === 'log' && e.event.type === 'train').length, 120);
  });

  test('a crashing script ends as failed with its exit code and the error', async () => {
    const task = makeTask({ steps: 40, valEvery: 10 });
    const h = harness(s, { target: { ...shards, env: { ...fast, SIM_FAULT: 'exception@7' } } });
    const meta = h.manager.enqueue({ taskDir: task, target: 'box' });
    const end = await h.manager.waitForEnd(meta.runId);
    assert.equal(end.state, 'failed');
    assert.equal(end.exitCode, 1);
    assert.equal(end.error?.kind, 'exception');
    assert.match(end.error?.message ?? '', /simulated failure at step 7/);
    assert.equal(new RunStore(task).readResults(meta.runId)!.status, 'FAILED');
    assert.match(h.output(meta.runId), /Root Cause \(first observed failure\)/);
  });

  test('preflight fails on too few data shards, naming the count the record needs', async () => {
    const few = makeShards(path.join(s.boxDir, 'few'), 3, uid);
    const task = makeTask({ record: 12 });
    const h = harness(s, { target: { ...few, env: fast } });
    const meta = h.manager.enqueue({ taskDir: task, target: 'box' });
    const end = await h.manager.waitForEnd(meta.runId);
    assert.equal(end.state, 'failed');
    assert.equal(end.failure?.stage, 'preflight');
    assert.match(end.failure!.message, /Only 3 training shards match NANOGPT_TRAIN_FILES=.*record 12 reads at least 10/);
    assert.equal(end.startedAt, undefined, 'nothing was launched');
  });

  test('preflight fails on a missing val file and on a wrong GPU count', async () => {
    const task = makeTask();
    const h = harness(s, { target: { trainFiles: shards.trainFiles, valFiles: path.join(s.boxDir, 'nope', 'val_*.bin'), setup: 'export SIM_GPUS=4', env: fast } });
    const meta = h.manager.enqueue({ taskDir: task, target: 'box' });
    const end = await h.manager.waitForEnd(meta.runId);
    assert.equal(end.failure?.stage, 'preflight');
    assert.match(end.failure!.message, /Expected 8 GPUs on box .* but nvidia-smi shows 4/);
    assert.match(end.failure!.message, /validation file NANOGPT_VAL_FILES=.*nope\/val_\*\.bin does not exist/);
  });

  test('preflight fails when another process holds GPU memory', async () => {
    const task = makeTask();
    const h = harness(s, { target: { ...shards, env: { ...fast, SIM_GPU_BUSY: '4242:30000' } } });
    const end = await h.manager.waitForEnd(h.manager.enqueue({ taskDir: task, target: 'box' }).runId);
    assert.match(end.failure?.message ?? '', /Other processes hold GPU memory .*pid 4242 \(30000 MiB\)/);
  });

  test('a run past the time limit is stopped on the box and marked timed out', async () => {
    const task = makeTask({ steps: 2000, valEvery: 500 });
    const h = harness(s, { target: { ...shards, env: { SIM_SPEEDUP: '5', SIM_COMPILE_SECONDS: '1' } }, manager: { timeLimitMs: () => 3000, cancelGraceMs: () => 1000 } });
    const meta = h.manager.enqueue({ taskDir: task, target: 'box' });
    const end = await h.manager.waitForEnd(meta.runId);
    assert.equal(end.state, 'timed-out');
    assert.equal(new RunStore(task).readResults(meta.runId)!.status, 'TIMEOUT');
    assert.deepEqual(liveUnder(end.remoteDir!, uid), []);
  });

  test('one run at a time per target: later runs wait in the queue and can be removed', async () => {
    const task = makeTask({ steps: 40, valEvery: 20 });
    const h = harness(s, { target: { ...shards, env: fast } });
    const a = h.manager.enqueue({ taskDir: task, target: 'box' });
    const b = h.manager.enqueue({ taskDir: task, target: 'box' });
    const c = h.manager.enqueue({ taskDir: task, target: 'box' });
    assert.equal(h.manager.position(b.runId), 1);
    h.manager.removeQueued(c.runId);
    assert.equal(fs.existsSync(new RunStore(task).dir(c.runId)), false);
    await h.until(a.runId, (e) => e.type === 'state' && e.state === 'training');
    assert.equal(h.manager.get(b.runId)!.state, 'queued');
    const endA = await h.manager.waitForEnd(a.runId);
    const endB = await h.manager.waitForEnd(b.runId);
    assert.equal(endA.state, 'finished');
    assert.equal(endB.state, 'finished');
    assert.ok(endB.startedAt! >= endA.endedAt!, 'b started after a ended');
    assert.deepEqual(h.manager.list(task).map((m) => m.runId), [a.runId, b.runId]);
  });

  test('the lock on the box keeps a second editor waiting until the first run ends', async () => {
    const task1 = makeTask({ steps: 120, valEvery: 60 });
    const task2 = makeTask({ steps: 20, valEvery: 10 });
    const ed1 = harness(s, { target: { ...shards, env: { SIM_SPEEDUP: '4', SIM_COMPILE_SECONDS: '1' } } });
    const ed2 = harness(s, { target: { ...shards, env: fast } });
    const a = ed1.manager.enqueue({ taskDir: task1, target: 'box' });
    await ed1.until(a.runId, (e) => e.type === 'state' && e.state === 'training');
    const b = ed2.manager.enqueue({ taskDir: task2, target: 'box' });
    const busy = await ed2.until(b.runId, (e) => e.type === 'state' && /waiting for/.test(e.detail ?? ''));
    assert.match((busy as { detail: string }).detail, new RegExp(a.runId));
    const endA = await ed1.manager.waitForEnd(a.runId);
    const endB = await ed2.manager.waitForEnd(b.runId);
    assert.equal(endB.state, 'finished');
    // The lock is free once A's process has exited on the box (its exit_code file), which can be before
    // editor 1 has fetched A's logs and written endedAt: compare the box's own marks.
    const mtime = (f: string) => fs.statSync(f).mtimeMs;
    assert.ok(mtime(path.join(endB.remoteDir!, 'pgid')) >= mtime(path.join(endA.remoteDir!, 'exit_code')),
      'B was launched only after A had exited on the box');
  });

  test('a new session re-attaches to a launched run and completes its log without duplicates', async () => {
    const task = makeTask({ steps: 100, valEvery: 50 });
    const env = { SIM_SPEEDUP: '4', SIM_COMPILE_SECONDS: '1' };
    const first = harness(s, { target: { ...shards, env } });
    const meta = first.manager.enqueue({ taskDir: task, target: 'box' });
    await first.until(meta.runId, (e) => e.type === 'log' && e.event.type === 'train' && e.event.step >= 10);
    first.manager.dispose(); // the window closes; the run goes on
    assert.equal(new RunStore(task).read(meta.runId)!.state, 'training');
    await new Promise((r) => setTimeout(r, 500));

    const second = harness(s, { target: { ...shards, env } });
    assert.deepEqual(second.manager.resume(task).map((m) => m.runId), [meta.runId]);
    const end = await second.manager.waitForEnd(meta.runId);
    assert.equal(end.state, 'finished');
    assert.ok(second.events.some((e) => e.type === 'state' && e.detail === 're-attached'));
    assert.ok(second.events.some((e) => e.type === 'log' && e.event.type === 'train'), 'the new session streamed live steps');
    const local = new RunStore(task).readConsole(meta.runId).toString('utf8');
    assert.equal(local, fs.readFileSync(path.join(end.remoteDir!, 'console.log'), 'utf8'));
    assert.deepEqual(trainSteps(local), Array.from({ length: 100 }, (_, i) => i + 1));
  });

  test("a target's env values never appear in a command line on the box (ps), yet reach the script", async () => {
    const secret = `sk-${randomBytes(12).toString('hex')}`;
    const task = makeTask({ steps: 60, valEvery: 30 });
    const h = harness(s, { target: { ...shards, env: { SIM_SPEEDUP: '20', SIM_COMPILE_SECONDS: '1', WANDB_API_KEY: secret } } });
    // Every command line on the machine, sampled from before preflight to the end of the run.
    const leaks = new Set<string>();
    let scans = 0;
    const scan = () => {
      scans++;
      for (const d of fs.readdirSync('/proc')) {
        if (!/^\d+$/.test(d)) continue;
        try {
          const args = fs.readFileSync(`/proc/${d}/cmdline`, 'utf8');
          if (args.includes(secret)) leaks.add(args.replace(/\0/g, ' '));
        } catch {
          /* gone */
        }
      }
    };
    const timer = setInterval(scan, 2);
    try {
      const meta = h.manager.enqueue({ taskDir: task, target: 'box' });
      await h.until(meta.runId, (e) => e.type === 'state' && e.state === 'training');
      const ps = execFileSync('ps', ['-eo', 'args'], { encoding: 'utf8' });
      assert.equal(ps.includes(secret), false, 'ps -eo args shows the value');
      const environs = liveInGroup(pgidOf(h.manager.get(meta.runId)!)).map((p) => {
        try {
          return fs.readFileSync(`/proc/${p.split(' ')[0]}/environ`, 'utf8');
        } catch {
          return '';
        }
      });
      assert.ok(environs.some((e) => e.split('\0').includes(`WANDB_API_KEY=${secret}`)), 'the script has the value in its environment');
      const end = await h.manager.waitForEnd(meta.runId);
      assert.equal(end.state, 'finished', JSON.stringify(end.failure));
      const files = fs.readdirSync(end.remoteDir!, { recursive: true }).map((f) => path.join(end.remoteDir!, String(f))).filter((f) => fs.statSync(f).isFile());
      assert.deepEqual(files.filter((f) => fs.readFileSync(f).includes(secret)), [], 'no file in the run dir keeps it');
    } finally {
      clearInterval(timer);
    }
    assert.ok(scans > 20, `sampled the process table ${scans} times`);
    assert.deepEqual([...leaks], []);
  });

  test('names with spaces, quotes, $() and ; stay inert in every remote command', async () => {
    const evil = `we ird'"$(touch PWNED);x\`id\``;
    const parent = tempDir('speedrun-evil-');
    const task = makeTask({ parent, name: `task ${evil}`, steps: 20, valEvery: 10 });
    const remoteDir = path.join(s.boxDir, `remote ${evil}`);
    const data = makeShards(path.join(s.boxDir, `data ${evil}`), 12, uid);
    const h = harness(s, { target: { ...data, remoteDir, env: { ...fast, EXTRA: `$(touch PWNED2); 'q' "d" ;` } } });
    const meta = h.manager.enqueue({ taskDir: task, target: 'box' });
    const end = await h.manager.waitForEnd(meta.runId);
    assert.equal(end.state, 'finished', JSON.stringify(end.failure));
    assert.equal(end.remoteDir, path.join(remoteDir, 'runs', meta.runId));
    assert.ok(fs.existsSync(path.join(end.remoteDir!, 'train_gpt2.py')));
    assert.match(h.output(meta.runId), new RegExp(`files matching ${data.trainFiles.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    const pwned = (dir: string) => fs.readdirSync(dir, { recursive: true }).map(String).filter((f) => /PWNED/.test(f) && !f.includes(evil));
    assert.deepEqual(pwned(s.boxDir), []);
    assert.deepEqual(pwned(parent), []);
    for (const d of [process.cwd(), os.homedir(), '/home/' + s.user, '/tmp']) assert.equal(fs.existsSync(path.join(d, 'PWNED')) || fs.existsSync(path.join(d, 'PWNED2')), false);
  });
});
