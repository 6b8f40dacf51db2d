// The live edit view: the agent's edits (LSP workspace/applyEdit, routed here by the language client's
// middleware) land in train_gpt2.py progressively, about every 100 ms, shown in a diff against the turn's
// checkpoint, with the line being written highlighted and the lines not yet rewritten dimmed. Nothing takes
// focus. Each turn is then accepted or rejected; a reject puts back exactly what the agent replaced and keeps
// whatever the user typed meanwhile.
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ApplyWorkspaceEditParams, ApplyWorkspaceEditResult, TextDocumentEdit } from 'vscode-languageclient';
import { checkpointScript } from '../../core/agent/checkpoints';
import { editFrames, type EditFrame } from '../../core/agent/frames';
import { TurnRegions } from '../../core/agent/regions';
import { decodeEditLabel } from '../../shared/agentProtocol';
import { setContext } from '../register';
import { CHECKPOINT_SCHEME, quietColumn, sideColumn } from '../layout';

export const FRAME_MS = 100;
const MAX_FRAMES = 20;

/** `speedrun-checkpoint:/<n>/train_gpt2.py?<taskDir>`: a read-only view of a checkpoint file. */
export function checkpointUri(taskDir: string, n: number): vscode.Uri {
  return vscode.Uri.from({ scheme: CHECKPOINT_SCHEME, path: `/${n}/train_gpt2.py`, query: taskDir });
}

class CheckpointProvider implements vscode.TextDocumentContentProvider {
  async provideTextDocumentContent(uri: vscode.Uri): Promise<string> {
    const n = Number(uri.path.split('/')[1]);
    const bytes = await vscode.workspace.fs.readFile(vscode.Uri.file(checkpointScript(uri.query, n)));
    return Buffer.from(bytes).toString('utf8');
  }
}

/**
 * The look of text being written, in every visible editor of a document: the line written last highlighted, the
 * old lines not yet rewritten dimmed, the writing followed unless already in view (never moving focus or cursor).
 */
export class WritingDecorations implements vscode.Disposable {
  private readonly active = vscode.window.createTextEditorDecorationType({
    isWholeLine: true,
    backgroundColor: new vscode.ThemeColor('editor.rangeHighlightBackground'),
    border: '1px solid',
    borderColor: new vscode.ThemeColor('focusBorder'),
  });
  private readonly faded = vscode.window.createTextEditorDecorationType({ isWholeLine: true, opacity: '0.4' });

