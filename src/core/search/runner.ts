// Runs a search's nodes as ordinary runs (stored in the task's run store, so each has its dashboard, log, cancel
// and attach) over a pool of targets: a round's children go to the target with the fewest runs of this search,
// so N targets run N children at once; each target still runs one job at a time, as the run engine guarantees.
// A node's run that an earlier (killed) session started is re-attached, not started again.
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

  start(script: string): { runId: string; target: string } {
    const load = (t: string) => [...this.active.values()].filter((x) => x === t).length;
    const target = [...this.targets].sort((a, b) => load(a) - load(b))[0];
    const meta = this.manager.enqueue({ taskDir: this.taskDir, target, origin: 'agent', script });
    this.active.set(meta.runId, target);
    return { runId: meta.runId, target };
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
