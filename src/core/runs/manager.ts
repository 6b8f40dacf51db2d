// The run queue and the one object the editor and the CLI talk to: one run at a time per target (the box
// holds a lock file too, for other editors), later runs wait in order and can be removed; runs of an earlier
// session are re-attached or re-queued.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { getRecord } from '../benchmark/catalog';
import { tryReadTaskFile } from '../benchmark/taskFile';
import { fsReason } from '../files';
import type { RecordFacts } from '../benchmark/types';
import type { Executor } from '../remote/executor';
import { createLauncher } from '../remote/launchers';
import type { Target } from '../remote/targets';
import { RunEngine } from './engine';
import { ownerGone, thisProcess } from '../processOwner';
import { newRunId, RunStore, SCRIPT, sha256 } from './store';
import { TERMINAL_STATES, type RunEvent, type RunMeta, type RunStage } from './types';

export interface ManagerOptions {
  /** Current targets (settings may change between runs). */
  targets(): Target[];
  connect(target: Target): Promise<Executor>;
  timeLimitMs(): number;
  cancelGraceMs(): number;
  backoff?: { initialMs: number; maxMs: number };
  lockRetryMs?: number;
  minFreeDiskMiB?: number;
  log?(msg: string): void;
}

export class RunError extends Error {}

/** The task's starting record, when the folder is a task workspace. */
export function taskRecord(taskDir: string): RecordFacts | undefined {
  const t = tryReadTaskFile(taskDir);
  return t && getRecord(t.fromRecord);
}

function taskId(taskDir: string): number {
  return tryReadTaskFile(taskDir)?.taskId ?? 0;
}

export class RunManager {
  private readonly engines = new Map<string, RunEngine>();
  /** Per target: the running engine first, then the waiting ones in order. */
  private readonly lanes = new Map<string, RunEngine[]>();
  private readonly listeners = new Set<(e: RunEvent) => void>();

  constructor(private readonly o: ManagerOptions) {}