  /** `base`: the document line of the frame's line 0. */
  show(uri: vscode.Uri, f: EditFrame, base = 0): void {
    const active = new vscode.Range(base + f.line, 0, base + f.line, 0);
    const faded = f.dimmed.end > f.dimmed.start ? [new vscode.Range(base + f.dimmed.start, 0, base + f.dimmed.end - 1, 0)] : [];
    for (const ed of editorsOf(uri)) {
      ed.setDecorations(this.active, [active]);
      ed.setDecorations(this.faded, faded);
      ed.revealRange(active, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    }
  }

  /** `reveal`: a line to bring into view, as the last frame's (the writing ended there). */
  clear(uri: vscode.Uri, reveal?: number): void {
    for (const ed of editorsOf(uri)) {
      ed.setDecorations(this.active, []);
      ed.setDecorations(this.faded, []);
      if (reveal !== undefined) ed.revealRange(new vscode.Range(reveal, 0, reveal, 0), vscode.TextEditorRevealType.InCenterIfOutsideViewport);
    }
  }

  dispose(): void {
    this.active.dispose();
    this.faded.dispose();
  }
}

const editorsOf = (uri: vscode.Uri) => vscode.window.visibleTextEditors.filter((ed) => ed.document.uri.toString() === uri.toString());

interface Turn {
  turn: number;
  checkpoint: number;
  uri: vscode.Uri;
  taskDir: string;
  regions: TurnRegions;
}

interface Pending {
  turn: number;
  uri: vscode.Uri;
  /** First line the turn changed: where Accept / Reject are shown. */
  line: number;
  resolve: (d: 'accept' | 'reject') => void;
}

export class LiveEdits implements vscode.Disposable {
  private current: Turn | undefined;
  private pending: Pending | undefined;
  /** Changes we are applying, so the change events they cause are told apart from the user's typing. */
  private readonly expected: { uri: string; start: number; end: number; text: string }[] = [];
  private readonly lastText = new Map<string, string>();
  private readonly writing = new WritingDecorations();
  private readonly status: vscode.StatusBarItem;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when a turn starts or stops waiting for review. */
  readonly onDidChangeState = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.status = vscode.window.createStatusBarItem('speedrun.agentTurn', vscode.StatusBarAlignment.Left, 40);
    this.status.name = 'Speedrun Agent Turn';
    this.disposables.push(
      this.writing,
      this.status,
      this.changed,
      vscode.workspace.registerTextDocumentContentProvider(CHECKPOINT_SCHEME, new CheckpointProvider()),
      vscode.workspace.onDidChangeTextDocument((e) => this.onChange(e)),
      // Accept / Reject above the script while a turn waits: visible where the user looks, never modal.
      vscode.languages.registerCodeLensProvider({ scheme: 'file', pattern: '**/train_gpt2.py' }, {
        onDidChangeCodeLenses: this.changed.event,
        provideCodeLenses: (doc) => {
          const p = this.pending;
          if (!p || p.uri.toString() !== doc.uri.toString()) return [];
          const top = new vscode.Range(p.line, 0, p.line, 0);
          return [
            new vscode.CodeLens(top, { title: `$(check) Accept agent turn ${p.turn}`, command: 'speedrun.acceptTurn' }),
            new vscode.CodeLens(top, { title: '$(discard) Reject', command: 'speedrun.rejectTurn' }),
          ];
        },
      }),
    );
  }

  /** The turn waiting for accept/reject, if any. */
  pendingTurn(): number | null {
    return this.pending?.turn ?? null;
  }

  // ---- reading ----

