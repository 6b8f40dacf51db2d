// Show Node Transcript: what a search node's model or agent was sent and answered, its edits and rule checks
// (v_<n>/transcript.jsonl, the agent transcript's event shape), in the agent transcript's page, read-only. It
// grows while the node is being written; after a window reload the panel comes back with the same node.
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readTranscriptFile } from '../../core/agent/transcript';
import type { AgentEvent } from '../../core/agent/types';
import { NODE_TRANSCRIPT, type NodeMeta, type SearchStore } from '../../core/search/tree';
import type { TranscriptMessage } from '../../shared/webviewMessages';
import { showPrompt, TranscriptPanel } from '../agent/transcriptPanel';
import { NODE_TRANSCRIPT_VIEW } from '../layout';

const STATE_KEY = 'speedrun.nodeTranscript';
const POLL_MS = 1000;

interface Shown {
  /** The node's folder. */
  dir: string;
  title: string;
}

const nodeTranscriptFile = (dir: string) => path.join(dir, NODE_TRANSCRIPT);

export class NodeTranscript implements vscode.Disposable {
  private readonly panel: TranscriptPanel;
  private timer: NodeJS.Timeout | undefined;
  private sig = '';

  constructor(private readonly context: vscode.ExtensionContext, log: vscode.LogOutputChannel) {
    this.panel = new TranscriptPanel(context, log, {
      events: () => this.events(),
      running: () => this.status() === 'writing',
      pendingTurn: () => null,
      caption: () => this.caption(),
      onMessage: (m) => void this.onMessage(m),
    }, { viewType: NODE_TRANSCRIPT_VIEW, title: 'Node Transcript' });
  }

  private get shown(): Shown | undefined {
    return this.context.workspaceState.get<Shown>(STATE_KEY);
  }

  /** Read whenever the page (re)loads, a revived one too: from then on the file is followed. */
  private events(): AgentEvent[] {
    const s = this.shown;
    if (!s) return [];
    this.panel.setTitle(s.title);
    this.follow();
    return readTranscriptFile(nodeTranscriptFile(s.dir));
  }

  private status(): string | undefined {
    const s = this.shown;
    try {
      return s && (JSON.parse(fs.readFileSync(path.join(s.dir, 'meta.json'), 'utf8')) as NodeMeta).status;
    } catch {
      return undefined;
    }
  }

  private caption(): string {
    const node = path.basename(this.shown?.dir ?? '');
    const status = this.status();
    return status === 'writing' ? `${node} is being written (read-only).` : `${node}: ${status ?? 'gone'} (read-only).`;
  }

  /** Opens the node's transcript; false when it has none. */
  async show(store: SearchStore, id: number): Promise<boolean> {
    const dir = store.nodeDir(id);
    if (!fs.existsSync(nodeTranscriptFile(dir))) return false;
    await this.context.workspaceState.update(STATE_KEY, { dir, title: `Transcript: v_${id} · search ${store.searchId}` } satisfies Shown);
    this.sig = '';
    this.panel.show(false);
    this.panel.reload();
    return true;
  }

  /** While the panel is open, a grown transcript or a new node status is sent again. */
  private follow(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      const s = this.shown;
      if (!this.panel.visible || !s) {
        clearInterval(this.timer);
        this.timer = undefined;
        return;
      }
      let sig: string;
      try {
        sig = `${fs.statSync(nodeTranscriptFile(s.dir)).size}:${this.status()}`;
      } catch {
        return;
      }
      if (sig !== this.sig) {
        this.sig = sig;
        this.panel.reload();
      }
    }, POLL_MS);
  }

  private async onMessage(m: TranscriptMessage): Promise<void> {
    if (m.type !== 'openPrompt') return; // read-only: no review, no runs, no stop
    const e = this.events().find((x) => x.sessionId === m.sessionId && x.type === 'prompt' && x.turn === m.turn && x.round === m.round);
    if (e?.type === 'prompt') await showPrompt(e, `search node ${m.sessionId}`);
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.panel.dispose();
  }
}
