// The benchmark clone, the Tasks and Hints views, and the task workspace open in this window.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  BenchmarkLayoutError,
  OpenTaskError,
  TASK_BRIEF,
  TASK_FILE,
  checkLayout,
  formatDuration,
  getRecord,
  getTask,
  groundTruthHint,
  hintLabel,
  listHints,
  openTask,
  readTaskFile,
  renderTaskBrief,
  validateClone,
  type CloneReport,
  type HintFile,
  type Metrics,
  type OpenTaskResult,
  type TaskReport,
} from '../../core/benchmark';
import type { OpenTaskArgs } from '../commands';
import { commandLink, executeCommand, registerCommand, setContext } from '../register';
import type { TaskContext, Workspace } from '../services';
import { CalibrationStore, type CalibratedRecord, type CalibrationData } from '../../core/stats/calibration';

const BENCHMARK_REPO = 'https://github.com/facebookresearch/llm-speedrunner';
const HINT_SCHEME = 'speedrun-hint';
const HINT_NAME = /^level_\d_[A-Za-z0-9_-]+\.txt$/;
/** globalState: the task folder whose brief to show once the window has switched to it. */
const BRIEF_PENDING = 'speedrun.briefPending';

const tilde = (p: string) => (p === os.homedir() || p.startsWith(os.homedir() + path.sep) ? `~${p.slice(os.homedir().length)}` : p);
const untilde = (p: string) => (p === '~' || p.startsWith('~/') ? path.join(os.homedir(), p.slice(1)) : p);
/** True when a folder is missing, empty, or holds only a task workspace of ours. */
function usableFolder(dir: string): boolean {
  if (!fs.existsSync(dir)) return true;
  return fs.readdirSync(dir).filter((n) => !n.startsWith('.') || n === '.speedrun').every((n) => n === 'train_gpt2.py' || n === '.speedrun');
}

type TaskNode = { kind: 'task'; report: TaskReport };
type HintNode = { kind: 'hint'; hint: HintFile } | { kind: 'hidden-ground-truth' } | { kind: 'info'; text: string };

