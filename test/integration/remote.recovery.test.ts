// Picking up after an interrupted CLI, against a real sshd with the simulated box: `speedrun attach`, `cancel` of a
// run that already ended on the box, and the box lock of a CLI killed before its run launched.
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatLockOwner } from '../../src/core/remote/launchers/detached';
import { processStartMs } from '../../src/core/processOwner';
import { RunStore } from '../../src/core/runs/store';
import { cli } from '../support/cli';
import { harness, makeShards, makeTask, removeTemps, writeSshConfig } from '../support/runFixture';
import { ensureUser, startSshd, type Sshd } from '../support/sshd';

const RUN_ID = /run (\d{8}-\d{6}-[0-9a-f]{4}) on/;

/** Every `step:k/N` train line of a log, in order. */
const trainSteps = (log: string) => [...log.matchAll(/^step:(\d+)\/\d+ (?:train_loss:\S+ )?train_time/gm)].map((m) => Number(m[1]));

async function until(cond: () => boolean, what: string, ms = 30_000) {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

suite('integration: picking up interrupted runs over real sshd', function () {
  this.timeout(60_000);
  let s: Sshd;
  let targetsFile: string;
  let sshConfig: string;
  let work: string;
  let shards: { trainFiles: string; valFiles: string };

  suiteSetup(async () => {
    s = await startSshd();
    const uid = ensureUser(s.user).uid;
    shards = makeShards(path.join(s.boxDir, 'data'), 12, uid);
    work = path.join(s.boxDir, 'work');
    fs.mkdirSync(work);
    fs.chownSync(work, uid, uid);
    sshConfig = writeSshConfig(s);
    targetsFile = path.join(s.dir, 'targets.json');
    const box = { kind: 'ssh', host: 'box', remoteDir: work, ...shards };
    fs.writeFileSync(
      targetsFile,
      JSON.stringify([
        { name: 'fast', ...box, env: { SIM_SPEEDUP: '400', SIM_COMPILE_SECONDS: '1' } },
        { name: 'slow', ...box, env: { SIM_SPEEDUP: '6', SIM_COMPILE_SECONDS: '1' } },
        // Preflight takes a while: time to kill the CLI before its run launches.
        { name: 'stuck', ...box, setup: 'sleep 4', env: { SIM_SPEEDUP: '400' } },
      ]),
    );
  });
  suiteTeardown(async () => {
    await s?.stop();
    removeTemps();
  });

  const common = () => ['--targets-file', targetsFile, '--ssh-config', sshConfig];

  test('a CLI killed during preflight does not keep the next run waiting: its lock is freed at once', async () => {
    const first = cli(['run', '--target', 'stuck', '--task-dir', makeTask(), ...common()]);
    const [, stale] = await first.waitFor(RUN_ID);
    await first.waitFor(/\[speedrun\] preflight/);
    first.kill('SIGKILL');
    await first.code;
    const lock = fs.readFileSync(path.join(work, 'lock'), 'utf8').trim().split(' ');
    assert.equal(lock[0], stale);
    assert.equal(lock[1], os.hostname());
    assert.match(lock[2], /^\d+$/, 'the lock names the pid that took it');

    const next = cli(['run', '--target', 'fast', '--task-dir', makeTask({ steps: 20, valEvery: 10 }), ...common()]);
    const outcome = await Promise.race([next.code.then((c) => `exit ${c}`), next.waitFor(/waiting for/).then(() => 'queued')]);
    assert.equal(outcome, 'exit 0', next.stderr());
    assert.match(next.stderr(), new RegExp(`freed the target lock of run ${stale}: the process that took it \\(pid ${lock[2]} on [^)]+\\) is gone`));
    assert.equal(fs.existsSync(path.join(work, 'lock')), false, 'the next run released its own lock');
  });

  test('a lock held by a live process is kept, and the queued message says how to free it by hand', async () => {
    const held = '20200101-000000-beef';
    fs.writeFileSync(path.join(work, 'lock'), formatLockOwner({ runId: held, machine: os.hostname(), pid: process.pid, startMs: processStartMs(process.pid) }) + '\n');
    fs.mkdirSync(path.join(work, 'runs', held), { recursive: true });
    const h = harness(s, { target: { ...shards, remoteDir: work, env: { SIM_SPEEDUP: '400', SIM_COMPILE_SECONDS: '1' } } });
    const meta = h.manager.enqueue({ taskDir: makeTask({ steps: 20, valEvery: 10 }), target: 'box' });
    const e = await h.until(meta.runId, (ev) => ev.type === 'state' && /waiting for/.test(ev.detail ?? ''));
    const detail = (e as { detail: string }).detail;
    assert.match(detail, new RegExp(`waiting for ${held} \\(pid ${process.pid} on [^)]+\\)`));
    const cmd = /free the target with: (ssh .*)$/.exec(detail)?.[1];
    assert.equal(cmd, `ssh box 'rm -f ${path.join(work, 'lock')}'`);
    assert.equal(h.manager.get(meta.runId)!.state, 'queued');
    // Do what the message says, with this test's ssh config.
    execFileSync('bash', ['-c', cmd!.replace(/^ssh /, `ssh -F ${sshConfig} -o BatchMode=yes `)]);
    const end = await h.manager.waitForEnd(meta.runId);
    assert.equal(end.state, 'finished', JSON.stringify(end.failure));
  });

  test('cancel of a run that already finished on the box says so and stores its real results', async () => {
    const task = makeTask({ steps: 30, valEvery: 10 });
    const run = cli(['run', '--target', 'fast', '--task-dir', task, ...common()]);
    const [, runId] = await run.waitFor(RUN_ID);
    await run.waitFor(/\[speedrun\] compiling/);
    run.kill('SIGKILL'); // the CLI dies; the run goes on and finishes on the box
    await run.code;
    const store = new RunStore(task);
    const remoteDir = store.read(runId)!.remoteDir!;
    await until(() => fs.existsSync(path.join(remoteDir, 'exit_code')), 'the run to end on the box');

    const cancel = cli(['cancel', runId, '--task-dir', task, ...common()]);
    assert.equal(await cancel.code, 0, cancel.stderr());
    assert.match(cancel.stderr(), /already ended on fast before the cancel; storing its real results/);
    assert.match(cancel.stderr(), new RegExp(`run ${runId} finished \\(exit code 0\\)`));
    const m = store.read(runId)!;
    assert.equal(m.state, 'finished');
    const results = store.readResults(runId)!;
    assert.equal(results.status, 'COMPLETED');
    assert.equal(results.metrics.n_steps, 30);
    assert.equal(results.metrics.is_valid, results.metrics.val_loss! <= 3.28);
    assert.equal(fs.existsSync(path.join(remoteDir, 'cancelled')), false, 'no cancelled mark on the box');
    assert.equal(store.readConsole(runId).toString(), fs.readFileSync(path.join(remoteDir, 'console.log'), 'utf8'));

    // attach on an ended run only reports it.
    const again = cli(['attach', runId, '--task-dir', task, ...common()]);
    assert.equal(await again.code, 0);
    assert.match(again.stderr(), new RegExp(`run ${runId} finished`));
  });

  test('attach follows a run left by a killed CLI from where the store stopped, then stores its results', async () => {
    const task = makeTask({ steps: 80, valEvery: 40 });
    const run = cli(['run', '--target', 'slow', '--task-dir', task, ...common()]);
    const [, runId] = await run.waitFor(RUN_ID);
    await run.waitFor(/^step:10\/80 /m);
    run.kill('SIGKILL');
    await run.code;
    const store = new RunStore(task);
    const before = store.consoleSize(runId);
    assert.equal(store.read(runId)!.state, 'training');

    const attach = cli(['attach', runId, '--task-dir', task, ...common()]);
    assert.equal(await attach.code, 0, attach.stderr());
    const local = store.readConsole(runId).toString();
    assert.equal(local, fs.readFileSync(path.join(store.read(runId)!.remoteDir!, 'console.log'), 'utf8'));
    assert.equal(attach.stdout(), local.slice(before), 'stdout carries the output from where the store stopped');
    assert.deepEqual(trainSteps(local), Array.from({ length: 80 }, (_, i) => i + 1));
    assert.match(attach.stderr(), new RegExp(`run ${runId} finished \\(exit code 0\\)`));
    assert.equal(store.readResults(runId)!.status, 'COMPLETED');
    assert.equal(store.readResults(runId)!.metrics.n_steps, 80);
    assert.equal(fs.existsSync(store.file(runId, 'owner.pid')), false);
  });

  test('Ctrl-C on run detaches and prints the attach command, which picks the run up again', async () => {
    const task = makeTask({ steps: 60, valEvery: 30 });
    const run = cli(['run', '--target', 'slow', '--task-dir', task, ...common()]);
    const [, runId] = await run.waitFor(RUN_ID);
    await run.waitFor(/^step:5\/60 /m);
    run.kill('SIGINT');
    assert.equal(await run.code, 1);
    const [, again] = run.stderr().match(/Follow it again with: (speedrun attach \S+ --task-dir "[^"]+")/) ?? [];
    assert.equal(again, `speedrun attach ${runId} --task-dir ${JSON.stringify(task)}`);
    const attach = cli([...again.split(' ').slice(1, 4), task, ...common()]);
    assert.equal(await attach.code, 0, attach.stderr());
    const store = new RunStore(task);
    assert.equal(store.readResults(runId)!.status, 'COMPLETED');
    assert.deepEqual(trainSteps(store.readConsole(runId).toString()), Array.from({ length: 60 }, (_, i) => i + 1));
  });

  test('attach while the first CLI still follows the run streams the same output; both end finished', async () => {
    // Long enough that the second CLI starts well before the run ends, even on a busy machine.
    const task = makeTask({ steps: 240, valEvery: 120 });
    const run = cli(['run', '--target', 'slow', '--task-dir', task, ...common()]);
    const [, runId] = await run.waitFor(RUN_ID);
    await run.waitFor(/^step:5\/240 /m);
    const attach = cli(['attach', runId, '--task-dir', task, ...common()]);
    assert.equal(await run.code, 0, run.stderr());
    assert.equal(await attach.code, 0, attach.stderr());
    assert.match(attach.stderr(), /followed by another process/);
    const local = new RunStore(task).readConsole(runId).toString();
    assert.ok(attach.stdout().length > 0 && local.endsWith(attach.stdout()), 'attach printed the tail of the log as it grew');
    assert.match(attach.stdout(), /^step:240\/240 val_loss:/m);
    assert.equal(run.stdout(), local, 'one writer: the log is stored once');
  });

  test('attach names a missing run or a run that never launched in one sentence (exit 3)', async () => {
    const task = makeTask();
    const missing = cli(['attach', '20200101-000000-0000', '--task-dir', task, ...common()]);
    assert.equal(await missing.code, 3);
    assert.match(missing.stderr(), /^speedrun attach: no run 20200101-000000-0000 in .*\n$/);
    const store = new RunStore(task);
    store.create({ runId: '20200101-000000-0001', taskId: 12, target: 'fast', state: 'queued', createdAt: new Date().toISOString(), scriptSha256: '' }, Buffer.from(''));
    const queued = cli(['attach', '20200101-000000-0001', '--task-dir', task, ...common()]);
    assert.equal(await queued.code, 3);
    assert.match(queued.stderr(), /was never launched .* start a new one with: speedrun run/);
  });
});
