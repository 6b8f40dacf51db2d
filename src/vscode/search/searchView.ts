// The Search view: the task's searches (`speedrun search`, sweeps opened as tasks) as trees of nodes, live from
// disk (.speedrun/search/<id>/), so a search run from a terminal grows here as it goes. A node shows its state,
// training time, val loss, FSR and hypothesis; it opens its diff against its parent, the start (record i) or,
// after the usual confirmation, the reference (record i+1), its run's dashboard, or becomes the working script.
// Pause, resume and stop reach the search's process through its control.json. A node being written opens its
// live view (watchEdits.ts): the edits landing as they are made.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { scriptPath } from '../../core/benchmark/catalog';
import { SEARCH_DIR, SearchStore, summarizeNode, type NodeMeta, type SearchControl, type SearchFile } from '../../core/search/tree';
import { parseLogText } from '../../core/logs/parser';
import { RunStore } from '../../core/runs/store';
import { REPORT_CSP, renderCurvesPage, type CurveSeries } from '../../core/search/report';
import { commandLink, executeCommand, registerCommand } from '../register';
import type { Workspace } from '../services';
import { NodeTranscript } from './nodeTranscript';
import { WatchEdits } from './watchEdits';

type Item = { kind: 'search'; store: SearchStore; file: SearchFile } | { kind: 'node'; store: SearchStore; file: SearchFile; node: NodeMeta; all: NodeMeta[] };

const secs = (ms: number | null | undefined) => (typeof ms === 'number' ? `${(ms / 1000).toFixed(1)} s` : '');

function nodeDescription(n: NodeMeta, f: SearchFile): string {
  const s = summarizeNode(n, f.config);
  const parts: string[] = [n.status === 'finished' ? (s.isValid ? 'valid' : 'invalid') : n.status];
  if (s.trainTimeMs !== null) parts.push(secs(s.trainTimeMs));
  if (s.valLoss !== null) parts.push(`loss ${s.valLoss.toFixed(4)}`);
  if (s.fsr !== null && n.status !== 'root') parts.push(`FSR ${s.fsr.toFixed(2)}`);
  if (n.bugDepth) parts.push(`bug depth ${n.bugDepth}`);
  return parts.join(' · ');
}