const secs = (m: Metrics | undefined) => (m ? formatDuration(m.trainTimeMs) : '?');
/** Compact times for the narrow tree: "49:28", "4:50", "28.0 s". */
function clock(ms: number | undefined): string {
  if (ms === undefined) return '?';
  if (Math.abs(ms) < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.trunc(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

export class TaskWorkspace implements Workspace, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TaskContext | undefined>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private ctx: TaskContext | undefined;
  private clone: CloneReport | undefined;
  private readonly tasksTree = new TasksTree(this);
  private readonly hintsTree = new HintsTree(this);

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
  ) {
    const tasksView = vscode.window.createTreeView('speedrun.tasks', { treeDataProvider: this.tasksTree, showCollapseAll: false });
    const hintsView = vscode.window.createTreeView('speedrun.hints', { treeDataProvider: this.hintsTree });
    this.tasksTree.view = tasksView;
    this.disposables.push(
      tasksView,
      hintsView,
      vscode.workspace.registerTextDocumentContentProvider(HINT_SCHEME, new HintContent()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('speedrun.benchmarkPath')) this.refresh();
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => this.refresh()),
    );
    const watcher = vscode.workspace.createFileSystemWatcher(`**/${TASK_FILE.split(path.sep).join('/')}`);
    watcher.onDidCreate(() => this.refresh());
    watcher.onDidChange(() => this.refresh());
    watcher.onDidDelete(() => this.refresh());
    this.disposables.push(watcher);

    this.disposables.push(
      registerCommand('speedrun.locateBenchmark', (arg) => this.locate(arg)),
      registerCommand('speedrun.cloneBenchmark', () => this.cloneBenchmark()),
      registerCommand('speedrun.openTask', (arg) => this.openTaskCommand(arg)),
      registerCommand('speedrun.showTaskBrief', () => this.showBrief()),
      registerCommand('speedrun.refreshTasks', () => this.refresh()),
      registerCommand('speedrun.openHint', (arg) => this.openHint(arg)),
      registerCommand('speedrun.revealGroundTruth', (arg) => this.revealGroundTruth(arg?.confirmed === true)),
    );

    this.refresh();
    if (this.ctx) void this.showScript(this.ctx, false).then(() => this.showPendingBrief());
  }

  /** A task opened through the command in another folder: the window switched to it, so show its brief now. */
  private async showPendingBrief(): Promise<void> {
    const pending = this.context.globalState.get<string>(BRIEF_PENDING);
    if (!pending || !this.ctx || path.resolve(pending) !== this.ctx.taskDir) return;
    await this.context.globalState.update(BRIEF_PENDING, undefined);
    await this.showBrief(true);
  }

  // ---- Workspace ----

  current(): TaskContext | undefined {
    return this.ctx;
  }

  benchmarkPath(): string | undefined {
    return this.clone?.root;
  }

  /** The last validation of the benchmark clone. */
  cloneReport(): CloneReport | undefined {
    return this.clone;
  }

  /** Hints of the current task that the Hints view shows (level 0 only once revealed). */
  currentHints(): HintFile[] {
    const bench = this.hintSource();
    if (!this.ctx || !bench) return [];
    return listHints(bench, this.ctx.task.fromRecord, { includeGroundTruth: this.isRevealed() });
  }

  isRevealed(taskId = this.ctx?.task.taskId): boolean {
    return taskId !== undefined && this.context.workspaceState.get<boolean>(`speedrun.groundTruthRevealed.${taskId}`) === true;
  }

  dispose(): void {
    for (const d of this.disposables.splice(0)) d.dispose();
  }

  // ---- state ----

  /** Re-reads the task workspace and re-validates the clone; cheap enough to call on every change. */
  refresh(): CloneReport | undefined {
    this.ctx = this.loadTaskContext();
    const candidates = [
      vscode.workspace.getConfiguration('speedrun').get<string>('benchmarkPath')?.trim(),
      this.ctx?.task.benchmarkPath,
      path.join(this.context.globalStorageUri.fsPath, 'llm-speedrunner'),
    ].filter((p): p is string => !!p);
    this.clone = undefined;
    for (const [i, candidate] of candidates.entries()) {
      try {
        this.clone = validateClone(candidate);
        break;
      } catch (e) {
        // Only the explicit setting deserves a complaint; the fallbacks are guesses.
        if (i === 0 && vscode.workspace.getConfiguration('speedrun').get<string>('benchmarkPath')?.trim()) {
          this.log.warn(`speedrun.benchmarkPath: ${(e as Error).message}`);
        }
      }
    }
    if (this.clone) {
      this.log.info(`Benchmark ${this.clone.root}: ${this.clone.completeTasks}/${this.clone.tasks.length} tasks complete`);
      for (const w of this.clone.warnings) this.log.warn(w);
    }
    setContext('speedrun.benchmarkReady', !!this.clone);
    setContext('speedrun.taskOpen', !!this.ctx);
    this.tasksTree.changed();
    this.hintsTree.changed();
    this.changed.fire(this.ctx);
    return this.clone;
  }

  private loadTaskContext(): TaskContext | undefined {
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      if (folder.uri.scheme !== 'file' || !fs.existsSync(path.join(folder.uri.fsPath, TASK_FILE))) continue;
      try {
        const task = readTaskFile(folder.uri.fsPath);
        return { taskDir: folder.uri.fsPath, scriptPath: path.join(folder.uri.fsPath, 'train_gpt2.py'), task };
      } catch (e) {
        this.log.error((e as Error).message);
        void vscode.window.showErrorMessage(`Speedrun: ${(e as Error).message}`);
      }
    }
    return undefined;
  }

  /** Where the current task's hints come from: the located clone, else the one the task was opened from. */
  private hintSource(): string | undefined {
    if (this.clone) return this.clone.root;
    const p = this.ctx?.task.benchmarkPath;
    return p && fs.existsSync(p) ? p : undefined;
  }

  // ---- commands ----

  private async locate(arg?: string | vscode.Uri): Promise<{ path: string; completeTasks: number } | undefined> {
    let dir = typeof arg === 'string' ? arg : arg?.fsPath;
    if (!dir) {
      const picked = await vscode.window.showOpenDialog({
        canSelectFolders: true,
        canSelectFiles: false,
        openLabel: 'Use as Benchmark',
        title: 'Select your llm-speedrunner clone',
      });
      dir = picked?.[0]?.fsPath;
      if (!dir) return undefined;
    }
    try {
      dir = checkLayout(dir);
    } catch (e) {
      if (!(e instanceof BenchmarkLayoutError)) throw e;
      this.log.warn(e.message);
      if (e.suggestion) {
        // A path passed by a caller is taken as meant; a picked one gets asked about.
        const use = arg ? 'Use Top Folder' : await vscode.window.showWarningMessage(e.message, 'Use Top Folder');
        if (use !== 'Use Top Folder') return undefined;
        dir = e.suggestion;
      } else if (arg) {
        void vscode.window.showErrorMessage(`Speedrun: ${e.message}`);
        return undefined;
      } else {
        const choice = await vscode.window.showErrorMessage(e.message, 'Clone Benchmark…');
        if (choice) void executeCommand('speedrun.cloneBenchmark');
        return undefined;
      }
    }
    await vscode.workspace.getConfiguration('speedrun').update('benchmarkPath', dir, vscode.ConfigurationTarget.Global);
    const report = this.refresh();
    if (!report) return undefined;
    const msg = `Benchmark located: ${report.completeTasks}/${report.tasks.length} tasks complete.`;
    if (report.completeTasks < report.tasks.length || report.warnings.length) {
      void vscode.window.showWarningMessage(`${msg} See the Speedrun Workbench output for details.`, 'Show Output').then((c) => c && this.log.show());
    } else {
      void vscode.window.showInformationMessage(msg);
    }
    return { path: report.root, completeTasks: report.completeTasks };
  }

  private async cloneBenchmark(): Promise<string | undefined> {
    const storage = this.context.globalStorageUri.fsPath;
    const dest = path.join(storage, 'llm-speedrunner');
    try {
      checkLayout(dest);
      this.log.info(`Benchmark already cloned at ${dest}`);
      await this.locate(dest);
      return dest;
    } catch {
      fs.rmSync(dest, { recursive: true, force: true });
    }
    fs.mkdirSync(storage, { recursive: true });
    const result = await vscode.window.withProgress(
      { location: vscode.ProgressLocation.Notification, title: 'Cloning llm-speedrunner', cancellable: true },
      (progress, token) => gitClone(BENCHMARK_REPO, dest, progress, token, this.log),
    );
    if (result === 'ok') {
      await this.locate(dest);
      return dest;
    }
    fs.rmSync(dest, { recursive: true, force: true });
    if (result === 'cancelled') return undefined;
    const locate = 'Locate Benchmark…';
    const choice = await vscode.window.showErrorMessage(
      `${result} Clone ${BENCHMARK_REPO} yourself (or copy a clone here), then use Locate Benchmark.`,
      locate,
    );
    if (choice === locate) await this.locate();
    return undefined;
  }

  private async pickTask(): Promise<number | undefined> {
    if (!this.clone) {
      const choice = await vscode.window.showWarningMessage('Locate the llm-speedrunner benchmark first.', 'Locate Benchmark…', 'Clone Benchmark…');
      if (choice === 'Locate Benchmark…') await this.locate();
      else if (choice === 'Clone Benchmark…') await this.cloneBenchmark();
      if (!this.clone) return undefined;
    }
    const items = this.clone.tasks.map((t) => ({
      label: `Task ${t.id}: record ${t.fromRecord} → ${t.toRecord}`,
      description: `${secs(t.baseline)} → ${secs(t.target)}`,
      detail: `gap ${formatDuration(t.gapMs)} · hints ${t.hintLevels.join(', ') || 'none'}${t.complete ? '' : ' · incomplete: ' + t.missing.length + ' missing'}`,
      id: t.id,
    }));
    const picked = await vscode.window.showQuickPick(items, { title: 'Open Task', placeHolder: 'Start from record i, reach record i+1’s time', matchOnDescription: true });
    return picked?.id;
  }

  /**
   * Where to put a task: the default folder (speedrun.tasksFolder/task-N, created for you: the folder dialog
   * cannot create one), this window's folder when it is empty, or a folder the user picks.
   */
  private async pickDestination(taskId: number): Promise<string | undefined> {
    const root = untilde(vscode.workspace.getConfiguration('speedrun').get<string>('tasksFolder')?.trim() || '~/speedrun-tasks');
    const dflt = path.resolve(root, `task-${taskId}`);
    type Item = vscode.QuickPickItem & { dir?: string };
    const items: Item[] = [];
    if (usableFolder(dflt)) {
      items.push({ label: `$(new-folder) ${tilde(dflt)}`, description: fs.existsSync(dflt) ? 'reopen' : 'a new folder, created for you', detail: 'Change the default with the speedrun.tasksFolder setting.', dir: dflt });
    }
    const here = vscode.workspace.workspaceFolders?.find((f) => f.uri.scheme === 'file')?.uri.fsPath;
    if (here && path.resolve(here) !== dflt && fs.readdirSync(here).filter((n) => !n.startsWith('.')).length === 0) {
      items.push({ label: `$(folder) ${tilde(here)}`, description: "this window's folder (empty)", dir: here });
    }
    items.push({ label: '$(folder-opened) Choose Another Folder…', description: 'an existing folder' });
    const picked = await vscode.window.showQuickPick(items, { title: `Open task ${taskId} in…`, placeHolder: 'train_gpt2.py and .speedrun/ go into this folder' });
    if (!picked) return undefined;
    return picked.dir ?? this.chooseFolder(taskId);
  }

  private async chooseFolder(taskId: number): Promise<string | undefined> {
    const picked = await vscode.window.showOpenDialog({
      canSelectFolders: true,
      canSelectFiles: false,
      openLabel: 'Open Task Here',
      title: `Folder for task ${taskId} (train_gpt2.py and .speedrun/ go here)`,
    });
    const dir = picked?.[0]?.fsPath;
    if (!dir) return undefined;
    if (usableFolder(dir)) return dir;
    const sub = `speedrun-task-${taskId}`;
    const choice = await vscode.window.showWarningMessage(
      `${dir} is not empty. Create a folder '${sub}' inside it for the task?`,
      { modal: true },
      'Create Subfolder',
      'Use This Folder',
    );
    if (choice === 'Create Subfolder') return path.join(dir, sub);
    return choice === 'Use This Folder' ? dir : undefined;
  }

  private async openTaskCommand(arg?: number | OpenTaskArgs): Promise<OpenTaskResult | undefined> {
    const opts: Partial<OpenTaskArgs> = typeof arg === 'number' ? { taskId: arg } : { ...(arg ?? {}) };
    const taskId = opts.taskId ?? (await this.pickTask());
    if (taskId === undefined) return undefined;
    // The task open in this window, clicked again: its brief, not a second copy somewhere else.
    if (opts.dest === undefined && taskId === this.ctx?.task.taskId) {
      await this.showBrief();
      return undefined;
    }
    const bench = this.clone?.root ?? this.ctx?.task.benchmarkPath;
    if (!bench) {
      void vscode.window.showErrorMessage('Speedrun: locate the benchmark first (Speedrun: Locate Benchmark…).');
      return undefined;
    }
    const dest = opts.dest ?? (await this.pickDestination(taskId));
    if (!dest) return undefined;
    let res: OpenTaskResult;
    try {
      res = openTask({ benchmarkPath: bench, taskId, dest, force: opts.force });
    } catch (e) {
      if (!(e instanceof OpenTaskError)) throw e;
      this.log.warn(e.message);
      if (e.problem !== 'conflict' || opts.dest !== undefined) {
        void vscode.window.showErrorMessage(`Speedrun: ${e.message}`);
        return undefined;
      }
      const ok = await vscode.window.showWarningMessage(e.message, { modal: true }, 'Overwrite');
      if (ok !== 'Overwrite') return undefined;
      res = openTask({ benchmarkPath: bench, taskId, dest, force: true });
    }
    for (const w of res.warnings) this.log.warn(w);
    this.log.info(`Task ${taskId} ${res.alreadyOpen ? 'reopened' : 'opened'} in ${res.taskDir}`);
    const folders = vscode.workspace.workspaceFolders ?? [];
    const isCurrent = folders.some((f) => f.uri.scheme === 'file' && path.resolve(f.uri.fsPath) === res.taskDir);
    if (isCurrent) {
      this.refresh();
      if (this.ctx) await this.showScript(this.ctx, true);
      if (this.ctx) await this.showBrief(true);
    } else if (opts.openFolder !== false) {
      await this.context.globalState.update(BRIEF_PENDING, res.taskDir);
      await vscode.commands.executeCommand('vscode.openFolder', vscode.Uri.file(res.taskDir), { forceNewWindow: false });
    }
    return res;
  }

  private async showScript(ctx: TaskContext, force: boolean): Promise<void> {
    const uri = vscode.Uri.file(ctx.scriptPath);
    if (!fs.existsSync(ctx.scriptPath)) return;
    const shown = vscode.window.tabGroups.all.some((g) => g.tabs.some((t) => t.input instanceof vscode.TabInputText && t.input.uri.fsPath === uri.fsPath));
    if (shown && !force) return;
    await vscode.window.showTextDocument(uri, { preview: false, preserveFocus: !force });
  }

  /** The brief as a preview beside the script; `keepFocus` (a task just opened) leaves the focus in the script. */
  private async showBrief(keepFocus = false): Promise<void> {
    const ctx = this.ctx;
    if (!ctx) {
      void vscode.window.showInformationMessage('Speedrun: open a task first (Speedrun: Open Task…).');
      return;
    }
    const brief = path.join(ctx.taskDir, TASK_BRIEF);
    if (!fs.existsSync(brief)) fs.writeFileSync(brief, renderTaskBrief(ctx.task));
    const script = vscode.window.visibleTextEditors.find((e) => e.document.uri.fsPath === ctx.scriptPath);
    try {
      await vscode.commands.executeCommand('markdown.showPreviewToSide', vscode.Uri.file(brief));
    } catch {
      await vscode.window.showTextDocument(vscode.Uri.file(brief), { preview: true, viewColumn: vscode.ViewColumn.Beside, preserveFocus: keepFocus });
    }
    // The preview takes the focus once it has opened, after the command returns: wait for that, then give it back.
    if (keepFocus && script) {
      const previewActive = () => vscode.window.tabGroups.activeTabGroup.activeTab?.label.includes(path.basename(TASK_BRIEF));
      for (let i = 0; i < 40 && !previewActive(); i++) await new Promise((r) => setTimeout(r, 50));
      await vscode.window.showTextDocument(script.document, { viewColumn: script.viewColumn, preserveFocus: false });
    }
  }

  private async openHint(arg?: number | { level: number } | { path: string }): Promise<vscode.TextEditor | undefined> {
    let hint: HintFile | undefined;
    if (arg && typeof arg === 'object' && 'path' in arg) {
      hint = this.currentHints().find((h) => h.path === arg.path);
    } else {
      const level = typeof arg === 'number' ? arg : arg?.level;
      const hints = this.currentHints();
      if (level === undefined) {
        const picked = await vscode.window.showQuickPick(
          hints.map((h) => ({ label: hintLabel(h), description: h.name, h })),
          { title: 'Open Hint' },
        );
        hint = picked?.h;
      } else hint = hints.find((h) => h.level === level);
    }
    if (!hint) {
      if (arg !== undefined) void vscode.window.showWarningMessage('Speedrun: that hint is not available for the current task.');
      return undefined;
    }
    return this.showHint(hint);
  }

  private async showHint(hint: HintFile): Promise<vscode.TextEditor> {
    const record = this.ctx?.task.fromRecord ?? 0;
    const uri = vscode.Uri.from({
      scheme: HINT_SCHEME,
      // A .diff name gives the ground truth diff colouring.
      path: `/record_${record}/${hint.level === 0 ? hint.name.replace(/\.txt$/, '.diff') : hint.name}`,
      query: new URLSearchParams({ file: hint.path }).toString(),
    });
    const doc = await vscode.workspace.openTextDocument(uri);
    return vscode.window.showTextDocument(doc, { preview: true });
  }

  private async revealGroundTruth(confirmed: boolean): Promise<vscode.TextEditor | undefined> {
    const ctx = this.ctx;
    const bench = this.hintSource();
    if (!ctx || !bench) {
      void vscode.window.showInformationMessage('Speedrun: open a task first; the ground-truth diff belongs to a task.');
      return undefined;
    }
    const gt = groundTruthHint(bench, ctx.task.fromRecord);
    if (!gt) {
      void vscode.window.showWarningMessage(`Speedrun: no ground-truth diff for task ${ctx.task.taskId} in ${bench}.`);
      return undefined;
    }
    if (!this.isRevealed() && !confirmed) {
      const reveal = 'Reveal Spoiler';
      const answer = await vscode.window.showWarningMessage(
        `Reveal the ground-truth diff for task ${ctx.task.taskId}?`,
        {
          modal: true,
          detail: `Level 0 is the exact change that turned record ${ctx.task.fromRecord} into record ${ctx.task.toRecord}: the answer, not a hint. It stays visible in the Hints view for this task.`,
        },
        reveal,
      );
      if (answer !== reveal) return undefined;
    }
    await this.context.workspaceState.update(`speedrun.groundTruthRevealed.${ctx.task.taskId}`, true);
    this.log.info(`Ground-truth diff revealed for task ${ctx.task.taskId}`);
    this.hintsTree.changed();
    return this.showHint(gt);
  }
}