  onEvent(l: (e: RunEvent) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit = (e: RunEvent) => {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.o.log?.(`run event listener failed: ${(err as Error).message}`);
      }
    }
  };

  private target(name: string): Target {
    const t = this.o.targets().find((x) => x.name === name);
    if (!t) throw new RunError(`No target named '${name}'. Configure it in speedrun.targets (or the CLI's targets file).`);
    return t;
  }

  private launcher(target: Target, taskDir?: string) {
    return createLauncher({
      target,
      timeLimitMs: this.o.timeLimitMs(),
      cancelGraceMs: this.o.cancelGraceMs(),
      record: taskDir === undefined ? undefined : taskRecord(taskDir),
      minFreeDiskMiB: this.o.minFreeDiskMiB ?? 1024,
    });
  }

  /** The target's scheduler queues runs itself (Slurm) and takes several as one job array (enqueueBatch). */
  batches(targetName: string): boolean {
    const l = this.launcher(this.target(targetName));
    return !!l.queuesItself && !!l.launchBatch;
  }

  private engine(store: RunStore, target: Target, meta: RunMeta): RunEngine {
    const e = new RunEngine(
      {
        store,
        target,
        connect: () => this.o.connect(target),
        launcher: this.launcher(target, store.taskDir),
        backoff: this.o.backoff,
        lockRetryMs: this.o.lockRetryMs,
        emit: this.emit,
        log: this.o.log,
      },
      meta,
    );
    this.engines.set(meta.runId, e);
    return e;
  }

  /**
   * Snapshot the task's script (or `script`, e.g. one node of an agent's search) and queue a run of it on
   * `targetName`.
   */
  enqueue(opts: { taskDir: string; target: string; origin?: RunMeta['origin']; script?: string }): RunMeta {
    const target = this.target(opts.target);
    const store = new RunStore(opts.taskDir);
    let script: Buffer;
    try {
      script = opts.script !== undefined ? Buffer.from(opts.script) : fs.readFileSync(path.join(opts.taskDir, SCRIPT));
    } catch {
      throw new RunError(`No ${SCRIPT} in ${opts.taskDir}.`);
    }
    const meta: RunMeta = {
      runId: newRunId(),
      taskId: taskId(opts.taskDir),
      target: target.name,
      state: 'queued',
      createdAt: new Date().toISOString(),
      scriptSha256: sha256(script),
      origin: opts.origin,
    };
    try {
      store.create(meta, script);
    } catch (e) {
      const reason = fsReason(e);
      if (!reason) throw e;
      throw new RunError(`Cannot store the run in ${store.root}: ${reason} (${(e as NodeJS.ErrnoException).path ?? store.root}).`);
    }
    this.push(this.engine(store, target, meta));
    return meta;
  }

  /**
   * Run the script of each task dir (a dir may repeat; `scripts[i]`, when given, instead of its train_gpt2.py) as one
   * job array on a target whose launcher supports it
   * (Slurm), at most `parallel` at once: one preflight, one sbatch. Each run is then followed like any other.
   * Throws RunError when preflight or submission fails (the runs' records are then marked failed).
   */
  async enqueueBatch(opts: { taskDirs: string[]; target: string; parallel?: number; origin?: RunMeta['origin']; scripts?: (string | undefined)[] }): Promise<RunMeta[]> {
    const target = this.target(opts.target);
    const launcher = this.launcher(target, opts.taskDirs[0]);
    if (!launcher.launchBatch) throw new RunError(`Target '${target.name}' (${target.kind}) cannot run a batch as one job; queue the runs one by one.`);
    if (!opts.taskDirs.length) return [];
    const ids = new Set<string>();
    const runs = opts.taskDirs.map((taskDir, i) => {
      let script: Buffer;
      try {
        const text = opts.scripts?.[i];
        script = text !== undefined ? Buffer.from(text) : fs.readFileSync(path.join(taskDir, SCRIPT));
      } catch {
        throw new RunError(`No ${SCRIPT} in ${taskDir}.`);
      }
      let runId = newRunId();
      while (ids.has(runId)) runId = newRunId();
      ids.add(runId);
      const meta: RunMeta = {
        runId, taskId: taskId(taskDir), target: target.name, state: 'queued', createdAt: new Date().toISOString(), scriptSha256: sha256(script), origin: opts.origin,
        submitter: thisProcess(),
      };
      const store = new RunStore(taskDir);
      store.create(meta, script);
      return { store, meta };
    });
    const x = await this.o.connect(target);
    const fail = (stage: RunStage, message: string) => {
      for (const r of runs) {
        const m: RunMeta = { ...r.meta, submitter: undefined, state: 'failed', endedAt: new Date().toISOString(), failure: { stage, message } };
        r.store.writeMeta(m);
        this.emit({ type: 'ended', runId: m.runId, meta: m });
      }
      return new RunError(message);
    };
    try {
      for (const r of runs) {
        const p = await launcher.place(x, r.meta);
        if (!p.placed) throw fail('lock', `Target '${target.name}' is held by ${p.holder}.`);
        r.meta = { ...r.meta, remoteDir: p.runDir };
      }
      const pf = await launcher.preflight(x, runs[0].meta);
      if (pf.errors.length) throw fail('preflight', pf.errors.join('\n'));
      for (const r of runs) await x.upload(r.store.file(r.meta.runId, SCRIPT), path.posix.join(r.meta.remoteDir!, SCRIPT));
      const launched = await launcher.launchBatch(x, runs.map((r) => r.meta), opts.parallel);
      const startedAt = new Date().toISOString();
      runs.forEach((r, i) => {
        r.meta = { ...r.meta, ...launched[i].meta, submitter: undefined, preflight: pf.report, startedAt };
        r.store.writeMeta(r.meta);
      });
    } catch (e) {
      if (e instanceof RunError) throw e;
      throw fail('launch', (e as Error).message);
    } finally {
      x.close();
    }
    return runs.map((r) => this.attach(r.store.taskDir, r.meta.runId, false)!);
  }

  private push(e: RunEngine) {
    // A scheduler (Slurm) queues the run itself: submit at once, many runs in parallel.
    if (e.queuesItself) {
      this.emit({ type: 'state', runId: e.runId, state: 'queued' });
      void e.start();
      return;
    }
    const lane = this.lanes.get(e.targetName) ?? [];
    this.lanes.set(e.targetName, lane);
    lane.push(e);
    this.emit({ type: 'state', runId: e.runId, state: 'queued', detail: lane.length > 1 ? `position ${lane.length - 1} in the queue for ${e.targetName}` : undefined });
    this.pump(e.targetName);
  }

  /** Start the first engine of a lane if it is idle; when it ends, the next one. */
  private pump(targetName: string) {
    const lane = this.lanes.get(targetName);
    const head = lane?.[0];
    if (!head || head.meta.state !== 'queued' || head.started) return;
    void head.start().finally(() => this.advance(targetName, head));
  }

  private advance(targetName: string, done: RunEngine) {
    const lane = this.lanes.get(targetName) ?? [];
    const i = lane.indexOf(done);
    if (i >= 0) lane.splice(i, 1);
    // Ended waiting runs (cancelled while queued) leave the lane too.
    while (lane[0]?.isTerminal) lane.shift();
    this.pump(targetName);
  }

  async cancel(runId: string): Promise<void> {
    const e = this.engines.get(runId);
    if (!e) throw new RunError(`Run ${runId} is not active in this session.`);
    const lane = this.lanes.get(e.targetName) ?? [];
    const waiting = lane.indexOf(e) > 0;
    await e.cancel();
    if (waiting) lane.splice(lane.indexOf(e), 1);
  }

  /** Take a waiting run out of the queue and delete its record. */
  removeQueued(runId: string): void {
    const e = this.engines.get(runId);
    if (!e || e.meta.state !== 'queued' || e.started) throw new RunError(`Run ${runId} is not waiting in a queue.`);
    const lane = this.lanes.get(e.targetName) ?? [];
    lane.splice(lane.indexOf(e), 1);
    this.engines.delete(runId);
    new RunStore(e.taskDir).remove(runId);
    this.emit({ type: 'ended', runId, meta: { ...e.meta, state: 'cancelled' } });
  }

  waitForEnd(runId: string): Promise<RunMeta> {
    const e = this.engines.get(runId);
    if (!e) return Promise.reject(new RunError(`Run ${runId} is not active in this session.`));
    return e.done;
  }

  get(runId: string): RunMeta | undefined {
    return this.engines.get(runId)?.meta;
  }

  /** Runs of a task: stored ones, with the live state of those this session is running. */
  list(taskDir: string): RunMeta[] {
    return new RunStore(taskDir).list().map((m) => this.engines.get(m.runId)?.meta ?? m);
  }

  /** Runs this session drives or waits on that have not ended, oldest first. */
  activeRuns(taskDir?: string): RunMeta[] {
    return [...this.engines.values()]
      .filter((e) => !e.isTerminal && (!taskDir || e.taskDir === taskDir))
      .map((e) => e.meta)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  /** Queue position (0 = running or next) of a waiting run, or -1. */
  position(runId: string): number {
    const e = this.engines.get(runId);
    return e ? (this.lanes.get(e.targetName) ?? []).indexOf(e) : -1;
  }

  /**
   * After a reload: re-attach to runs an earlier session launched and queue again those that were waiting.
   * Runs of a target that no longer exists are left as they are (with a log line).
   */
  resume(taskDir: string): RunMeta[] {
    // Launched runs first: they hold their targets, so waiting runs queue up behind them.
    const waits = (m: RunMeta) => Number(m.state === 'queued' && !m.startedAt);
    const metas = new RunStore(taskDir).list().sort((a, b) => waits(a) - waits(b));
    return metas.filter((m) => !TERMINAL_STATES.includes(m.state) && !this.engines.has(m.runId) && this.attach(taskDir, m.runId, true));
  }

  /**
   * Take over one stored run: follow it if it was launched; a waiting run is queued again (`requeue`) or only
   * loaded, so it can be cancelled. Returns false when its target is not configured.
   */
  attach(taskDir: string, runId: string, requeue: boolean): RunMeta | undefined {
    const live = this.engines.get(runId);
    if (live) return live.meta;
    const store = new RunStore(taskDir);
    const m = store.read(runId);
    if (!m) throw new RunError(`No run ${runId} in ${taskDir}.`);
    if (TERMINAL_STATES.includes(m.state)) return m;
    const target = this.o.targets().find((t) => t.name === m.target);
    if (!target) {
      this.o.log?.(`run ${runId}: target '${m.target}' is not configured; not re-attaching`);
      return undefined;
    }
    if (m.state === 'queued' && !m.startedAt && m.submitter) {
      // Part of a job array another process is submitting: never queued a second time from here. When that
      // process is provably gone (killed mid-submission), nothing ran: the run ends so it is not left waiting.
      if (!ownerGone(m.submitter)) return m;
      const ended: RunMeta = {
        ...m,
        submitter: undefined,
        state: 'failed',
        endedAt: new Date().toISOString(),
        failure: { stage: 'launch', message: 'The process submitting this run in a job array ended before it was submitted; nothing ran. Start it again.' },
      };
      store.writeMeta(ended);
      this.emit({ type: 'ended', runId, meta: ended });
      return ended;
    }
    const e = this.engine(store, target, m);
    // `queued` with a start time: launched, waiting in the scheduler's queue; follow it.
    if (m.state === 'queued' && !m.startedAt) {
      if (requeue) this.push(e);
    } else if (e.queuesItself) {
      void e.attach();
    } else {
      // The lane is busy with this run until it ends.
      const lane = this.lanes.get(target.name) ?? [];
      this.lanes.set(target.name, lane);
      lane.unshift(e);
      void e.attach().finally(() => this.advance(target.name, e));
    }
    return m;
  }

  /** Stop watching every run (they keep running on their boxes). */
  dispose(): void {
    for (const e of this.engines.values()) e.detach();
    this.listeners.clear();
  }
}
