// The in-editor agent and the rules language server, VS Code side: starts the language client for task
// workspaces (trusted only), answers the server's agent requests (read the script, review a turn, run it, ask a
// VS Code language model), and offers the agent's commands, checkpoints and transcript.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { LanguageClient, type LanguageClientOptions, type ServerOptions, TransportKind } from 'vscode-languageclient/node';
import { estimateUsage } from '../../core/agent/backends/backend';
import { listCheckpoints, readCheckpoint, saveCheckpoint } from '../../core/agent/checkpoints';
import { runOutcome } from '../../core/agent/runOutcome';
import { readTranscript } from '../../core/agent/transcript';
import type { AgentEvent, AgentHintLevel, BackendConfig, Budget, RunOutcome } from '../../core/agent/types';
import { DEFAULT_BUDGET } from '../../core/agent/types';
import { listHints, hintLabel } from '../../core/benchmark/catalog';
import { plural } from '../../core/format';
import { parseTargets } from '../../core/remote/targets';
import { SEAL_KEY_ENV, newSealKey, seal } from '../../core/seal';
import {
  AcpPermissionRequest, AgentEventNotification, type LmChatParams, LmChatRequest, LmDeltaNotification, ReadScriptRequest, ReviewTurnRequest,
  RevertTurnRequest, RunScriptRequest, RunStartedNotification, type StartAgentParams, StartAgentRequest, StopAgentNotification, decodeEditLabel,
} from '../../shared/agentProtocol';
import { LiveEdits, checkpointUri } from './liveEdit';
import type { TranscriptMessage } from '../../shared/webviewMessages';
import type { StartAgentArgs } from '../commands';
import { executeCommand, registerCommand, setContext } from '../register';
import type { Dashboard, Runs, TaskContext, Workspace } from '../services';
import { showPrompt, TranscriptPanel } from './transcriptPanel';
import { apiKeySecretName as secretName, isLoopback } from './apiKey';
import { askAcpPermission } from '../agents/acpPermission';

/** What other code (and the extension-host tests) can see of the agent. */
export interface AgentApi {
  readonly onDidEvent: vscode.Event<AgentEvent>;
  /** Resolves when the language client runs (starting it if the window holds a trusted task). */
  clientReady(): Promise<boolean>;
  isRunning(): boolean;
  pendingTurn(): number | null;
}

const BUDGETS: { label: string; budget: Budget }[] = [
  { label: 'One turn', budget: { iterations: 1, runs: 1, tokens: 100_000 } },
  { label: 'Short', budget: { iterations: 3, runs: 3, tokens: 150_000 } },
  { label: 'Standard', budget: DEFAULT_BUDGET },
  { label: 'Long', budget: { iterations: 20, runs: 20, tokens: 2_000_000 } },
];

export function registerAgent(
  context: vscode.ExtensionContext,
  log: vscode.LogOutputChannel,
  workspace: Workspace,
  runs: Runs,
  dashboard: Dashboard,
): AgentApi {
  const agent = new AgentController(context, log, workspace, runs, dashboard);
  context.subscriptions.push(agent);
  return agent;
}

