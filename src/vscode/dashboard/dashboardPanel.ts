// The dashboard panel: one webview (webview-ui/ bundled into media/dashboard.js) showing one run of the open task.
// The host owns the data: it replays a run's stored console.log, follows live RunEvents, and posts batched
// updates after the webview's `ready` (see ../webviewHost.ts). The webview is untrusted input: every message is
// parsed with its zod schema, file paths never come from it, and its CSP allows only our nonce'd script.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { TARGET_VAL_LOSS } from '../../core/benchmark/types';
import { compareTask, toCoverage } from '../../core/compare';
import { curve, headerFor, resultFor, runRow, RunSeries, taskInfo, toTrainWire, toValWire } from './model';
import { parseLogText } from '../../core/logs/parser';
import { loadReferenceCurve } from '../../core/logs/reference';
import type { ValPoint } from '../../core/logs/types';
import { CONSOLE, SCRIPT, sha256 } from '../../core/runs/store';
import { TERMINAL_STATES, type RunEvent, type RunMeta } from '../../core/runs/types';
import { DASHBOARD_PAGE } from '../../shared/dashboardHtml';
import type { Coverage, Curve, HostMessage, ResultCard } from '../../shared/protocol';
import { withStats } from './statsCard';
import { dashboardMessage, type DashboardMessage, type ExportFormat } from '../../shared/webviewMessages';
import { runIdOf } from '../commands';
import { executeCommand, registerCommand } from '../register';
import type { Dashboard, Runs, TaskContext, Workspace } from '../services';
import { DASHBOARD_VIEW } from '../layout';
import { WebviewHost } from '../webviewHost';

/** Live updates are batched: one message per interval instead of one per log line. */
const FLUSH_MS = 150;
const EXPORT_TIMEOUT_MS = 20_000;
const MAX_OVERLAYS = 8;

interface Shown {
  ctx: TaskContext;
  meta: RunMeta;
  series: RunSeries;
  /** When the current state began (epoch ms), for the elapsed time while compiling. */
  stateSince: number | null;
  coverage?: Coverage | null;
}

const isTerminal = (m: RunMeta) => TERMINAL_STATES.includes(m.state);

export class DashboardController implements Dashboard, vscode.Disposable {
  private readonly host: WebviewHost<HostMessage, DashboardMessage>;
  private readonly disposables: vscode.Disposable[] = [];
  private shown: Shown | undefined;
  /** Pinned: keep the shown run. Otherwise a run of the task that starts later than `newest` replaces it. */
  private pinned = false;
  /** The task's newest run when the shown one was chosen (the one to follow has to be newer). */
  private newest: string | undefined;
  private overlayIds: string[] = [];
  private readonly recordCurves = new Map<string, Promise<Curve[]>>();
  private readonly runVal = new Map<string, { size: number; val: ValPoint[] }>();
  private flushTimer: ReturnType<typeof setTimeout> | undefined;
  private dirty = { header: false, result: false, runs: false };

