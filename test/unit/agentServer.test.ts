// The language server as other editors use it: `node server.js --stdio`, spoken to over JSON-RPC.
import * as assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildSync } from 'esbuild';
import {
  ApplyWorkspaceEditRequest, CodeActionRequest, CodeLensRequest, type Diagnostic, DidChangeTextDocumentNotification,
  DidOpenTextDocumentNotification, ExitNotification, InitializeRequest, InitializedNotification, type ProtocolConnection,
  PublishDiagnosticsNotification, type PublishDiagnosticsParams, ShutdownRequest, StreamMessageReader, StreamMessageWriter,
  type TextDocumentEdit, type TextEdit, Trace, createProtocolConnection,
} from 'vscode-languageserver-protocol/node';
import type { AgentEvent } from '../../src/core/agent/types';
import { readTranscript } from '../../src/core/agent/transcript';
import { listCheckpoints } from '../../src/core/agent/checkpoints';
import {
  AgentEventNotification, LmChatRequest, LmDeltaNotification, type LmChatParams, ReadScriptRequest, ReviewTurnRequest, RevertTurnRequest,
  RunScriptRequest, StartAgentRequest, decodeEditLabel,
} from '../../src/shared/agentProtocol';
import { SEAL_KEY_ENV, newSealKey, seal } from '../../src/core/seal';
import { type FakeOpenAI, startFakeOpenAI } from '../support/fakeOpenAI';
import { REPO, applyEdits, cleanupTemps, hintText, makeTaskDir, mutate, recordScript, tempDir } from './agentHelpers';

let serverJs: string;

/** Bundles src/server/server.ts once (into out/, next to the compiled tests), as scripts/build.mjs does for dist/. */
function bundleServer(): string {
  if (serverJs) return serverJs;
  serverJs = path.join(REPO, 'out/test/lsp-server.js');
  buildSync({ entryPoints: [path.join(REPO, 'src/server/server.ts')], bundle: true, platform: 'node', format: 'cjs', target: 'node20', outfile: serverJs, logLevel: 'error' });
  return serverJs;
}

interface Session {
  conn: ProtocolConnection;
  child: ChildProcess;
  diagnostics: Map<string, PublishDiagnosticsParams[]>;
  waitDiagnostics(uri: string, pred?: (d: Diagnostic[]) => boolean): Promise<Diagnostic[]>;
  capabilities: Record<string, unknown>;
  close(): Promise<void>;
}

/** The key each test server gets at spawn, as the VS Code client gives one (src/core/seal.ts). */
const SEAL_KEY = newSealKey();

async function startServer(initializationOptions: Record<string, unknown>, rootDir: string, trace?: string[]): Promise<Session> {
  const child = spawn(process.execPath, [bundleServer(), '--stdio'], { stdio: ['pipe', 'pipe', 'inherit'], env: { ...process.env, [SEAL_KEY_ENV]: SEAL_KEY } });
  const conn = createProtocolConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  // Verbose tracing, as `speedrun.trace.server: verbose` does in VS Code: every message with its params.
  if (trace) await conn.trace(Trace.Verbose, { log: (m: string, data?: string) => trace.push(data ? `${m}\n${data}` : m) });
  const diagnostics = new Map<string, PublishDiagnosticsParams[]>();
  const waiters: (() => void)[] = [];
  conn.onNotification(PublishDiagnosticsNotification.type, (p) => {
    diagnostics.set(p.uri, [...(diagnostics.get(p.uri) ?? []), p]);
    waiters.splice(0).forEach((w) => w());
  });
  conn.listen();
  const exited = new Promise<never>((_, fail) => child.once('exit', (code) => fail(new Error(`the server exited with code ${code}`))));
  exited.catch(() => undefined);
  const init = await Promise.race([exited, conn.sendRequest(InitializeRequest.type, {
    processId: process.pid,
    rootUri: pathToFileURL(rootDir).href,
    workspaceFolders: [{ uri: pathToFileURL(rootDir).href, name: 'task' }],
    capabilities: { workspace: { applyEdit: true, workspaceEdit: { documentChanges: true } } },
    initializationOptions,
  })]);
  await conn.sendNotification(InitializedNotification.type, {});
  return {
    conn,
    child,
    diagnostics,
    capabilities: init.capabilities as Record<string, unknown>,
    async waitDiagnostics(uri, pred = () => true) {
      for (;;) {
        const last = diagnostics.get(uri)?.at(-1);
        if (last && pred(last.diagnostics)) return last.diagnostics;
        await new Promise<void>((ok) => waiters.push(ok));
      }
    },
    async close() {
      await conn.sendRequest(ShutdownRequest.type);
      await conn.sendNotification(ExitNotification.type);
      await new Promise((ok) => (child.exitCode !== null ? ok(null) : child.once('exit', ok)));
      conn.dispose();
    },
  };
}

