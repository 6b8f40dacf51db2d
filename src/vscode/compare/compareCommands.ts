// Diff views against the records and between runs, patch export, and the editor buttons/lenses that open them.
// The record scripts and run snapshots are served by a read-only file system, scheme `speedrun-ref:`; the working
// train_gpt2.py is always shown as the real file, so it stays editable inside the diff editor.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import {
  CompareError,
  attemptPatch,
  isRunId,
  lineChanges,
  readRecordScript,
  readText,
  runScriptPath,
} from '../../core/compare';
import { scriptPath as recordScriptPath } from '../../core/benchmark/catalog';
import { runIdOf, type CommandArgs } from '../commands';
import { executeCommand, registerCommand, setContext } from '../register';
import type { Runs, TaskContext, Workspace } from '../services';

export const REF_SCHEME = 'speedrun-ref';

/** What a `speedrun-ref:` document shows. */
export type RefTarget =
  | { kind: 'record'; benchmark: string; record: number }
  | { kind: 'run'; taskDir: string; runId: string };

export function refUri(t: RefTarget): vscode.Uri {
  const query = new URLSearchParams(
    t.kind === 'record'
      ? { kind: 'record', benchmark: t.benchmark, record: String(t.record) }
      : { kind: 'run', taskDir: t.taskDir, runId: t.runId },
  ).toString();
  // The path only names the document (tab, breadcrumbs) and gives it the .py language; the query says what to read.
  const name = t.kind === 'record' ? `record ${t.record}` : `run ${t.runId}`;
  return vscode.Uri.from({ scheme: REF_SCHEME, path: `/${name}/train_gpt2.py`, query });
}

function parseRefUri(uri: vscode.Uri): RefTarget {
  const q = new URLSearchParams(uri.query);
  if (q.get('kind') === 'record') {
    const record = Number(q.get('record'));
    const benchmark = q.get('benchmark');
    if (benchmark && Number.isInteger(record)) return { kind: 'record', benchmark, record };
  } else if (q.get('kind') === 'run') {
    const taskDir = q.get('taskDir');
    const runId = q.get('runId');
    if (taskDir && runId && isRunId(runId)) return { kind: 'run', taskDir, runId };
  }
  throw new CompareError(`not a Speedrun reference: ${uri.toString()}`);
}

/**
 * Serves record scripts and run snapshots as a read-only file system: editors show them locked, and
 * WorkspaceEdits or writes to them fail (a TextDocumentContentProvider document would accept edits in memory).
 */
class RefFileSystem implements vscode.FileSystemProvider {
  private readonly changed = new vscode.EventEmitter<vscode.FileChangeEvent[]>();
  readonly onDidChangeFile = this.changed.event;

  private file(uri: vscode.Uri): string {
    const t = parseRefUri(uri);
    return t.kind === 'record' ? recordScriptPath(t.benchmark, t.record) : runScriptPath(t.taskDir, t.runId);
  }

  stat(uri: vscode.Uri): vscode.FileStat {
    let st: fs.Stats;
    try {
      st = fs.statSync(this.file(uri));
    } catch {
      throw vscode.FileSystemError.FileNotFound(uri);
    }
    return { type: vscode.FileType.File, ctime: st.ctimeMs, mtime: st.mtimeMs, size: st.size, permissions: vscode.FilePermission.Readonly };
  }

  readFile(uri: vscode.Uri): Uint8Array {
    const t = parseRefUri(uri);
    const text = t.kind === 'record'
      ? readRecordScript(t.benchmark, t.record)
      : readText(runScriptPath(t.taskDir, t.runId), `run ${t.runId}'s script snapshot`);
    return Buffer.from(text, 'utf8');
  }

  // Records and snapshots never change once written.
  watch(): vscode.Disposable {
    return new vscode.Disposable(() => undefined);
  }

  readDirectory(): [string, vscode.FileType][] {
    return [];
  }

