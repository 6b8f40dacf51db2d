// One agent turn, the unit every strategy is made of: start from a parent script, propose a change (from the
// task, the chosen hints, the parent and earlier outcomes), apply it, check the rules (a violation goes back to
// the model before any run), ask for review, run it, and summarise the outcome. Everything editor- and
// run-specific is behind AgentHost, so a turn plays the same in the editor, the CLI and tests.
// Strategies (strategies/) decide which parent each turn starts from and what to keep; they own the history.
import type { TaskFile } from '../benchmark/types';
import { type RuleReport, type Violation, describeViolations } from '../rules';
import type { AgentBackend } from './backends/backend';
import { applyBlocks, changeSize, parseBlocks } from './editFormat';
import type { AgentHint } from './hints';
import { type TurnRecord, fixMessage, isValid, planOf, summarizeOutcome, turnMessages } from './prompt';
import type { AgentEventBody, Budget, ChatMessage, RunOutcome } from './types';

export interface AgentHost {
  /** The script's live text and its document version. */
  readScript(): Promise<{ text: string; version: number }>;
  /**
   * Replaces the script's text `before` (at `version`) with `after`. `applied: false` when the document changed
   * in between (the turn then reads it again).
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
  /**
   * Runs `script` (the text the turn left in the document) and resolves when the run has ended. A host that can
   * run several scripts at once (a search's round) runs each call on its own; the editor runs the saved file.
   */
  run(turn: number, signal: AbortSignal, script: string): Promise<RunOutcome>;
  /** Keeps the script as a turn left it; returns its path for the transcript. */
  saveTurn(turn: number, text: string): string | undefined;
  emit(e: AgentEventBody): void;
}

/** What every turn of a session shares. */
export interface TurnContext {
  host: AgentHost;
  task: TaskFile;
  hints: AgentHint[];
  backend: AgentBackend;
  budget: Budget;
  signal: AbortSignal;
  /** False for the ground-truth replay: it reproduces the record as it is, so rule findings are only reported. */
  enforceRules: boolean;
  /** Extra model rounds per turn to fix blocks that did not apply or broken rules. */
  maxFixRounds: number;
  /** Session-wide spending; turns add to it. */
  usage: { tokens: number; runs: number };
}

export interface TurnInput {
  turn: number;
  /** The script the turn starts from (a node's script in a search). */
  parent: string;
  /** Where `parent` came from, in words for the model and the transcript, e.g. "the best attempt so far, from turn 2". */
  startsFrom: string;
  /** The earlier turns the prompt should remember (the strategy chooses: all of them, or a node's ancestors). */
  history: TurnRecord[];
  best?: { turn: number; trainTimeMs: number; valLoss: number };
}

export type ProposeInput = TurnInput & { checkpoint: number };

export type Proposal = { ready: true; plan: string } | { ready: false; plan: string; reason: string; stop?: boolean };

/** What a turn left: the script it ran (or would have), its plan, and its outcome. */
export interface TurnResult {
  turn: number;
  checkpoint: number;
  plan: string;
  /** The document's text after the turn: the attempt when it ran, else what review/revert left. */
  script: string;
  status: 'ran' | 'rejected' | 'not-run';
  outcome?: RunOutcome;
  /** One paragraph for the next prompt's history. */
  summary: string;
  valid: boolean;
  /** Set when the turn found the session cannot go on (token budget used, a replay with nothing left). */
  stop?: string;
}

export class AgentStopped extends Error {}

export function checkStopped(ctx: TurnContext): void {
  if (ctx.signal.aborted) throw ctx.signal.reason instanceof Error ? ctx.signal.reason : new AgentStopped('stopped');
}

/** One whole turn: checkpoint, back to `parent`, propose, review, run, summarise. */
export async function playTurn(ctx: TurnContext, input: TurnInput): Promise<TurnResult> {
  const { host } = ctx;
  const { turn } = input;
  const cur = await host.readScript();
  const checkpoint = await host.checkpoint(turn, cur.text);
  host.emit({ type: 'turn', turn, checkpoint, startsFrom: input.startsFrom });
  if (input.parent !== cur.text) {
    const r = await host.applyEdit({ turn, checkpoint, kind: 'restore', before: cur.text, after: input.parent, version: cur.version });
    if (!r.applied) throw new Error(`could not restore ${input.startsFrom}: ${r.reason ?? 'the editor refused the edit'}`);
    host.emit({ type: 'restore', turn, to: input.startsFrom });
  }
  const proposal = await propose(ctx, { ...input, checkpoint });
  if (!proposal.ready) {
    const now = await host.readScript();
    if (now.text !== cur.text) await host.revert(turn, proposal.reason);
    host.emit({ type: 'review', turn, decision: 'reject', by: 'agent', reason: proposal.reason });
    const script = (await host.readScript()).text;
    return { turn, checkpoint, plan: proposal.plan, script, status: 'not-run', summary: `not run: ${proposal.reason}`, valid: false, stop: proposal.stop ? proposal.reason : undefined };
  }
  const { decision, by } = await host.review(turn, proposal.plan, ctx.signal);
  host.emit({ type: 'review', turn, decision, by });
  if (decision === 'reject') {
    const script = (await host.readScript()).text;
    return { turn, checkpoint, plan: proposal.plan, script, status: 'rejected', summary: 'the user rejected this change, so it was undone and not run', valid: false };
  }
  const script = (await host.readScript()).text;
  const { outcome, summary, valid } = await runAttempt(ctx, turn, script);
  return { turn, checkpoint, plan: proposal.plan, script, status: 'ran', outcome, summary, valid };
}

