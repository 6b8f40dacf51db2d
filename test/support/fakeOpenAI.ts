/**
 * A fake OpenAI-compatible chat completions server on loopback (a free port), for agent tests.
 * It streams scripted responses as server-sent events, as the real API does with `stream: true`, and records
 * every request (headers and JSON body) so tests can check exactly what a model was sent.
 *
 * ```ts
 * const fake = await startFakeOpenAI({ responses: [{ content: 'plan\n<<<<<<< SEARCH ...' }] });
 * // point the backend at fake.baseUrl (".../v1"); then:
 * fake.requests[0].body.messages; fake.requests[0].headers.authorization;
 * await fake.close();
 * ```
 * Responses are taken in order; `respond` (if given) is asked when the queue is empty. A request with no
 * response left gets HTTP 500, so a test that asks more often than it scripted fails visibly.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ScriptedResponse {
  /** The assistant text, streamed in pieces. */
  content?: string;
  /** Streamed as `reasoning_content` before the content (as DeepSeek-R1-style servers do). */
  reasoning?: string;
  /** Characters per streamed chunk (default 40). */
  chunkSize?: number;
  /** Pause between chunks in ms (default 5). */
  delayMs?: number;
  /** Answer with this HTTP status and an OpenAI-style error body instead. */
  status?: number;
  error?: string;
  /** Usage to report in the last chunk; null = report none. Default: counts of 4 characters a token. */
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
}

export interface RecordedRequest {
  path: string;
  headers: http.IncomingHttpHeaders;
  body: { model?: string; stream?: boolean; messages?: { role: string; content: string }[]; [k: string]: unknown };
}

export interface FakeOpenAI {
  /** e.g. http://127.0.0.1:41234/v1 */
  baseUrl: string;
  requests: RecordedRequest[];
  enqueue(...responses: ScriptedResponse[]): void;
  /** Every message content of every request, joined (for "never contains" checks). */
  allPromptText(): string;
  close(): Promise<void>;
}

export async function startFakeOpenAI(
  opts: { responses?: ScriptedResponse[]; respond?: (req: RecordedRequest, n: number) => ScriptedResponse | undefined } = {},
): Promise<FakeOpenAI> {
  const queue = [...(opts.responses ?? [])];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<import('node:net').Socket>();
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (d: Buffer) => (raw += d.toString('utf8')));
    req.on('end', () => {
      void handle(req, raw, res);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: http.IncomingMessage, raw: string, res: http.ServerResponse) {
    if (req.method !== 'POST' || !req.url?.replace(/\?.*/, '').endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
      return;
    }
    let body: RecordedRequest['body'];
    try {
      body = JSON.parse(raw) as RecordedRequest['body'];
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'body is not JSON' } }));
      return;
    }
    const rec: RecordedRequest = { path: req.url, headers: req.headers, body };
    requests.push(rec);
    const r = queue.shift() ?? opts.respond?.(rec, requests.length);
    if (!r) {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `fake server: no scripted response for request ${requests.length}` } }));
      return;
    }
    if (r.status && r.status >= 400) {
      res.writeHead(r.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: r.error ?? `scripted HTTP ${r.status}` } }));
      return;
    }
    const content = r.content ?? '';
    const promptChars = (body.messages ?? []).reduce((n, m) => n + m.content.length, 0);
    const usage = r.usage === undefined ? { prompt_tokens: Math.ceil(promptChars / 4), completion_tokens: Math.ceil(content.length / 4) } : r.usage;
    if (!body.stream) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: 'stop' }], usage }));
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    const size = r.chunkSize ?? 40;
    const send = (obj: unknown) => res.write(`data: ${JSON.stringify(obj)}\n\n`);
    const pause = () => new Promise((ok) => setTimeout(ok, r.delayMs ?? 5));
    send({ choices: [{ index: 0, delta: { role: 'assistant' } }] });
    for (let i = 0; i < (r.reasoning ?? '').length; i += size) {
      send({ choices: [{ index: 0, delta: { reasoning_content: r.reasoning!.slice(i, i + size) } }] });
      await pause();
    }
    for (let i = 0; i < content.length; i += size) {
      send({ choices: [{ index: 0, delta: { content: content.slice(i, i + size) } }] });
      await pause();
    }
    send({ choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] });
    if (usage && (body.stream_options as { include_usage?: boolean } | undefined)?.include_usage) send({ choices: [], usage });
    res.write('data: [DONE]\n\n');
    res.end();
  }

  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const port = (server.address() as AddressInfo).port;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    requests,
    enqueue: (...r) => queue.push(...r),
    allPromptText: () => requests.flatMap((r) => (r.body.messages ?? []).map((m) => m.content)).join('\n'),
    close: () =>
      new Promise<void>((ok) => {
        for (const s of sockets) s.destroy();
        server.close(() => ok());
      }),
  };
}