export class SearchTree implements vscode.TreeDataProvider<Item>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<Item | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private watcher: vscode.FileSystemWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;
  private lastSig = '';
  private readonly subs: vscode.Disposable[] = [];

  constructor(private readonly workspace: Workspace) {
    this.watch();
    this.subs.push(workspace.onDidChange(() => this.watch()));
  }

  private watch() {
    this.watcher?.dispose();
    const ctx = this.workspace.current();
    if (ctx) {
      // Based on the task folder, which exists: a watcher based on a folder that does not exist yet sees nothing.
      this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(ctx.taskDir), `${SEARCH_DIR.split(path.sep).join('/')}/**/*.json`));
      for (const ev of [this.watcher.onDidChange, this.watcher.onDidCreate, this.watcher.onDidDelete]) ev(() => this.refreshSoon(), undefined, this.subs);
    }
    this.refresh();
  }

  /**
   * While the view is visible, a cheap look at the search folders every 1.5 s catches what a file watcher may miss
   * (remote or network file systems, events dropped under load).
   */
  setVisible(visible: boolean): void {
    if (this.poll) clearInterval(this.poll);
    this.poll = undefined;
    if (!visible) return;
    this.poll = setInterval(() => {
      const sig = this.signature();
      if (sig !== this.lastSig) {
        this.lastSig = sig;
        this.refresh();
      }
    }, 1500);
  }

  private signature(): string {
    const ctx = this.workspace.current();
    if (!ctx) return '';
    const parts: string[] = [];
    for (const id of SearchStore.list(ctx.taskDir)) {
      const dir = path.join(ctx.taskDir, SEARCH_DIR, id);
      try {
        parts.push(`${id}:${fs.statSync(path.join(dir, 'search.json')).mtimeMs}`);
        for (const n of fs.readdirSync(dir)) if (n.startsWith('v_')) parts.push(`${n}:${fs.statSync(path.join(dir, n, 'meta.json')).mtimeMs}`);
      } catch {
        parts.push(`${id}:?`);
      }
    }
    return parts.join('|');
  }

  /** File events come in bursts (a node writes meta and results): one refresh per burst. */
  private refreshSoon() {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.refresh();
    }, 200);
  }

  refresh(): void {
    this.changed.fire(undefined);
  }

  searches(): SearchStore[] {
    const ctx = this.workspace.current();
    return ctx ? SearchStore.list(ctx.taskDir).reverse().map((id) => new SearchStore(ctx.taskDir, id)) : [];
  }

  getChildren(el?: Item): Item[] {
    if (!el) {
      return this.searches().flatMap((store) => {
        try {
          return [{ kind: 'search' as const, store, file: store.read() }];
        } catch {
          return [];
        }
      });
    }
    const all = el.store.nodes();
    const parent = el.kind === 'search' ? null : el.node.id;
    return all.filter((n) => n.parent === parent).map((node) => ({ kind: 'node' as const, store: el.store, file: el.file, node, all }));
  }

  getTreeItem(el: Item): vscode.TreeItem {
    if (el.kind === 'search') {
      const { config: c, progress: p } = el.file;
      const item = new vscode.TreeItem(`${c.scaffold.name} search ${c.searchId}`, vscode.TreeItemCollapsibleState.Expanded);
      item.description = `${p.state} · round ${p.round} · ${p.spent.nodes}/${c.budget.nodes} nodes · ${p.spent.gpuHours.toFixed(2)} GPU-h · ${p.spent.tokens} tokens`;
      item.tooltip = `${c.scaffold.name}: initial ${c.scaffold.initial}, branching ${c.scaffold.branching}, rounds ${c.scaffold.iterations}, debug ${c.scaffold.debugProb}, max bug depth ${c.scaffold.maxBugDepth}; hints ${c.hintLevels.join('+') || 'none'}; ${c.backend}${c.model ? ` ${c.model}` : ''} on ${c.targets.join(', ')}${p.stopReason ? `\n${p.stopReason}` : ''}`;
      item.contextValue = `search.${p.state}`;
      item.id = `search:${c.searchId}:${p.state}`;
      return item;
    }
    const n = el.node;
    const hasKids = el.all.some((x) => x.parent === n.id);
    const item = new vscode.TreeItem(n.status === 'root' ? 'v_0 (start)' : `v_${n.id}${n.debug ? ' (debug)' : ''}`, hasKids ? vscode.TreeItemCollapsibleState.Expanded : vscode.TreeItemCollapsibleState.None);
    item.description = nodeDescription(n, el.file);
    item.tooltip = new vscode.MarkdownString().appendText(`${n.hypothesis || '(no hypothesis yet)'}\n\n${el.store.readResults(n.id)?.outcome_summary ?? ''}`);
    item.iconPath = new vscode.ThemeIcon(
      n.status === 'running' || n.status === 'writing' || n.status === 'written' ? 'loading~spin' : n.status === 'root' ? 'home' : n.status === 'finished' && n.isValid ? 'pass' : 'error',
    );
    item.contextValue = `searchNode.${n.status}${n.runId ? '.run' : ''}`;
    // A node that gains children is a new item, so it opens expanded (VS Code keeps a known id's collapsed state).
    item.id = `node:${el.file.config.searchId}:${n.id}:${n.status}:${el.all.filter((x) => x.parent === n.id).length}`;
    if (n.status === 'writing') item.command = commandLink('speedrun.watchNodeEdits', 'Watch Edits', el);
    else if (n.parent !== null) item.command = commandLink('speedrun.diffSearchNode', 'Diff against Parent', el);
    return item;
  }

  dispose(): void {
    this.watcher?.dispose();
    if (this.timer) clearTimeout(this.timer);
    if (this.poll) clearInterval(this.poll);
    this.subs.forEach((d) => d.dispose());
    this.changed.dispose();
  }
}

const nodeUri = (store: SearchStore, id: number) => vscode.Uri.file(path.join(store.nodeDir(id), 'train_gpt2.py'));

function nodeOf(x: unknown): Extract<Item, { kind: 'node' }> | undefined {
  const o = x as Item | undefined;
  return o && o.kind === 'node' && o.store instanceof SearchStore ? o : undefined;
}