/** Runs an accepted attempt and summarises it for the next prompt. */
export async function runAttempt(ctx: TurnContext, turn: number, script: string): Promise<{ outcome: RunOutcome; summary: string; valid: boolean }> {
  const outcome = await ctx.host.run(turn, ctx.signal, script);
  if (outcome.state !== 'not-started') ctx.usage.runs++;
  const summary = summarizeOutcome(outcome, ctx.task);
  const valid = outcome.state === 'finished' && isValid(outcome.final);
  ctx.host.emit({ type: 'run-end', turn, outcome, summary, valid });
  return { outcome, summary, valid };
}

/** The propose step: the backend's own, or a model asked for SEARCH/REPLACE blocks with rounds of fixes. */
export function propose(ctx: TurnContext, input: ProposeInput): Promise<Proposal> {
  if (ctx.backend.propose) return ctx.backend.propose(ctx, input);
  return proposeWithModel(ctx, input);
}

async function proposeWithModel(ctx: TurnContext, input: ProposeInput): Promise<Proposal> {
  const { backend, budget, host } = ctx;
  const { turn, checkpoint, parent: script } = input;
  const chat = backend.chat?.bind(backend);
  if (!chat) throw new Error(`the backend ${backend.label} can neither chat nor propose`);
  let messages: ChatMessage[] = turnMessages({
    task: ctx.task,
    hints: ctx.hints,
    script,
    history: input.history,
    startsFrom: input.startsFrom,
    best: input.best,
  });
  let plan = '';
  let reason = 'no usable change';
  for (let round = 1; round <= ctx.maxFixRounds + 1; round++) {
    if (ctx.usage.tokens >= budget.tokens) return { ready: false, plan: plan || '(none)', reason: `token budget used (${budget.tokens})`, stop: true };
    checkStopped(ctx);
    host.emit({ type: 'prompt', turn, round, messages });
    const resp = await chat(messages, {
      signal: ctx.signal,
      onDelta: (text, channel) => host.emit({ type: 'delta', turn, round, channel, text }),
    });
    ctx.usage.tokens += resp.usage.promptTokens + resp.usage.completionTokens;
    host.emit({ type: 'response', turn, round, text: resp.text, reasoning: resp.reasoning, usage: resp.usage, tokensUsed: ctx.usage.tokens });
    if (round === 1) plan = planOf(resp.text);
    const parsed = parseBlocks(resp.text);
    let cur = await host.readScript();
    let res = applyBlocks(cur.text, parsed.blocks);
    if (res.applied.length && res.text !== cur.text) {
      let r = await host.applyEdit({ turn, checkpoint, kind: 'edit', before: cur.text, after: res.text, version: cur.version });
      if (!r.applied) {
        // The document changed between reading and editing (the user typed): read it again, once.
        cur = await host.readScript();
        res = applyBlocks(cur.text, parsed.blocks);
        r = await host.applyEdit({ turn, checkpoint, kind: 'edit', before: cur.text, after: res.text, version: cur.version });
        if (!r.applied) return { ready: false, plan, reason: `the edit could not be applied: ${r.reason ?? 'the document kept changing'}` };
      }
    }
    const blockErrors = [...parsed.errors, ...res.failures.map((f) => f.message)];
    if (parsed.blocks.length || parsed.errors.length) {
      const size = changeSize(cur.text, res.text);
      const file = res.text !== cur.text ? host.saveTurn(turn, res.text) : undefined;
      host.emit({ type: 'edit', turn, round, applied: res.applied, failures: res.failures, linesAdded: size.added, linesRemoved: size.removed, file });
    }
    const changed = res.text !== script;
    const blocking = changed ? await checkTurnRules(ctx, turn, round, res.text) : [];
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
  return { ready: false, plan, reason: `${reason}, after ${ctx.maxFixRounds} rounds of fixes` };
}

/** Checks the rules on a proposed script, reports them, and returns the violations that block a run. */
export async function checkTurnRules(ctx: TurnContext, turn: number, round: number, text: string): Promise<Violation[]> {
  const report = await ctx.host.checkRules(text);
  ctx.host.emit({
    type: 'rules',
    turn,
    round,
    violations: report.violations.map((v) => ({ rule: v.rule, line: v.range.start.line + 1, message: v.message })),
    method: report.syntaxMethod,
  });
  const errors = report.violations.filter((v) => v.severity === 'error');
  if (!ctx.enforceRules) {
    if (errors.length) ctx.host.emit({ type: 'note', turn, text: 'Rule findings are reported but do not block the ground-truth replay.' });
    return [];
  }
  return errors;
}
