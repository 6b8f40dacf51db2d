// One run from queue to results: place it on the target (lock or queue), preflight, upload, launch, stream
// console.log from a byte offset (reconnecting with backoff; no byte lost or repeated), finish. Also
// re-attaches to a run launched by an earlier session. What happens on the box is the launcher's
// (launcher.ts); the engine owns the connection, the local record and the RunEvents the UIs render.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { TARGET_VAL_LOSS } from '../benchmark/types';
import { createLogParser, parseLogText } from '../logs/parser';
import type { LogEvent, LogParser } from '../logs/types';
import { isRetryable } from '../remote/connect';
import type { Executor } from '../remote/executor';
import type { Target } from '../remote/targets';
import { RunFailed, type LauncherStatus, type RunLauncher } from './launcher';
import { CONSOLE, SCRIPT, type RunStore } from './store';
import { TERMINAL_STATES, type BenchmarkResults, type RunEvent, type RunMeta, type RunStage, type RunState } from './types';

export interface EngineOptions {
  store: RunStore;
  target: Target;
  /** A fresh connection to the target (host-key and passphrase prompts live behind this). */
  connect(): Promise<Executor>;
  /** Places and follows the run on the target. */
  launcher: RunLauncher;
  /** Reconnect backoff after launch: initial and maximum delay. */
  backoff?: { initialMs: number; maxMs: number };
  /** How often to retry when another session holds the target (and how often a queued job is polled). */
  lockRetryMs?: number;
  emit(e: RunEvent): void;
  log?(msg: string): void;
}

class Detached extends Error {}
class CancelledBeforeLaunch extends Error {}

