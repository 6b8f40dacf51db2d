// Hosts agent sessions in the language server: builds the backend (from the registry, plus the VS Code language
// model proxy only a client can offer) and the session, and implements the session's host through the client
// (readScript / applyEdit / review / run requests). Sessions are persisted to the task's transcript as they go.
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import {
  CancellationTokenSource, type Connection, ResponseError, ErrorCodes, TextDocumentEdit,
} from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import type { ModelBackend } from '../core/agent/backends/backend';
import { defaultBackends } from '../core/agent/backends';
import { acpFactory } from '../core/agent/backends/acp';
import type { BackendRegistry } from '../core/agent/backends/registry';
import { saveCheckpoint } from '../core/agent/checkpoints';
import { lineEdits } from '../core/agent/editFormat';
import { type AgentHost, AgentLoop } from '../core/agent/loop';
import { buildSession, newSessionId } from '../core/agent/session';
import { checkScript } from '../core/rules';
import { appendEvent, saveTurnScript } from '../core/agent/transcript';
import type { AgentEvent, AgentEventBody } from '../core/agent/types';
import { unseal } from '../core/seal';
import {
  AcpPermissionRequest, AgentEventNotification, LmChatRequest, LmDeltaNotification, ReadScriptRequest, ReviewTurnRequest, RevertTurnRequest,
  RunScriptRequest, RunStartedNotification, type StartAgentParams, StartAgentRequest, StopAgentNotification, encodeEditLabel,
} from '../shared/agentProtocol';
import { baselineText, loadTask } from './taskLookup';

function tokenFor(signal: AbortSignal) {
  const source = new CancellationTokenSource();
  if (signal.aborted) source.cancel();
  else signal.addEventListener('abort', () => source.cancel(), { once: true });
  return source.token;
}

/** A model the user has in VS Code (vscode.lm), reached through the client. */
class LmProxyBackend implements ModelBackend {
  constructor(
    private readonly connection: Connection,
    private readonly deltas: Map<string, (text: string) => void>,
    private readonly selector: { id?: string; vendor?: string; family?: string },
    readonly label: string,
  ) {}
  async chat(messages: Parameters<ModelBackend['chat']>[0], opts: Parameters<ModelBackend['chat']>[1] = {}) {
    const requestId = randomUUID();
    this.deltas.set(requestId, (t) => opts.onDelta?.(t, 'content'));
    try {
      const token = opts.signal ? tokenFor(opts.signal) : undefined;
      return await this.connection.sendRequest(LmChatRequest, { requestId, selector: this.selector, messages }, token);
    } finally {
      this.deltas.delete(requestId);
    }
  }
}

const invalid = (message: string) => new ResponseError(ErrorCodes.InvalidParams, message);

export class AgentSessions {
  private current: { loop: AgentLoop; sessionId: string; emit: (e: AgentEventBody) => void } | undefined;
  private readonly lmDeltas = new Map<string, (text: string) => void>();
  private readonly backends: BackendRegistry;

  constructor(
    private readonly connection: Connection,
    private readonly python: () => string | false | undefined,
    /** Opens secrets the client sealed with the key it gave this process at spawn (see core/seal.ts). */
    private readonly sealKey: string | undefined,
  ) {
    this.backends = defaultBackends().register({
      kind: 'vscode-lm',
      summary: 'a language model the user has in VS Code (vscode.lm), reached through the client',
      create: (c) => new LmProxyBackend(this.connection, this.lmDeltas, c.selector, `VS Code language model · ${c.label}`),
      modelOf: (c) => c.label,
    })
      // ACP agents ask the user through the client (the diff beside the editor, then a choice).
      .register(acpFactory({ askPermission: async (q, signal) => (await this.connection.sendRequest(AcpPermissionRequest, q, tokenFor(signal))).optionId }));
  }

  register(): void {
    this.connection.onRequest(StartAgentRequest, (p) => this.start(p));
    this.connection.onNotification(StopAgentNotification, (p) => this.current?.loop.stop(p.reason));
    this.connection.onNotification(RunStartedNotification, (p) => this.current?.emit({ type: 'run-start', turn: p.turn, runId: p.runId, target: p.target }));
    this.connection.onNotification(LmDeltaNotification, (p) => this.lmDeltas.get(p.requestId)?.(p.text));
  }

