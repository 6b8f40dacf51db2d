// Start Search… and Resume Search: `speedrun search` (the bundled dist/cli.js) run as a VS Code task, so its
// progress shows in a terminal and the search appears in the Search view, which follows the disk. The argv comes
// from core/search/cliArgs.ts; the targets from the speedrun.targets setting, written to a private temp file for
// --targets-file; the API key only in the task's environment.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { listHints } from '../../core/benchmark/catalog';
import { ownerAliveHere, ownerGone } from '../../core/processOwner';
import { resumePlan, resumeSearchArgv, SearchArgsError, startSearchArgv, type SearchChoices, type SearchInvocation, type SearchWriter } from '../../core/search/cliArgs';
import { DEFAULT_MAX_NODES, SCAFFOLD_NAMES, resolveScaffold, type ScaffoldName } from '../../core/search/presets';
import { SearchStore, isSearchId, type SearchFile } from '../../core/search/tree';
import { parseTargets } from '../../core/remote/targets';
import { isLoopback, readApiKey } from '../agent/apiKey';
import type { ResumeSearchArg, StartSearchArgs } from '../commands';
import { executeCommand, registerCommand } from '../register';
import type { TaskContext, Workspace } from '../services';

export const SEARCH_TASK_TYPE = 'speedrun-search';

/** Kept out of the task definition (VS Code stores definitions of recent tasks): only what names the search. */
interface SearchTaskDefinition extends vscode.TaskDefinition {
  type: typeof SEARCH_TASK_TYPE;
  taskDir: string;
  resume?: string;
  /** When it was started: VS Code will not run a second task with the same definition while one is active. */
  started: string;
}

interface Running {
  taskDir: string;
  /** The search it resumes; a new search's id is known only once the CLI has written it. */
  searchId?: string;
  startedAt: number;
  cleanup: () => void;
}

/** Our search tasks while their process runs. */
class SearchTasks implements vscode.Disposable {
  private readonly running = new Map<vscode.TaskExecution, Running>();
  private readonly subs: vscode.Disposable[] = [];

  constructor() {
    this.subs.push(vscode.tasks.onDidEndTask((e) => this.ended(e.execution)));
  }

  add(execution: vscode.TaskExecution, r: Running): void {
    this.running.set(execution, r);
  }

  private ended(execution: vscode.TaskExecution) {
    // The API may hand out another wrapper of the same execution: match on the task's definition too.
    for (const [x, r] of this.running) {
      if (x === execution || sameTask(x.task, execution.task)) {
        r.cleanup();
        this.running.delete(x);
      }
    }
  }

  /** Our task running this search: the one resuming it, or the new-search task that made it. */
  find(taskDir: string, f: SearchFile): vscode.TaskExecution | undefined {
    for (const [x, r] of this.running) {
      if (r.taskDir !== taskDir) continue;
      // A new search's task learns its id when first asked: the earliest search of its folder made since it
      // started that no other task claims (tasks are asked in the order they started).
      if (!r.searchId) r.searchId = this.firstUnclaimed(taskDir, r.startedAt);
      if (r.searchId === f.config.searchId) return x;
    }
    return undefined;
  }

  private firstUnclaimed(taskDir: string, since: number): string | undefined {
    const claimed = new Set([...this.running.values()].map((r) => r.searchId));
    for (const id of SearchStore.list(taskDir)) {
      if (claimed.has(id)) continue;
      try {
        if (Date.parse(new SearchStore(taskDir, id).read().config.createdAt) >= since - 1000) return id;
      } catch {
        /* not written yet */
      }
    }
    return undefined;
  }

  dispose(): void {
    for (const r of this.running.values()) r.cleanup();
    this.running.clear();
    this.subs.forEach((d) => d.dispose());
  }
}

const idOf = (x: ResumeSearchArg | undefined) => (x && typeof x === 'object' && 'searchId' in x && typeof x.searchId === 'string' ? x.searchId : undefined);

function sameTask(a: vscode.Task, b: vscode.Task): boolean {
  const x = a.definition as Partial<SearchTaskDefinition>;
  const y = b.definition as Partial<SearchTaskDefinition>;
  return x.type === SEARCH_TASK_TYPE && y.type === SEARCH_TASK_TYPE && x.taskDir === y.taskDir && x.started === y.started;
}

const HINT_CHOICES: { label: string; levels: number[] }[] = [
  { label: 'none', levels: [] },
  { label: '1', levels: [1] },
  { label: '2', levels: [2] },
  { label: '3', levels: [3] },
  { label: '1+2+3', levels: [1, 2, 3] },
];

