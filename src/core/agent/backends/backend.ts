// What the loop needs from a model: one streamed chat completion at a time.
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