// ---- views ----

class TasksTree implements vscode.TreeDataProvider<TaskNode> {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.emitter.event;
  view?: vscode.TreeView<TaskNode>;

  constructor(private readonly ws: TaskWorkspace) {}

  changed(): void {
    const r = this.ws.cloneReport();
    if (this.view) {
      this.view.message =
        r && (r.completeTasks < r.tasks.length || r.warnings.length)
          ? `${r.completeTasks}/${r.tasks.length} tasks complete${r.warnings.length ? `, ${r.warnings.length} warning(s)` : ''}; see the output for details.`
          : undefined;
    }
    this.emitter.fire();
  }

  /** Times measured on the user's boxes (`speedrun calibrate`), read once per refresh. */
  private calibration: CalibrationData['targets'] = {};

  getChildren(element?: TaskNode): TaskNode[] {
    if (element) return [];
    this.calibration = new CalibrationStore().read().targets;
    return (this.ws.cloneReport()?.tasks ?? []).map((report) => ({ kind: 'task', report }));
  }

  /** Targets where both records of a task are measured. */
  private calibrated(t: TaskReport) {
    return Object.entries(this.calibration).flatMap(([target, recs]) => {
      const [a, b] = [recs[String(t.fromRecord)], recs[String(t.toRecord)]];
      return a && b ? [{ target, a, b }] : [];
    });
  }