suite('language server over stdio: rule diagnostics', function () {
  this.timeout(120_000);
  let s: Session | undefined;
  teardown(async () => {
    await s?.close();
    s = undefined;
    cleanupTemps();
  });

  test('reports broken rules with quick fixes that restore the starting script', async () => {
    const taskDir = makeTaskDir(12);
    const base = recordScript(12);
    const text = mutate(base, 'save_checkpoint : bool = False', 'save_checkpoint : bool = True');
    const uri = pathToFileURL(path.join(taskDir, 'train_gpt2.py')).href;
    s = await startServer({}, taskDir);
    await s.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'python', version: 1, text } });
    const diags = await s.waitDiagnostics(uri, (d) => d.length > 0);
    assert.deepEqual(diags.map((d) => [d.source, d.code, d.severity]), [['speedrun', 'save-checkpoint', 1]]);
    assert.equal(diags[0].range.start.line, text.split('\n').findIndex((l) => l.includes('save_checkpoint : bool = True')));
    const actions = await s.conn.sendRequest(CodeActionRequest.type, { textDocument: { uri }, range: diags[0].range, context: { diagnostics: diags } });
    assert.equal(actions?.length, 1);
    const action = actions![0] as { title: string; edit: { documentChanges: TextDocumentEdit[] } };
    assert.equal(action.title, 'Set save_checkpoint back to False');
    assert.equal(applyEdits(text, action.edit.documentChanges[0].edits as TextEdit[]), base);

    // Breaking another rule as the user types: a new diagnostic set arrives for the new version.
    const broken = mutate(text, 'val_loss:{val_loss:.4f}', 'loss:{val_loss:.4f}');
    await s.conn.sendNotification(DidChangeTextDocumentNotification.type, { textDocument: { uri, version: 2 }, contentChanges: [{ text: broken }] });
    const after = await s.waitDiagnostics(uri, (d) => d.length === 2);
    assert.deepEqual(after.map((d) => d.code).sort(), ['logging', 'save-checkpoint']);
    assert.equal(s.capabilities.codeLensProvider, undefined, 'no code lenses for editors without our commands');
  });

  test('a syntax error is reported with the method used to find it', async () => {
    const taskDir = makeTaskDir(12);
    const text = mutate(recordScript(12), 'args = Hyperparameters()', 'args = Hyperparameters(');
    const uri = pathToFileURL(path.join(taskDir, 'train_gpt2.py')).href;
    s = await startServer({ python: false }, taskDir);
    await s.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'python', version: 1, text } });
    const diags = await s.waitDiagnostics(uri, (d) => d.some((x) => x.code === 'syntax'));
    assert.match(String(diags.find((d) => d.code === 'syntax')!.message), /bracket\/indent check/);
  });

  test('without the benchmark clone it says so and still checks what it can', async () => {
    const taskDir = makeTaskDir(12);
    const taskFile = path.join(taskDir, '.speedrun/task.json');
    fs.writeFileSync(taskFile, JSON.stringify({ ...JSON.parse(fs.readFileSync(taskFile, 'utf8')), benchmarkPath: '/nonexistent/clone' }));
    const text = mutate(recordScript(12), 'os.environ["NANOGPT_VAL_FILES"]', '"val.bin"');
    const uri = pathToFileURL(path.join(taskDir, 'train_gpt2.py')).href;
    s = await startServer({}, taskDir);
    await s.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'python', version: 1, text } });
    const diags = await s.waitDiagnostics(uri, (d) => d.length > 0);
    assert.deepEqual(diags.map((d) => d.code ?? d.severity), ['data-files', 3]);
    assert.match(String(diags[1].message), /starting script of record 12 is unavailable/);
  });

  test('files outside a task get no diagnostics; the VS Code client gets code lenses', async () => {
    const dir = tempDir();
    const stray = pathToFileURL(path.join(dir, 'train_gpt2.py')).href;
    const taskDir = makeTaskDir(12);
    const uri = pathToFileURL(path.join(taskDir, 'train_gpt2.py')).href;
    s = await startServer({ codeLens: true }, taskDir);
    await s.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri: stray, languageId: 'python', version: 1, text: 'save_checkpoint = True\n' } });
    assert.deepEqual(await s.waitDiagnostics(stray), []);
    await s.conn.sendNotification(DidOpenTextDocumentNotification.type, { textDocument: { uri, languageId: 'python', version: 1, text: recordScript(12) } });
    const lenses = await s.conn.sendRequest(CodeLensRequest.type, { textDocument: { uri } });
    assert.deepEqual(lenses?.map((l) => [l.range.start.line, l.command?.command]), [
      [0, 'speedrun.run'],
      [0, 'speedrun.compareWithReference'],
      [0, 'speedrun.startAgent'],
    ]);
    assert.deepEqual(await s.conn.sendRequest(CodeLensRequest.type, { textDocument: { uri: stray } }), []);
  });
});