  async readScript(uri: string): Promise<{ text: string; version: number }> {
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(uri));
    this.lastText.set(doc.uri.toString(), doc.getText());
    return { text: doc.getText(), version: doc.version };
  }

  // ---- applying (agent edits, from the language client's handleApplyEdit middleware) ----

  async handle(params: ApplyWorkspaceEditParams): Promise<ApplyWorkspaceEditResult> {
    const label = decodeEditLabel(params.label);
    if (!label) return { applied: false, failureReason: 'not an agent edit' };
    const change = params.edit.documentChanges?.[0] as TextDocumentEdit | undefined;
    if (!change || params.edit.documentChanges!.length !== 1 || !('edits' in change)) {
      return { applied: false, failureReason: 'an agent edit must be one TextDocumentEdit' };
    }
    const uri = vscode.Uri.parse(change.textDocument.uri);
    try {
      const doc = await vscode.workspace.openTextDocument(uri);
      if (change.textDocument.version !== null && change.textDocument.version !== doc.version) {
        return { applied: false, failureReason: `the document is at version ${doc.version}, the edit was made for ${change.textDocument.version}` };
      }
      this.lastText.set(uri.toString(), doc.getText());
      if (this.current?.turn !== label.turn || this.current.uri.toString() !== uri.toString()) {
        this.current = { turn: label.turn, checkpoint: label.checkpoint, uri, taskDir: path.dirname(uri.fsPath), regions: new TurnRegions() };
      }
      const animate = label.kind === 'edit' && vscode.workspace.getConfiguration('speedrun.agent').get<boolean>('animateEdits', true);
      if (label.kind === 'edit') await this.showDiff(this.current);
      // LSP edits refer to the document as it was: write them top to bottom, shifting each by what the ones
      // above it added or removed.
      if (change.edits.some((e) => !('newText' in e))) return { applied: false, failureReason: 'snippet edits are not agent edits' };
      const edits = (change.edits as { range: { start: { line: number; character: number }; end: { line: number; character: number } }; newText: string }[])
        .map((e) => ({ start: doc.offsetAt(toPos(e.range.start)), end: doc.offsetAt(toPos(e.range.end)), text: e.newText }))
        .sort((a, b) => a.start - b.start);
      let shift = 0;
      for (const e of edits) {
        if (animate && e.text) await this.animate(doc, e.start + shift, e.end + shift, e.text);
        else await this.replace(doc, e.start + shift, e.end + shift, e.text);
        shift += e.text.length - (e.end - e.start);
      }
      this.writing.clear(uri);
      this.dropExpected(uri);
      if (label.kind === 'final') {
        await doc.save();
        this.current = undefined;
      }
      return { applied: true };
    } catch (e) {
      this.dropExpected(uri);
      this.log.error(`agent edit failed: ${(e as Error).message}`);
      return { applied: false, failureReason: (e as Error).message };
    }
  }

  /** Opens (or reveals) checkpoint <-> live script in a diff editor beside the user's, without focus. */
  private async showDiff(t: Turn): Promise<void> {
    const left = checkpointUri(t.taskDir, t.checkpoint);
    const open = vscode.window.tabGroups.all
      .flatMap((g) => g.tabs)
      .find((tab) => tab.input instanceof vscode.TabInputTextDiff && tab.input.modified.toString() === t.uri.toString() && tab.input.original.scheme === CHECKPOINT_SCHEME);
    if (open && (open.input as vscode.TabInputTextDiff).original.toString() === left.toString()) return;
    await vscode.commands.executeCommand('vscode.diff', left, t.uri, `train_gpt2.py: agent turn ${t.turn} (checkpoint #${t.checkpoint} ↔ live)`, {
      preserveFocus: true,
      preview: true,
      viewColumn: quietColumn(open?.group.viewColumn ?? sideColumn()),
    });
  }

  /**
   * Writes `text` over [start, end) in the frames of core/agent/frames.ts: each holds the new lines written so far
   * followed by the old lines not yet rewritten (dimmed), the last written line highlighted. Whole-range
   * replacements, so editor features such as auto-closing brackets never see single keystrokes.
   */
  private async animate(doc: vscode.TextDocument, start: number, end: number, text: string): Promise<void> {
    const base = doc.positionAt(start).line;
    const frames = editFrames(doc.getText().slice(start, end), text, MAX_FRAMES);
    let curEnd = end;
    for (const [i, f] of frames.entries()) {
      await this.replace(doc, start, curEnd, f.text);
      curEnd = start + f.text.length;
      if (i < frames.length - 1) {
        this.writing.show(doc.uri, f, base);
        await new Promise((r) => setTimeout(r, FRAME_MS));
      }
    }
  }

  /** Forgets edits whose change event never matched (the user typed at the same moment). */
  private dropExpected(uri: vscode.Uri): void {
    for (let i = this.expected.length - 1; i >= 0; i--) if (this.expected[i].uri === uri.toString()) this.expected.splice(i, 1);
  }

  private async replace(doc: vscode.TextDocument, start: number, end: number, text: string): Promise<void> {
    const we = new vscode.WorkspaceEdit();
    we.replace(doc.uri, new vscode.Range(doc.positionAt(start), doc.positionAt(end)), text);
    this.expected.push({ uri: doc.uri.toString(), start, end, text });
    if (!(await vscode.workspace.applyEdit(we))) {
      this.expected.pop();
      throw new Error('VS Code refused the edit');
    }
  }

  /**
   * Sorts every change into the agent's or the user's, and keeps the turn's regions up to date. An event is the
   * agent's when it turns the text into exactly what our pending edit gives (VS Code may report a smaller range
   * than the one we replaced, so ranges are not compared).
   */
  private onChange(e: vscode.TextDocumentChangeEvent): void {
    const key = e.document.uri.toString();
    const before = this.lastText.get(key);
    if (before === undefined || !e.contentChanges.length) return;
    const after = e.document.getText();
    this.lastText.set(key, after);
    const t = this.current?.uri.toString() === key ? this.current : undefined;
    const i = this.expected.findIndex((x) => x.uri === key && before.slice(0, x.start) + x.text + before.slice(x.end) === after);
    if (i >= 0) {
      const [x] = this.expected.splice(i, 1);
      t?.regions.agentChange(before, x);
      return;
    }
    for (const c of [...e.contentChanges].sort((a, b) => b.rangeOffset - a.rangeOffset)) {
      t?.regions.userChange({ start: c.rangeOffset, end: c.rangeOffset + c.rangeLength, text: c.text });
    }
  }

  // ---- review ----

  /** Asks the user to accept or reject the turn (non-modal), or accepts it at once with auto-accept on. */
  review(turn: number, summary: string): Promise<'accept' | 'reject'> {
    if (vscode.workspace.getConfiguration('speedrun.agent').get<boolean>('autoAccept', false)) {
      return this.accept(turn).then(() => 'accept' as const);
    }
    const t = this.current;
    if (!t) return Promise.resolve('accept');
    const first = t.regions.list()[0];
    const doc = vscode.workspace.textDocuments.find((d) => d.uri.toString() === t.uri.toString());
    const line = first && doc ? doc.positionAt(first.start).line : 0;
    return new Promise((resolve) => {
      this.pending = { turn, uri: t.uri, line, resolve };
      setContext('speedrun.agent.turnPending', true);
      this.status.text = `$(sparkle) Agent turn ${turn}: $(check) Accept · $(discard) Reject`;
      this.status.tooltip = `${summary}\n\nAccept to run the change; reject to undo it.`;
      this.status.command = 'speedrun.acceptTurn';
      this.status.show();
      this.changed.fire();
    });
  }

  async acceptPending(): Promise<boolean> {
    const p = this.pending;
    if (!p) return false;
    await this.accept(p.turn);
    this.settle('accept');
    return true;
  }

  async rejectPending(): Promise<boolean> {
    const p = this.pending;
    if (!p) return false;
    await this.revert(p.turn);
    this.settle('reject');
    return true;
  }

  private settle(d: 'accept' | 'reject') {
    const p = this.pending;
    this.pending = undefined;
    setContext('speedrun.agent.turnPending', false);
    this.status.hide();
    this.changed.fire();
    p?.resolve(d);
  }

  private async accept(turn: number): Promise<void> {
    const t = this.current;
    if (!t || t.turn !== turn) return;
    const doc = await vscode.workspace.openTextDocument(t.uri);
    if (doc.isDirty) await doc.save();
    this.current = undefined;
  }

  /** Undoes the turn's edits (those the user did not edit inside) and saves the file. */
  async revert(turn: number): Promise<{ restored: boolean; message?: string }> {
    const t = this.current;
    if (!t || t.turn !== turn) return { restored: false, message: `turn ${turn} has no edits to undo` };
    this.current = undefined;
    const doc = await vscode.workspace.openTextDocument(t.uri);
    const { edits, skipped } = t.regions.revertEdits();
    if (edits.length) {
      const we = new vscode.WorkspaceEdit();
      for (const e of edits) we.replace(t.uri, new vscode.Range(doc.positionAt(e.start), doc.positionAt(e.end)), e.text);
      if (!(await vscode.workspace.applyEdit(we))) return { restored: false, message: 'VS Code refused to undo the edits' };
    }
    if (doc.isDirty) await doc.save();
    this.writing.clear(t.uri);
    if (skipped.length) {
      const lines = skipped.map((r) => `${doc.positionAt(r.start).line + 1}-${doc.positionAt(r.end).line + 1}`).join(', ');
      const message = `Your own edits inside lines ${lines} were kept, so the agent's change there was not undone.`;
      void vscode.window.showWarningMessage(message);
      return { restored: false, message };
    }
    return { restored: true };
  }

  dispose(): void {
    this.pending?.resolve('reject');
    for (const d of this.disposables) d.dispose();
  }
}

function toPos(p: { line: number; character: number }): vscode.Position {
  return new vscode.Position(p.line, p.character);
}