  constructor(
    context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    private readonly runs: Runs,
    private readonly workspace: Workspace,
  ) {
    this.host = new WebviewHost(context, { viewType: DASHBOARD_VIEW, ...DASHBOARD_PAGE, script: 'dashboard.js', style: 'dashboard.css', schema: dashboardMessage }, {
      onReady: () => this.sendInit(),
      onMessage: (m) => this.onMessage(m),
      onRevive: (state) => {
        this.pinned = (state as { pinned?: unknown } | undefined)?.pinned === true;
        this.select(this.pinned ? runIdOf(state) : undefined);
      },
      onClose: () => (this.shown = undefined),
    }, log);
    this.disposables.push(
      this.host,
      registerCommand('speedrun.openDashboard', (run) => this.show(runIdOf(run))),
      registerCommand('speedrun.exportDashboard', (format, target) => this.exportCommand(format, target)),
      runs.onDidEvent((e) => this.onRunEvent(e)),
      workspace.onDidChange(() => {
        if (this.host.isOpen && this.shown?.ctx.taskDir !== workspace.current()?.taskDir) {
          this.pinned = false;
          this.select(undefined);
        }
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration('speedrun.recordsPath')) return;
        this.recordCurves.clear();
        void this.sendInit();
      }),
    );
  }

  /**
   * Opens (or reveals) the dashboard on a run; without an id, on the task's newest run, or the pinned one.
   * Either way it moves on to a run that starts later, unless pinned.
   */
  show(runId?: string): void {
    if (!this.workspace.current()) {
      void vscode.window.showInformationMessage('Open a task first: the dashboard shows the runs of the open task.');
      return;
    }
    this.host.show(true);
    if (runId || !this.pinned || !this.shown) this.select(runId);
  }

  /** Keeps the shown run (true), or goes back to following the task's newest run (false). */
  pin(pinned: boolean): void {
    this.pinned = pinned;
    if (!pinned && this.shown && this.shown.meta.runId !== this.newestRun(this.shown.ctx)) this.select(undefined);
    else void this.sendInit();
  }

  get isPinned(): boolean {
    return this.pinned;
  }

  /** The run the panel shows, if any (for tests and other areas). */
  get shownRunId(): string | undefined {
    return this.shown?.meta.runId;
  }

  // ---- which run ----------------------------------------------------------------------------------------

  private metaOf(ctx: TaskContext, runId: string): RunMeta | undefined {
    return this.runs.get(runId) ?? this.runs.list(ctx.taskDir).find((m) => m.runId === runId);
  }

  private newestRun(ctx: TaskContext): string | undefined {
    const all = this.runs.list(ctx.taskDir);
    return all.reduce<RunMeta | undefined>((a, m) => (!a || m.createdAt > a.createdAt ? m : a), undefined)?.runId;
  }

  /** Shows a run (or the newest) of the open task: replays its stored log, then follows its events. */
  private select(runId: string | undefined): void {
    const ctx = this.workspace.current();
    const id = ctx && (runId ?? this.newestRun(ctx));
    const meta = ctx && id ? this.metaOf(ctx, id) : undefined;
    if (!ctx || !meta) {
      if (runId) this.log.warn(`dashboard: run ${runId} not found in the open task`);
      this.shown = undefined;
      this.newest = undefined;
      this.host.setTitle(DASHBOARD_PAGE.title);
      return;
    }
    this.newest = this.newestRun(ctx);
    this.shown = {
      ctx,
      meta,
      series: new RunSeries(this.readHistory(ctx, meta)),
      stateSince: Date.parse(meta.startedAt ?? meta.createdAt) || null,
    };
    this.overlayIds = this.overlayIds.filter((o) => o !== meta.runId);
    this.host.setTitle(`Dashboard · ${meta.runId}`);
    void this.sendInit();
  }

  /** The run's stored console output, parsed. Read synchronously: the run engine appends to the file before it
   * emits the matching events, so nothing can fall between this read and the events that follow. */
  private readHistory(ctx: TaskContext, meta: RunMeta) {
    const file = path.join(this.runs.runDir(ctx.taskDir, meta.runId), CONSOLE);
    let bytes: Buffer;
    try {
      bytes = fs.readFileSync(file);
    } catch {
      return undefined;
    }
    const outcome = isTerminal(meta)
      ? { exitCode: meta.exitCode ?? null, cancelled: meta.state === 'cancelled', timedOut: meta.state === 'timed-out' }
      : undefined;
    return parseLogText(bytes, undefined, outcome);
  }

  private async sendInit(): Promise<void> {
    const s = this.shown;
    if (!s || !this.host.isReady) return;
    const curves = await this.recordCurvesFor(s.ctx);
    if (s !== this.shown || !this.host.isReady) return;
    s.series.takePending(); // everything goes in the init
    this.dirty = { header: false, result: false, runs: false };
    this.host.post({
      type: 'init',
      pinned: this.pinned,
      task: taskInfo(s.ctx.task),
      header: headerFor(s.meta, s.series, s.ctx.task, s.stateSince),
      targetValLoss: TARGET_VAL_LOSS,
      train: s.series.train.map(toTrainWire),
      val: s.series.val.map(toValWire),
      curves,
      runs: this.rows(s.ctx),
      result: this.resultOf(s),
    });
    if (this.overlayIds.length) this.host.post({ type: 'overlays', curves: this.overlayCurves(s.ctx) });
  }

  private rows(ctx: TaskContext) {
    return this.runs.list(ctx.taskDir).map((m) => runRow(m, ctx.task));
  }

  /** The results card: the run's own figures, plus the simulated label, FSR on the calibrated box and its repeats. */
  private resultOf(s: Shown): ResultCard | null {
    const r = resultFor(s.meta, s.series, s.ctx.task, this.coverage(s));
    return r && withStats(r, s.meta, s.ctx.taskDir, s.ctx.task);
  }

  /** Reproduction coverage of an ended run's script against the reference change; null when not computable. */
  private coverage(s: Shown): Coverage | null {
    // Only a run that trained to the end says something about how much of the reference it reproduced.
    if (s.meta.state !== 'finished') return null;
    if (s.coverage === undefined) {
      try {
        s.coverage = toCoverage(compareTask({
          taskDir: s.ctx.taskDir, runId: s.meta.runId, benchmarkPath: this.workspace.benchmarkPath() ?? s.ctx.task.benchmarkPath,
        }).result);
      } catch (e) {
        this.log.info(`dashboard: no reproduction coverage for run ${s.meta.runId}: ${(e as Error).message}`);
        s.coverage = null;
      }
    }
    return s.coverage;
  }

  /** The reference record's (i+1) and the starting record's (i) curves: from their logs, or their end points. */
  private recordCurvesFor(ctx: TaskContext): Promise<Curve[]> {
    const recordsPath = vscode.workspace.getConfiguration('speedrun').get<string>('recordsPath') || null;
    const t = ctx.task;
    const key = `${t.fromRecord}>${t.toRecord}`;
    let p = this.recordCurves.get(key);
    if (!p) {
      const load = async (record: number, endpoint: typeof t.target, kind: 'reference' | 'start') => {
        const c = await loadReferenceCurve({ record, recordsPath, endpoint });
        return c.points.length
          ? [curve(`record-${record}`, `record ${record} (${kind})`, kind, c.points, c.source === 'endpoint')] : [];
      };
      p = Promise.all([load(t.toRecord, t.target, 'reference'), load(t.fromRecord, t.baseline, 'start')]).then((c) => c.flat());
      this.recordCurves.set(key, p);
    }
    return p;
  }

  /** Validation curves of the runs picked for overlay (parsed from their logs, cached by file size). */
  private overlayCurves(ctx: TaskContext): Curve[] {
    const out: Curve[] = [];
    for (const id of this.overlayIds) {
      const meta = this.metaOf(ctx, id);
      if (!meta) continue;
      const file = path.join(this.runs.runDir(ctx.taskDir, id), CONSOLE);
      let size: number;
      try {
        size = fs.statSync(file).size;
      } catch {
        continue;
      }
      let cached = this.runVal.get(id);
      if (!cached || cached.size !== size) {
        cached = { size, val: parseLogText(fs.readFileSync(file)).val };
        this.runVal.set(id, cached);
      }
      out.push(curve(id, `run ${id}`, 'run', cached.val, false));
    }
    return out;
  }

  // ---- live events ----------------------------------------------------------------------------------------

  private onRunEvent(e: RunEvent): void {
    if (!this.host.isOpen) return;
    const s = this.shown;
    if (e.type === 'state' || e.type === 'ended') this.dirty.runs = true;
    if (s && e.runId === s.meta.runId) {
      if (e.type === 'log') {
        if (s.series.add(e.event)) this.dirty.header = true;
      } else if (e.type === 'state') {
        if (e.state !== s.meta.state) s.stateSince = Date.now();
        s.meta = { ...s.meta, state: e.state };
        this.dirty.header = true;
      } else if (e.type === 'ended') {
        s.meta = e.meta;
        this.dirty.header = this.dirty.result = true;
      }
    } else if (s && e.type === 'ended' && isTerminal(s.meta)) {
      // Another run of a repeat group may have ended: the card's repeats change.
      this.dirty.result = true;
    } else if (!this.pinned && e.type === 'state' && !TERMINAL_STATES.includes(e.state) && e.runId !== this.newest) {
      // A run of the open task newer than any when the shown one was chosen: follow it.
      const ctx = this.workspace.current();
      if (ctx && this.newestRun(ctx) === e.runId) {
        this.select(e.runId);
        return;
      }
    }
    if (e.type !== 'output') this.flushTimer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  private flush(): void {
    this.flushTimer = undefined;
    const s = this.shown;
    if (!s || !this.host.isReady) return; // the next `ready` sends a full init
    const { train, val } = s.series.takePending();
    if (train.length || val.length) this.host.post({ type: 'append', runId: s.meta.runId, train, val });
    if (this.dirty.header) this.host.post({ type: 'header', header: headerFor(s.meta, s.series, s.ctx.task, s.stateSince) });
    if (this.dirty.result) this.host.post({ type: 'result', result: this.resultOf(s) });
    if (this.dirty.runs) this.host.post({ type: 'runs', runs: this.rows(s.ctx) });
    this.dirty = { header: false, result: false, runs: false };
  }

  // ---- messages from the webview ------------------------------------------------------------------------------

  private async onMessage(m: DashboardMessage): Promise<void> {
    const s = this.shown;
    switch (m.type) {
      case 'openLine':
        if (s) await this.openScriptLine(s, m.line);
        return;
      case 'openRun':
        this.select(m.runId);
        return;
      case 'pin':
        this.pin(m.pinned);
        return;
      case 'compareRuns':
        if (s) await executeCommand('speedrun.compareRuns', s.meta.runId, m.runId);
        return;
      case 'setOverlays':
        this.overlayIds = m.runIds.filter((id) => id !== s?.meta.runId).slice(0, MAX_OVERLAYS);
        if (s) this.host.post({ type: 'overlays', curves: this.overlayCurves(s.ctx) });
        return;
      case 'exportData': {
        if (m.requestId !== undefined) return; // an answer that came too late
        const target = await this.askExportPath(m.format);
        if (!target) return;
        writeExport(target, m.format, m.data);
        void vscode.window.showInformationMessage(`Saved ${path.basename(target)}`);
        return;
      }
    }
  }

  /** Opens train_gpt2.py at a line: the working copy if it is still the script that ran, else the run's snapshot. */
  private async openScriptLine(s: Shown, line: number): Promise<void> {
    let file = s.ctx.scriptPath;
    const snapshot = path.join(this.runs.runDir(s.ctx.taskDir, s.meta.runId), SCRIPT);
    let changed: boolean;
    try {
      changed = sha256(fs.readFileSync(file)) !== s.meta.scriptSha256 && fs.existsSync(snapshot);
    } catch {
      changed = fs.existsSync(snapshot);
    }
    if (changed) file = snapshot;
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(file));
    const pos = new vscode.Position(Math.min(line, doc.lineCount) - 1, 0);
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.One, selection: new vscode.Range(pos, pos) });
    if (changed) {
      void vscode.window.showInformationMessage(`train_gpt2.py has changed since run ${s.meta.runId}: showing the script as it ran.`);
    }
  }

  // ---- export ---------------------------------------------------------------------------------------------

  private async askExportPath(format: ExportFormat): Promise<string | undefined> {
    const s = this.shown;
    const name = `${s ? `run-${s.meta.runId}` : 'dashboard'}${format === 'png' ? '-charts.png' : '.csv'}`;
    const uri = await vscode.window.showSaveDialog({
      title: format === 'png' ? 'Export the dashboard charts as PNG' : 'Export the run\'s data as CSV',
      defaultUri: s ? vscode.Uri.file(path.join(s.ctx.taskDir, name)) : undefined,
      filters: format === 'png' ? { 'PNG image': ['png'] } : { CSV: ['csv'] },
    });
    return uri?.fsPath;
  }

  /**
   * `speedrun.exportDashboard [format] [targetPath]`: writes the charts (png) or the data (csv) of the shown run.
   * Without a path it asks where to save. Resolves with the path written.
   */
  private async exportCommand(format?: unknown, target?: unknown): Promise<string | undefined> {
    if (!this.host.isOpen || !this.shown) {
      void vscode.window.showInformationMessage('Open the dashboard on a run first.');
      return undefined;
    }
    let fmt: ExportFormat | undefined = format === 'png' || format === 'csv' ? format : undefined;
    fmt ??= (await vscode.window.showQuickPick(
      [{ label: 'Charts as PNG', fmt: 'png' as const }, { label: 'Data as CSV', fmt: 'csv' as const }],
      { title: 'Export the dashboard' }))?.fmt;
    if (!fmt) return undefined;
    const file = typeof target === 'string' && target ? path.resolve(target) : await this.askExportPath(fmt);
    if (!file) return undefined;
    const answer = await this.host.request((requestId) => ({ type: 'requestExport', requestId, format: fmt }), 'exportData', EXPORT_TIMEOUT_MS);
    writeExport(file, answer.format, answer.data);
    return file;
  }

  dispose(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    for (const d of this.disposables) d.dispose();
  }
}

/** Writes an export from the webview: CSV text, or a PNG given as a data URL (checked, then decoded). */
function writeExport(target: string, format: ExportFormat, data: string): void {
  if (format === 'csv') {
    fs.writeFileSync(target, data);
    return;
  }
  const prefix = 'data:image/png;base64,';
  if (!data.startsWith(prefix)) throw new Error('the dashboard sent something that is not a PNG');
  fs.writeFileSync(target, Buffer.from(data.slice(prefix.length), 'base64'));
}
