// The run engine driven by a fake launcher (core/runs/launcher.ts): a box in memory whose console, exit code and
// connection drops the test controls. The real launcher runs against a real sshd in test/integration.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { ConnectionLostError, type Executor } from '../../src/core/remote/executor';
import { parseTargets } from '../../src/core/remote/targets';
import { RunEngine } from '../../src/core/runs/engine';
import type { Launched, LauncherStatus, Placement, RunLauncher } from '../../src/core/runs/launcher';
import type { PreflightOutcome } from '../../src/core/runs/preflight';
import { newRunId, RunStore, sha256 } from '../../src/core/runs/store';
import type { RunEvent, RunMeta } from '../../src/core/runs/types';

const LOG = [
  'step:0/4 val_loss:10.8590 train_time:0ms step_avg:nanms\n',
  'step:1/4 train_loss:10.8612 train_time:200ms step_avg:nanms\n',
  'step:2/4 train_loss:9.1361 train_time:400ms step_avg:200.00ms\n',
  'step:3/4 train_loss:6.4841 train_time:600ms step_avg:200.00ms\n',
  'step:4/4 train_loss:3.2905 train_time:800ms step_avg:200.00ms\n',
  'step:4/4 val_loss:3.2736 train_time:800ms step_avg:200.00ms\n',
];

/** The box: the run's console.log, whether something of it lives, its exit code. */
class Box {
  console = Buffer.alloc(0);
  alive = false;
  exit: number | null = null;
  cancelled = false;
  private waiters = new Set<() => void>();
  write(s: string) {
    this.console = Buffer.concat([this.console, Buffer.from(s)]);
    this.notify();
  }
  end(code: number | null) {
    this.exit = code;
    this.alive = false;
    this.notify();
  }
  notify() {
    for (const w of [...this.waiters]) w();
  }
  changed(): Promise<void> {
    return new Promise((r) => {
      const w = () => {
        this.waiters.delete(w);
        r();
      };
      this.waiters.add(w);
    });
  }
}

class FakeExecutor implements Executor {
  readonly label = 'fake';
  closed = false;
  uploads: string[] = [];
  constructor(private readonly box: Box) {}
  exec(): Promise<never> {
    return Promise.reject(new Error('the engine must reach the box only through its launcher'));
  }
  async upload(_local: string, remote: string) {
    this.uploads.push(remote);
  }
  close() {
    this.closed = true;
    this.box.notify();
  }
}

class FakeLauncher implements RunLauncher {
  calls: string[] = [];
  followOffsets: number[] = [];
  /** place() answers busy this many times first. */
  busy = 0;
  /** status() reports the run as waiting in a scheduler's queue this many times first. */
  waiting = 0;
  /** The next follow drops its connection after delivering what it has. */
  dropNextFollow = false;
  preflightErrors: string[] = [];
  endReason?: string;
  constructor(readonly box: Box) {}

  async place(_x: Executor, meta: RunMeta): Promise<Placement> {
    this.calls.push('place');
    if (this.busy > 0) {
      this.busy--;
      return { placed: false, holder: 'run 20260101-000000-abcd', howToFree: 'remove /box/lock by hand if that run is gone' };
    }
    return { placed: true, runDir: `/box/runs/${meta.runId}` };
  }
  async release() {
    this.calls.push('release');
  }
  async preflight(): Promise<PreflightOutcome> {
    this.calls.push('preflight');
    return { report: { gpus: 8, python: '3.12', torch: '2.7', trainShards: 10, freeDiskMiB: 9999, warnings: [] }, errors: this.preflightErrors };
  }
  async launch(): Promise<Launched> {
    this.calls.push('launch');
    this.box.alive = true;
    return { detail: 'started (fake)' };
  }
  async follow(x: Executor, _meta: RunMeta, offset: number, onBytes: (b: Buffer) => void): Promise<void> {
    this.calls.push('follow');
    this.followOffsets.push(offset);
    if (this.waiting > 0) return; // nothing runs yet
    let pos = offset;
    for (;;) {
      if ((x as FakeExecutor).closed) throw new ConnectionLostError('closed');
      if (this.box.console.length > pos) {
        onBytes(this.box.console.subarray(pos));
        pos = this.box.console.length;
        if (this.dropNextFollow) {
          this.dropNextFollow = false;
          throw new ConnectionLostError('connection reset');
        }
      }
      if (this.box.exit !== null || !this.box.alive) return;
      await this.box.changed();
    }
  }
  async status(): Promise<LauncherStatus> {
    this.calls.push('status');
    const b = this.box;
    if (this.waiting > 0) {
      this.waiting--;
      return { launched: true, alive: true, exit: null, timedOut: false, cancelled: false, consoleSize: 0, logs: [], waiting: true, schedulerState: 'PENDING (Resources)' };
    }
    return { launched: true, alive: b.alive, exit: b.exit, timedOut: false, cancelled: b.cancelled, consoleSize: b.console.length, logs: [], endReason: this.endReason };
  }
  async read(_x: Executor, _meta: RunMeta, rel: string, offset: number): Promise<Buffer> {
    this.calls.push(`read ${rel}@${offset}`);
    return this.box.console.subarray(offset);
  }
  async cancel(): Promise<{ ended?: boolean; problem?: string }> {
    this.calls.push('cancel');
    if (this.box.exit !== null) return { ended: true };
    this.box.cancelled = true;
    this.box.write('Received 15 death signal, shutting down workers\n');
    this.box.end(1);
    return {};
  }
  resumed?: RunMeta;
  resume(meta: RunMeta) {
    this.calls.push('resume');
    this.resumed = meta;
  }
}