  private start(p: StartAgentParams): { sessionId: string } {
    if (this.current) throw new ResponseError(ErrorCodes.InvalidRequest, 'An agent session is already running; stop it first.');
    const info = loadTask(p.taskDir);
    if (!info) throw invalid(`${p.taskDir} is not a task folder (no .speedrun/task.json).`);
    let apiKey: string | undefined;
    if (p.sealedApiKey) {
      if (!this.sealKey) throw invalid('This server was started without a session key, so it cannot open the API key.');
      try {
        apiKey = unseal(p.sealedApiKey, this.sealKey);
      } catch (e) {
        throw invalid(`Cannot open the API key: ${(e as Error).message}.`);
      }
    }
    let built: ReturnType<typeof buildSession>;
    try {
      built = buildSession(this.backends, { taskDir: p.taskDir, task: info.task, backend: p.backend, hintLevels: p.hintLevels ?? [], budget: p.budget, apiKey, target: p.target });
    } catch (e) {
      throw invalid((e as Error).message);
    }
    const sessionId = newSessionId();
    const emit = (body: AgentEventBody) => {
      const e = { ...body, sessionId, at: new Date().toISOString() } as AgentEvent;
      try {
        appendEvent(p.taskDir, e);
      } catch (err) {
        this.connection.console.error(`cannot write the transcript: ${(err as Error).message}`);
      }
      void this.connection.sendNotification(AgentEventNotification, e);
    };
    const host = this.host(p, sessionId, emit, () => baselineText(loadTask(p.taskDir) ?? info));
    const loop = new AgentLoop(host, built.options);
    this.current = { loop, sessionId, emit };
    emit(built.opening);
    loop
      .run()
      .catch((e) => this.connection.console.error(`agent loop failed: ${(e as Error).stack ?? e}`))
      .finally(() => {
        if (this.current?.sessionId === sessionId) this.current = undefined;
      });
    return { sessionId };
  }

  private host(p: StartAgentParams, sessionId: string, emit: (e: AgentEventBody) => void, baseline: () => string | undefined): AgentHost {
    const c = this.connection;
    const uri = p.scriptUri || pathToFileURL(`${p.taskDir}/train_gpt2.py`).href;
    return {
      readScript: () => c.sendRequest(ReadScriptRequest, { uri }),
      applyEdit: async (e) => {
        const doc = TextDocument.create(uri, 'python', e.version, e.before);
        const edits = lineEdits(e.before, e.after).map((x) => ({
          range: { start: doc.positionAt(x.start), end: doc.positionAt(x.end) },
          newText: x.newText,
        }));
        const r = await c.workspace.applyEdit({
          label: encodeEditLabel({ turn: e.turn, checkpoint: e.checkpoint, kind: e.kind }),
          edit: { documentChanges: [TextDocumentEdit.create({ uri, version: e.version }, edits)] },
        });
        return { applied: r.applied, reason: r.failureReason };
      },
      checkpoint: async (turn, text) =>
        saveCheckpoint(p.taskDir, text, { turn, sessionId, label: `before agent turn ${turn}` }).n,
      checkRules: (text) => checkScript(text, baseline(), { python: this.python() }),
      review: (turn, summary, signal) => c.sendRequest(ReviewTurnRequest, { turn, summary }, tokenFor(signal)),
      revert: async (turn, reason) => {
        const r = await c.sendRequest(RevertTurnRequest, { turn, reason });
        if (!r.restored && r.message) emit({ type: 'note', turn, text: r.message });
      },
      // The client runs the saved file, which is the script the turn left in the document.
      run: (turn, signal) => c.sendRequest(RunScriptRequest, { taskDir: p.taskDir, turn, target: p.target }, tokenFor(signal)),
      saveTurn: (turn, text) => saveTurnScript(p.taskDir, sessionId, turn, text),
      emit,
    };
  }
}
