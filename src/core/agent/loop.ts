// The agent loop, modelled on the benchmark's scaffold but one attempt at a time and in view of the user:
// each turn proposes a change (from the task, the chosen hints, the current script and earlier outcomes),
// applies it, checks the rules (a violation goes back to the model before any run), asks for review, runs it,
// and summarises the outcome for the next turn. It keeps the best valid attempt and stops on budget or request.
// Everything editor- and run-specific is behind AgentHost, so the loop runs the same in tests.
import type { TaskFile } from '../benchmark/types';
import type { ModelBackend } from './backends/backend';
import { sha256 } from '../files';
import { applyBlocks, changeSize, parseBlocks } from './editFormat';
import type { AgentHint } from './hints';
import { type TurnRecord, fixMessage, isValid, planOf, summarizeOutcome, turnMessages } from './prompt';
import { type RuleReport, type Violation, describeViolations } from './rules';
import type { AgentEventBody, AttemptResult, Budget, ChatMessage, RunOutcome } from './types';

export interface AgentHost {
  /** The script's live text and its document version. */
  readScript(): Promise<{ text: string; version: number }>;
  /**
   * Replaces the script's text `before` (at `version`) with `after`. `applied: false` when the document changed
   * in between (the loop then reads it again).
   */
  applyEdit(e: {
    turn: number;
    checkpoint: number;
    kind: 'edit' | 'restore' | 'final';
    before: string;
    after: string;
    version: number;
  }): Promise<{ applied: boolean; reason?: string }>;
  /** Saves the script before a turn; returns the checkpoint number. */
  checkpoint(turn: number, text: string): Promise<number>;
  checkRules(text: string): Promise<RuleReport>;
  /** Accept or reject the turn (a reject restores the file); `by` says whether the user or auto-accept decided. */
  review(turn: number, summary: string, signal: AbortSignal): Promise<{ decision: 'accept' | 'reject'; by: 'user' | 'auto' }>;
  /** Undo the turn's edits without asking. */
  revert(turn: number, reason: string): Promise<void>;
  /** Runs the saved script and resolves when the run has ended. */
  run(turn: number, signal: AbortSignal): Promise<RunOutcome>;
  /** Keeps the script as a turn left it; returns its path for the transcript. */
  saveTurn(turn: number, text: string): string | undefined;
  emit(e: AgentEventBody): void;
}

export interface LoopOptions {
  task: TaskFile;
  hints: AgentHint[];
  backend: ModelBackend & { readonly exhausted?: boolean };
  budget: Budget;
  /** Extra model rounds per turn to fix blocks that did not apply or broken rules. */
  maxFixRounds?: number;
  /** False for the ground-truth replay: it reproduces the record as it is, so rule findings are only reported. */
  enforceRules?: boolean;
  /** Turns in a row that may try to fix a crashed run before going back to the best attempt. */
  maxDebugDepth?: number;
}

interface Best extends AttemptResult {
  script: string;
}

export class AgentStopped extends Error {}

