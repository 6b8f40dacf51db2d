// Watch Edits: a search node's script while its model or agent writes it. The search (usually a CLI process)
// rewrites v_<n>/train_gpt2.py atomically each time an edit lands and sets meta.json's status when writing ends;
// this follows both from disk (a file watcher, and a cheap poll for what a watcher misses) and plays each
// rewrite in the frames of the agent's live edit view, in a diff against the parent's script beside the user's
// editor, never taking focus. Following a search moves on to its next node being written.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { editFrames, type EditFrame } from '../../core/agent/frames';
import { NODE_SCRIPT, SearchStore, type NodeMeta } from '../../core/search/tree';
import { FRAME_MS, WritingDecorations } from '../agent/liveEdit';
import { NODE_LIVE_SCHEME, quietColumn, sideColumn } from '../layout';

const POLL_MS = 500;
const PRESENT_TIMEOUT_MS = 1000;
/** A whole rewrite plays in at most this many frames (3 s). */
const MAX_FRAMES = 30;

/** `speedrun-node-live:/<searchId>/v_<n>/train_gpt2.py?<taskDir>` */
export function liveNodeUri(store: SearchStore, id: number): vscode.Uri {
  return vscode.Uri.from({ scheme: NODE_LIVE_SCHEME, path: `/${store.searchId}/v_${id}/${NODE_SCRIPT}`, query: store.taskDir });
}

function readScript(store: SearchStore, id: number): string | undefined {
  try {
    return store.script(id);
  } catch {
    return undefined; // between a node folder's creation and its first script
  }
}

/** Changes whenever either file is replaced (an atomic rewrite is a new inode). */
function signature(store: SearchStore, id: number): string {
  return [store.scriptFile(id), path.join(store.nodeDir(id), 'meta.json')].map((f) => {
    try {
      const s = fs.statSync(f);
      return `${s.ino}:${s.mtimeMs}:${s.size}`;
    } catch {
      return '-';
    }
  }).join('|');
}

function endedLabel(n: NodeMeta): string {
  if (n.status === 'failed') return `v_${n.id} failed (its parent's script is back)`;
  return n.status === 'written' ? `v_${n.id} written` : `v_${n.id} written · ${n.status}`;
}


/** What the command hands back: the live view it opened or revealed (tests read it). */
export interface EditWatch {
  readonly uri: vscode.Uri | undefined;
  readonly nodeId: number | undefined;
  /** What the status bar says about it. */
  readonly label: string;
}

