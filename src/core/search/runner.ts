// Runs a search's nodes as ordinary runs (stored in the task's run store, so each has its dashboard, log, cancel
// and attach) over a pool of targets: a round's children go to the target with the fewest runs of this search,
// so N targets run N children at once; each target still runs one job at a time, as the run engine guarantees.
// A node's run that an earlier (killed) session started is re-attached, not started again. When every target's
// scheduler queues runs itself (Slurm), a round goes out as one job array per target instead (startBatch).
import type { LogEvent } from '../logs/types';
import type { RunManager } from '../runs/manager';
import { RunStore } from '../runs/store';
import { TERMINAL_STATES, type RunMeta } from '../runs/types';

export interface RunEnd {
  meta: RunMeta;
  /** The last lines the run printed. */
  logTail: string;
  /** Wall-clock hours from start to end times the target's GPUs (0 when it never started). */
  gpuHours: number;
}

export interface NodeRunner {
  /** Queues a run of `script`; returns its run id and target. */
  start(script: string): { runId: string; target: string };
  /** Whether a round's runs should be started together, with startBatch, rather than one by one. */
  readonly batches?: boolean;
  /** Queues runs of `scripts` together (a job array); the result is in the order of `scripts`. */
  startBatch?(scripts: string[]): Promise<{ runId: string; target: string }[]>;
  /** Resolves when the run has ended (re-attaching to it if this session did not start it). */
  wait(runId: string, onLog?: (ev: LogEvent) => void): Promise<RunEnd>;
  cancel(runId: string): Promise<void>;
}

export class ManagerRunner implements NodeRunner {
  private readonly active = new Map<string, string>();

  constructor(
    private readonly manager: RunManager,
    private readonly taskDir: string,
    private readonly targets: readonly string[],
    private readonly gpusOf: (target: string) => number,
  ) {
    if (!targets.length) throw new Error('a search needs at least one target');
  }

  /** The targets, the one with the fewest runs of this search first. */
  private byLoad(): string[] {
    const load = (t: string) => [...this.active.values()].filter((x) => x === t).length;
    return [...this.targets].sort((a, b) => load(a) - load(b));
  }

  start(script: string): { runId: string; target: string } {
    const target = this.byLoad()[0];
    const meta = this.manager.enqueue({ taskDir: this.taskDir, target, origin: 'agent', script });
    this.active.set(meta.runId, target);
    return { runId: meta.runId, target };
  }

  get batches(): boolean {
    return this.targets.every((t) => this.manager.batches(t));
  }

  /**
   * The scripts dealt over the targets, one job array on each with all of its runs at once. If one target's
   * submission fails, the arrays the others took are cancelled, so the caller can submit them all again later.
   */
  async startBatch(scripts: string[]): Promise<{ runId: string; target: string }[]> {
    const order = this.byLoad();
    const out: { runId: string; target: string }[] = [];
    const sent = await Promise.allSettled(
      order.map(async (target, k) => {
        const mine = scripts.map((_, i) => i).filter((i) => i % order.length === k);
        if (!mine.length) return;
        const metas = await this.manager.enqueueBatch({ taskDirs: mine.map(() => this.taskDir), scripts: mine.map((i) => scripts[i]), target, parallel: mine.length, origin: 'agent' });
        metas.forEach((m, j) => (out[mine[j]] = { runId: m.runId, target }));
      }),
    );
    const failed = sent.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (!failed) {
      for (const r of out) this.active.set(r.runId, r.target);
      return out;
    }
    await Promise.allSettled(out.filter(Boolean).map((r) => this.manager.cancel(r.runId)));
    throw failed.reason;
  }

  async wait(runId: string, onLog?: (ev: LogEvent) => void): Promise<RunEnd> {
    const off = onLog ? this.manager.onEvent((e) => e.type === 'log' && e.runId === runId && onLog(e.event)) : undefined;
    try {
      let meta = this.manager.get(runId);
      if (!meta) {
        const m = this.manager.attach(this.taskDir, runId, true);
        if (!m) throw new Error(`run ${runId}'s target is not configured, so it cannot be re-attached`);
        meta = m;
      }
      if (!TERMINAL_STATES.includes(meta.state)) {
        this.active.set(runId, meta.target);
        meta = await this.manager.waitForEnd(runId);
      }
      const store = new RunStore(this.taskDir);
      const logTail = store.readConsole(runId).subarray(-30_000).toString('utf8').split('\n').slice(-40).join('\n');
      const ms = meta.startedAt && meta.endedAt ? Date.parse(meta.endedAt) - Date.parse(meta.startedAt) : 0;
      return { meta, logTail, gpuHours: Math.max(0, ms) / 3_600_000 * this.gpusOf(meta.target) };
    } finally {
      off?.();
      this.active.delete(runId);
    }
  }

  cancel(runId: string): Promise<void> {
    return this.manager.cancel(runId);
  }
}
