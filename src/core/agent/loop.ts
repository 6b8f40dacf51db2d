// An agent session: one backend, one budget, one strategy (the sequential best-node loop unless told otherwise).
// It holds what all turns share (spending, the stop signal, the best attempt), lets the strategy play turns
// (turn.ts), and always ends with an `end` event. Faces (language server, CLI) build it with their AgentHost.
import type { TaskFile } from '../benchmark/types';
import { sha256 } from '../files';
import type { AgentBackend } from './backends/backend';
import type { AgentHint } from './hints';
import { SequentialStrategy } from './strategies/sequential';
import type { Best, Strategy, StrategyRun } from './strategies/strategy';
import { type AgentHost, AgentStopped, type TurnContext, type TurnResult } from './turn';
import type { AttemptResult, Budget } from './types';

export { AgentStopped, type AgentHost } from './turn';

export interface LoopOptions {
  task: TaskFile;
  hints: AgentHint[];
  backend: AgentBackend;
  budget: Budget;
  /** Extra model rounds per turn to fix blocks that did not apply or broken rules. */
  maxFixRounds?: number;
  /** False for the ground-truth replay: it reproduces the record as it is, so rule findings are only reported. */
  enforceRules?: boolean;
  /** Default: the sequential loop. */
  strategy?: Strategy;
}

export class AgentLoop {
  private readonly abort = new AbortController();
  private stopReason = '';
  private turns = 0;
  private readonly usage = { tokens: 0, runs: 0 };

  constructor(
    private readonly host: AgentHost,
    private readonly opts: LoopOptions,
  ) {}

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  /** Stops at the next step; an ongoing model request or run is cancelled. */
  stop(reason = 'stopped by the user'): void {
    if (this.abort.signal.aborted) return;
    this.stopReason = reason;
    this.abort.abort(new AgentStopped(reason));
  }

  async run(): Promise<AttemptResult | null> {
    const { task, budget, backend } = this.opts;
    const strategy = this.opts.strategy ?? new SequentialStrategy();
    const ctx: TurnContext = {
      host: this.host,
      task,
      hints: this.opts.hints,
      backend,
      budget,
      signal: this.signal,
      enforceRules: this.opts.enforceRules !== false,
      maxFixRounds: this.opts.maxFixRounds ?? 3,
      usage: this.usage,
    };
    let reason: string;
    let best: Best | undefined;
    try {
      const root = await this.host.readScript();
      const isStartingScript = sha256(root.text) === task.baselineSha256;
      // The untouched starting script counts as an attempt with the record's own time (as in the benchmark).
      best = { turn: 0, trainTimeMs: isStartingScript ? task.baseline.trainTimeMs : Infinity, valLoss: task.baseline.valLoss, script: root.text };
      reason = await strategy.run(this.strategyRun(ctx, { text: root.text, isStartingScript }, () => best!, (b) => (best = b)));
    } catch (e) {
      if (this.signal.aborted) reason = this.stopReason;
      else {
        reason = `error: ${(e as Error).message}`;
        this.host.emit({ type: 'error', turn: this.turns || undefined, message: (e as Error).message });
      }
    } finally {
      await Promise.resolve(backend.dispose?.()).catch(() => undefined);
    }
    const result = best && best.turn > 0 ? { turn: best.turn, runId: best.runId, trainTimeMs: best.trainTimeMs, valLoss: best.valLoss } : null;
    this.host.emit({ type: 'end', reason, best: result, tokensUsed: this.usage.tokens, runs: this.usage.runs, turns: this.turns });
    return result;
  }

  private strategyRun(ctx: TurnContext, root: StrategyRun['root'], getBest: () => Best, setBest: (b: Best) => void): StrategyRun {
    const { budget, backend } = this.opts;
    return {
      ctx,
      root,
      nextTurn: () => ++this.turns,
      limit: () => {
        if (this.turns >= budget.iterations) return `iteration budget used (${budget.iterations})`;
        if (this.usage.runs >= budget.runs) return `run budget used (${budget.runs})`;
        if (backend.exhausted) return 'the replay has nothing more to play';
        return undefined;
      },
      get best() {
        return getBest();
      },
      offer: (r: TurnResult) => {
        const f = r.outcome?.final;
        if (!r.valid || !f || f.train_time >= getBest().trainTimeMs) return false;
        setBest({ turn: r.turn, runId: r.outcome?.runId, trainTimeMs: f.train_time, valLoss: f.val_loss, script: r.script });
        this.host.emit({ type: 'best', turn: r.turn, runId: r.outcome?.runId, trainTimeMs: f.train_time, valLoss: f.val_loss });
        return true;
      },
    };
  }
}
