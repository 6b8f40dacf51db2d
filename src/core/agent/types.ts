// Vocabulary of the in-editor agent: its configuration, the events of a session (the transcript), and what a
// run reports back to it. Shared by the loop (core), the language server that hosts it and the VS Code client.
import type { FinalResult, ScriptError } from '../logs/types';
import type { RunState } from '../runs/types';
import type { RuleId } from '../rules/types';

export type { RuleId };

/** Hint levels an agent may be given. Level 0 (the ground-truth diff) is never one of them. */
export type AgentHintLevel = 1 | 2 | 3;
export const AGENT_HINT_LEVELS: readonly AgentHintLevel[] = [1, 2, 3];

/** An agent session's budget (validated by BudgetSchema in budget.ts). */
export interface Budget {
  /** Turns: one proposal, its review and at most one run each. */
  iterations: number;
  runs: number;
  /** Prompt + completion tokens over the whole session. */
  tokens: number;
}

export type BackendConfig =
  | { kind: 'openai'; baseUrl: string; model: string; temperature?: number }
  | { kind: 'vscode-lm'; selector: { id?: string; vendor?: string; family?: string }; label: string }
  | { kind: 'replay' }
  /** An ACP agent process (Claude Code's adapter, `gemini --acp`, ...): `command` as the user configured it. */
  | { kind: 'acp'; command: string; label?: string };

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  /** True when the backend did not report usage and the counts are estimates (4 characters a token). */
  estimated?: boolean;
}

/** What a run tells the agent. */
export interface RunOutcome {
  runId?: string;
  state: RunState | 'not-started';
  final?: FinalResult | null;
  error?: ScriptError | null;
  /** The last lines the run printed (for the root cause of a failure). */
  logTail?: string;
  /** Why the run did not start, or other context. */
  message?: string;
}

/** One attempt's result as the loop keeps it. */
export interface AttemptResult {
  turn: number;
  runId?: string;
  trainTimeMs: number;
  valLoss: number;
}

/** Everything a session reports. `delta` events are live only; every other event is persisted. */
export type AgentEventBody =
  | {
      type: 'session';
      backend: string;
      model?: string;
      hintLevels: AgentHintLevel[];
      hintFiles: string[];
      target?: string;
      budget: Budget;
      taskId: number;
      /** True for the ground-truth replay: not an agent, and it reads level 0. */
      replay: boolean;
    }
  | { type: 'turn'; turn: number; checkpoint: number; startsFrom: string }
  | { type: 'prompt'; turn: number; round: number; messages: ChatMessage[] }
  | { type: 'delta'; turn: number; round: number; channel: 'reasoning' | 'content'; text: string }
  | { type: 'response'; turn: number; round: number; text: string; reasoning?: string; usage: Usage; tokensUsed: number }
  | {
      type: 'edit';
      turn: number;
      round: number;
      applied: number[];
      failures: { block: number; message: string }[];
      linesAdded: number;
      linesRemoved: number;
      /** Path (relative to the task dir) of the script as this edit left it. */
      file?: string;
    }
  | { type: 'rules'; turn: number; round: number; violations: { rule: RuleId; line: number; message: string }[]; method: string }
  | { type: 'review'; turn: number; decision: 'accept' | 'reject'; by: 'user' | 'auto' | 'agent'; reason?: string }
  | { type: 'run-start'; turn: number; runId: string; target?: string }
  | { type: 'run-end'; turn: number; outcome: RunOutcome; summary: string; valid: boolean }
  | { type: 'best'; turn: number; runId?: string; trainTimeMs: number; valLoss: number }
  | { type: 'restore'; turn: number; to: string }
  | { type: 'note'; turn?: number; text: string }
  | { type: 'error'; turn?: number; message: string }
  | { type: 'end'; reason: string; best: AttemptResult | null; tokensUsed: number; runs: number; turns: number };

export type AgentEvent = AgentEventBody & { sessionId: string; at: string };

export const DEFAULT_BUDGET: Budget = { iterations: 5, runs: 5, tokens: 300_000 };