  getTreeItem({ report: t }: TaskNode): vscode.TreeItem {
    const open = this.ws.current()?.task.taskId === t.id;
    const item = new vscode.TreeItem(`Task ${t.id}: ${t.fromRecord} → ${t.toRecord}`);
    item.id = `task-${t.id}`;
    // Short enough for the view's default width; the gap and the details are in the tooltip. Once a target is
    // calibrated, its measured times follow (all targets in the tooltip).
    const cal = this.calibrated(t);
    item.description = `${clock(t.baseline?.trainTimeMs)} → ${clock(t.target?.trainTimeMs)}${open ? ' · open' : ''}` +
      (cal.length ? ` · ${cal[0].target} ${clock(cal[0].a.meanMs)} → ${clock(cal[0].b.meanMs)}` : '');
    item.iconPath = !t.complete
      ? new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground'))
      : t.warnings.length
        ? new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'))
        : open
          ? new vscode.ThemeIcon('target')
          : new vscode.ThemeIcon('pass');
    item.contextValue = t.complete ? 'task' : 'task-incomplete';
    item.command = commandLink('speedrun.openTask', 'Open Task', t.id);
    const rec = getRecord(t.fromRecord);
    const md = new vscode.MarkdownString(undefined, true);
    md.appendMarkdown(`**Task ${t.id}**: start from record ${t.fromRecord}, reach record ${t.toRecord}'s time with val loss ≤ 3.28.\n\n`);
    md.appendMarkdown('| record | steps | val loss | train time |\n|---|---|---|---|\n');
    md.appendMarkdown(`| ${t.fromRecord} (baseline) | ${t.baseline?.steps ?? '?'} | ${t.baseline?.valLoss ?? '?'} | ${secs(t.baseline)} |\n`);
    md.appendMarkdown(`| ${t.toRecord} (target) | ${t.target?.steps ?? '?'} | ${t.target?.valLoss ?? '?'} | ${secs(t.target)} |\n\n`);
    if (cal.length) {
      const sd = (c: CalibratedRecord) => `${(c.meanMs / 1000).toFixed(1)}${c.stdMs !== null ? ` ± ${(c.stdMs / 1000).toFixed(1)}` : ''} s (n ${c.n})`;
      md.appendMarkdown(`Calibrated on your targets (**Speedrun: Calibrate Task on a Target…**):\n\n| target | record ${t.fromRecord} | record ${t.toRecord} |\n|---|---|---|\n`);
      for (const c of cal) md.appendMarkdown(`| ${c.target} | ${sd(c.a)} | ${sd(c.b)} |\n`);
      md.appendMarkdown('\n');
    }
    md.appendMarkdown(`Gap ${formatDuration(t.gapMs)} · hints ${t.hintLevels.join(', ') || 'none'} · torch ${rec?.torch} · ${rec?.minTrainShards} train shards\n\n`);
    for (const m of t.missing) md.appendMarkdown(`- $(error) missing: ${m}\n`);
    for (const w of t.warnings) md.appendMarkdown(`- $(warning) ${w}\n`);
    item.tooltip = md;
    return item;
  }
}