suite('runs: engine with a fake launcher', () => {
  let dir: string;
  setup(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-engine-'))));
  teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

  const target = parseTargets([{ name: 'box', kind: 'local', remoteDir: '/box', gpus: 8 }]).targets[0];

  function rig(meta?: Partial<RunMeta>, consoleBytes = '') {
    const store = new RunStore(dir);
    const m: RunMeta = { runId: newRunId(), taskId: 12, target: 'box', state: 'queued', createdAt: new Date().toISOString(), scriptSha256: sha256('print(1)\n'), ...meta };
    store.create(m, Buffer.from('print(1)\n'));
    if (consoleBytes) store.appendConsole(m.runId, Buffer.from(consoleBytes));
    const box = new Box();
    const launcher = new FakeLauncher(box);
    const events: RunEvent[] = [];
    const waiters = new Set<() => void>();
    const executors: FakeExecutor[] = [];
    const engine = new RunEngine(
      {
        store,
        target,
        launcher,
        connect: async () => {
          const x = new FakeExecutor(box);
          executors.push(x);
          return x;
        },
        backoff: { initialMs: 5, maxMs: 20 },
        lockRetryMs: 5,
        emit: (e) => {
          events.push(e);
          for (const w of [...waiters]) w();
        },
      },
      m,
    );
    const until = (pred: (e: RunEvent) => boolean) =>
      new Promise<RunEvent>((resolve) => {
        const check = () => {
          const hit = events.find(pred);
          if (hit) {
            waiters.delete(check);
            resolve(hit);
          }
        };
        waiters.add(check);
        check();
      });
    const details = () => events.flatMap((e) => (e.type === 'state' && e.detail ? [e.detail] : []));
    const output = () => events.map((e) => (e.type === 'output' ? e.text : '')).join('');
    return { store, box, launcher, engine, events, until, details, output, executors, runId: m.runId };
  }

  const firstStates = (events: RunEvent[]) => {
    const s = events.flatMap((e) => (e.type === 'state' ? [e.state] : []));
    return s.filter((x, i) => s.indexOf(x) === i);
  };

  test('a run goes through every state, stores its console byte for byte and ends with benchmark results', async () => {
    const r = rig();
    void r.engine.start();
    await r.until((e) => e.type === 'state' && e.state === 'compiling');
    for (const line of LOG) r.box.write(line);
    r.box.end(0);
    const end = await r.engine.done;
    assert.equal(end.state, 'finished');
    assert.equal(end.exitCode, 0);
    assert.deepEqual(firstStates(r.events), ['connecting', 'preflight', 'uploading', 'compiling', 'training', 'validating', 'finished']);
    assert.equal(r.store.readConsole(r.runId).toString(), LOG.join(''));
    assert.equal(r.output(), LOG.join(''));
    assert.deepEqual(r.store.readResults(r.runId), { status: 'COMPLETED', metrics: { n_steps: 4, val_loss: 3.2736, train_time: 800, is_valid: true } });
    assert.equal(r.store.read(r.runId)!.remoteDir, `/box/runs/${r.runId}`);
    assert.deepEqual(r.executors[0].uploads, [`/box/runs/${r.runId}/train_gpt2.py`]);
    assert.ok(r.details().includes('started (fake)'));
    // The target is freed before anyone hears that the run ended, and only then.
    assert.equal(r.launcher.calls.filter((c) => c === 'release').length, 1);
    assert.equal(r.launcher.calls.at(-1), 'release');
    assert.equal(fs.existsSync(r.store.file(r.runId, 'owner.pid')), false);
    assert.equal(r.events.at(-1)!.type, 'ended');
  });

  test('a busy target queues the run with how to free it, then runs it once the place is free', async () => {
    const r = rig();
    r.launcher.busy = 2;
    void r.engine.start();
    await r.until((e) => e.type === 'state' && e.state === 'compiling');
    r.box.end(0);
    await r.engine.done;
    assert.equal(r.launcher.calls.filter((c) => c === 'place').length, 3);
    const waiting = r.details().filter((d) => /^waiting for run 20260101-000000-abcd/.test(d));
    assert.equal(waiting.length, 2);
    assert.match(waiting[0], /remove \/box\/lock by hand/);
  });

  test('after a dropped follow it reconnects and follows on from the stored byte offset: nothing lost or repeated', async () => {
    const r = rig();
    void r.engine.start();
    await r.until((e) => e.type === 'state' && e.state === 'compiling');
    r.box.write(LOG[0] + LOG[1]);
    await r.until(() => r.output().length === (LOG[0] + LOG[1]).length);
    r.launcher.dropNextFollow = true;
    r.box.write(LOG[2]);
    await r.until((e) => e.type === 'state' && /reconnecting/.test(e.detail ?? ''));
    for (const line of LOG.slice(3)) r.box.write(line);
    r.box.end(0);
    const end = await r.engine.done;
    assert.equal(end.state, 'finished');
    assert.deepEqual(r.launcher.followOffsets, [0, (LOG[0] + LOG[1] + LOG[2]).length]);
    assert.equal(r.executors.length, 2, 'a fresh connection after the drop');
    assert.equal(r.executors[0].closed, true);
    assert.equal(r.store.readConsole(r.runId).toString(), LOG.join(''));
    assert.equal(r.output(), LOG.join(''));
    assert.equal(r.events.filter((e) => e.type === 'log' && e.event.type === 'train').length, 4);
  });

  test('cancel after launch stops the run through the launcher and stores CANCELLED', async () => {
    const r = rig();
    void r.engine.start();
    await r.until((e) => e.type === 'state' && e.state === 'compiling');
    r.box.write(LOG[0] + LOG[1]);
    await r.until((e) => e.type === 'state' && e.state === 'training');
    await r.engine.cancel();
    const end = await r.engine.done;
    assert.equal(end.state, 'cancelled');
    assert.equal(r.launcher.calls.filter((c) => c === 'cancel').length, 1);
    assert.equal(r.store.readResults(r.runId)!.status, 'CANCELLED');
    assert.match(r.store.readConsole(r.runId).toString(), /death signal/);
    assert.ok(r.launcher.calls.includes('release'));
  });

  test('cancel of a run that has already ended on the box keeps its real results and says so', async () => {
    const prior = LOG.join('');
    const r = rig({ state: 'training', remoteDir: '/box/runs/x', startedAt: new Date().toISOString() }, LOG[0]);
    r.box.write(prior);
    r.box.end(0); // it finished while nobody watched
    void r.engine.attach();
    await r.engine.cancel();
    const end = await r.engine.done;
    assert.equal(end.state, 'finished');
    assert.equal(r.store.readResults(r.runId)!.status, 'COMPLETED');
    assert.ok(r.details().some((d) => /already ended on box before the cancel/.test(d)));
    assert.equal(r.store.readConsole(r.runId).toString(), prior);
  });

  test('cancel while waiting for the target ends the run without launching it', async () => {
    const r = rig();
    r.launcher.busy = 1000;
    void r.engine.start();
    await r.until((e) => e.type === 'state' && e.state === 'queued');
    await r.engine.cancel();
    const end = await r.engine.done;
    assert.equal(end.state, 'cancelled');
    assert.equal(r.launcher.calls.includes('launch'), false);
    assert.equal(r.launcher.calls.includes('release'), false, 'it never held the target');
    assert.equal(end.startedAt, undefined);
  });

  test('a failed preflight fails the run at that stage and frees the target', async () => {
    const r = rig();
    r.launcher.preflightErrors = ['Expected 8 GPUs but nvidia-smi shows 4.'];
    const end = await r.engine.start();
    assert.equal(end.state, 'failed');
    assert.deepEqual(end.failure, { stage: 'preflight', message: 'Expected 8 GPUs but nvidia-smi shows 4.' });
    assert.deepEqual(r.launcher.calls, ['place', 'preflight', 'release']);
    assert.equal(r.store.readResults(r.runId)!.status, 'FAILED');
  });

  test('re-attach resumes the launcher from meta.json and follows from the bytes stored locally', async () => {
    const prior = LOG[0] + LOG[1] + LOG[2];
    const r = rig({ state: 'training', remoteDir: '/box/runs/x', startedAt: new Date().toISOString() }, prior);
    r.box.alive = true;
    r.box.write(prior);
    void r.engine.attach();
    await r.until((e) => e.type === 'state' && e.detail === 're-attached');
    for (const line of LOG.slice(3)) r.box.write(line);
    r.box.end(0);
    const end = await r.engine.done;
    assert.equal(end.state, 'finished');
    assert.equal(r.launcher.resumed?.remoteDir, '/box/runs/x');
    assert.deepEqual(r.launcher.followOffsets, [prior.length]);
    assert.equal(r.output(), LOG.slice(3).join(''), 'only the new bytes are streamed');
    assert.equal(r.store.readConsole(r.runId).toString(), LOG.join(''));
    assert.equal(r.store.readResults(r.runId)!.metrics.n_steps, 4);
    assert.ok(r.launcher.calls.includes('release'));
  });

  test('a run waiting in a scheduler queue is polled, its scheduler state shown once, then followed', async () => {
    const r = rig();
    r.launcher.waiting = 3;
    void r.engine.start();
    await r.until((e) => e.type === 'state' && e.detail === 'PENDING (Resources)');
    for (const line of LOG) r.box.write(line);
    r.box.end(0);
    const end = await r.engine.done;
    assert.equal(end.state, 'finished');
    assert.equal(r.details().filter((d) => d === 'PENDING (Resources)').length, 1);
    // Launched but waiting: the run is `queued` with the scheduler's reason, and nothing is followed meanwhile.
    assert.ok(r.events.some((e) => e.type === 'state' && e.state === 'queued' && e.detail === 'PENDING (Resources)'));
    assert.equal(r.launcher.followOffsets.length, 1);
    assert.equal(r.store.readConsole(r.runId).toString(), LOG.join(''));
  });

  test('cancel of a launched run still waiting in the scheduler queue goes through the launcher (scancel), not just the record', async () => {
    const r = rig();
    r.launcher.waiting = 1000;
    void r.engine.start();
    await r.until((e) => e.type === 'state' && e.state === 'queued' && e.detail === 'PENDING (Resources)');
    assert.equal(r.store.read(r.runId)?.schedulerState, 'PENDING (Resources)');
    r.launcher.waiting = 0;
    await r.engine.cancel();
    const end = await r.engine.done;
    assert.equal(end.state, 'cancelled');
    assert.ok(r.launcher.calls.includes('cancel'), r.launcher.calls.join(' '));
  });

  test("a launcher's end reason becomes the failure of a run that ended without an exit code", async () => {
    const r = rig();
    r.launcher.endReason = 'The job ended NODE_FAIL.';
    void r.engine.start();
    await r.until((e) => e.type === 'state' && e.state === 'compiling');
    r.box.write(LOG[0]);
    r.box.end(null);
    const end = await r.engine.done;
    assert.equal(end.state, 'failed');
    assert.deepEqual(end.failure, { stage: 'stream', message: 'The job ended NODE_FAIL.' });
  });

  test('detach stops following without touching the run; the record stays live for a later attach', async () => {
    const r = rig();
    void r.engine.start();
    await r.until((e) => e.type === 'state' && e.state === 'compiling');
    r.box.write(LOG[0] + LOG[1]);
    await r.until((e) => e.type === 'state' && e.state === 'training');
    r.engine.detach();
    r.box.write(LOG[2]);
    await new Promise((res) => setTimeout(res, 30));
    assert.equal(r.store.read(r.runId)!.state, 'training');
    assert.equal(r.launcher.calls.includes('cancel'), false);
    assert.equal(r.launcher.calls.includes('release'), false);
    assert.equal(r.store.readConsole(r.runId).toString(), LOG[0] + LOG[1]);
    assert.equal(fs.existsSync(r.store.file(r.runId, 'owner.pid')), false);
  });
});
