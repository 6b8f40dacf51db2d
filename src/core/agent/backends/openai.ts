// Any OpenAI-compatible chat completions endpoint (OpenAI, Azure, vLLM, Ollama, LiteLLM proxies), streamed as
// server-sent events. The API key travels only in the request headers.
import type { ChatMessage, Usage } from '../types';
import { BackendError, type ChatOptions, type ChatResult, type ModelBackend, estimateUsage } from './backend';

export interface OpenAIOptions {
  baseUrl: string;
  model: string;
  apiKey?: string;
  temperature?: number;
}

interface StreamChunk {
  choices?: { delta?: { content?: string | null; reasoning_content?: string | null; reasoning?: string | null } }[];
  usage?: { prompt_tokens?: number; completion_tokens?: number } | null;
  error?: { message?: string };
}

export class OpenAIBackend implements ModelBackend {
  readonly label: string;
  constructor(private readonly opts: OpenAIOptions) {
    this.label = `OpenAI-compatible · ${opts.model} @ ${opts.baseUrl}`;
  }

  /** `<baseUrl>/chat/completions`, keeping a query string (Azure's api-version) at the end. */
  endpoint(): string {
    const [base, query] = this.opts.baseUrl.split('?', 2);
    return `${base.replace(/\/+$/, '')}/chat/completions${query ? `?${query}` : ''}`;
  }

  async chat(messages: ChatMessage[], opts: ChatOptions = {}): Promise<ChatResult> {
    const body: Record<string, unknown> = {
      model: this.opts.model,
      messages: messages.map((m) => ({ role: m.role, content: redact(m.content, this.opts.apiKey) })),
      stream: true,
      stream_options: { include_usage: true },
    };
    if (this.opts.temperature !== undefined) body.temperature = this.opts.temperature;
    let res = await this.post(body, opts.signal);
    if (res.status === 400) {
      // Some servers reject stream_options; ask again without it.
      const text = await res.text();
      if (!/stream_options/i.test(text)) throw httpError(res.status, text);
      delete body.stream_options;
      res = await this.post(body, opts.signal);
    }
    if (!res.ok) throw httpError(res.status, await res.text());
    if (!res.body) throw new BackendError('The endpoint sent no response body.');
    return readStream(res.body, messages, opts);
  }

  private async post(body: unknown, signal?: AbortSignal): Promise<Response> {
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'text/event-stream' };
    if (this.opts.apiKey) {
      headers.authorization = `Bearer ${this.opts.apiKey}`;
      if (/\.openai\.azure\.com/i.test(this.opts.baseUrl)) headers['api-key'] = this.opts.apiKey;
    }
    try {
      return await fetch(this.endpoint(), { method: 'POST', headers, body: JSON.stringify(body), signal });
    } catch (e) {
      if (signal?.aborted) throw e;
      throw new BackendError(`Cannot reach ${this.endpoint()}: ${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message}`);
    }
  }
}

function httpError(status: number, body: string): BackendError {
  let message = body.slice(0, 500);
  try {
    const j = JSON.parse(body) as { error?: { message?: string } | string; message?: string };
    message = (typeof j.error === 'string' ? j.error : j.error?.message) ?? j.message ?? message;
  } catch {
    // not JSON
  }
  return new BackendError(`The model endpoint answered HTTP ${status}: ${message}`);
}

/** Never send the key itself, should it have ended up in some text (a pasted log, say). */
function redact(text: string, key?: string): string {
  return key && key.length >= 8 ? text.split(key).join('[redacted]') : text;
}

async function readStream(body: ReadableStream<Uint8Array>, messages: ChatMessage[], opts: ChatOptions): Promise<ChatResult> {
  const decoder = new TextDecoder();
  let buffer = '';
  let text = '';
  let reasoning = '';
  let usage: Usage | undefined;
  const handle = (line: string): boolean => {
    if (!line.startsWith('data:')) return false;
    const data = line.slice(5).trim();
    if (data === '[DONE]') return true;
    let chunk: StreamChunk;
    try {
      chunk = JSON.parse(data) as StreamChunk;
    } catch {
      return false; // keep-alive or a line we do not understand
    }
    if (chunk.error) throw new BackendError(`The model endpoint reported an error: ${chunk.error.message ?? 'unknown'}`);
    const delta = chunk.choices?.[0]?.delta;
    const r = delta?.reasoning_content ?? delta?.reasoning;
    if (r) {
      reasoning += r;
      opts.onDelta?.(r, 'reasoning');
    }
    if (delta?.content) {
      text += delta.content;
      opts.onDelta?.(delta.content, 'content');
    }
    if (chunk.usage && typeof chunk.usage.prompt_tokens === 'number') {
      usage = { promptTokens: chunk.usage.prompt_tokens, completionTokens: chunk.usage.completion_tokens ?? 0 };
    }
    return false;
  };
  const reader = body.getReader();
  let done = false;
  while (!done) {
    const r = await reader.read();
    if (r.done) break;
    buffer += decoder.decode(r.value, { stream: true });
    let nl: number;
    while (!done && (nl = buffer.indexOf('\n')) >= 0) {
      const line = buffer.slice(0, nl).replace(/\r$/, '');
      buffer = buffer.slice(nl + 1);
      done = handle(line);
    }
  }
  if (!done && buffer.trim()) handle(buffer.trim());
  await reader.cancel().catch(() => undefined);
  return { text, reasoning: reasoning || undefined, usage: usage ?? estimateUsage(messages, reasoning + text) };
}