class HintsTree implements vscode.TreeDataProvider<HintNode> {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.emitter.event;

  constructor(private readonly ws: TaskWorkspace) {}

  changed(): void {
    this.emitter.fire();
  }

  getChildren(element?: HintNode): HintNode[] {
    const ctx = this.ws.current();
    if (element || !ctx) return [];
    const hints = this.ws.currentHints();
    const nodes: HintNode[] = hints.map((hint) => ({ kind: 'hint', hint }));
    if (!this.ws.isRevealed() && getTask(ctx.task.taskId)) nodes.push({ kind: 'hidden-ground-truth' });
    if (!hints.length) nodes.unshift({ kind: 'info', text: 'No hint files found in the benchmark clone.' });
    return nodes;
  }

  getTreeItem(node: HintNode): vscode.TreeItem {
    if (node.kind === 'info') return new vscode.TreeItem(node.text);
    if (node.kind === 'hidden-ground-truth') {
      const item = new vscode.TreeItem('Level 0 · ground-truth diff (hidden)');
      item.iconPath = new vscode.ThemeIcon('eye-closed');
      item.tooltip = 'The exact change to the next record. Revealing it asks for confirmation.';
      item.command = commandLink('speedrun.revealGroundTruth', 'Reveal Ground-Truth Diff');
      return item;
    }
    const h = node.hint;
    const item = new vscode.TreeItem(hintLabel(h));
    item.id = `hint-${h.name}`;
    item.description = `${(h.bytes / 1024).toFixed(1)} KB`;
    item.tooltip = h.path;
    item.iconPath = new vscode.ThemeIcon(h.level === 0 ? 'eye' : h.level === 9 ? 'book' : 'lightbulb');
    item.contextValue = h.level === 0 ? 'hint-ground-truth' : 'hint';
    item.command = commandLink('speedrun.openHint', 'Open Hint', { path: h.path });
    return item;
  }
}