/** One live view: a node's script, or (following) whichever node of a search is being written. */
class Watch implements EditWatch {
  uri: vscode.Uri | undefined;
  nodeId: number | undefined;
  label = '';
  /** Until the diff editor is open, its tab is not expected to be there. */
  opening = false;
  private shown = '';
  private target = '';
  private ended: NodeMeta | undefined;
  private finished = false;
  private playing = false;
  private disposed = false;
  private sig = '';
  private watcher: vscode.FileSystemWatcher | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly host: WatchEdits, readonly store: SearchStore, readonly follow: boolean) {
    this.timer = setInterval(() => this.tick(), POLL_MS);
  }

  private get where(): string {
    return `search ${this.store.searchId}${this.follow ? ' (following)' : ''}`;
  }

  async open(id: number): Promise<void> {
    const meta = this.store.node(id);
    if (!meta || meta.parent === null) return;
    const old = this.uri;
    this.nodeId = id;
    this.uri = liveNodeUri(this.store, id);
    this.ended = undefined;
    this.finished = false;
    this.sig = '';
    // Until the writer's first copy lands, the node is its parent's script.
    this.shown = this.target = readScript(this.store, id) ?? readScript(this.store, meta.parent) ?? '';
    void this.host.present(this.uri, this.shown, undefined);
    this.watcher?.dispose();
    // Based on the node's folder, which exists: the writer creates it with the parent's script.
    this.watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(vscode.Uri.file(this.store.nodeDir(id)), '*'));
    for (const ev of [this.watcher.onDidChange, this.watcher.onDidCreate]) ev(() => this.tick());
    const title = `v_${id} being written (from v_${meta.parent}) · ${this.where}`;
    this.setLabel(`$(loading~spin) ${title}`);
    this.opening = true;
    try {
      await this.reveal(title);
    } finally {
      this.opening = false;
    }
    if (old) {
      const tab = this.host.tabOf(old);
      if (tab) await vscode.window.tabGroups.close(tab, true);
    }
    this.tick();
  }

  async reveal(title?: string): Promise<void> {
    if (this.nodeId === undefined || !this.uri) return;
    const parent = this.store.node(this.nodeId)?.parent ?? 0;
    await vscode.commands.executeCommand('vscode.diff', vscode.Uri.file(this.store.scriptFile(parent)), this.uri, title ?? `v_${this.nodeId} (from v_${parent}) · ${this.where}`, {
      preserveFocus: true,
      preview: true,
      viewColumn: quietColumn(this.host.tabOf(this.uri)?.group.viewColumn ?? sideColumn()),
    });
  }

  private setLabel(text: string): void {
    this.label = text;
    this.host.status(this);
  }

  private tick(): void {
    if (this.disposed) return;
    if (this.nodeId === undefined || this.finished) {
      if (this.follow) this.moveOn();
      return;
    }
    const sig = signature(this.store, this.nodeId);
    if (sig === this.sig) return;
    this.sig = sig;
    // The script before the status: when writing ends, the final script is in place before meta.json says so.
    const meta = this.store.node(this.nodeId);
    const text = readScript(this.store, this.nodeId);
    if (text !== undefined) this.target = text;
    if (meta && meta.status !== 'writing') this.ended = meta;
    if (this.shown !== this.target) void this.play();
    else this.settle();
  }

  /** Plays the shown text towards the latest one on disk; a newer rewrite mid-way is played from where it is. */
  private async play(): Promise<void> {
    if (this.playing) return;
    this.playing = true;
    const uri = this.uri;
    try {
      // Stops when following moves to another node (a new uri).
      while (!this.disposed && uri && this.uri === uri && this.shown !== this.target) {
        const target = this.target;
        const frames = editFrames(this.shown, target, MAX_FRAMES);
        for (const [i, f] of frames.entries()) {
          if (this.disposed || this.uri !== uri) return;
          const last = i === frames.length - 1;
          this.shown = f.text;
          await this.host.present(uri, f.text, f, last);
          if (last) break;
          await new Promise((r) => setTimeout(r, FRAME_MS));
          if (this.target !== target) break;
        }
      }
    } finally {
      this.playing = false;
    }
    this.settle();
  }

  private settle(): void {
    if (!this.ended || this.playing || this.shown !== this.target || this.finished) return;
    this.finished = true;
    this.watcher?.dispose();
    this.watcher = undefined;
    this.setLabel(`$(pass) ${endedLabel(this.ended)} · ${this.where}`);
    if (this.follow) this.moveOn();
    else this.stopPolling();
  }

  /** Following: on to the search's next node being written; the poll ends with the search. */
  private moveOn(): void {
    const next = this.store.nodes().find((n) => n.status === 'writing' && n.id !== this.nodeId);
    // open() resets the watch to the new node before its first await, so the next tick sees the new node.
    if (next) return void this.open(next.id);
    let state: string | undefined;
    try {
      state = this.store.read().progress.state;
    } catch {
      state = undefined;
    }
    if (state !== 'running' && state !== 'paused') this.stopPolling();
    else if (this.nodeId === undefined) this.setLabel(`$(eye) waiting for a node to be written · ${this.where}`);
  }

  private stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  dispose(): void {
    this.disposed = true;
    this.stopPolling();
    this.watcher?.dispose();
  }
}

/** The live views, their documents and decorations, and the status bar item that says where they are. */
export class WatchEdits implements vscode.Disposable {
  private readonly texts = new Map<string, { text: string; frame: EditFrame | undefined; last: boolean }>();
  /** Per live document, what resolves the wait for the text last presented to show. */
  private readonly landed = new Map<string, () => void>();
  private readonly changed = new vscode.EventEmitter<vscode.Uri>();
  private readonly watches = new Set<Watch>();
  private readonly writing = new WritingDecorations();
  private readonly item = vscode.window.createStatusBarItem('speedrun.watchEdits', vscode.StatusBarAlignment.Left, 39);
  private shownInStatus: Watch | undefined;
  private readonly disposables: vscode.Disposable[] = [];