export function registerSearch(context: vscode.ExtensionContext, workspace: Workspace, log: vscode.LogOutputChannel): SearchTree {
  const tree = new SearchTree(workspace);
  const view = vscode.window.createTreeView('speedrun.search', { treeDataProvider: tree, showCollapseAll: true });
  tree.setVisible(view.visible);
  view.onDidChangeVisibility((e) => tree.setVisible(e.visible), undefined, context.subscriptions);
  const pick = async (x: unknown) => nodeOf(x) ?? undefined;
  const edits = new WatchEdits();
  const transcript = new NodeTranscript(context, log);
  const searchOf = (x: unknown) => (x as Item | undefined)?.store ?? tree.searches()[0];
  const control = (action: SearchControl) => (x: unknown) => {
    const s = searchOf(x);
    if (!s) return void vscode.window.showInformationMessage('Speedrun: no search in this task.');
    s.writeControl(action);
    void vscode.window.showInformationMessage(`Speedrun: asked search ${s.searchId} to ${action}.`);
  };
  context.subscriptions.push(
    tree,
    view,
    edits,
    transcript,
    registerCommand('speedrun.refreshSearches', () => tree.refresh()),
    registerCommand('speedrun.watchNodeEdits', async (x: unknown) => {
      const n = await pick(x);
      return n && n.node.parent !== null ? edits.node(n.store, n.node.id) : undefined;
    }),
    registerCommand('speedrun.showNodeTranscript', async (x: unknown) => {
      const n = await pick(x);
      if (n && !(await transcript.show(n.store, n.node.id))) {
        void vscode.window.showInformationMessage(`Speedrun: v_${n.node.id} has no transcript (its search did not keep one).`);
      }
    }),
    registerCommand('speedrun.watchSearchEdits', (x: unknown) => {
      const s = searchOf(x);
      if (!s) return void vscode.window.showInformationMessage('Speedrun: no search in this task.');
      return edits.follow(s);
    }),
    registerCommand('speedrun.diffSearchNode', async (x: unknown) => {
      const n = await pick(x);
      if (!n || n.node.parent === null) return;
      await vscode.commands.executeCommand('vscode.diff', nodeUri(n.store, n.node.parent), nodeUri(n.store, n.node.id), `v_${n.node.parent} ↔ v_${n.node.id} (search ${n.store.searchId})`);
    }),
    registerCommand('speedrun.diffSearchNodeWithStart', async (x: unknown) => {
      const n = await pick(x);
      if (n) await vscode.commands.executeCommand('vscode.diff', nodeUri(n.store, 0), nodeUri(n.store, n.node.id), `record ${n.file.config.fromRecord} ↔ v_${n.node.id}`);
    }),
    registerCommand('speedrun.diffSearchNodeWithReference', async (x: unknown) => {
      const n = await pick(x);
      const bench = workspace.benchmarkPath() ?? workspace.current()?.task.benchmarkPath;
      if (!n || !bench) return;
      const to = n.file.config.toRecord;
      const ok = await vscode.window.showWarningMessage(
        `Record ${to} is the answer to this task. Show it next to v_${n.node.id}?`,
        { modal: true },
        'Show the Reference',
      );
      if (ok !== 'Show the Reference') return;
      const ref = scriptPath(bench, to);
      if (!fs.existsSync(ref)) return void vscode.window.showErrorMessage(`Speedrun: no script of record ${to} in ${bench}.`);
      await vscode.commands.executeCommand('vscode.diff', vscode.Uri.file(ref), nodeUri(n.store, n.node.id), `record ${to} (reference) ↔ v_${n.node.id}`);
    }),
    registerCommand('speedrun.openSearchNodeDashboard', async (x: unknown) => {
      const n = await pick(x);
      if (n?.node.runId) await executeCommand('speedrun.openDashboard', n.node.runId);
    }),
    registerCommand('speedrun.useSearchNode', async (x: unknown) => {
      const n = await pick(x);
      const ctx = workspace.current();
      if (!n || !ctx) return;
      const ok = await vscode.window.showWarningMessage(`Replace the working train_gpt2.py with node v_${n.node.id}'s script? (Undo brings it back.)`, { modal: true }, 'Use This Node');
      if (ok !== 'Use This Node') return;
      const doc = await vscode.workspace.openTextDocument(ctx.scriptPath);
      const edit = new vscode.WorkspaceEdit();
      edit.replace(doc.uri, new vscode.Range(doc.positionAt(0), doc.positionAt(doc.getText().length)), n.store.script(n.node.id));
      await vscode.workspace.applyEdit(edit);
      await doc.save();
      await vscode.window.showTextDocument(doc);
    }),
    registerCommand('speedrun.showSearchCurves', (x) => {
      const s = searchOf(x);
      if (!s) return void vscode.window.showInformationMessage('Speedrun: no search in this task.');
      const runs = new RunStore(s.taskDir);
      const series: CurveSeries[] = s.nodes().filter((n) => n.runId).map((n) => ({ label: `v_${n.id}`, points: parseLogText(runs.readConsole(n.runId!)).val }));
      const panel = vscode.window.createWebviewPanel('speedrun.searchCurves', `Val loss: search ${s.searchId}`, vscode.ViewColumn.Active, { enableScripts: false, localResourceRoots: [] });
      panel.webview.html = renderCurvesPage(`Val loss of every node, search ${s.searchId}`, series);
    }),
    registerCommand('speedrun.pauseSearch', control('pause')),
    registerCommand('speedrun.stopSearch', control('stop')),
    registerCommand('speedrun.openSweepReport', async (file) => {
      let uri = typeof file === 'string' ? vscode.Uri.file(file) : file;
      if (!uri) {
        const picked = await vscode.window.showOpenDialog({ canSelectMany: false, filters: { 'Sweep report': ['html'] }, openLabel: 'Open Report' });
        uri = picked?.[0];
      }
      if (!uri) return;
      const html = fs.readFileSync(uri.fsPath, 'utf8');
      // Only our own reports: they carry the strict CSP (no script, one hashed stylesheet).
      if (!html.includes(`content="${REPORT_CSP}"`)) return void vscode.window.showErrorMessage(`Speedrun: ${uri.fsPath} is not a sweep report written by speedrun sweep.`);
      const panel = vscode.window.createWebviewPanel('speedrun.sweepReport', `Sweep: ${path.basename(path.dirname(uri.fsPath))}`, vscode.ViewColumn.Active, { enableScripts: false, localResourceRoots: [] });
      panel.webview.html = html;
    }),
  );
  return tree;
}