  createDirectory(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  writeFile(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  delete(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  rename(uri: vscode.Uri): never {
    throw vscode.FileSystemError.NoPermissions(uri);
  }

  dispose() {
    this.changed.dispose();
  }
}

interface Side {
  uri: vscode.Uri;
  label: string;
}

export function registerCompare(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, workspace: Workspace, runs: Runs) {
  const refs = new RefFileSystem();
  context.subscriptions.push(refs, vscode.workspace.registerFileSystemProvider(REF_SCHEME, refs, { isReadonly: true, isCaseSensitive: true }));

  const benchmarkOf = (ctx: TaskContext) => workspace.benchmarkPath() ?? ctx.task.benchmarkPath;

  /** The open task, or an error message offering to open one. */
  const requireTask = (): TaskContext | undefined => {
    const ctx = workspace.current();
    if (!ctx) {
      void vscode.window.showErrorMessage('Open a task first: comparisons need its records.', 'Open Task…').then((c) => {
        if (c) void executeCommand('speedrun.openTask');
      });
    }
    return ctx;
  };

  /** The record's script as a read-only side, or undefined (with a message) when the clone lacks it. */
  const recordSide = (ctx: TaskContext, record: number, role: 'start' | 'reference'): Side | undefined => {
    const benchmark = benchmarkOf(ctx);
    const file = recordScriptPath(benchmark, record);
    if (!fs.existsSync(file)) {
      void vscode.window.showErrorMessage(`Record ${record}'s script is not in the benchmark clone (${file}).`, 'Locate Benchmark…').then((c) => {
        if (c) void executeCommand('speedrun.locateBenchmark');
      });
      return undefined;
    }
    return { uri: refUri({ kind: 'record', benchmark, record }), label: `record ${record} (${role})` };
  };

  const workingSide = (ctx: TaskContext): Side => ({ uri: vscode.Uri.file(ctx.scriptPath), label: path.basename(ctx.scriptPath) });

  const runSide = (ctx: TaskContext, runId: string): Side | undefined => {
    const file = runScriptPath(ctx.taskDir, runId);
    if (!fs.existsSync(file)) {
      void vscode.window.showErrorMessage(`Run ${runId} has no script snapshot (${file}).`);
      return undefined;
    }
    return { uri: refUri({ kind: 'run', taskDir: ctx.taskDir, runId }), label: `run ${runId}` };
  };

  // Opens as a preview without taking focus, so a keystroke meant for the editor never lands elsewhere.
  const openDiff = async (left: Side, right: Side) => {
    const title = `${left.label} ↔ ${right.label}`;
    log.info(`compare: ${title}`);
    await vscode.commands.executeCommand('vscode.diff', left.uri, right.uri, title, { preview: true, preserveFocus: true });
  };

  /**
   * The reference is the task's answer: ask once per task (per workspace) before showing it. Revealing the
   * level-0 hint (taskWorkspace.ts) already showed the answer, so it counts as asked.
   */
  const confirmReference = async (ctx: TaskContext): Promise<boolean> => {
    const key = `speedrun.referenceRevealed.${ctx.task.taskId}`;
    const state = context.workspaceState;
    if (state.get<boolean>(key) || state.get<boolean>(`speedrun.groundTruthRevealed.${ctx.task.taskId}`)) return true;
    const show = 'Show Reference';
    const choice = await vscode.window.showWarningMessage(
      `Show record ${ctx.task.toRecord}'s script?`,
      {
        modal: true,
        detail: `Record ${ctx.task.toRecord} is the answer to task ${ctx.task.taskId}: the diff shows exactly what it changed. ` +
          'You are asked once per task.',
      },
      show,
    );
    if (choice !== show) return false;
    await state.update(key, true);
    return true;
  };

  const compareWithReference = async (opts?: { confirmed?: boolean }) => {
    const ctx = requireTask();
    if (!ctx) return;
    const ref = recordSide(ctx, ctx.task.toRecord, 'reference');
    if (!ref) return;
    if (!(opts?.confirmed === true) && !(await confirmReference(ctx))) return;
    await openDiff(ref, workingSide(ctx));
  };

  const showMyChanges = async () => {
    const ctx = requireTask();
    if (!ctx) return;
    const start = recordSide(ctx, ctx.task.fromRecord, 'start');
    if (start) await openDiff(start, workingSide(ctx));
  };

  /** The other side for a single run, and whether it goes on the left (records and the working script do). */
  const pickOther = async (ctx: TaskContext, runId: string): Promise<{ side: Side; left: boolean } | undefined> => {
    type Item = vscode.QuickPickItem & { left: boolean; side: () => Promise<Side | undefined> };
    const items: Item[] = [
      {
        label: `record ${ctx.task.fromRecord} (start)`,
        description: 'what this run changed',
        left: true,
        side: async () => recordSide(ctx, ctx.task.fromRecord, 'start'),
      },
      { label: 'train_gpt2.py', description: 'the working script', left: true, side: async () => workingSide(ctx) },
      {
        label: `record ${ctx.task.toRecord} (reference)`,
        description: 'the answer to the task',
        left: true,
        side: async () => (await confirmReference(ctx) ? recordSide(ctx, ctx.task.toRecord, 'reference') : undefined),
      },
      ...runs.list(ctx.taskDir).filter((m) => m.runId !== runId).map((m): Item => ({
        label: `run ${m.runId}`,
        description: [m.state, m.target, m.valLoss !== undefined ? `val ${m.valLoss.toFixed(4)}` : ''].filter(Boolean).join(' · '),
        left: false,
        side: async () => runSide(ctx, m.runId),
      })),
    ];
    const pick = await vscode.window.showQuickPick(items, { title: `Compare run ${runId} with…` });
    const side = await pick?.side();
    return side && { side, left: pick!.left };
  };

  const compareRuns = async (...args: CommandArgs['speedrun.compareRuns']) => {
    const ctx = requireTask();
    if (!ctx) return;
    // From the Runs view: (clicked item, selected items); from code: (idA, idB); from the dashboard: (id).
    const ids = [...new Set(args.flatMap((a) => (Array.isArray(a) ? a : [a])).map(runIdOf).filter((x): x is string => !!x))];
    if (ids.length === 0) {
      const all = runs.list(ctx.taskDir);
      if (all.length === 0) {
        void vscode.window.showInformationMessage('This task has no runs yet.');
        return;
      }
      const picked = await vscode.window.showQuickPick(
        all.map((m) => ({ label: `run ${m.runId}`, description: `${m.state} · ${m.target}`, runId: m.runId })),
        { title: 'Compare runs: pick one or two', canPickMany: true },
      );
      if (!picked?.length) return;
      ids.push(...picked.slice(0, 2).map((p) => p.runId));
    }
    // Older run on the left, whatever order the selection came in.
    const created = (id: string) => runs.get(id)?.createdAt ?? '';
    if (ids.length >= 2 && created(ids[0]) > created(ids[1])) ids.splice(0, 2, ids[1], ids[0]);
    const first = runSide(ctx, ids[0]);
    if (!first) return;
    if (ids.length >= 2) {
      const second = runSide(ctx, ids[1]);
      if (second) await openDiff(first, second);
      return;
    }
    const other = await pickOther(ctx, ids[0]);
    if (other) await (other.left ? openDiff(other.side, first) : openDiff(first, other.side));
  };

  const exportPatch = async (...[arg]: CommandArgs['speedrun.exportPatch']) => {
    const ctx = requireTask();
    if (!ctx) return;
    // exportPatch(path) or exportPatch({ runId?, target? }) from code and tests; a RunMeta from the Runs view.
    const o = (typeof arg === 'string' ? { target: arg } : arg && typeof arg === 'object' ? arg : {}) as { target?: unknown };
    const given = typeof o.target === 'string' ? path.resolve(ctx.taskDir, o.target) : undefined;
    const runId = typeof arg === 'string' ? undefined : runIdOf(arg);
    try {
      const baseline = readRecordScript(benchmarkOf(ctx), ctx.task.fromRecord);
      // The working script as the editor shows it (unsaved edits included); a run exactly as it ran.
      const attempt = runId
        ? readText(runScriptPath(ctx.taskDir, runId), `run ${runId}'s script snapshot`)
        : vscode.workspace.textDocuments.find((d) => d.uri.fsPath === ctx.scriptPath)?.getText() ?? readText(ctx.scriptPath, 'the working script');
      let target = given;
      if (!target) {
        const name = `task${ctx.task.taskId}-${runId ? `run-${runId}` : 'attempt'}.patch`;
        const uri = await vscode.window.showSaveDialog({
          title: `Export ${runId ? `run ${runId}` : 'the attempt'} as a patch against record ${ctx.task.fromRecord}`,
          defaultUri: vscode.Uri.file(path.join(ctx.taskDir, name)),
          filters: { Patch: ['patch', 'diff'] },
        });
        if (!uri) return;
        target = uri.fsPath;
      }
      if (path.resolve(target) === ctx.scriptPath) throw new CompareError('choose another file: the patch would replace train_gpt2.py');
      fs.writeFileSync(target, attemptPatch(baseline, attempt, { fromRecord: ctx.task.fromRecord, label: runId ? `run ${runId}` : 'attempt' }));
      log.info(`compare: patch written to ${target}`);
      if (!given) {
        void vscode.window.showInformationMessage(`Patch saved: ${path.basename(target)}`, 'Open').then((c) => {
          if (c) void vscode.window.showTextDocument(vscode.Uri.file(target!), { preview: true, preserveFocus: true });
        });
      }
      return target;
    } catch (e) {
      log.error(`compare: export failed: ${(e as Error).message}`);
      void vscode.window.showErrorMessage(`Export failed: ${(e as Error).message}`);
      return undefined;
    }
  };

  // Title-bar buttons show on the task's own train_gpt2.py once its records are readable.
  const updateContext = () => {
    const ctx = workspace.current();
    const ready = !!ctx && fs.existsSync(recordScriptPath(benchmarkOf(ctx), ctx.task.toRecord));
    setContext('speedrun.compare.ready', ready);
    setContext('speedrun.compare.scripts', ctx ? [vscode.Uri.file(ctx.scriptPath).path] : []);
    lenses.refresh();
  };

  const lenses = new ChangeLenses(workspace, benchmarkOf);
  context.subscriptions.push(
    registerCommand('speedrun.compareWithReference', compareWithReference),
    registerCommand('speedrun.showMyChanges', showMyChanges),
    registerCommand('speedrun.compareRuns', compareRuns),
    registerCommand('speedrun.exportPatch', exportPatch),
    vscode.languages.registerCodeLensProvider({ scheme: 'file', pattern: '**/train_gpt2.py' }, lenses),
    workspace.onDidChange(updateContext),
    lenses,
  );
  updateContext();
}

/** "My changes: +N −M" and "Compare with record i+1" above the first line of the task's script. */
class ChangeLenses implements vscode.CodeLensProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeCodeLenses = this.changed.event;
  private baseline: { key: string; text: string } | undefined;

  constructor(private readonly workspace: Workspace, private readonly benchmarkOf: (ctx: TaskContext) => string) {}

  refresh() {
    this.baseline = undefined;
    this.changed.fire();
  }

  provideCodeLenses(doc: vscode.TextDocument): vscode.CodeLens[] {
    const ctx = this.workspace.current();
    if (!ctx || doc.uri.fsPath !== ctx.scriptPath) return [];
    const benchmark = this.benchmarkOf(ctx);
    const key = `${benchmark}#${ctx.task.fromRecord}`;
    if (this.baseline?.key !== key) {
      try {
        this.baseline = { key, text: readRecordScript(benchmark, ctx.task.fromRecord) };
      } catch {
        return [];
      }
    }
    const { added, removed } = lineChanges(this.baseline.text, doc.getText());
    const top = new vscode.Range(0, 0, 0, 0);
    return [
      new vscode.CodeLens(top, {
        title: added + removed ? `$(git-compare) My changes: +${added} −${removed}` : `$(git-compare) No changes from record ${ctx.task.fromRecord} yet`,
        tooltip: `Diff against record ${ctx.task.fromRecord}, the task's starting script (whitespace ignored in the counts)`,
        command: 'speedrun.showMyChanges',
      }),
      new vscode.CodeLens(top, {
        title: `$(diff) Compare with record ${ctx.task.toRecord} (reference)`,
        tooltip: 'Spoiler: the reference record is the answer to the task',
        command: 'speedrun.compareWithReference',
      }),
    ];
  }

  dispose() {
    this.changed.dispose();
  }
}
