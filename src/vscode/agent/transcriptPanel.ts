// The agent transcript: a webview timeline of sessions and turns (the model's text as it streams, the edits,
// the rule checks, the runs and their results). It is rebuilt from .speedrun/agent/transcript.jsonl, so it
// survives a window reload (the host's panel serializer revives it). Strict CSP: nonce script, media/ only.
import * as vscode from 'vscode';
import type { AgentEvent } from '../../core/agent/types';
import type { ToTranscript } from '../../shared/transcriptProtocol';
import { transcriptMessage, type TranscriptMessage } from '../../shared/webviewMessages';
import { TRANSCRIPT_VIEW } from '../layout';
import { WebviewHost } from '../webviewHost';

const BODY = `<header id="bar">
  <span id="status" role="status">Loading…</span>
  <span class="actions">
    <button id="accept" class="hidden" title="Accept the turn and run it">Accept</button>
    <button id="reject" class="secondary hidden" title="Undo the turn">Reject</button>
    <button id="stop" class="secondary hidden" title="Stop the agent">Stop</button>
  </span>
</header>
<main id="timeline"><p class="empty">No agent session yet. Start one with “Speedrun: Ask Agent…”.</p></main>`;

export interface TranscriptHost {
  /** Everything the panel shows, read when the page (re)loads. */
  events(): AgentEvent[];
  running(): boolean;
  pendingTurn(): number | null;
  /** Said instead of the agent's state. */
  caption?(): string;
  onMessage(m: TranscriptMessage): void;
}

export class TranscriptPanel implements vscode.Disposable {
  private readonly host: WebviewHost<ToTranscript, TranscriptMessage>;

  /** `page`: another panel of the same page (a search node's transcript), with its own view type and title. */
  constructor(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, private readonly agent: TranscriptHost, page = { viewType: TRANSCRIPT_VIEW, title: 'Agent Transcript' }) {
    this.host = new WebviewHost(context, {
      ...page, script: 'transcript.js', style: 'transcript.css', body: BODY, schema: transcriptMessage,
    }, {
      onReady: () => this.reload(),
      onMessage: (m) => this.agent.onMessage(m),
    }, log);
  }

  get visible(): boolean {
    return this.host.isOpen;
  }

  show(preserveFocus = true): void {
    this.host.show(preserveFocus);
  }

  setTitle(title: string): void {
    this.host.setTitle(title);
  }

  /** Sends everything again (the events were read afresh). */
  reload(): void {
    this.host.post({ type: 'init', events: this.agent.events(), running: this.agent.running(), pendingTurn: this.agent.pendingTurn(), caption: this.agent.caption?.() });
  }

  event(e: AgentEvent): void {
    this.host.post({ type: 'event', event: e });
  }

  state(): void {
    this.host.post({ type: 'state', running: this.agent.running(), pendingTurn: this.agent.pendingTurn() });
  }

  dispose(): void {
    this.host.dispose();
  }
}

/** Opens exactly what a prompt event sent to the model, as a markdown document beside. */
export async function showPrompt(e: Extract<AgentEvent, { type: 'prompt' }>, what: string): Promise<void> {
  const content = `<!-- Exactly what was sent to the model: ${what}, round ${e.round} -->\n\n${e.messages.map((x) => `## ${x.role}\n\n${x.content}`).join('\n\n')}\n`;
  const doc = await vscode.workspace.openTextDocument({ language: 'markdown', content });
  await vscode.window.showTextDocument(doc, { viewColumn: vscode.ViewColumn.Beside, preview: true });
}