  constructor() {
    this.item.name = 'Speedrun Watch Edits';
    this.disposables.push(
      this.changed,
      this.writing,
      this.item,
      vscode.workspace.registerTextDocumentContentProvider(NODE_LIVE_SCHEME, {
        onDidChange: this.changed.event,
        // After a window reload nothing is playing: the script as it is on disk.
        provideTextDocumentContent: (uri) => this.texts.get(uri.toString())?.text ?? readLive(uri),
      }),
      // Decorations once the document holds the frame they were made for.
      vscode.workspace.onDidChangeTextDocument((e) => this.decorate(e.document)),
      vscode.window.onDidChangeVisibleTextEditors((eds) => eds.forEach((ed) => this.decorate(ed.document))),
      // A closed (or replaced preview) live view stops its watch.
      vscode.window.tabGroups.onDidChangeTabs(() => {
        for (const w of this.watches) if (!w.opening && w.uri && !this.tabOf(w.uri)) this.drop(w);
      }),
    );
  }

  /** Opens (or reveals) the live view of one node. */
  async node(store: SearchStore, id: number): Promise<EditWatch> {
    const uri = liveNodeUri(store, id).toString();
    const open = [...this.watches].find((w) => !w.follow && w.uri?.toString() === uri);
    if (open) {
      await open.reveal();
      return open;
    }
    const w = this.add(new Watch(this, store, false));
    await w.open(id);
    return w;
  }

  /** Follows the search: its node being written now, then the next ones while the search goes on. */
  async follow(store: SearchStore): Promise<EditWatch | undefined> {
    const open = [...this.watches].find((w) => w.follow && w.store.dir === store.dir);
    if (open) {
      await open.reveal();
      return open;
    }
    const first = store.nodes().find((n) => n.status === 'writing');
    if (!first) {
      const state = store.read().progress.state;
      if (state !== 'running' && state !== 'paused') {
        void vscode.window.showInformationMessage(`Speedrun: search ${store.searchId} is ${state}; no node of it is being written.`);
        return undefined;
      }
      void vscode.window.showInformationMessage(`Speedrun: no node of search ${store.searchId} is being written now; the next one will open beside.`);
    }
    const w = this.add(new Watch(this, store, true));
    if (first) await w.open(first.id);
    return w;
  }

  private add(w: Watch): Watch {
    this.watches.add(w);
    return w;
  }

  private drop(w: Watch): void {
    w.dispose();
    this.watches.delete(w);
    if (this.shownInStatus === w) {
      this.shownInStatus = undefined;
      this.item.hide();
    }
  }

  tabOf(uri: vscode.Uri): vscode.Tab | undefined {
    const key = uri.toString();
    return vscode.window.tabGroups.all.flatMap((g) => g.tabs).find((t) => t.input instanceof vscode.TabInputTextDiff && t.input.modified.toString() === key);
  }

  /**
   * Sets what the live document holds and resolves once VS Code shows it (at most a second later), so a busy
   * window drops no frame; the frame's decorations follow it.
   */
  present(uri: vscode.Uri, text: string, frame: EditFrame | undefined, last = true): Promise<void> {
    const key = uri.toString();
    this.landed.get(key)?.();
    this.texts.set(key, { text, frame, last });
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === key);
    this.changed.fire(uri);
    if (!doc || doc.getText() === text) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, PRESENT_TIMEOUT_MS);
      const landed = this.landed;
      function done() {
        clearTimeout(timer);
        if (landed.get(key) === done) landed.delete(key);
        resolve();
      }
      landed.set(key, done);
    });
  }

  private decorate(doc: vscode.TextDocument): void {
    if (doc.uri.scheme !== NODE_LIVE_SCHEME) return;
    const key = doc.uri.toString();
    const s = this.texts.get(key);
    if (!s || doc.getText() !== s.text) return;
    this.landed.get(key)?.();
    if (s.frame && !s.last) this.writing.show(doc.uri, s.frame);
    else this.writing.clear(doc.uri, s.frame?.line);
  }

  status(w: Watch): void {
    this.shownInStatus = w;
    this.item.text = w.label;
    this.item.tooltip = 'Watch Edits: the search node being written, live from disk';
    this.item.show();
  }

  dispose(): void {
    for (const w of this.watches) w.dispose();
    this.watches.clear();
    for (const d of this.disposables) d.dispose();
  }
}

function readLive(uri: vscode.Uri): string {
  const [, searchId, node] = uri.path.split('/');
  try {
    const store = new SearchStore(uri.query, searchId);
    return store.script(Number(node.replace(/^v_/, '')));
  } catch {
    return '';
  }
}