class AgentController implements AgentApi, vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<boolean> | undefined;
  /** Given to the server at spawn; secrets for it travel sealed with this key (see core/seal.ts). */
  private readonly sealKey = newSealKey();
  private running = false;
  private readonly live: LiveEdits;
  private readonly transcript: TranscriptPanel;
  private readonly status: vscode.StatusBarItem;
  private readonly emitter = new vscode.EventEmitter<AgentEvent>();
  readonly onDidEvent = this.emitter.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly workspace: Workspace,
    private readonly runs: Runs,
    private readonly dashboard: Dashboard,
  ) {
    this.live = new LiveEdits(log);
    this.transcript = new TranscriptPanel(context, log, {
      events: () => {
        const dir = this.workspace.current()?.taskDir;
        return dir ? readTranscript(dir) : [];
      },
      running: () => this.running,
      pendingTurn: () => this.live.pendingTurn(),
      onMessage: (m) => void this.onTranscriptMessage(m),
    });
    this.status = vscode.window.createStatusBarItem('speedrun.agent', vscode.StatusBarAlignment.Left, 41);
    this.status.name = 'Speedrun Agent';
    this.status.command = 'speedrun.showTranscript';
    this.disposables.push(
      registerCommand('speedrun.startAgent', (arg) => this.startCommand(arg)),
      registerCommand('speedrun.stopAgent', () => this.stop()),
      registerCommand('speedrun.acceptTurn', async () => (await this.live.acceptPending()) || void vscode.window.showInformationMessage('No agent turn is waiting for review.')),
      registerCommand('speedrun.rejectTurn', async () => (await this.live.rejectPending()) || void vscode.window.showInformationMessage('No agent turn is waiting for review.')),
      registerCommand('speedrun.showTranscript', () => this.transcript.show(false)),
      registerCommand('speedrun.restoreCheckpoint', (arg) => this.restoreCheckpoint(typeof arg === 'number' ? arg : arg?.n)),
      registerCommand('speedrun.setApiKey', (key) => this.setApiKey(key)),
      this.live,
      this.transcript,
      this.status,
      this.emitter,
      this.live.onDidChangeState(() => this.transcript.state()),
      workspace.onDidChange(() => void this.clientReady()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => void this.clientReady()),
    );
    void this.clientReady();
  }

  isRunning(): boolean {
    return this.running;
  }

  pendingTurn(): number | null {
    return this.live.pendingTurn();
  }

  // ---- the language client ----

  clientReady(): Promise<boolean> {
    if (this.client) return Promise.resolve(true);
    if (!vscode.workspace.isTrusted || !this.workspace.current()) return Promise.resolve(false);
    this.starting ??= this.startClient().catch((e) => {
      this.log.error(`the Speedrun language server did not start: ${(e as Error).message}`);
      this.starting = undefined;
      return false;
    });
    return this.starting;
  }

  private async startClient(): Promise<boolean> {
    const module = this.context.asAbsolutePath(path.join('dist', 'server.js'));
    const options = { env: { ...process.env, [SEAL_KEY_ENV]: this.sealKey } };
    const serverOptions: ServerOptions = {
      run: { module, transport: TransportKind.ipc, options },
      // Under F5 (extensionHost debugging) the server waits for .vscode/launch.json's "Attach to Language Server".
      debug: { module, transport: TransportKind.ipc, options: { ...options, execArgv: ['--nolazy', '--inspect=6009'] } },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: [{ scheme: 'file', pattern: '**/train_gpt2.py' }],
      initializationOptions: { codeLens: true },
      outputChannelName: 'Speedrun Rules',
      middleware: {
        // The compare face has its own lens for the reference record (with its number): one is enough.
        provideCodeLenses: async (doc, token, next) => (await next(doc, token))?.filter((l) => l.command?.command !== 'speedrun.compareWithReference'),
        workspace: {
          // Agent edits go to the live edit view; anything else the server sends is applied as usual.
          handleApplyEdit: (params, next) => (decodeEditLabel(params.label) ? this.live.handle(params) : next(params, new vscode.CancellationTokenSource().token)),
        },
      },
    };
    const client = new LanguageClient('speedrun', 'Speedrun Rules', serverOptions, clientOptions);
    client.onNotification(AgentEventNotification, (e) => this.onAgentEvent(e));
    client.onRequest(ReadScriptRequest, (p) => this.live.readScript(p.uri));
    client.onRequest(ReviewTurnRequest, async (p) => {
      const auto = vscode.workspace.getConfiguration('speedrun.agent').get<boolean>('autoAccept', false);
      return { decision: await this.live.review(p.turn, p.summary), by: auto ? ('auto' as const) : ('user' as const) };
    });
    client.onRequest(RevertTurnRequest, (p) => this.live.revert(p.turn));
    client.onRequest(RunScriptRequest, (p, token) => this.runForAgent(p, token));
    client.onRequest(LmChatRequest, (p, token) => this.lmChat(client, p, token));
    client.onRequest(AcpPermissionRequest, (p) => askAcpPermission(p));
    await client.start();
    this.client = client;
    this.log.info('Speedrun language server started');
    return true;
  }

  private onAgentEvent(e: AgentEvent): void {
    if (e.type === 'session') this.running = true;
    if (e.type === 'end') this.running = false;
    if (e.type !== 'delta') {
      setContext('speedrun.agent.running', this.running);
      if (this.running) {
        const turn = 'turn' in e && e.turn ? ` · turn ${e.turn}` : '';
        this.status.text = `$(sparkle~spin) Agent${turn}`;
        this.status.tooltip = 'The Speedrun agent is working. Click for its transcript.';
        this.status.show();
      } else this.status.hide();
    }
    if (e.type === 'end') {
      const best = e.best ? ` Best attempt: turn ${e.best.turn}, ${(e.best.trainTimeMs / 1000).toFixed(1)} s.` : '';
      const show = e.reason.startsWith('error:') ? vscode.window.showWarningMessage : vscode.window.showInformationMessage;
      void show(`The agent stopped (${e.reason}).${best}`, 'Show Transcript').then((a) => a && this.transcript.show(false));
    }
    this.transcript.event(e);
    this.emitter.fire(e);
  }

  // ---- server requests ----

  private async runForAgent(p: { taskDir: string; turn: number; target?: string }, token: vscode.CancellationToken): Promise<RunOutcome> {
    let meta;
    try {
      meta = await this.runs.start({ taskDir: p.taskDir, target: p.target, origin: 'agent' });
    } catch (e) {
      return { state: 'not-started', message: (e as Error).message };
    }
    if (!meta) return { state: 'not-started', message: 'no target was chosen' };
    const runId = meta.runId;
    void this.client?.sendNotification(RunStartedNotification, { turn: p.turn, runId, target: meta.target });
    this.dashboard.show(runId);
    const sub = token.onCancellationRequested(() => void this.runs.cancel(runId).catch((e) => this.log.warn(`cancel ${runId}: ${(e as Error).message}`)));
    try {
      return runOutcome(await this.runs.waitForEnd(runId), this.runs.runDir(p.taskDir, runId));
    } finally {
      sub.dispose();
    }
  }

  private async lmChat(client: LanguageClient, p: LmChatParams, token: vscode.CancellationToken) {
    const [model] = await vscode.lm.selectChatModels(p.selector);
    if (!model) throw new Error(`No VS Code language model matches ${JSON.stringify(p.selector)}.`);
    // The Language Model API has no system role: the instructions go first, as a user message.
    const messages = p.messages.map((m) =>
      m.role === 'assistant' ? vscode.LanguageModelChatMessage.Assistant(m.content) : vscode.LanguageModelChatMessage.User(m.content),
    );
    const response = await model.sendRequest(messages, { justification: 'The Speedrun Workbench agent proposes changes to train_gpt2.py.' }, token);
    let text = '';
    for await (const chunk of response.text) {
      text += chunk;
      void client.sendNotification(LmDeltaNotification, { requestId: p.requestId, text: chunk });
    }
    return { text, usage: estimateUsage(p.messages, text) };
  }

  // ---- commands ----

  private async startCommand(arg?: StartAgentArgs): Promise<{ sessionId: string } | undefined> {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('The agent edits and runs code, so it needs a trusted workspace.');
      return undefined;
    }
    const ctx = this.workspace.current();
    if (!ctx) {
      const a = await vscode.window.showWarningMessage('Open a task first.', 'Open Task…');
      if (a) void executeCommand('speedrun.openTask');
      return undefined;
    }
    if (this.running) {
      this.transcript.show(false);
      void vscode.window.showInformationMessage('The agent is already working on this task.');
      return undefined;
    }
    if (!(await this.clientReady()) || !this.client) {
      void vscode.window.showErrorMessage('The Speedrun language server is not running; see the "Speedrun Rules" output.');
      return undefined;
    }
    const params = await this.askParams(ctx, arg ?? {});
    if (!params) return undefined;
    this.transcript.show(true);
    try {
      return await this.client.sendRequest(StartAgentRequest, params);
    } catch (e) {
      void vscode.window.showErrorMessage(`The agent did not start: ${(e as Error).message}`);
      return undefined;
    }
  }

  private async askParams(ctx: TaskContext, arg: StartAgentArgs): Promise<StartAgentParams | undefined> {
    const cfg = vscode.workspace.getConfiguration('speedrun.agent');
    const backend = arg.backend ?? (await this.pickBackend(cfg));
    if (!backend) return undefined;
    if (backend.kind === 'replay' && !arg.backend) {
      const ok = await vscode.window.showWarningMessage(
        'Replay the ground truth?',
        {
          modal: true,
          detail: `This plays record ${ctx.task.toRecord}'s change (hint level 0, the answer to the task) into train_gpt2.py as if an agent wrote it. It demonstrates the flow and checks whether your box reproduces record ${ctx.task.toRecord}'s time. It is not an agent.`,
        },
        'Replay',
      );
      if (ok !== 'Replay') return undefined;
    }
    let hintLevels: AgentHintLevel[] = [];
    if (backend.kind !== 'replay') {
      const picked = arg.hintLevels ?? (await this.pickHints(ctx));
      if (!picked) return undefined;
      hintLevels = picked;
    }
    const target = arg.target ?? (await this.pickTarget());
    if (!target) return undefined;
    const budget = arg.budget ? { ...DEFAULT_BUDGET, ...arg.budget } : await this.pickBudget();
    if (!budget) return undefined;
    let apiKey: string | undefined;
    if (backend.kind === 'openai') {
      apiKey = await this.context.secrets.get(secretName(backend.baseUrl));
      if (!apiKey && !isLoopback(backend.baseUrl) && !arg.backend) {
        const a = await vscode.window.showWarningMessage(`No API key is stored for ${backend.baseUrl}.`, 'Set API Key…', 'Continue Without');
        if (a === 'Set API Key…') apiKey = await this.setApiKey();
        else if (a !== 'Continue Without') return undefined;
      }
    }
    const sealedApiKey = apiKey ? seal(apiKey, this.sealKey) : undefined;
    return { taskDir: ctx.taskDir, scriptUri: vscode.Uri.file(ctx.scriptPath).toString(), hintLevels, backend, sealedApiKey, target, budget };
  }

  private async pickBackend(cfg: vscode.WorkspaceConfiguration): Promise<BackendConfig | undefined> {
    const baseUrl = cfg.get<string>('baseUrl', 'https://api.openai.com/v1');
    const model = cfg.get<string>('model', 'o3-mini');
    type Item = vscode.QuickPickItem & { backend: BackendConfig };
    const items: Item[] = [{ label: `$(cloud) ${model}`, description: `OpenAI-compatible · ${baseUrl}`, detail: 'Settings: speedrun.agent.baseUrl and speedrun.agent.model; the key is kept in secret storage.', backend: { kind: 'openai', baseUrl, model } }];
    try {
      for (const m of await vscode.lm.selectChatModels()) {
        items.push({ label: `$(hubot) ${m.name}`, description: `VS Code language model · ${m.vendor} · ${m.family}`, backend: { kind: 'vscode-lm', selector: { id: m.id }, label: m.name } });
      }
    } catch (e) {
      this.log.info(`no VS Code language models: ${(e as Error).message}`);
    }
    const acpCommand = cfg.get<string>('acpCommand', '').trim();
    if (acpCommand) items.push({ label: `$(terminal) ${acpCommand}`, description: 'ACP agent', detail: 'Setting: speedrun.agent.acpCommand. It edits train_gpt2.py through the live edit view and asks before its tool calls.', backend: { kind: 'acp', command: acpCommand } });
    items.push({ label: '$(history) Replay ground truth', description: 'level-0 diff, not a model', detail: "Plays the record's own change as if an agent wrote it: a demonstration and a reproduction check.", backend: { kind: 'replay' } });
    const preferred = cfg.get<string>('backend', 'openai');
    items.sort((a, b) => Number(b.backend.kind === preferred) - Number(a.backend.kind === preferred));
    return (await vscode.window.showQuickPick(items, { title: 'Ask Agent (1/4): which model?', ignoreFocusOut: true }))?.backend;
  }

  private async pickHints(ctx: TaskContext): Promise<AgentHintLevel[] | undefined> {
    const bench = ctx.task.benchmarkPath || this.workspace.benchmarkPath();
    // Only levels 1-3: the catalog hides level 0, and the filter keeps out the extra docs.
    const hints = bench ? listHints(bench, ctx.task.fromRecord).filter((h) => h.level >= 1 && h.level <= 3) : [];
    if (!hints.length) return [];
    const picks = await vscode.window.showQuickPick(
      hints.map((h) => ({ label: hintLabel(h), description: h.name, level: h.level as AgentHintLevel })),
      { title: 'Ask Agent (2/4): hints to give it (none selected = no hints; the answer, level 0, is never given)', canPickMany: true, ignoreFocusOut: true },
    );
    return picks && [...new Set(picks.map((p) => p.level))];
  }

  private async pickTarget(): Promise<string | undefined> {
    const { targets } = parseTargets(vscode.workspace.getConfiguration('speedrun').get('targets'));
    if (!targets.length) {
      const a = await vscode.window.showWarningMessage('The agent needs a run target; none is configured.', 'Configure Targets');
      if (a) void executeCommand('speedrun.configureTargets');
      return undefined;
    }
    if (targets.length === 1) return targets[0].name;
    return (await vscode.window.showQuickPick(targets.map((t) => ({ label: t.name, description: t.kind })), { title: 'Ask Agent (3/4): run on which target?', ignoreFocusOut: true }))?.label;
  }

  private async pickBudget(): Promise<Budget | undefined> {
    const pick = await vscode.window.showQuickPick(
      BUDGETS.map((b) => ({ label: b.label, description: `${plural(b.budget.iterations, 'turn')} · ${plural(b.budget.runs, 'run')} · ${b.budget.tokens.toLocaleString()} tokens`, budget: b.budget })),
      { title: 'Ask Agent (4/4): budget', ignoreFocusOut: true },
    );
    return pick?.budget;
  }

  private stop(): void {
    if (!this.running || !this.client) {
      void vscode.window.showInformationMessage('The agent is not running.');
      return;
    }
    void this.client.sendNotification(StopAgentNotification, { reason: 'stopped by the user' });
  }

  private async setApiKey(key?: string): Promise<string | undefined> {
    const baseUrl = vscode.workspace.getConfiguration('speedrun.agent').get<string>('baseUrl', 'https://api.openai.com/v1');
    const value =
      key ??
      (await vscode.window.showInputBox({
        title: `API key for ${baseUrl}`,
        prompt: 'Kept in VS Code secret storage; sent only to this endpoint, in the Authorization header.',
        password: true,
        ignoreFocusOut: true,
      }));
    if (value === undefined) return undefined;
    if (value) await this.context.secrets.store(secretName(baseUrl), value);
    else await this.context.secrets.delete(secretName(baseUrl));
    return value || undefined;
  }

  // ---- checkpoints ----

  private async restoreCheckpoint(n?: number): Promise<boolean> {
    const ctx = this.workspace.current();
    if (!ctx) return false;
    if (this.running || this.live.pendingTurn() !== null) {
      void vscode.window.showWarningMessage('Stop the agent (and accept or reject its turn) before restoring a checkpoint.');
      return false;
    }
    const all = listCheckpoints(ctx.taskDir);
    let chosen = n === undefined ? undefined : all.find((c) => c.n === n);
    if (n === undefined) {
      if (!all.length) {
        void vscode.window.showInformationMessage('No checkpoints yet: the agent saves one before each turn.');
        return false;
      }
      chosen = await this.pickCheckpoint(ctx, all.reverse());
    }
    if (!chosen) return false;
    const uri = vscode.Uri.file(ctx.scriptPath);
    const doc = await vscode.workspace.openTextDocument(uri);
    const text = readCheckpoint(ctx.taskDir, chosen.n);
    if (doc.getText() === text) return true;
    // Restoring is itself undoable: the script as it is now becomes a checkpoint first.
    saveCheckpoint(ctx.taskDir, doc.getText(), { turn: 0, label: `before restoring checkpoint #${chosen.n}` });
    const we = new vscode.WorkspaceEdit();
    we.replace(uri, new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), text);
    if (!(await vscode.workspace.applyEdit(we))) return false;
    await doc.save();
    return true;
  }

  private pickCheckpoint(ctx: TaskContext, list: ReturnType<typeof listCheckpoints>) {
    return new Promise<(typeof list)[number] | undefined>((resolve) => {
      const qp = vscode.window.createQuickPick<vscode.QuickPickItem & { n: number }>();
      const diff = { iconPath: new vscode.ThemeIcon('diff'), tooltip: 'Compare with the current script' };
      qp.title = 'Restore which checkpoint? (the current script is kept as a checkpoint too)';
      qp.items = list.map((c) => ({ label: `#${c.n} · ${c.label}`, description: new Date(c.createdAt).toLocaleString(), n: c.n, buttons: [diff] }));
      qp.onDidTriggerItemButton((e) =>
        void vscode.commands.executeCommand('vscode.diff', checkpointUri(ctx.taskDir, e.item.n), vscode.Uri.file(ctx.scriptPath), `checkpoint #${e.item.n} ↔ train_gpt2.py`, { preview: true }),
      );
      qp.onDidAccept(() => {
        resolve(list.find((c) => c.n === qp.selectedItems[0]?.n));
        qp.hide();
      });
      qp.onDidHide(() => {
        resolve(undefined);
        qp.dispose();
      });
      qp.show();
    });
  }

  // ---- transcript actions ----

  private async onTranscriptMessage(m: TranscriptMessage): Promise<void> {
    const ctx = this.workspace.current();
    switch (m.type) {
      case 'accept':
        await this.live.acceptPending();
        return;
      case 'reject':
        await this.live.rejectPending();
        return;
      case 'stop':
        this.stop();
        return;
      case 'openRun':
        this.dashboard.show(m.runId);
        return;
      case 'openDiff': {
        if (!ctx) return;
        const events = readTranscript(ctx.taskDir).filter((e) => e.sessionId === m.sessionId && 'turn' in e && e.turn === m.turn);
        const turn = events.find((e) => e.type === 'turn');
        const edit = events.filter((e): e is Extract<AgentEvent, { type: 'edit' }> => e.type === 'edit' && !!e.file).pop();
        if (turn?.type !== 'turn' || !edit?.file) return;
        await vscode.commands.executeCommand('vscode.diff', checkpointUri(ctx.taskDir, turn.checkpoint), vscode.Uri.file(path.join(ctx.taskDir, edit.file)), `Agent turn ${m.turn}: checkpoint #${turn.checkpoint} ↔ attempt`, { preview: true });
        return;
      }
      case 'openPrompt': {
        if (!ctx) return;
        const e = readTranscript(ctx.taskDir).find((x) => x.sessionId === m.sessionId && x.type === 'prompt' && x.turn === m.turn && x.round === m.round);
        if (e?.type === 'prompt') await showPrompt(e, `agent turn ${m.turn}`);
        return;
      }
      default:
        return;
    }
  }

  dispose(): void {
    void this.client?.stop().catch(() => undefined);
    for (const d of this.disposables) d.dispose();
  }
}
