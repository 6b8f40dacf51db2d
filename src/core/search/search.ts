// One search over a task: rounds of selection (select.ts), writing (writer.ts) and running (runner.ts) until the
// scaffold's rounds or a budget (nodes, GPU-hours, model tokens) run out. A round's children are written and run
// at the same time (on a Slurm target: all written first, then run as one job array). Everything is on disk after
// every step (tree.ts), so a killed search resumes: finished nodes are kept, nodes whose run was going are
// re-attached, written nodes not yet run are run, nodes the model was still writing are written again, and
// the saved RNG state makes the next selections those the uninterrupted search would have made.
import { TARGET_VAL_LOSS, type TaskFile } from '../benchmark/types';
import { summarizeOutcome } from '../agent/prompt';
import type { LogEvent } from '../logs/types';
import { thisProcess } from '../processOwner';
import { DoomWatch } from './earlyStop';
import type { NodeRunner } from './runner';
import { Rng, bugDepthOf, bugHistory, selectNode } from './select';
import {
  SearchStore, bestValid, isBuggy, newSearchId, summarizeNode, type NodeMeta, type NodeSummary, type PendingRound, type SearchConfig, type SearchFile, type SearchProgress,
} from './tree';
import type { NodeWriter } from './writer';

export type SearchEvent =
  | { type: 'node'; node: NodeMeta }
  | { type: 'progress'; progress: SearchProgress }
  | { type: 'log'; nodeId: number; runId: string; event: LogEvent }
  | { type: 'delta'; nodeId: number; text: string };

export interface SearchOutcome {
  searchId: string;
  scaffold: string;
  nodes: NodeSummary[];
  best: NodeSummary | null;
  state: SearchProgress['state'];
  stopReason?: string;
  spent: SearchProgress['spent'];
}

export class Search {
  private readonly abort = new AbortController();
  private paused: { promise: Promise<void>; resolve: () => void } | undefined;
  private stopReason: string | undefined;
  private readonly listeners = new Set<(e: SearchEvent) => void>();
  private readonly running = new Map<number, string>();

  constructor(
    readonly store: SearchStore,
    private readonly task: TaskFile,
    private readonly writer: NodeWriter,
    private readonly runner: NodeRunner,
  ) {}