suite('language server: an agent session driven by a scripted client', function () {
  this.timeout(120_000);
  let s: Session | undefined;
  let fake: FakeOpenAI | undefined;
  teardown(async () => {
    await s?.close();
    await fake?.close();
    s = undefined;
    cleanupTemps();
  });

  test('edits arrive as labelled workspace/applyEdit requests; the session is persisted; a verbose trace holds no key', async () => {
    const taskDir = makeTaskDir(12);
    const scriptPath = path.join(taskDir, 'train_gpt2.py');
    const uri = pathToFileURL(scriptPath).href;
    fake = await startFakeOpenAI({
      responses: [
        { content: 'Fewer steps.\n<<<<<<< SEARCH\n    num_iterations : int = 1875 # optimizer steps\n=======\n    num_iterations : int = 1750 # optimizer steps\n>>>>>>> REPLACE\n' },
      ],
    });
    const trace: string[] = [];
    s = await startServer({ python: false }, taskDir, trace);
    const doc = { text: fs.readFileSync(scriptPath, 'utf8'), version: 1 };
    const labels: ReturnType<typeof decodeEditLabel>[] = [];
    const events: AgentEvent[] = [];
    const ended = new Promise<void>((ok) =>
      s!.conn.onNotification(AgentEventNotification, (e) => {
        events.push(e);
        if (e.type === 'end') ok();
      }),
    );
    s.conn.onRequest(ReadScriptRequest, () => ({ text: doc.text, version: doc.version }));
    s.conn.onRequest(ApplyWorkspaceEditRequest.type, (p) => {
      labels.push(decodeEditLabel(p.label));
      const change = p.edit.documentChanges![0] as TextDocumentEdit;
      if (change.textDocument.version !== doc.version) return { applied: false, failureReason: 'version' };
      doc.text = applyEdits(doc.text, change.edits as TextEdit[]);
      doc.version++;
      return { applied: true };
    });
    s.conn.onRequest(ReviewTurnRequest, () => ({ decision: 'accept' as const, by: 'auto' as const }));
    s.conn.onRequest(RevertTurnRequest, () => ({ restored: true }));
    let ranText = '';
    s.conn.onRequest(RunScriptRequest, () => {
      ranText = doc.text;
      return { runId: 'r1', state: 'finished' as const, final: { n_steps: 1750, val_loss: 3.275, train_time: 290_000, is_valid: true } };
    });
    const r = await s.conn.sendRequest(StartAgentRequest, {
      taskDir,
      scriptUri: uri,
      hintLevels: [2],
      backend: { kind: 'openai', baseUrl: fake.baseUrl, model: 'fake' },
      sealedApiKey: seal('sk-do-not-persist-me', SEAL_KEY),
      budget: { iterations: 1, runs: 1, tokens: 100_000 },
    });
    assert.match(r.sessionId, /^\d{8}T\d{6}-\w{6}$/);
    await ended;
    assert.deepEqual(labels, [{ turn: 1, checkpoint: 1, kind: 'edit' }]);
    assert.match(ranText, /num_iterations : int = 1750/);
    assert.deepEqual(events.filter((e) => e.type !== 'delta').map((e) => e.type), ['session', 'turn', 'prompt', 'response', 'edit', 'rules', 'review', 'run-end', 'best', 'end']);
    const session = events[0] as Extract<AgentEvent, { type: 'session' }>;
    assert.deepEqual([session.hintLevels, session.hintFiles, session.replay], [[2], ['level_2_description.txt'], false]);
    const stored = readTranscript(taskDir);
    assert.deepEqual(stored.map((e) => e.type), events.filter((e) => e.type !== 'delta').map((e) => e.type));
    const raw = fs.readFileSync(path.join(taskDir, '.speedrun/agent/transcript.jsonl'), 'utf8');
    assert.ok(!raw.includes('sk-do-not-persist-me'), 'the API key is never written');
    assert.equal(fake.requests[0].headers.authorization, 'Bearer sk-do-not-persist-me', 'the server opened the sealed key');
    const traced = trace.join('\n');
    assert.match(traced, /speedrun\/agent\/start[\s\S]*sealedApiKey/, 'the start request was traced with its params');
    assert.ok(!traced.includes('sk-do-not-persist-me'), 'no trace line holds the key');
    assert.deepEqual(listCheckpoints(taskDir).map((c) => [c.n, c.turn]), [[1, 1]]);
  });

  /** A scripted client for one session: applies edits in memory, accepts every turn, runs nothing. */
  function scriptedClient(session: Session, scriptPath: string) {
    const doc = { text: fs.readFileSync(scriptPath, 'utf8'), version: 1 };
    const events: AgentEvent[] = [];
    const ended = new Promise<void>((ok) =>
      session.conn.onNotification(AgentEventNotification, (e) => {
        events.push(e);
        if (e.type === 'end') ok();
      }),
    );
    session.conn.onRequest(ReadScriptRequest, () => ({ text: doc.text, version: doc.version }));
    session.conn.onRequest(ApplyWorkspaceEditRequest.type, (p) => {
      doc.text = applyEdits(doc.text, (p.edit.documentChanges![0] as TextDocumentEdit).edits as TextEdit[]);
      doc.version++;
      return { applied: true };
    });
    session.conn.onRequest(ReviewTurnRequest, () => ({ decision: 'accept' as const, by: 'auto' as const }));
    session.conn.onRequest(RunScriptRequest, () => ({ state: 'not-started' as const, message: 'no box in this test' }));
    return { doc, events, ended };
  }

  test('the VS Code language model backend streams through the client (lmChat + lmDelta)', async () => {
    const taskDir = makeTaskDir(12);
    const scriptPath = path.join(taskDir, 'train_gpt2.py');
    s = await startServer({ python: false }, taskDir);
    const c = scriptedClient(s, scriptPath);
    const asked: LmChatParams[] = [];
    const answer = 'Fewer steps.\n<<<<<<< SEARCH\n    num_iterations : int = 1875 # optimizer steps\n=======\n    num_iterations : int = 1750 # optimizer steps\n>>>>>>> REPLACE\n';
    s.conn.onRequest(LmChatRequest, async (p) => {
      asked.push(p);
      for (const piece of answer.match(/[\s\S]{1,20}/g)!) await s!.conn.sendNotification(LmDeltaNotification, { requestId: p.requestId, text: piece });
      return { text: answer, usage: { promptTokens: 10, completionTokens: 5 } };
    });
    await s.conn.sendRequest(StartAgentRequest, {
      taskDir,
      scriptUri: pathToFileURL(scriptPath).href,
      hintLevels: [3],
      backend: { kind: 'vscode-lm', selector: { id: 'copilot-gpt' }, label: 'GPT (Copilot)' },
      budget: { iterations: 1, runs: 1, tokens: 10_000 },
    });
    await c.ended;
    assert.equal(asked.length, 1);
    assert.deepEqual(asked[0].selector, { id: 'copilot-gpt' });
    assert.ok(asked[0].messages[1].content.includes(hintText(12, 'level_3_paper.txt').trim()));
    const streamed = c.events.filter((e) => e.type === 'delta').map((e) => (e.type === 'delta' ? e.text : '')).join('');
    assert.equal(streamed, answer);
    assert.match(c.doc.text, /num_iterations : int = 1750/);
    const session = c.events[0] as Extract<AgentEvent, { type: 'session' }>;
    assert.equal(session.backend, 'VS Code language model · GPT (Copilot)');
  });

  test('the ground-truth replay is labelled as such and needs no hints', async () => {
    const taskDir = makeTaskDir(12);
    const scriptPath = path.join(taskDir, 'train_gpt2.py');
    s = await startServer({ python: false }, taskDir);
    const c = scriptedClient(s, scriptPath);
    await s.conn.sendRequest(StartAgentRequest, {
      taskDir,
      scriptUri: pathToFileURL(scriptPath).href,
      hintLevels: [1, 2],
      backend: { kind: 'replay' },
      budget: { iterations: 3, runs: 3, tokens: 10 },
    });
    await c.ended;
    const session = c.events[0] as Extract<AgentEvent, { type: 'session' }>;
    assert.deepEqual([session.replay, session.hintLevels, session.hintFiles, session.backend], [true, [], [], 'Replay ground truth (level-0 diff; not a model)']);
    assert.equal(c.doc.text, recordScript(13), "the replay wrote record 13's script");
    assert.ok(!c.events.some((e) => e.type === 'prompt' && e.messages.some((m) => m.content.includes(hintText(12, 'level_1_pseudo.txt').trim()))));
  });

  test('level 0 as a hint level and an empty budget are refused', async () => {
    const taskDir = makeTaskDir(12);
    s = await startServer({ python: false }, taskDir);
    const params = {
      taskDir,
      scriptUri: pathToFileURL(path.join(taskDir, 'train_gpt2.py')).href,
      hintLevels: [0 as 1],
      backend: { kind: 'openai' as const, baseUrl: 'http://127.0.0.1:9/v1', model: 'x' },
      budget: { iterations: 1, runs: 1, tokens: 10 },
    };
    await assert.rejects(s.conn.sendRequest(StartAgentRequest, params), /hint level 0 is not available to an agent/);
    await assert.rejects(s.conn.sendRequest(StartAgentRequest, { ...params, hintLevels: [], budget: { iterations: 0, runs: 1, tokens: 1 } }), /budget.iterations must be a positive integer/);
  });
});