function scaffoldDetail(name: ScaffoldName): string {
  const s = resolveScaffold(name);
  const parts = [`initial ${s.initial}`, s.branching ? `branching ${s.branching}` : '', `${s.iterations} round${s.iterations === 1 ? '' : 's'}`];
  if (s.debugProb) parts.push(`debug prob ${s.debugProb}`, `max bug depth ${s.maxBugDepth}`);
  return parts.filter(Boolean).join(' · ');
}

function agentConfig() {
  const cfg = vscode.workspace.getConfiguration('speedrun.agent');
  return {
    baseUrl: cfg.get<string>('baseUrl', 'https://api.openai.com/v1'),
    model: cfg.get<string>('model', 'o3-mini'),
    acpCommand: cfg.get<string>('acpCommand', '').trim(),
  };
}

export function registerStartSearch(context: vscode.ExtensionContext, workspace: Workspace): void {
  const tasks = new SearchTasks();
  const cli = context.asAbsolutePath(path.join('dist', 'cli.js'));
  context.subscriptions.push(tasks);

  function ready(): TaskContext | undefined {
    if (!vscode.workspace.isTrusted) {
      void vscode.window.showWarningMessage('Searches run code on your targets: trust this folder first (Workspaces: Manage Workspace Trust).');
      return undefined;
    }
    const ctx = workspace.current();
    if (!ctx) void vscode.window.showInformationMessage('Speedrun: open a task first.');
    return ctx;
  }

  /** The invocation's shared part; the targets setting goes to a private temp file removed when the task ends. */
  function invocation(taskDir: string): { inv: SearchInvocation; cleanup: () => void } {
    const cfg = vscode.workspace.getConfiguration('speedrun');
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-search-'));
    const targetsFile = path.join(dir, 'targets.json');
    fs.writeFileSync(targetsFile, JSON.stringify(cfg.get('targets') ?? []), { mode: 0o600 });
    return {
      inv: { cli, taskDir, targetsFile, sshConfig: cfg.get<string>('sshConfigFile') || undefined, timeLimitMinutes: cfg.get<number>('timeLimitMinutes', 60) },
      cleanup: () => fs.rmSync(dir, { recursive: true, force: true }),
    };
  }

  /** The key for `baseUrl` from secret storage; asks (palette path only) when none is stored for a remote endpoint. */
  async function apiKey(baseUrl: string, ask: boolean): Promise<{ key?: string } | undefined> {
    let key = await readApiKey(context.secrets, baseUrl);
    if (!key && ask && !isLoopback(baseUrl)) {
      const a = await vscode.window.showWarningMessage(`No API key is stored for ${baseUrl}.`, 'Set API Key…', 'Continue Without');
      if (a === 'Set API Key…') {
        await executeCommand('speedrun.setApiKey');
        key = await readApiKey(context.secrets, baseUrl);
      } else if (a !== 'Continue Without') return undefined;
    }
    return { key };
  }

  async function launch(argv: string[], def: SearchTaskDefinition, name: string, key: string | undefined, cleanup: () => void): Promise<vscode.TaskExecution> {
    // The extension host's own Node: Electron run as Node in desktop VS Code, plain Node in code-server (where the
    // variable is left out, so the CLI's children, e.g. the runs of a local target, do not inherit it).
    const env: Record<string, string> = process.versions.electron ? { ELECTRON_RUN_AS_NODE: '1' } : {};
    if (key) env.SPEEDRUN_AGENT_API_KEY = key;
    const exec = new vscode.ProcessExecution(process.execPath, argv, { cwd: def.taskDir, env });
    const task = new vscode.Task(def, vscode.workspace.workspaceFolders?.[0] ?? vscode.TaskScope.Workspace, name, 'speedrun', exec);
    task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated, clear: true };
    const startedAt = Date.now();
    try {
      const execution = await vscode.tasks.executeTask(task);
      tasks.add(execution, { taskDir: def.taskDir, searchId: def.resume, startedAt, cleanup });
      return execution;
    } catch (e) {
      cleanup();
      throw e;
    }
  }

  async function pickChoices(ctx: TaskContext, a: StartSearchArgs): Promise<SearchChoices | undefined> {
    // Choices given as arguments (code, tests): whatever else is left out takes its default instead of a pick.
    const given = a.scaffold !== undefined || a.writer !== undefined || a.targets !== undefined;
    const scaffold =
      a.scaffold ??
      (await vscode.window.showQuickPick(SCAFFOLD_NAMES.map((n) => ({ label: n, description: scaffoldDetail(n) })), { title: 'Start Search (1/5): scaffold', ignoreFocusOut: true }))?.label;
    if (!scaffold) return undefined;
    const ac = agentConfig();
    let writer: SearchWriter | undefined;
    if (a.writer === 'openai') writer = { kind: 'openai', model: a.model ?? ac.model, baseUrl: a.baseUrl ?? ac.baseUrl };
    else if (a.writer === 'acp') writer = { kind: 'acp', command: ac.acpCommand };
    else if (a.writer === 'replay') writer = { kind: 'replay' };
    else {
      type W = vscode.QuickPickItem & { writer: SearchWriter };
      const items: W[] = [{ label: `$(cloud) ${ac.model}`, description: `OpenAI-compatible · ${ac.baseUrl}`, detail: 'Settings: speedrun.agent.baseUrl and speedrun.agent.model; the key from secret storage.', writer: { kind: 'openai', model: ac.model, baseUrl: ac.baseUrl } }];
      if (ac.acpCommand) items.push({ label: `$(terminal) ${ac.acpCommand}`, description: 'ACP agent', detail: 'Setting: speedrun.agent.acpCommand.', writer: { kind: 'acp', command: ac.acpCommand } });
      items.push({ label: `$(history) Replay record ${ctx.task.toRecord}'s own change`, description: 'not a model', detail: 'Every node plays the answer (hint level 0): a demonstration of the search and a reproduction check, not an agent.', writer: { kind: 'replay' } });
      writer = (await vscode.window.showQuickPick(items, { title: 'Start Search (2/5): who writes the nodes?', ignoreFocusOut: true }))?.writer;
    }
    if (!writer) return undefined;
    let hintLevels: number[] = [];
    if (writer.kind !== 'replay') {
      if (a.hintLevels || given) hintLevels = a.hintLevels ?? [];
      else {
        const bench = ctx.task.benchmarkPath || workspace.benchmarkPath();
        const have = new Set<number>(bench ? listHints(bench, ctx.task.fromRecord).map((h) => h.level) : []);
        const pick = await vscode.window.showQuickPick(
          HINT_CHOICES.map((h) => ({ ...h, description: h.levels.some((l) => !have.has(l)) ? 'not in this task' : h.levels.length ? '' : 'the model finds its own idea' })),
          { title: 'Start Search (3/5): hints given as the idea (level 0, the answer, never)', ignoreFocusOut: true },
        );
        if (!pick) return undefined;
        hintLevels = pick.levels;
      }
    }
    let targets = a.targets;
    if (!targets) {
      const { targets: all } = parseTargets(vscode.workspace.getConfiguration('speedrun').get('targets'));
      if (!all.length) {
        const c = await vscode.window.showWarningMessage('A search needs a run target; none is configured.', 'Configure Targets');
        if (c) void executeCommand('speedrun.configureTargets');
        return undefined;
      }
      if (all.length === 1) targets = [all[0].name];
      else {
        const picks = await vscode.window.showQuickPick(
          all.map((t) => ({ label: t.name, description: t.kind })),
          { title: 'Start Search (4/5): targets (several are pooled: each runs one node at a time)', canPickMany: true, ignoreFocusOut: true },
        );
        if (!picks?.length) return undefined;
        targets = picks.map((p) => p.label);
      }
    }
    let maxNodes = a.maxNodes;
    if (maxNodes === undefined && !given) {
      const v = await vscode.window.showInputBox({
        title: 'Start Search (5/5): max nodes (the start not counted)',
        value: String(DEFAULT_MAX_NODES),
        ignoreFocusOut: true,
        validateInput: (s) => (/^\d+$/.test(s.trim()) && Number(s) >= 1 ? undefined : 'a whole number of at least 1'),
      });
      if (v === undefined) return undefined;
      maxNodes = Number(v);
    }
    return { scaffold: scaffold as ScaffoldName, writer, hintLevels, targets, maxNodes: maxNodes ?? DEFAULT_MAX_NODES, seed: a.seed };
  }

  async function start(a: StartSearchArgs = {}): Promise<vscode.TaskExecution | undefined> {
    const ctx = ready();
    if (!ctx) return undefined;
    const choices = await pickChoices(ctx, a);
    if (!choices) return undefined;
    let key: string | undefined;
    if (choices.writer.kind === 'openai') {
      const k = await apiKey(choices.writer.baseUrl, a.writer === undefined);
      if (!k) return undefined;
      key = k.key;
    }
    const { inv, cleanup } = invocation(ctx.taskDir);
    let argv: string[];
    try {
      argv = startSearchArgv(inv, choices);
    } catch (e) {
      cleanup();
      if (e instanceof SearchArgsError) return void vscode.window.showErrorMessage(`Speedrun: ${e.message}.`);
      throw e;
    }
    const name = `search: ${choices.scaffold} on ${choices.targets.join(', ')}`;
    return launch(argv, { type: SEARCH_TASK_TYPE, taskDir: ctx.taskDir, started: new Date().toISOString() }, name, key, cleanup);
  }

  /** The search a view item, an id (from code) or, from the palette, a pick names. */
  async function searchOf(x: ResumeSearchArg | undefined, ctx: TaskContext): Promise<SearchStore | undefined> {
    const o = x as { store?: unknown } | undefined;
    if (o && typeof o === 'object' && o.store instanceof SearchStore) return o.store;
    const id = typeof x === 'string' ? x : idOf(x);
    if (id) return isSearchId(id) ? new SearchStore(ctx.taskDir, id) : void vscode.window.showErrorMessage(`Speedrun: '${id}' is not a search id.`);
    const open = SearchStore.list(ctx.taskDir).reverse().map((i) => new SearchStore(ctx.taskDir, i)).flatMap((s) => {
      try {
        const f = s.read();
        return f.progress.state === 'done' ? [] : [{ label: s.searchId, description: `${f.config.scaffold.name} · ${f.progress.state}`, s }];
      } catch {
        return [];
      }
    });
    if (!open.length) return void vscode.window.showInformationMessage('Speedrun: no search of this task to resume.');
    return open.length === 1 ? open[0].s : (await vscode.window.showQuickPick(open, { title: 'Resume which search?' }))?.s;
  }

  /** Waits up to `ms` for a process following the search to apply control.json's resume. */
  async function unpaused(s: SearchStore, ms: number): Promise<boolean> {
    for (const end = Date.now() + ms; Date.now() < end; ) {
      if (s.read().progress.state !== 'paused') return true;
      await new Promise((r) => setTimeout(r, 200));
    }
    return false;
  }

  async function resume(x?: ResumeSearchArg): Promise<vscode.TaskExecution | undefined> {
    const ctx = ready();
    if (!ctx) return undefined;
    const s = await searchOf(x, ctx);
    if (!s) return undefined;
    const f = s.read();
    const ours = tasks.find(s.taskDir, f);
    const say = (m: string) => void vscode.window.showInformationMessage(`Speedrun: search ${s.searchId} ${m}`);
    const o = f.progress.owner;
    const owner = !o ? 'unknown' : ownerAliveHere(o) ? 'alive' : ownerGone(o) ? 'gone' : 'unknown';
    switch (resumePlan(f.progress.state, !!ours, owner)) {
      case 'done':
        return void say('is done.');
      case 'show-task':
        vscode.window.terminals.find((t) => t.name.includes(ours!.task.name))?.show();
        return void say(`is running in the task "${ours!.task.name}".`);
      case 'running-elsewhere':
        return void say(`is running in process ${o!.pid} on this machine (a terminal's speedrun search); pause or stop it from here.`);
      case 'unpause':
        s.writeControl('resume');
        return void say('resumes.');
      case 'unpause-or-start':
        // A live process (a terminal's) applies control.json within its 500 ms poll; if none does, none follows it.
        s.writeControl('resume');
        if (await unpaused(s, 2500)) return void say('resumes.');
        break;
      case 'confirm-start': {
        if (x && typeof x === 'object' && 'confirmed' in x && x.confirmed === true) break;
        const ok = await vscode.window.showWarningMessage(
          `Search ${s.searchId} says it is running, but no task of this window runs it.`,
          { modal: true, detail: 'If its speedrun search was killed, resume it here. If it still runs in a terminal, a second process would run the same search twice.' },
          'Resume Here',
        );
        if (ok !== 'Resume Here') return undefined;
        break;
      }
      case 'start':
        break;
    }
    let key: string | undefined;
    if (f.config.backend === 'openai') {
      const k = await apiKey(f.config.baseUrl ?? agentConfig().baseUrl, typeof x !== 'string' && !idOf(x));
      if (!k) return undefined;
      key = k.key;
    }
    const { inv, cleanup } = invocation(s.taskDir);
    const argv = resumeSearchArgv(inv, s.searchId);
    return launch(argv, { type: SEARCH_TASK_TYPE, taskDir: s.taskDir, resume: s.searchId, started: new Date().toISOString() }, `search: resume ${s.searchId}`, key, cleanup);
  }

  context.subscriptions.push(registerCommand('speedrun.startSearch', start), registerCommand('speedrun.resumeSearch', resume));
}
