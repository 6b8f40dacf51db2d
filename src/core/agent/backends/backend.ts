// What a turn needs from whatever proposes its change. A model backend answers one streamed chat completion at a
// time and the turn turns its SEARCH/REPLACE blocks into edits; an agent backend (an ACP agent, which edits the
// file itself) takes over the whole propose step instead. Backends are created through the registry.
import type { ProposeInput, Proposal, TurnContext } from '../turn';
import type { ChatMessage, Usage } from '../types';

export interface ChatOptions {
  signal?: AbortSignal;
  /** Streamed text as it arrives: the model's visible answer, or its reasoning where the API reports it. */
  onDelta?: (text: string, channel: 'reasoning' | 'content') => void;
}

export interface ChatResult {
  text: string;
  reasoning?: string;
  usage: Usage;
}

export interface ModelBackend {
  /** Shown in the transcript, e.g. "OpenAI-compatible · o3-mini @ https://…". */
  readonly label: string;
  chat(messages: ChatMessage[], opts?: ChatOptions): Promise<ChatResult>;
}

/** What a session holds: a model (`chat`) or an agent that edits the script itself (`propose`). */
export interface AgentBackend {
  readonly label: string;
  /** True when the backend has nothing more to offer (the replay after its one change). */
  readonly exhausted?: boolean;
  chat?(messages: ChatMessage[], opts?: ChatOptions): Promise<ChatResult>;
  /**
   * Proposes and applies the turn's change itself, through `ctx.host` (applyEdit, checkRules), adding what it
   * spends to `ctx.usage`. Backends without it are asked for SEARCH/REPLACE blocks through `chat`.
   */
  propose?(ctx: TurnContext, input: ProposeInput): Promise<Proposal>;
  /** Called once when the session ends (an agent process is stopped here). */
  dispose?(): void | Promise<void>;
}

export class BackendError extends Error {}

/** Rough token count when an API reports none: about 4 characters a token. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

export function estimateUsage(messages: ChatMessage[], completion: string): Usage {
  return {
    promptTokens: messages.reduce((n, m) => n + estimateTokens(m.content) + 4, 0),
    completionTokens: estimateTokens(completion),
    estimated: true,
  };
}