suite('language server over stdio: broken message frames', function () {
  this.timeout(60_000);
  const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { processId: null, rootUri: null, capabilities: {} } });
  const frame = (body: string) => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

  /** Sends `bytes`, then a valid initialize request; reports whether the server exited, answered, and what it said. */
  async function send(bytes: string): Promise<{ code: number | null; answered: boolean; stderr: string }> {
    const child = spawn(process.execPath, [bundleServer(), '--stdio'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    child.stdout!.on('data', (b) => (out += b));
    child.stderr!.on('data', (b) => (stderr += b));
    const exited = new Promise<number | null>((ok) => child.once('exit', (c) => ok(c)));
    child.stdin!.on('error', () => undefined); // the server may be gone before the second write
    child.stdin!.write(bytes);
    await new Promise((r) => setTimeout(r, 300));
    child.stdin!.write(frame(init));
    const code = await Promise.race([exited, new Promise<'alive'>((ok) => setTimeout(() => ok('alive'), 3000))]);
    const answered = /"id":1/.test(out);
    if (code === 'alive') {
      child.kill();
      await exited;
      return { code: null, answered, stderr };
    }
    return { code, answered, stderr };
  }

  for (const [what, bytes, reason] of [
    ['Content-Length: abc', 'Content-Length: abc\r\n\r\n{}', /Content-Length "abc" is not a byte count/],
    ['a negative Content-Length', 'Content-Length: -5\r\n\r\n{}', /Content-Length "-5" is not a byte count/],
    ['no Content-Length', 'Content-Type: application/vscode-jsonrpc\r\n\r\n{}', /a frame without a Content-Length header/],
    ['a Content-Length larger than the body', 'Content-Length: 500\r\n\r\n{"jsonrpc":"2.0"}', /Content-Length 500 is larger than the message/],
  ] as const) {
    test(`${what}: the server exits with the reason on stderr instead of going deaf`, async () => {
      const r = await send(bytes);
      assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
      assert.match(r.stderr, reason);
      assert.match(r.stderr, /Exiting so the client can restart the server/);
    });
  }

  test('a well-framed body that is not JSON is answered with an error and the server keeps listening', async () => {
    const r = await send(frame('xx'));
    assert.equal(r.code, null, r.stderr);
    assert.equal(r.answered, true);
  });
});
