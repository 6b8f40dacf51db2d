// VS Code face of the run engine (core/runs): commands, the Runs view, the status bar, a LogOutputChannel per
// run, host-key and passphrase prompts. Runs live on their boxes: closing the window only stops watching, and
// the next activation re-attaches.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { ProgressTracker } from '../../core/logs/progress';
import { connectTarget } from '../../core/remote/connect';
import type { HostKeyPrompt } from '../../core/remote/ssh';
import { describeTarget, EXAMPLE_TARGETS, parseTargets, type Target } from '../../core/remote/targets';
import { preRunCheck } from '../../core/rules/preRun';
import { RunManager } from '../../core/runs/manager';
import { CONSOLE, RunStore } from '../../core/runs/store';
import { TERMINAL_STATES, type RunEvent, type RunMeta, type RunState } from '../../core/runs/types';
import { runIdOf, type RunRef } from '../commands';
import { commandLink, executeCommand, registerCommand } from '../register';
import type { Runs, Workspace } from '../services';
import { listGroups, repeatLine, summarizeGroup } from '../../core/stats/repeat';

const ACTIVE: RunState[] = ['connecting', 'preflight', 'uploading', 'compiling', 'training', 'validating'];
const isTerminal = (m: RunMeta) => TERMINAL_STATES.includes(m.state);
const LAST_TARGET = 'speedrun.lastTarget';

function duration(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const ICONS: Record<RunState, [string, string?]> = {
  queued: ['clock'],
  connecting: ['sync~spin'],
  preflight: ['sync~spin'],
  uploading: ['cloud-upload'],
  compiling: ['loading~spin'],
  training: ['pulse', 'charts.blue'],
  validating: ['beaker', 'charts.purple'],
  finished: ['pass', 'testing.iconPassed'],
  failed: ['error', 'testing.iconFailed'],
  cancelled: ['circle-slash'],
  'timed-out': ['watch', 'testing.iconFailed'],
};

class RunsTree implements vscode.TreeDataProvider<RunMeta> {
  private readonly changed = new vscode.EventEmitter<RunMeta | undefined>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly ctl: RunController) {}

  refresh() {
    this.changed.fire(undefined);
  }

  /** Run x K groups of the listed runs (run id -> its group's one-line summary), read once per refresh. */
  private repeats = new Map<string, string>();

  getChildren(el?: RunMeta): RunMeta[] {
    if (el) return [];
    const ctx = this.ctl.workspace.current();
    this.repeats = new Map();
    if (!ctx) return [];
    for (const g of listGroups(ctx.taskDir)) {
      const line = repeatLine(summarizeGroup(ctx.taskDir, g));
      for (const id of g.attempt) this.repeats.set(id, line);
    }
    return this.ctl.list(ctx.taskDir).slice().reverse();
  }

  getTreeItem(m: RunMeta): vscode.TreeItem {
    const created = new Date(m.createdAt);
    const item = new vscode.TreeItem(`${created.toLocaleString(undefined, { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' })} · ${m.target}`);
    const bits: string[] = [m.state];
    const pos = this.ctl.queuePosition(m.runId);
    if (m.state === 'queued' && pos > 0) bits[0] = `queued #${pos}`;
    // Slurm's own word: "PENDING (waiting: Resources)", "RUNNING", "TIMEOUT".
    if (m.schedulerState) bits.push(`Slurm ${m.slurmJobId ?? ''}: ${m.schedulerState}`);
    if (m.step !== undefined && m.totalSteps) bits.push(`step ${m.step}/${m.totalSteps}`);
    if (m.valLoss !== undefined) bits.push(`val ${m.valLoss.toFixed(4)}`);
    if (m.startedAt) bits.push(duration((m.endedAt ? Date.parse(m.endedAt) : Date.now()) - Date.parse(m.startedAt)));
    if (m.simulated) bits.push('SIMULATED');
    const repeat = this.repeats.get(m.runId);
    if (repeat) bits.push(repeat);
    item.description = bits.join(' · ');
    const [icon, color] = ICONS[m.state];
    item.iconPath = new vscode.ThemeIcon(icon, color ? new vscode.ThemeColor(color) : undefined);
    const tip = new vscode.MarkdownString(undefined, true);
    tip.appendMarkdown(`**Run ${m.runId}** on \`${m.target}\`: ${m.state}${m.simulated ? ' (simulated GPU box)' : ''}\n\n`);
    if (m.final) tip.appendMarkdown(`val_loss ${m.final.val_loss} after ${m.final.n_steps} steps, train_time ${(m.final.train_time / 1000).toFixed(1)} s ${m.final.is_valid ? '(valid)' : '(not valid: above 3.28)'}\n\n`);
    if (m.failure) tip.appendText(`${m.failure.stage}: ${m.failure.message}\n\n`);
    if (m.error) tip.appendText(`${m.error.kind}: ${m.error.message}\n\n`);
    if (m.preflight?.torch) tip.appendText(`python ${m.preflight.python}, torch ${m.preflight.torch}\n`);
    if (repeat) tip.appendText(`\nRun x K (finished repeats, mean ± sd): ${repeat}\n`);
    item.tooltip = tip;
    item.id = m.runId;
    // run.queued | run.active | run.ended: menus key off these.
    item.contextValue = m.state === 'queued' && !m.startedAt ? 'run.queued' : isTerminal(m) ? 'run.ended' : 'run.active';
    item.command = commandLink('speedrun.showRunOutput', 'Show Run Output', m.runId);
    return item;
  }
}