/** Serves hint files as read-only documents. Only hint-named files are served. */
class HintContent implements vscode.TextDocumentContentProvider {
  provideTextDocumentContent(uri: vscode.Uri): string {
    const file = new URLSearchParams(uri.query).get('file') ?? '';
    if (!HINT_NAME.test(path.basename(file))) throw new Error(`not a hint file: ${file}`);
    return fs.readFileSync(file, 'utf8');
  }
}

/** Runs `git clone` with progress and cancellation; resolves 'ok', 'cancelled' or a message saying what failed. */
function gitClone(
  url: string,
  dest: string,
  progress: vscode.Progress<{ message?: string; increment?: number }>,
  token: vscode.CancellationToken,
  log: vscode.LogOutputChannel,
): Promise<string> {
  return new Promise((resolve) => {
    log.info(`git clone --depth 1 ${url} ${dest}`);
    const child = spawn('git', ['clone', '--depth', '1', '--progress', url, dest], {
      env: { ...process.env, GIT_TERMINAL_PROMPT: '0' },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let tail = '';
    let reported = 0;
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => {
      tail = (tail + chunk).slice(-4000);
      // git redraws progress lines with \r; report the phase and the overall share done.
      const m = /(Receiving objects|Resolving deltas):\s+(\d+)%[^\r\n]*[\r\n]*$/.exec(tail);
      if (m) {
        const pct = Number(m[2]);
        const done = m[1] === 'Receiving objects' ? 0.8 * pct : 80 + 0.2 * pct;
        if (done > reported) progress.report({ message: `${m[1]} ${m[2]}%`, increment: done - reported });
        reported = Math.max(reported, done);
      }
    });
    const cancel = token.onCancellationRequested(() => child.kill('SIGTERM'));
    child.on('error', (e: NodeJS.ErrnoException) => {
      cancel.dispose();
      log.error(`git clone: ${e.message}`);
      resolve(e.code === 'ENOENT' ? 'git was not found on this machine.' : `git could not start (${e.message}).`);
    });
    child.on('close', (code) => {
      cancel.dispose();
      if (token.isCancellationRequested) return resolve('cancelled');
      if (code === 0) return resolve('ok');
      const lastLines = tail.split(/[\r\n]+/).filter(Boolean).slice(-3).join(' ');
      log.error(`git clone failed (${code}): ${lastLines}`);
      const offline = /Could not resolve host|unable to access|Failed to connect|Network is unreachable/i.test(tail);
      resolve(offline ? `The network is unreachable from here (${lastLines}).` : `git clone failed: ${lastLines}`);
    });
  });
}