export class AgentLoop {
  private readonly abort = new AbortController();
  private stopReason = '';
  private tokensUsed = 0;
  private runs = 0;
  private turns = 0;
  private readonly history: TurnRecord[] = [];

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
    const { task, budget } = this.opts;
    const maxDebug = this.opts.maxDebugDepth ?? 2;
    const root = await this.host.readScript();
    // The untouched starting script counts as an attempt with the record's own time (as in the benchmark).
    const rootTime = sha256(root.text) === task.baselineSha256 ? task.baseline.trainTimeMs : Infinity;
    let best: Best = { turn: 0, trainTimeMs: rootTime, valLoss: task.baseline.valLoss, script: root.text };
    let lastAgentText = root.text;
    let crashed: { script: string; depth: number } | undefined;
    let reason = '';
    try {
      for (let turn = 1; ; turn++) {
        if (turn > budget.iterations) {
          reason = `iteration budget used (${budget.iterations})`;
          break;
        }
        if (this.runs >= budget.runs) {
          reason = `run budget used (${budget.runs})`;
          break;
        }
        if (this.opts.backend.exhausted) {
          reason = 'the replay has nothing more to play';
          break;
        }
        this.checkStopped();
        this.turns = turn;
        const cur = await this.host.readScript();
        let parent: string;
        let startsFrom: string;
        if (cur.text !== lastAgentText) {
          parent = cur.text;
          startsFrom = 'as you edited it since the last turn';
        } else if (crashed && crashed.depth <= maxDebug && crashed.script === cur.text) {
          parent = cur.text;
          startsFrom = 'the last attempt, whose run failed';
        } else if (best.turn > 0) {
          parent = best.script;
          startsFrom = `the best attempt so far, from turn ${best.turn}`;
        } else {
          parent = root.text;
          startsFrom = 'the starting script';
        }
        const checkpoint = await this.host.checkpoint(turn, cur.text);
        this.host.emit({ type: 'turn', turn, checkpoint, startsFrom });
        if (parent !== cur.text) {
          const r = await this.host.applyEdit({ turn, checkpoint, kind: 'restore', before: cur.text, after: parent, version: cur.version });
          if (!r.applied) throw new Error(`could not restore ${startsFrom}: ${r.reason ?? 'the editor refused the edit'}`);
          this.host.emit({ type: 'restore', turn, to: startsFrom });
        }
        const proposal = await this.propose(turn, checkpoint, parent, startsFrom, best);
        if (!proposal.ready) {
          const now = await this.host.readScript();
          if (now.text !== cur.text) await this.host.revert(turn, proposal.reason);
          this.host.emit({ type: 'review', turn, decision: 'reject', by: 'agent', reason: proposal.reason });
          this.history.push({ turn, plan: proposal.plan, outcome: `not run: ${proposal.reason}` });
          lastAgentText = (await this.host.readScript()).text;
          if (proposal.stop) {
            reason = proposal.reason;
            break;
          }
          continue;
        }
        const { decision, by } = await this.host.review(turn, proposal.plan, this.signal);
        this.host.emit({ type: 'review', turn, decision, by });
        if (decision === 'reject') {
          this.history.push({ turn, plan: proposal.plan, outcome: 'the user rejected this change, so it was undone and not run' });
          lastAgentText = (await this.host.readScript()).text;
          continue;
        }
        const ran = await this.host.readScript();
        const outcome = await this.host.run(turn, this.signal);
        if (outcome.state !== 'not-started') this.runs++;
        const summary = summarizeOutcome(outcome, task);
        const valid = outcome.state === 'finished' && isValid(outcome.final);
        this.host.emit({ type: 'run-end', turn, outcome, summary, valid });
        this.history.push({ turn, plan: proposal.plan, outcome: summary });
        if (valid && outcome.final!.train_time < best.trainTimeMs) {
          best = { turn, runId: outcome.runId, trainTimeMs: outcome.final!.train_time, valLoss: outcome.final!.val_loss, script: ran.text };
          this.host.emit({ type: 'best', turn, runId: outcome.runId, trainTimeMs: best.trainTimeMs, valLoss: best.valLoss });
        }
        crashed = outcome.state === 'failed' ? { script: ran.text, depth: (crashed?.depth ?? 0) + 1 } : undefined;
        lastAgentText = (await this.host.readScript()).text;
      }
      // Leave the best valid attempt in the file, unless the user has edited it since the agent last did.
      const now = await this.host.readScript();
      if (best.turn > 0 && now.text === lastAgentText && now.text !== best.script) {
        const checkpoint = await this.host.checkpoint(this.turns + 1, now.text);
        const r = await this.host.applyEdit({ turn: this.turns + 1, checkpoint, kind: 'final', before: now.text, after: best.script, version: now.version });
        if (r.applied) this.host.emit({ type: 'restore', turn: this.turns + 1, to: `the best attempt, from turn ${best.turn}` });
      }
    } catch (e) {
      if (this.signal.aborted) reason = this.stopReason;
      else {
        reason = `error: ${(e as Error).message}`;
        this.host.emit({ type: 'error', turn: this.turns || undefined, message: (e as Error).message });
      }
    }
    const result = best.turn > 0 ? { turn: best.turn, runId: best.runId, trainTimeMs: best.trainTimeMs, valLoss: best.valLoss } : null;
    this.host.emit({ type: 'end', reason, best: result, tokensUsed: this.tokensUsed, runs: this.runs, turns: this.turns });
    return result;
  }

  private checkStopped(): void {
    if (this.signal.aborted) throw new AgentStopped(this.stopReason);
  }

  /** Asks the model for a change and applies it, with rounds to fix blocks that failed or broken rules. */
  private async propose(
    turn: number,
    checkpoint: number,
    script: string,
    startsFrom: string,
    best: Best,
  ): Promise<{ ready: true; plan: string } | { ready: false; plan: string; reason: string; stop?: boolean }> {
    const { backend, budget } = this.opts;
    const maxFix = this.opts.maxFixRounds ?? 3;
    let messages: ChatMessage[] = turnMessages({
      task: this.opts.task,
      hints: this.opts.hints,
      script,
      history: this.history,
      startsFrom,
      best: best.turn > 0 ? best : undefined,
    });
    let plan = '';
    let reason = 'no usable change';
    for (let round = 1; round <= maxFix + 1; round++) {
      if (this.tokensUsed >= budget.tokens) return { ready: false, plan: plan || '(none)', reason: `token budget used (${budget.tokens})`, stop: true };
      this.checkStopped();
      this.host.emit({ type: 'prompt', turn, round, messages });
      const resp = await backend.chat(messages, {
        signal: this.signal,
        onDelta: (text, channel) => this.host.emit({ type: 'delta', turn, round, channel, text }),
      });
      this.tokensUsed += resp.usage.promptTokens + resp.usage.completionTokens;
      this.host.emit({ type: 'response', turn, round, text: resp.text, reasoning: resp.reasoning, usage: resp.usage, tokensUsed: this.tokensUsed });
      if (round === 1) plan = planOf(resp.text);
      const parsed = parseBlocks(resp.text);
      let cur = await this.host.readScript();
      let res = applyBlocks(cur.text, parsed.blocks);
      if (res.applied.length && res.text !== cur.text) {
        let r = await this.host.applyEdit({ turn, checkpoint, kind: 'edit', before: cur.text, after: res.text, version: cur.version });
        if (!r.applied) {
          // The document changed between reading and editing (the user typed): read it again, once.
          cur = await this.host.readScript();
          res = applyBlocks(cur.text, parsed.blocks);
          r = await this.host.applyEdit({ turn, checkpoint, kind: 'edit', before: cur.text, after: res.text, version: cur.version });
          if (!r.applied) return { ready: false, plan, reason: `the edit could not be applied: ${r.reason ?? 'the document kept changing'}` };
        }
      }
      const blockErrors = [...parsed.errors, ...res.failures.map((f) => f.message)];
      if (parsed.blocks.length || parsed.errors.length) {
        const size = changeSize(cur.text, res.text);
        const file = res.text !== cur.text ? this.host.saveTurn(turn, res.text) : undefined;
        this.host.emit({ type: 'edit', turn, round, applied: res.applied, failures: res.failures, linesAdded: size.added, linesRemoved: size.removed, file });
      }
      const changed = res.text !== script;
      let blocking: Violation[] = [];
      if (changed) {
        const report = await this.host.checkRules(res.text);
        this.host.emit({
          type: 'rules',
          turn,
          round,
          violations: report.violations.map((v) => ({ rule: v.rule, line: v.range.start.line + 1, message: v.message })),
          method: report.syntaxMethod,
        });
        const errors = report.violations.filter((v) => v.severity === 'error');
        blocking = this.opts.enforceRules === false ? [] : errors;
        if (errors.length && !blocking.length) this.host.emit({ type: 'note', turn, text: 'Rule findings are reported but do not block the ground-truth replay.' });
      }
      if (!blockErrors.length && !blocking.length && changed) return { ready: true, plan };
      let extra: string | undefined;
      if (!parsed.blocks.length && !parsed.errors.length) {
        reason = 'the answer had no SEARCH/REPLACE block';
        if (backend.exhausted) return { ready: false, plan, reason };
        extra = 'Your answer had no SEARCH/REPLACE block. Answer with a short plan and then the blocks.';
      } else if (!blockErrors.length && !blocking.length) {
        reason = 'the change left the script as it was';
        extra = 'The blocks leave the script exactly as it was. Make an actual change.';
      } else {
        reason = blockErrors.length ? `blocks did not apply (${blockErrors.length})` : `the change breaks the rules (${[...new Set(blocking.map((v) => v.rule))].join(', ')})`;
      }
      messages = [
        ...messages,
        { role: 'assistant', content: resp.text },
        {
          role: 'user',
          content: fixMessage({
            applied: res.applied,
            failures: extra ? [...blockErrors, extra] : blockErrors,
            violations: blocking.length ? describeViolations(blocking, res.text) : undefined,
            script: res.text,
          }),
        },
      ];
    }
    return { ready: false, plan, reason: `${reason}, after ${maxFix} rounds of fixes` };
  }
}