/** One LogOutputChannel per run, fed line by line (partial lines wait for their end). */
class RunChannel {
  readonly channel: vscode.LogOutputChannel;
  private rest = '';

  constructor(runId: string, target: string) {
    this.channel = vscode.window.createOutputChannel(`Speedrun Run ${runId} (${target})`, { log: true });
  }

  write(text: string) {
    const lines = (this.rest + text).split(/\r?\n/);
    this.rest = lines.pop() ?? '';
    for (const l of lines) {
      if (/^\[rank\d+\]:|Traceback|Error\b|^E\d{4} /.test(l)) this.channel.error(l);
      else if (/^W\d{4} /.test(l)) this.channel.warn(l);
      else this.channel.info(l);
    }
  }

  flush() {
    if (this.rest) this.write('\n');
  }
}

export class RunController implements Runs, vscode.Disposable {
  private readonly manager: RunManager;
  private readonly emitter = new vscode.EventEmitter<RunEvent>();
  readonly onDidEvent = this.emitter.event;
  private readonly tree = new RunsTree(this);
  private readonly status: vscode.StatusBarItem;
  private readonly channels = new Map<string, RunChannel>();
  private readonly progress = new Map<string, ProgressTracker>();
  private readonly disposables: vscode.Disposable[] = [];
  private readonly resumed = new Set<string>();
  private refreshTimer?: NodeJS.Timeout;
  private statusTimer?: NodeJS.Timeout;
  private readonly fromInput = new Set<string>();
  private readonly quiet = new Set<string>();

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly log: vscode.LogOutputChannel,
    readonly workspace: Workspace,
  ) {
    this.manager = new RunManager({
      targets: () => this.targets(),
      connect: (t) =>
        connectTarget(t, {
          confirmHostKey: (p) => this.confirmHostKey(t, p),
          askPassphrase: (file, retry) => this.askPassphrase(file, retry),
          passphraseAccepted: (file, pass) => void this.offerToRemember(file, pass),
          resolve: { configFile: this.config().get<string>('sshConfigFile') || undefined },
          log: (m) => this.log.info(m),
        }),
      timeLimitMs: () => this.config().get<number>('timeLimitMinutes', 60) * 60_000,
      cancelGraceMs: () => this.config().get<number>('cancelGraceSeconds', 10) * 1000,
      log: (m) => this.log.info(m),
    });
    this.status = vscode.window.createStatusBarItem('speedrun.run', vscode.StatusBarAlignment.Left, 50);
    this.status.name = 'Speedrun Run';
    this.disposables.push(
      this.emitter,
      this.status,
      { dispose: () => this.manager.dispose() },
      vscode.window.createTreeView('speedrun.runs', { treeDataProvider: this.tree, canSelectMany: true }),
      registerCommand('speedrun.run', (target) => this.runCommand(target)),
      registerCommand('speedrun.cancelRun', (run) => this.cancelCommand(run)),
      registerCommand('speedrun.removeQueuedRun', (run) => this.removeCommand(run)),
      registerCommand('speedrun.showRunOutput', (run) => this.showOutput(run)),
      registerCommand('speedrun.configureTargets', () => this.configureTargets()),
      workspace.onDidChange(() => this.onWorkspace()),
      vscode.workspace.onDidGrantWorkspaceTrust(() => this.onWorkspace()),
    );
    // Runs started elsewhere (the CLI, another window) show up as their meta.json files change.
    const watcher = vscode.workspace.createFileSystemWatcher('**/.speedrun/runs/*/meta.json');
    watcher.onDidCreate(() => this.refreshSoon());
    watcher.onDidChange(() => this.refreshSoon());
    watcher.onDidDelete(() => this.refreshSoon());
    this.disposables.push(watcher);
    this.manager.onEvent((e) => this.onEvent(e));
    this.onWorkspace();
  }

  private config() {
    return vscode.workspace.getConfiguration('speedrun');
  }

  private targets(): Target[] {
    const { targets, errors } = parseTargets(this.config().get('targets'));
    for (const e of errors) this.log.warn(`speedrun.targets: ${e}`);
    return targets;
  }

  /** Re-attach to the task's runs (once per task and session); only in a trusted workspace. */
  private onWorkspace() {
    const ctx = this.workspace.current();
    if (ctx && vscode.workspace.isTrusted && !this.resumed.has(ctx.taskDir)) {
      this.resumed.add(ctx.taskDir);
      try {
        for (const m of this.manager.resume(ctx.taskDir)) this.log.info(`re-attached to run ${m.runId} (${m.state}) on ${m.target}`);
      } catch (e) {
        this.log.error(`re-attaching runs failed: ${(e as Error).message}`);
      }
    }
    this.tree.refresh();
    this.updateStatus();
  }

  private refreshSoon() {
    clearTimeout(this.refreshTimer);
    this.refreshTimer = setTimeout(() => this.tree.refresh(), 200);
  }

  private onEvent(e: RunEvent) {
    this.emitter.fire(e);
    const meta = this.manager.get(e.runId);
    if (e.type === 'output') this.channelFor(e.runId, meta?.target ?? '').write(e.text);
    else if (e.type === 'log') {
      let p = this.progress.get(e.runId);
      if (!p) this.progress.set(e.runId, (p = new ProgressTracker(meta?.startedAt ? Date.parse(meta.startedAt) : Date.now())));
      p.onEvent(e.event, Date.now());
    } else if (e.type === 'state') {
      if (e.detail) this.log.info(`run ${e.runId}: ${e.state}: ${e.detail}`);
      // Preflight warnings (e.g. a torch the record was not made with) go on, but the user should know.
      if (e.detail?.startsWith('warning: ')) void vscode.window.showWarningMessage(`Run ${e.runId}: ${e.detail.slice(9)}`);
      this.refreshSoon();
    } else if (e.type === 'ended') {
      this.channels.get(e.runId)?.flush();
      this.progress.delete(e.runId);
      this.tree.refresh();
      void this.announceEnd(e.meta);
    }
    if (e.type === 'state' || e.type === 'ended') this.updateStatus();
    else this.statusTimer ??= setTimeout(() => ((this.statusTimer = undefined), this.updateStatus()), 500);
  }

  private channelFor(runId: string, target: string): RunChannel {
    let c = this.channels.get(runId);
    if (!c) {
      c = new RunChannel(runId, target);
      this.channels.set(runId, c);
    }
    return c;
  }

  private updateStatus() {
    const ctx = this.workspace.current();
    const live = ctx ? this.manager.activeRuns(ctx.taskDir).filter((m) => ACTIVE.includes(m.state) || (m.state === 'queued' && !!m.startedAt)) : [];
    const m = live[live.length - 1];
    if (!m) {
      this.status.hide();
      return;
    }
    const snap = this.progress.get(m.runId)?.snapshot(Date.now());
    const parts: string[] = [m.state];
    if (m.schedulerState && m.state === 'queued') parts.push(m.schedulerState);
    if (m.step !== undefined && m.totalSteps) parts.push(`${m.step}/${m.totalSteps}`);
    if (snap?.remainingMs) parts.push(`ETA ${duration(snap.remainingMs)}`);
    const icon = m.state === 'training' || m.state === 'validating' ? '$(pulse)' : '$(sync~spin)';
    this.status.text = `${icon} ${parts.join(' · ')}${m.simulated ? ' (sim)' : ''}`;
    this.status.tooltip = `Speedrun run ${m.runId} on ${m.target}: ${m.state}${m.schedulerState ? ` (Slurm job ${m.slurmJobId}: ${m.schedulerState})` : ''}. Click for its output.`;
    this.status.command = commandLink('speedrun.showRunOutput', 'Show Run Output', m.runId);
    this.status.show();
  }

  private async announceEnd(m: RunMeta) {
    if (this.quiet.delete(m.runId)) return;
    if (m.state === 'finished') {
      const f = m.final;
      const msg = f
        ? `Run ${m.runId} finished: val_loss ${f.val_loss} in ${(f.train_time / 1000).toFixed(1)} s${f.is_valid ? '' : ' (not valid: above 3.28)'}.`
        : `Run ${m.runId} finished.`;
      const a = await vscode.window.showInformationMessage(msg, 'Open Dashboard');
      if (a) void executeCommand('speedrun.openDashboard', m.runId);
    } else if (m.state !== 'cancelled') {
      const why = m.failure?.message ?? m.error?.message ?? (m.exitCode != null ? `exit code ${m.exitCode}` : '');
      const a = await vscode.window.showErrorMessage(`Run ${m.runId} ${m.state}${why ? `: ${why}` : ''}`, 'Show Output');
      if (a) this.showOutput(m.runId);
    }
  }

  // ---- prompts ----

  private async confirmHostKey(t: Target, p: HostKeyPrompt): Promise<boolean> {
    const other = p.otherTypesKnown.length ? `\n\nKeys of other types (${p.otherTypesKnown.join(', ')}) are already known for this host.` : '';
    const a = await vscode.window.showWarningMessage(
      `The authenticity of host '${p.name}' (target ${t.name}) can't be established.`,
      {
        modal: true,
        detail: `${p.keyType} key fingerprint is ${p.fingerprint}.${other}\n\nCompare it with the fingerprint of the box (ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub on the box). Trusting adds it to ${p.knownHostsFile}.`,
      },
      'Trust and Connect',
    );
    return a === 'Trust and Connect';
  }

  private secretKey(file: string) {
    return `speedrun.sshPassphrase:${file}`;
  }

  private async askPassphrase(file: string, retry: boolean): Promise<string | undefined> {
    if (!retry) {
      const stored = await this.context.secrets.get(this.secretKey(file));
      if (stored) return stored;
    } else await this.context.secrets.delete(this.secretKey(file));
    const p = await vscode.window.showInputBox({
      title: 'SSH key passphrase',
      prompt: `${retry ? 'Wrong passphrase. ' : ''}Passphrase for ${file}`,
      password: true,
      ignoreFocusOut: true,
    });
    if (p !== undefined) this.fromInput.add(file);
    return p;
  }

  private async offerToRemember(file: string, pass: string) {
    if (!this.fromInput.delete(file)) return;
    const a = await vscode.window.showInformationMessage(
      `Remember the passphrase for ${path.basename(file)} in VS Code's secret storage?`,
      'Remember',
      'Not Now',
    );
    if (a === 'Remember') await this.context.secrets.store(this.secretKey(file), pass);
  }

  // ---- Runs (services.ts) ----

  async start(opts: { taskDir: string; target?: string; origin?: 'user' | 'agent' }): Promise<RunMeta | undefined> {
    if (!vscode.workspace.isTrusted) throw new Error('Runs need a trusted workspace.');
    // Agent runs were checked by the agent's turn already.
    if (opts.origin !== 'agent' && !(await this.checkBeforeRun(opts.taskDir))) return undefined;
    const target = opts.target ?? (await this.pickTarget());
    if (!target) return undefined;
    // What runs is what is on disk: save an edited script first.
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === path.join(opts.taskDir, 'train_gpt2.py'));
    if (doc?.isDirty) await doc.save();
    const meta = this.manager.enqueue({ taskDir: opts.taskDir, target, origin: opts.origin ?? 'user' });
    await this.context.globalState.update(LAST_TARGET, target);
    this.resumed.add(opts.taskDir);
    this.tree.refresh();
    return meta;
  }

  /**
   * Runs for repeats and calibration (src/vscode/stats): any task folder (the task's baseline, a calibration
   * record), the same queue per target, no notification per run (the caller reports on the whole).
   */
  enqueueQuiet(opts: { taskDir: string; target: string }): RunMeta {
    const meta = this.manager.enqueue({ ...opts, origin: 'user' });
    this.quiet.add(meta.runId);
    return meta;
  }

  /** Follow a run an earlier session started in another folder (a calibration resumed); quiet as above. */
  attachQuiet(taskDir: string, runId: string): RunMeta | undefined {
    this.quiet.add(runId);
    return this.manager.attach(taskDir, runId, true);
  }

  async checkBeforeRun(taskDir: string, answer?: () => Promise<boolean>): Promise<boolean> {
    // The editor's text, unsaved edits included: that is what the run will save and send.
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.fsPath === path.join(taskDir, 'train_gpt2.py'));
    const check = await preRunCheck(taskDir, { script: doc?.getText() });
    if (!check.errors.length) return true;
    const ask =
      answer ??
      (async () => {
        const a = await vscode.window.showWarningMessage(check.summary, { modal: true, detail: check.details }, 'Run Anyway', 'Show Problems');
        if (a === 'Show Problems') void vscode.commands.executeCommand('workbench.actions.view.problems');
        return a === 'Run Anyway';
      });
    const ok = await ask();
    this.log.info(ok ? `run started despite ${check.errors.length} rule violation(s)` : `run refused: ${check.errors.length} rule violation(s)`);
    return ok;
  }

  async cancel(runId: string): Promise<void> {
    if (!this.manager.get(runId)) {
      const ctx = this.workspace.current();
      if (!ctx || !this.manager.attach(ctx.taskDir, runId, false)) throw new Error(`Run ${runId} is not known here.`);
    }
    await this.manager.cancel(runId);
  }

  async waitForEnd(runId: string): Promise<RunMeta> {
    const m = this.get(runId);
    if (m && isTerminal(m)) return m;
    return this.manager.waitForEnd(runId);
  }

  list(taskDir: string): RunMeta[] {
    return this.manager.list(taskDir);
  }

  get(runId: string): RunMeta | undefined {
    const live = this.manager.get(runId);
    if (live) return live;
    const ctx = this.workspace.current();
    return ctx ? new RunStore(ctx.taskDir).read(runId) : undefined;
  }

  runDir(taskDir: string, runId: string): string {
    return new RunStore(taskDir).dir(runId);
  }

  queuePosition(runId: string): number {
    return this.manager.position(runId);
  }

  // ---- commands ----

  /** Asks for a target when there are several (the last used first); also for repeats and calibration. */
  async pickTarget(): Promise<string | undefined> {
    const targets = this.targets();
    if (!targets.length) {
      const a = await vscode.window.showWarningMessage('No run targets are configured.', 'Configure Targets');
      if (a) await this.configureTargets();
      return undefined;
    }
    if (targets.length === 1) return targets[0].name;
    const last = this.context.globalState.get<string>(LAST_TARGET);
    const items = targets
      .map((t) => ({
        label: t.name,
        description: describeTarget(t),
        detail: `${t.gpus} GPU${t.gpus === 1 ? '' : 's'} · ${t.remoteDir}`,
      }))
      .sort((a, b) => Number(b.label === last) - Number(a.label === last));
    return (await vscode.window.showQuickPick(items, { title: 'Run on which target?', placeHolder: 'Target' }))?.label;
  }

  private async runCommand(target?: string) {
    if (!vscode.workspace.isTrusted) {
      const a = await vscode.window.showWarningMessage('Runs execute code on your machines, so they need a trusted workspace.', 'Manage Workspace Trust');
      if (a) await vscode.commands.executeCommand('workbench.trust.manage');
      return;
    }
    const ctx = this.workspace.current();
    if (!ctx) {
      const a = await vscode.window.showWarningMessage('Open a task first.', 'Open Task…');
      if (a) await executeCommand('speedrun.openTask');
      return;
    }
    try {
      const meta = await this.start({ taskDir: ctx.taskDir, target: typeof target === 'string' ? target : undefined });
      if (meta) this.log.info(`run ${meta.runId} queued on ${meta.target}`);
      // The dashboard (beside the script) follows the new run unless the user pinned another one.
      if (meta && this.config().get<boolean>('dashboard.revealOnRun', true)) void executeCommand('speedrun.openDashboard');
    } catch (e) {
      void vscode.window.showErrorMessage((e as Error).message);
    }
  }

  private activeRunId(): string | undefined {
    const ctx = this.workspace.current();
    return ctx ? this.manager.activeRuns(ctx.taskDir).reverse().find((m) => ACTIVE.includes(m.state))?.runId : undefined;
  }

  private async pickRun(arg: RunRef | undefined, filter: (m: RunMeta) => boolean, title: string): Promise<string | undefined> {
    const id = runIdOf(arg);
    if (id) return id;
    const ctx = this.workspace.current();
    const runs = ctx ? this.manager.list(ctx.taskDir).filter(filter).reverse() : [];
    if (runs.length <= 1) return runs[0]?.runId;
    const pick = await vscode.window.showQuickPick(
      runs.map((m) => ({ label: m.runId, description: `${m.target} · ${m.state}` })),
      { title },
    );
    return pick?.label;
  }

  private async cancelCommand(arg?: RunRef) {
    const id = await this.pickRun(arg, (m) => !isTerminal(m), 'Cancel which run?');
    if (!id) return;
    try {
      await this.cancel(id);
    } catch (e) {
      void vscode.window.showErrorMessage((e as Error).message);
    }
  }

  private async removeCommand(arg?: RunRef) {
    const id = await this.pickRun(arg, (m) => m.state === 'queued', 'Remove which queued run?');
    if (!id) return;
    try {
      this.manager.removeQueued(id);
      this.tree.refresh();
    } catch (e) {
      void vscode.window.showErrorMessage((e as Error).message);
    }
  }

  private async showOutput(arg?: RunRef) {
    const id = runIdOf(arg) ?? this.activeRunId() ?? (await this.pickRun(undefined, () => true, 'Show the output of which run?'));
    if (!id) return;
    let c = this.channels.get(id);
    if (!c) {
      // A run this session did not stream: show what is stored.
      const meta = this.get(id);
      c = this.channelFor(id, meta?.target ?? '');
      const ctx = this.workspace.current();
      if (ctx) {
        try {
          c.write((await vscode.workspace.fs.readFile(vscode.Uri.file(path.join(this.runDir(ctx.taskDir, id), CONSOLE)))).toString());
          if (meta && isTerminal(meta)) c.flush();
        } catch {
          /* nothing stored yet */
        }
      }
    }
    c.channel.show(true);
  }

  private async configureTargets() {
    const example = {
      '// speedrun.targets': 'Paste into your user settings.json; ssh hosts may be ~/.ssh/config aliases (ProxyJump, IdentityFile and the agent are honoured).',
      '// ssh config': 'Hosts are resolved with `ssh -G`, exactly as `ssh` does: Match exec commands in your ssh config run, as they do when you type `ssh HOST`.',
      '// slurm': "A slurm target submits each run with sbatch from its login node (host; without one, from this machine): partition, account, qos, gpuType and sbatchArgs go to sbatch; remoteDir must be on a filesystem the GPU nodes share.",
      'speedrun.targets': EXAMPLE_TARGETS,
    };
    const doc = await vscode.workspace.openTextDocument({ language: 'jsonc', content: JSON.stringify(example, null, 2) + '\n' });
    await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
    await vscode.commands.executeCommand('workbench.action.openSettings', 'speedrun.targets');
  }

  dispose() {
    clearTimeout(this.refreshTimer);
    clearTimeout(this.statusTimer);
    for (const c of this.channels.values()) c.channel.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