const LIVE: RunState[] = ['compiling', 'training', 'validating'];
const PRE_LAUNCH: RunState[] = ['connecting', 'preflight', 'uploading'];

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export class RunEngine {
  meta: RunMeta;
  readonly done: Promise<RunMeta>;
  private resolveDone!: (m: RunMeta) => void;
  private exec?: Executor;
  private parser: LogParser;
  private decoder = new StringDecoder('utf8');
  private offset = 0;
  private launched = false;
  private cancelRequested = false;
  private detached = false;
  private wake?: () => void;
  private metaTimer?: NodeJS.Timeout;
  private lockHeld = false;
  private cancelling?: Promise<void>;
  private begun = false;
  private owner = false;

  constructor(private readonly o: EngineOptions, meta: RunMeta) {
    this.meta = meta;
    this.parser = createLogParser({ targetValLoss: TARGET_VAL_LOSS });
    this.done = new Promise((r) => (this.resolveDone = r));
    if (TERMINAL_STATES.includes(meta.state)) this.resolveDone(meta);
  }

  get runId() {
    return this.meta.runId;
  }
  get taskDir() {
    return this.o.store.taskDir;
  }
  get targetName() {
    return this.o.target.name;
  }
  /** The target's scheduler queues this run (no lane of the manager's). */
  get queuesItself() {
    return !!this.o.launcher.queuesItself;
  }
  /** start() or attach() has been called. */
  get started() {
    return this.begun;
  }
  get isTerminal() {
    return TERMINAL_STATES.includes(this.meta.state);
  }

  // ---- events and persistence ----

  private setState(state: RunState, detail?: string) {
    const changed = state !== this.meta.state;
    this.meta = { ...this.meta, state };
    if (changed) this.saveMeta();
    if (changed || detail) this.o.emit({ type: 'state', runId: this.runId, state, detail });
  }

  private saveMeta() {
    clearTimeout(this.metaTimer);
    this.metaTimer = undefined;
    try {
      this.o.store.writeMeta(this.meta);
    } catch (e) {
      this.o.log?.(`run ${this.runId}: cannot write meta.json: ${(e as Error).message}`);
    }
  }

  /** Progress is saved at most once a second; state changes immediately. */
  private saveMetaSoon() {
    this.metaTimer ??= setTimeout(() => this.saveMeta(), 1000);
  }

  private onLogEvents(events: LogEvent[]) {
    for (const ev of events) {
      if (ev.type === 'train') this.meta = { ...this.meta, step: ev.step, totalSteps: ev.totalSteps, trainTimeMs: ev.trainTimeMs };
      else if (ev.type === 'val') this.meta = { ...this.meta, step: ev.step, totalSteps: ev.totalSteps, valLoss: ev.valLoss, trainTimeMs: ev.trainTimeMs };
      else if (ev.type === 'final') this.meta = { ...this.meta, final: ev.result };
      this.o.emit({ type: 'log', runId: this.runId, event: ev });
      // The parser's phase drives the live state; the end state is decided in finish().
      if (ev.type === 'phase' && LIVE.includes(ev.phase as RunState) && LIVE.includes(this.meta.state) && !this.isTerminal) {
        this.setState(ev.phase as RunState);
      }
    }
    this.saveMetaSoon();
  }

  private onBytes(b: Buffer) {
    if (this.detached || !b.length) return;
    this.o.store.appendConsole(this.runId, b);
    const first = this.offset === 0;
    this.offset += b.length;
    if (first && /SIMULATED/.test(b.toString('utf8', 0, Math.min(b.length, 400)))) this.meta = { ...this.meta, simulated: true };
    const text = this.decoder.write(b);
    if (text) this.o.emit({ type: 'output', runId: this.runId, text });
    this.onLogEvents(this.parser.push(b));
  }

  // ---- connections ----

  private dropExec() {
    this.exec?.close();
    this.exec = undefined;
  }

  /**
   * Run `fn` on a live connection. Before launch a connection problem fails the run at once; after launch
   * (the run lives on the box) it reconnects with exponential backoff until it works or the engine detaches.
   */
  private async withConnection<T>(stage: RunStage, fn: (x: Executor) => Promise<T>): Promise<T> {
    const { initialMs, maxMs } = this.o.backoff ?? { initialMs: 500, maxMs: 30_000 };
    let delay = initialMs;
    for (let attempt = 1; ; attempt++) {
      if (this.detached) throw new Detached();
      try {
        this.exec ??= await this.o.connect();
        return await fn(this.exec);
      } catch (e) {
        if (this.detached) throw new Detached();
        if (!isRetryable(e) || !this.launched) throw e instanceof RunFailed ? e : new RunFailed(stage, (e as Error).message);
        this.dropExec();
        this.o.log?.(`run ${this.runId}: ${(e as Error).message}; reconnecting in ${delay} ms (attempt ${attempt})`);
        this.o.emit({ type: 'state', runId: this.runId, state: this.meta.state, detail: `connection lost; reconnecting (attempt ${attempt})` });
        await this.pause(delay);
        delay = Math.min(maxMs, delay * 2);
      }
    }
  }

  /** Wait `ms`, or less when cancel() or detach() wakes the flow. */
  private async pause(ms: number) {
    await new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      this.wake = () => {
        clearTimeout(t);
        r();
      };
    });
    this.wake = undefined;
  }

  // ---- the flow ----

  /** Run from the queue: the target is ours (locally); take it on the box too, then go. */
  async start(): Promise<RunMeta> {
    this.begun = true;
    this.takeOwnership();
    try {
      this.checkCancelled();
      this.setState('connecting', `connecting to ${this.o.target.kind === 'local' ? 'this machine' : this.o.target.name}`);
      const x = await this.withConnection('connect', async (c) => c);
      await this.lock(x);
      this.checkCancelled();
      await this.preflight(x);
      this.checkCancelled();
      await this.uploadAndLaunch(x);
      await this.stream();
    } catch (e) {
      await this.onFlowError(e);
    } finally {
      if (!this.detached) this.dropExec();
    }
    return this.meta;
  }

  /** After a reload: continue a run an earlier session launched, from the bytes already stored locally. */
  async attach(): Promise<RunMeta> {
    // The run may be alive on the box: connection problems are retried, never taken as failure.
    this.launched = true;
    this.begun = true;
    if (!this.takeOwnership()) return this.observe();
    try {
      const prior = this.o.store.readConsole(this.runId);
      this.offset = prior.length;
      this.decoder.write(prior);
      this.parser.push(prior);
      if (!this.meta.remoteDir) throw new RunFailed('launch', 'The editor closed before this run was launched; run it again.');
      this.o.launcher.resume(this.meta);
      this.lockHeld = true;
      if (PRE_LAUNCH.includes(this.meta.state)) {
        const st = await this.withConnection('connect', (x) => this.o.launcher.status(x, this.meta));
        if (!st.launched) throw new RunFailed('launch', 'The editor closed before this run was launched; run it again.');
        this.setState('compiling');
      }
      this.emitAttachState();
      await this.stream();
    } catch (e) {
      await this.onFlowError(e);
    } finally {
      if (!this.detached) this.dropExec();
    }
    return this.meta;
  }

  // ---- one writer per run: another live process (a second window, the CLI) only watches ----

  private get ownerFile() {
    return this.o.store.file(this.runId, 'owner.pid');
  }

  /** Claim the run's local record; false when another live process streams it. */
  private takeOwnership(): boolean {
    for (let i = 0; i < 2; i++) {
      try {
        fs.writeFileSync(this.ownerFile, String(process.pid), { flag: 'wx' });
        this.owner = true;
        return true;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const pid = this.ownerPid();
        if (pid === null) return false; // not a readable pid file (a folder in its place): watch only, never crash
        if (pid === process.pid) return (this.owner = true);
        if (pid > 0 && pidAlive(pid)) return false;
        fs.rmSync(this.ownerFile, { force: true }); // its process is gone
      }
    }
    return false;
  }

  private ownerPid(): number | null {
    try {
      return Number(fs.readFileSync(this.ownerFile, 'utf8'));
    } catch {
      return null;
    }
  }

  private releaseOwnership() {
    if (this.owner) fs.rmSync(this.ownerFile, { force: true });
    this.owner = false;
  }

  /** Follow another process's run through its meta.json and console.log until it ends. */
  private async observe(): Promise<RunMeta> {
    this.o.emit({ type: 'state', runId: this.runId, state: this.meta.state, detail: `followed by another process (pid ${this.ownerPid() ?? '?'})` });
    this.offset = this.o.store.consoleSize(this.runId);
    while (!this.detached) {
      await this.pause(500);
      // meta.json first: once it says the run ended, the console read after it is complete.
      const m = this.o.store.read(this.runId);
      const more = this.o.store.readConsoleFrom(this.runId, this.offset);
      this.offset += more.length;
      const text = this.decoder.write(more);
      if (text) this.o.emit({ type: 'output', runId: this.runId, text });
      if (!m) continue;
      if (m.state !== this.meta.state) {
        this.meta = m;
        this.o.emit({ type: 'state', runId: this.runId, state: m.state });
      } else this.meta = m;
      if (TERMINAL_STATES.includes(m.state)) {
        this.o.emit({ type: 'ended', runId: this.runId, meta: m });
        this.resolveDone(m);
        break;
      }
    }
    this.dropExec();
    return this.meta;
  }

  private emitAttachState() {
    this.o.emit({ type: 'state', runId: this.runId, state: this.meta.state, detail: 're-attached' });
  }

  private checkCancelled() {
    if (this.cancelRequested) throw new CancelledBeforeLaunch();
  }

  private async lock(x: Executor) {
    for (;;) {
      const p = await this.o.launcher.place(x, this.meta);
      if (p.placed) {
        this.meta = { ...this.meta, remoteDir: p.runDir };
        this.lockHeld = true;
        if (p.note) this.o.emit({ type: 'state', runId: this.runId, state: this.meta.state, detail: p.note });
        return;
      }
      this.setState('queued', `waiting for ${p.holder} (started from another editor or the CLI) to finish on ${this.o.target.name}${p.howToFree ? `; ${p.howToFree}` : ''}`);
      await this.pause(this.o.lockRetryMs ?? 15_000);
      this.checkCancelled();
      if (this.detached) throw new Detached();
      this.setState('connecting', 'retrying the target lock');
    }
  }

  private async preflight(x: Executor) {
    this.setState('preflight', 'checking GPUs, python/torch, data shards and disk');
    const res = await this.o.launcher.preflight(x, this.meta);
    this.meta = { ...this.meta, preflight: res.report };
    for (const w of res.report.warnings) this.o.emit({ type: 'state', runId: this.runId, state: 'preflight', detail: `warning: ${w}` });
    if (res.errors.length) throw new RunFailed('preflight', res.errors.join('\n'));
    const p = res.report;
    const facts = [p.gpus !== null && `${p.gpus} GPUs`, p.python && `python ${p.python}`, p.torch && `torch ${p.torch}`, p.trainShards !== null && `${p.trainShards} train shards`, p.freeDiskMiB !== null && `${p.freeDiskMiB} MiB free`];
    this.o.emit({ type: 'state', runId: this.runId, state: 'preflight', detail: `ok: ${facts.filter(Boolean).join(', ')}` });
  }

  private async uploadAndLaunch(x: Executor) {
    this.setState('uploading', `uploading ${SCRIPT} to ${x.label}`);
    try {
      await x.upload(this.o.store.file(this.runId, SCRIPT), path.posix.join(this.meta.remoteDir!, SCRIPT));
    } catch (e) {
      throw new RunFailed('upload', (e as Error).message);
    }
    this.checkCancelled();
    const l = await this.o.launcher.launch(x, this.meta);
    this.launched = true;
    this.meta = { ...this.meta, ...l.meta, startedAt: new Date().toISOString() };
    this.setState('compiling', l.detail);
    // A cancel that arrived while launching is carried out now that there is something to stop.
    if (this.cancelRequested) this.cancelling = this.cancelRemote(true);
  }

  private async stream() {
    const l = this.o.launcher;
    let said = this.meta.schedulerState;
    const firstWait = Math.min(1000, this.o.lockRetryMs ?? 15_000);
    let wait = firstWait;
    for (;;) {
      // While the scheduler holds the run in its queue there is nothing to follow yet; only its status.
      if (this.meta.state !== 'queued') await this.withConnection('stream', (x) => l.follow(x, this.meta, this.offset, (b) => this.onBytes(b)));
      const st = await this.withConnection('stream', (x) => l.status(x, this.meta));
      if (st.exit !== null || !st.alive) {
        await this.withConnection('stream', (x) => this.finish(x, st));
        return;
      }
      if (st.schedulerState !== said) {
        said = st.schedulerState;
        wait = firstWait;
        this.meta = { ...this.meta, schedulerState: said };
        // A launched run waiting in the scheduler's queue is `queued` (with the scheduler's reason); it
        // compiles once the scheduler starts it.
        const next = st.waiting ? 'queued' : this.meta.state === 'queued' ? 'compiling' : this.meta.state;
        if (next !== this.meta.state) this.setState(next, said);
        else {
          this.saveMeta();
          this.o.emit({ type: 'state', runId: this.runId, state: this.meta.state, detail: said });
        }
      }
      // Still in a scheduler's queue (follow returns at once then): ask again, less often the longer it waits.
      if (st.waiting) {
        await this.pause(wait);
        // At most 5 s: a job that starts should be followed soon; one status call is cheap for the scheduler.
        wait = Math.min(wait * 2, this.o.lockRetryMs ?? 15_000, 5_000);
      }
    }
  }

  private async finish(x: Executor, st: LauncherStatus) {
    const l = this.o.launcher;
    // Whatever the follow did not deliver (it stops as soon as the exit code appears).
    if (st.consoleSize > this.offset) this.onBytes(await l.read(x, this.meta, CONSOLE, this.offset));
    let scriptLogFinal = null;
    for (const rel of st.logs.slice(0, 3)) {
      try {
        const data = await l.read(x, this.meta, rel, 0);
        this.o.store.writeExtra(this.runId, rel, data);
        this.meta = { ...this.meta, scriptLog: this.meta.scriptLog ?? rel };
        scriptLogFinal ??= parseLogText(data).final;
      } catch (e) {
        this.o.log?.(`run ${this.runId}: could not fetch ${rel}: ${(e as Error).message}`);
      }
    }
    await this.cancelling;
    const cancelled = st.cancelled || this.cancelRequested;
    const timedOut = st.timedOut && !cancelled;
    // A timeout leaves the watchdog's KILL to the box; make sure nothing is left either way.
    if ((cancelled || timedOut) && st.alive) await this.cancelRemote(false, x);
    const tail = this.decoder.end();
    if (tail) this.o.emit({ type: 'output', runId: this.runId, text: tail });
    this.onLogEvents(this.parser.end({ exitCode: st.exit, cancelled, timedOut }));
    const summary = this.parser.summary();
    const final = summary.final ?? scriptLogFinal;
    const state: RunState = cancelled ? 'cancelled' : timedOut ? 'timed-out' : st.exit === 0 ? 'finished' : 'failed';
    const failure =
      state === 'failed' && st.exit === null
        ? { stage: 'stream' as const, message: st.endReason ?? 'The run ended without an exit code: its processes were killed from outside.' }
        : this.meta.failure ?? null;
    // Free the target before anyone hears that the run ended.
    await this.unlock(x);
    await this.end(state, { ...(st.schedulerState ? { schedulerState: st.schedulerState } : {}), exitCode: st.exit, final, error: state === 'finished' ? null : summary.error, failure });
  }

  private async end(state: RunState, patch: Partial<RunMeta>) {
    clearTimeout(this.metaTimer);
    this.meta = { ...this.meta, ...patch, endedAt: new Date().toISOString() };
    const status: BenchmarkResults['status'] = { finished: 'COMPLETED', cancelled: 'CANCELLED', 'timed-out': 'TIMEOUT' }[state as string] as BenchmarkResults['status'] ?? 'FAILED';
    const f = this.meta.final;
    const results: BenchmarkResults = {
      status,
      metrics: f
        ? { n_steps: f.n_steps, val_loss: f.val_loss, train_time: f.train_time, is_valid: status === 'COMPLETED' && f.is_valid }
        : { n_steps: null, val_loss: null, train_time: null, is_valid: false },
    };
    try {
      this.o.store.writeResults(this.runId, results);
    } catch (e) {
      this.o.log?.(`run ${this.runId}: cannot write results.json: ${(e as Error).message}`);
    }
    this.setState(state, this.meta.failure?.message);
    this.releaseOwnership();
    this.o.emit({ type: 'ended', runId: this.runId, meta: this.meta });
    this.resolveDone(this.meta);
  }

  private async unlock(x?: Executor) {
    if (!this.lockHeld) return;
    this.lockHeld = false;
    const c = x ?? this.exec;
    try {
      if (c) await this.o.launcher.release(c, this.meta);
    } catch (e) {
      this.o.log?.(`run ${this.runId}: could not release the target lock: ${(e as Error).message}`);
    }
  }

  private async onFlowError(e: unknown) {
    if (e instanceof Detached || this.detached) return;
    if (this.isTerminal) return;
    await this.unlock();
    if (e instanceof CancelledBeforeLaunch) {
      await this.end('cancelled', {});
    } else {
      const f = e instanceof RunFailed ? { stage: e.stage, message: e.message } : { stage: 'stream' as const, message: (e as Error)?.message ?? String(e) };
      this.o.log?.(`run ${this.runId} failed at ${f.stage}: ${f.message}`);
      await this.end('failed', { failure: f });
    }
  }

  // ---- control ----

  /** Cancel: before launch, stop the flow; after, SIGTERM/SIGKILL the run's process group on the box. */
  async cancel(): Promise<void> {
    if (this.isTerminal) return;
    this.cancelRequested = true;
    if (this.meta.state === 'queued' && !this.exec && !this.launched) {
      await this.end('cancelled', {});
      return;
    }
    this.wake?.();
    if (this.launched) await (this.cancelling ??= this.cancelRemote(true));
  }

  /** `asked`: the user's cancel (else finish() clearing up what a cancelled or timed-out run left running). */
  private async cancelRemote(asked: boolean, x?: Executor): Promise<void> {
    const run = async (c: Executor) => {
      const { ended, problem } = await this.o.launcher.cancel(c, this.meta);
      if (problem) this.meta = { ...this.meta, failure: { stage: 'cancel', message: problem } };
      if (ended && asked) {
        // Too late to cancel: the run ended by itself, and its real results are stored.
        this.cancelRequested = false;
        this.o.emit({ type: 'state', runId: this.runId, state: this.meta.state, detail: `the run had already ended on ${this.o.target.name} before the cancel; storing its real results` });
      }
    };
    try {
      if (x) await run(x);
      else await this.withConnection('cancel', run);
    } catch (e) {
      if (!(e instanceof Detached)) {
        this.meta = { ...this.meta, failure: { stage: 'cancel', message: (e as Error).message } };
        this.o.log?.(`run ${this.runId}: cancel failed: ${(e as Error).message}`);
      }
    }
  }

  /** Stop watching without touching the run on the box (editor closing); attach() resumes later. */
  detach(): void {
    this.detached = true;
    if (this.metaTimer) this.saveMeta();
    this.releaseOwnership();
    this.wake?.();
    this.dropExec();
  }
}