  onEvent(l: (e: SearchEvent) => void): () => void {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  private emit(e: SearchEvent) {
    for (const l of this.listeners) l(e);
  }

  /** No new round starts until resume(); the nodes being written or run go on. */
  pause(): void {
    if (this.paused) return;
    let resolve!: () => void;
    const promise = new Promise<void>((r) => (resolve = r));
    this.paused = { promise, resolve };
    this.setState('paused');
  }

  resume(): void {
    const p = this.paused;
    this.paused = undefined;
    if (p) {
      this.setState('running');
      p.resolve();
    }
  }

  /** Ends the search: model requests are aborted and the search's running runs cancelled. */
  async stop(reason = 'stopped by the user'): Promise<void> {
    this.stopReason = reason;
    this.abort.abort();
    this.resume();
    await Promise.allSettled([...this.running.values()].map((r) => this.runner.cancel(r)));
  }

  private setState(state: SearchProgress['state'], extra: Partial<SearchProgress> = {}) {
    const f = this.store.read();
    const progress = { ...f.progress, ...extra, state };
    this.store.writeProgress(progress);
    this.emit({ type: 'progress', progress: this.store.read().progress });
  }

  private spend(d: { nodes?: number; gpuHours?: number; tokens?: number }) {
    const p = this.store.read().progress;
    const spent = { nodes: p.spent.nodes + (d.nodes ?? 0), gpuHours: p.spent.gpuHours + (d.gpuHours ?? 0), tokens: p.spent.tokens + (d.tokens ?? 0) };
    this.store.writeProgress({ ...p, spent });
    this.emit({ type: 'progress', progress: this.store.read().progress });
  }

  /** Why no further round may start, or undefined. */
  private exhausted(f: SearchFile): string | undefined {
    const { config: c, progress: p } = f;
    if (p.round >= c.scaffold.iterations) return `all ${c.scaffold.iterations} rounds done`;
    if (p.spent.nodes >= c.budget.nodes) return `node budget used (${c.budget.nodes})`;
    if (c.budget.gpuHours !== undefined && p.spent.gpuHours >= c.budget.gpuHours) return `GPU-hour budget used (${p.spent.gpuHours.toFixed(2)} of ${c.budget.gpuHours})`;
    if (c.budget.tokens !== undefined && p.spent.tokens >= c.budget.tokens) return `token budget used (${p.spent.tokens} of ${c.budget.tokens})`;
    return undefined;
  }

  /** Follows control.json (see SearchStore.writeControl), so the editor can pause, resume or stop a CLI search. */
  private followControl(): () => void {
    if (this.store.readControl() === 'stop') this.store.writeControl('resume'); // an old stop must not end a resumed search
    this.lastControl = this.store.readControl();
    const t = setInterval(() => this.checkControl(), 500);
    return () => clearInterval(t);
  }

  private lastControl: ReturnType<SearchStore['readControl']> | undefined;

  /** Applies a change of control.json; also called before each round, so a pause never waits for the next poll. */
  private checkControl(): void {
    const now = this.store.readControl();
    if (now === this.lastControl) return;
    this.lastControl = now;
    if (now === 'pause') this.pause();
    else if (now === 'resume') this.resume();
    else if (now === 'stop') void this.stop('stopped by the user');
  }

  async run(): Promise<SearchOutcome> {
    const unfollow = this.followControl();
    try {
      return await this.runRounds();
    } finally {
      unfollow();
    }
  }

  private async runRounds(): Promise<SearchOutcome> {
    let f = this.store.read();
    const rng = new Rng(f.progress.rng);
    this.setState('running', { stopReason: undefined, owner: thisProcess() });
    try {
      // Resume: finish the round that was going when the search was interrupted.
      const pending = f.progress.pending;
      if (pending) await this.round(pending);
      for (;;) {
        this.checkControl();
        if (this.paused) await this.paused.promise;
        if (this.stopReason) break;
        f = this.store.read();
        const why = this.exhausted(f);
        if (why) {
          this.stopReason = why;
          break;
        }
        const round = f.progress.round + 1;
        const sel = selectNode(this.store.nodes(), f.config.scaffold, round, rng);
        const count = Math.min(sel.count, f.config.budget.nodes - f.progress.spent.nodes);
        const next: PendingRound = { round, parent: sel.parent.id, count, debug: sel.debug };
        this.store.writeProgress({ ...f.progress, round, rng: rng.state, pending: next });
        await this.round(next);
      }
    } catch (e) {
      if (!this.abort.signal.aborted) this.stopReason = `error: ${(e as Error).message}`;
    }
    const userStop = this.abort.signal.aborted;
    const p = this.store.read().progress;
    if (!userStop && !this.stopReason?.startsWith('error')) delete p.pending;
    this.store.writeProgress(p);
    this.setState(userStop ? 'stopped' : 'done', { stopReason: this.stopReason, owner: undefined });
    return this.outcome();
  }

  outcome(): SearchOutcome {
    const { config, progress } = this.store.read();
    const nodes = this.store.nodes();
    const best = bestValid(nodes);
    return {
      searchId: config.searchId,
      scaffold: config.scaffold.name,
      nodes: nodes.map((n) => summarizeNode(n, config)),
      best: best ? summarizeNode(best, config) : null,
      state: progress.state,
      stopReason: progress.stopReason,
      spent: progress.spent,
    };
  }

  /**
   * Writes and runs the round's children at once; children already on disk are kept, re-attached or (written but
   * not yet run) run. A runner that batches (a Slurm job array) gets all the round's runs together once every child
   * is written; otherwise each child's run starts as soon as it is written.
   */
  private async round(r: PendingRound): Promise<void> {
    let nodes = this.store.nodes();
    for (const n of nodes) if (n.round === r.round && n.status === 'writing') this.store.discard(n);
    nodes = this.store.nodes();
    const mine = nodes.filter((n) => n.round === r.round);
    const work: Promise<void>[] = mine.filter((n) => n.status === 'running').map((n) => this.runNode(n));
    const writes: Promise<NodeMeta | undefined>[] = mine.filter((n) => n.status === 'written').map((n) => Promise.resolve(n));
    let parent = this.store.node(r.parent)!;
    let nextId = Math.max(...nodes.map((n) => n.id)) + 1;
    const history = r.debug
      ? bugHistory(nodes, parent).map((b) => ({ id: b.id, hypothesis: b.hypothesis, outcome: this.store.readResults(b.id)?.outcome_summary ?? b.status }))
      : [];
    const best = bestValid(nodes);
    for (let i = mine.length; i < r.count; i++) {
      const child: NodeMeta = {
        id: nextId++,
        parent: parent.id,
        children: [],
        bugDepth: 0,
        hypothesis: '',
        createdAt: new Date().toISOString(),
        status: 'writing',
        round: r.round,
        debug: r.debug,
        idea: this.store.read().config.hintLevels.length ? 'hints' : 'model',
      };
      this.store.writeMeta(child);
      parent = { ...parent, children: [...parent.children, child.id] };
      this.store.writeMeta(parent);
      this.spend({ nodes: 1 });
      this.emit({ type: 'node', node: child });
      this.emit({ type: 'node', node: parent });
      writes.push(this.write(child, parent, history, best));
    }
    if (this.runner.batches) work.push(this.runBatch(writes));
    else work.push(...writes.map(async (w) => this.runOne(await w)));
    // Every child ends (its run is not left unwatched) before an error stops the search.
    await settle(work);
  }

  private async runOne(node: NodeMeta | undefined): Promise<void> {
    if (node && this.runnable(node)) await this.runNode(this.started(node, this.runner.start(this.store.script(node.id))));
  }

  /** Once every child is written, their runs go out together (one job array) and are followed each. */
  private async runBatch(writes: Promise<NodeMeta | undefined>[]): Promise<void> {
    const written = await Promise.allSettled(writes);
    const ready = written.flatMap((x) => (x.status === 'fulfilled' && x.value && this.runnable(x.value) ? [x.value] : []));
    if (ready.length) {
      const started = await this.runner.startBatch!(ready.map((n) => this.store.script(n.id)));
      await settle(ready.map((n, i) => this.runNode(this.started(n, started[i]))));
    }
    const failed = written.find((x): x is PromiseRejectedResult => x.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** Has the agent write the child's script; returns the node, written, or undefined when there is nothing to run. */
  private async write(child: NodeMeta, parent: NodeMeta, history: { id: number; hypothesis: string; outcome: string }[], best: NodeMeta | undefined): Promise<NodeMeta | undefined> {
    const res = await this.writer.write({
      nodeId: child.id,
      parentId: parent.id,
      parentScript: this.store.script(parent.id),
      dir: this.store.nodeDir(child.id),
      debug: child.debug,
      bugHistory: history,
      best: best && best.id !== 0 ? { id: best.id, trainTimeMs: best.trainTimeMs as number, valLoss: best.valLoss as number } : undefined,
      signal: this.abort.signal,
      onDelta: (text) => this.emit({ type: 'delta', nodeId: child.id, text }),
    });
    this.spend({ tokens: res.tokens });
    const node: NodeMeta = { ...child, hypothesis: res.hypothesis, tokens: res.tokens };
    if (!res.ok) {
      // No script to run: the node is buggy with the parent's script, as a failed job would be.
      this.store.writeScript(child.id, this.store.script(parent.id));
      this.finish(node, parent, { status: 'failed', summary: `Not run: ${res.reason}.` });
      return undefined;
    }
    this.store.writeScript(child.id, res.script);
    return this.update({ ...node, status: 'written' });
  }

  /** False (and the node ends failed) once the search was stopped: a written node is not run then. */
  private runnable(node: NodeMeta): boolean {
    if (!this.abort.signal.aborted) return true;
    this.finish(node, this.store.node(node.parent!)!, { status: 'failed', summary: 'Not run: the search was stopped.' });
    return false;
  }

  private started(node: NodeMeta, run: { runId: string; target: string }): NodeMeta {
    return this.update({ ...node, status: 'running', runId: run.runId, target: run.target });
  }

  private update(node: NodeMeta): NodeMeta {
    this.store.writeMeta(node);
    this.emit({ type: 'node', node });
    return node;
  }

  private async runNode(node: NodeMeta): Promise<void> {
    const { config } = this.store.read();
    const watch = config.earlyStop ? new DoomWatch(config.earlyStop, config.baselineMs) : undefined;
    let doomed: string | null = null;
    let runId = node.runId!;
    let end;
    for (let attempt = 1; ; attempt++) {
      this.running.set(node.id, runId);
      try {
        end = await this.runner.wait(runId, (ev) => {
          this.emit({ type: 'log', nodeId: node.id, runId, event: ev });
          if (watch && !doomed && (doomed = watch.onEvent(ev))) void this.runner.cancel(runId).catch(() => undefined);
        });
      } finally {
        this.running.delete(node.id);
      }
      // A run the killed session queued but never launched did not run at all: run the node again, once.
      const neverLaunched = end.meta.state === 'failed' && !end.meta.startedAt && end.meta.failure?.stage === 'launch';
      if (!neverLaunched || attempt > 1 || this.abort.signal.aborted) break;
      node = this.started(node, this.runner.start(this.store.script(node.id)));
      runId = node.runId!;
    }
    this.spend({ gpuHours: end.gpuHours });
    const m = end.meta;
    const final = m.final ?? null;
    const parent = this.store.node(node.parent!)!;
    node = { ...node, gpuHours: end.gpuHours };
    let summary = summarizeOutcome({ runId, state: m.state, final, error: m.error, logTail: end.logTail, message: m.failure?.message }, this.task);
    if (doomed) summary = `Stopped early as doomed: ${doomed}.`;
    const status = doomed && m.state !== 'finished' ? 'stopped' : m.state === 'finished' && final ? 'finished' : 'failed';
    this.finish(node, parent, {
      status,
      summary,
      runStatus: m.state === 'finished' ? 'COMPLETED' : m.state === 'timed-out' ? 'TIMEOUT' : m.state === 'cancelled' ? 'CANCELLED' : 'FAILED',
      final,
    });
  }

  private finish(
    node: NodeMeta,
    parent: NodeMeta,
    o: { status: 'finished' | 'failed' | 'stopped'; summary: string; runStatus?: 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TIMEOUT'; final?: { n_steps: number; val_loss: number; train_time: number } | null },
  ) {
    const f = o.final ?? null;
    const isValid = o.status === 'finished' && !!f && Number.isFinite(f.val_loss) && f.val_loss <= TARGET_VAL_LOSS;
    const done: NodeMeta = {
      ...node,
      status: o.status,
      valLoss: f?.val_loss ?? null,
      trainTimeMs: f?.train_time ?? null,
      nSteps: f?.n_steps ?? null,
      isValid,
      endedAt: new Date().toISOString(),
    };
    done.bugDepth = bugDepthOf(isBuggy(done), parent);
    this.store.writeResults(node.id, {
      status: o.runStatus ?? 'FAILED',
      metrics: { n_steps: f?.n_steps ?? null, val_loss: f?.val_loss ?? null, train_time: f?.train_time ?? null, is_valid: isValid },
      hypothesis: node.hypothesis,
      outcome_summary: o.summary,
    });
    this.store.writeMeta(done);
    this.emit({ type: 'node', node: done });
  }
}

/** Waits for all of `work`, then throws the first error, if any. */
async function settle(work: Promise<void>[]): Promise<void> {
  const failed = (await Promise.allSettled(work)).find((x): x is PromiseRejectedResult => x.status === 'rejected');
  if (failed) throw failed.reason;
}

/** What a new search is given: the settings it stores as they are (SearchConfig), plus what it derives the rest from. */
export interface NewSearch extends Pick<SearchConfig, 'scaffold' | 'seed' | 'hintLevels' | 'backend' | 'model' | 'baseUrl' | 'agentCommand' | 'targets' | 'earlyStop'> {
  taskDir: string;
  task: TaskFile;
  gpuHours?: number;
  tokens?: number;
  searchId?: string;
}

/** Creates a search on disk with its root: the task's starting script (record i) with the record's metrics. */
export function createSearch(o: NewSearch, rootScript: string): SearchStore {
  const store = new SearchStore(o.taskDir, o.searchId ?? newSearchId());
  store.create(
    {
      version: 1,
      searchId: store.searchId,
      taskId: o.task.taskId,
      fromRecord: o.task.fromRecord,
      toRecord: o.task.toRecord,
      baselineMs: o.task.baseline.trainTimeMs,
      targetMs: o.task.target.trainTimeMs,
      scaffold: o.scaffold,
      seed: o.seed >>> 0,
      hintLevels: o.hintLevels,
      backend: o.backend,
      model: o.model,
      baseUrl: o.baseUrl,
      agentCommand: o.agentCommand,
      targets: o.targets,
      budget: { nodes: o.scaffold.maxNodes, gpuHours: o.gpuHours, tokens: o.tokens },
      earlyStop: o.earlyStop,
      createdAt: new Date().toISOString(),
    },
    rootScript,
    { valLoss: o.task.baseline.valLoss, nSteps: o.task.baseline.steps },
  );
  return store;
}
