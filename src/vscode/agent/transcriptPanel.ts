// The agent transcript: a webview timeline of sessions and turns (the model's text as it streams, the edits,
// the rule checks, the runs and their results). It is rebuilt from .speedrun/agent/transcript.jsonl, so it
// survives a window reload (a panel serializer revives it). Strict CSP: nonce script, media/ only.
import * as vscode from 'vscode';
import { readTranscript } from '../../core/agent/transcript';
import type { AgentEvent } from '../../core/agent/types';
import { type FromTranscript, type ToTranscript, isFromTranscript } from '../../shared/agentProtocol';
import { makeNonce, webviewShell } from '../../shared/dashboardHtml';

export const TRANSCRIPT_VIEW = 'speedrun.agentTranscript';

export interface TranscriptHost {
  taskDir(): string | undefined;
  running(): boolean;
  pendingTurn(): number | null;
  onMessage(m: FromTranscript): void;
}

export class TranscriptPanel implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private ready = false;
  private readonly media: vscode.Uri;
  private readonly disposables: vscode.Disposable[] = [];
  private panelDisposables: vscode.Disposable[] = [];

  constructor(
    context: vscode.ExtensionContext,
    private readonly host: TranscriptHost,
  ) {
    this.media = vscode.Uri.joinPath(context.extensionUri, 'media');
    this.disposables.push(
      vscode.window.registerWebviewPanelSerializer(TRANSCRIPT_VIEW, {
        deserializeWebviewPanel: async (panel) => this.attach(panel),
      }),
    );
  }

  get visible(): boolean {
    return !!this.panel;
  }

  show(preserveFocus = true): void {
    if (this.panel) this.panel.reveal(undefined, preserveFocus);
    else this.attach(vscode.window.createWebviewPanel(TRANSCRIPT_VIEW, 'Agent Transcript', { viewColumn: vscode.ViewColumn.Beside, preserveFocus }));
  }

  event(e: AgentEvent): void {
    this.post({ type: 'event', event: e });
  }

  state(): void {
    this.post({ type: 'state', running: this.host.running(), pendingTurn: this.host.pendingTurn() });
  }

  private post(m: ToTranscript): void {
    if (this.panel && this.ready) void this.panel.webview.postMessage(m);
  }

  private attach(panel: vscode.WebviewPanel): void {
    this.panel?.dispose();
    this.panel = panel;
    this.ready = false;
    panel.iconPath = vscode.Uri.joinPath(this.media, 'speedrun.svg');
    panel.webview.options = { enableScripts: true, localResourceRoots: [this.media] };
    panel.webview.html = this.html(panel.webview);
    this.panelDisposables = [
      panel.webview.onDidReceiveMessage((m: unknown) => {
        if (!isFromTranscript(m)) return; // untrusted input
        if (m.type === 'ready') {
          this.ready = true;
          const dir = this.host.taskDir();
          const events: AgentEvent[] = dir ? readTranscript(dir) : [];
          this.post({ type: 'init', events, running: this.host.running(), pendingTurn: this.host.pendingTurn() });
        } else this.host.onMessage(m);
      }),
      panel.onDidDispose(() => {
        this.panel = undefined;
        this.ready = false;
        for (const d of this.panelDisposables) d.dispose();
      }),
    ];
  }

  private html(webview: vscode.Webview): string {
    return webviewShell({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(this.media, 'transcript.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(this.media, 'transcript.css')).toString(),
      title: 'Agent Transcript',
      body: `<header id="bar">
  <span id="status" role="status">Loading…</span>
  <span class="actions">
    <button id="accept" class="hidden" title="Accept the turn and run it">Accept</button>
    <button id="reject" class="secondary hidden" title="Undo the turn">Reject</button>
    <button id="stop" class="secondary hidden" title="Stop the agent">Stop</button>
  </span>
</header>
<main id="timeline"><p class="empty">No agent session yet. Start one with “Speedrun: Ask Agent…”.</p></main>`,
    });
  }

  dispose(): void {
    this.panel?.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
