// An ACP agent's permission question in the editor: the change it wants to make opens as a diff beside the
// editor (focus stays where it is), then a modal offers the agent's own options (Allow, Reject, ...).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { unattendedChoice, type PermissionQuestion } from '../../core/agent/backends/acp';

export const ACP_DIFF_SCHEME = 'speedrun-acp';

/** Read-only documents for the two sides of a proposed change (registered for ACP_DIFF_SCHEME in agents/index.ts). */
class ProposedChanges implements vscode.TextDocumentContentProvider {
  private readonly texts = new Map<string, string>();
  private n = 0;
  provideTextDocumentContent(uri: vscode.Uri): string {
    return this.texts.get(uri.path) ?? '';
  }
  add(side: 'before' | 'proposed', file: string, text: string): vscode.Uri {
    const p = `/${++this.n}/${side}/${path.basename(file)}`;
    this.texts.set(p, text);
    // Old questions are not looked at again; keep the last few.
    if (this.texts.size > 20) this.texts.delete(this.texts.keys().next().value!);
    return vscode.Uri.from({ scheme: ACP_DIFF_SCHEME, path: p });
  }
}

export const proposedChanges = new ProposedChanges();

/** Asks with a modal; resolves with the chosen option's name. */
export type Ask = (message: string, detail: string, choices: string[]) => Thenable<string | undefined>;
const modal: Ask = (message, detail, choices) => vscode.window.showInformationMessage(message, { modal: true, detail }, ...choices);

export async function askAcpPermission(q: PermissionQuestion, ask: Ask = modal): Promise<{ optionId?: string }> {
  // The user chose not to review agent turns: answer as an unattended session does (edits and reads only).
  if (vscode.workspace.getConfiguration('speedrun.agent').get<boolean>('autoAccept', false)) return { optionId: unattendedChoice(q) };
  if (q.diff) {
    const before = proposedChanges.add('before', q.diff.path, q.diff.oldText);
    const proposed = proposedChanges.add('proposed', q.diff.path, q.diff.newText);
    await vscode.commands.executeCommand('vscode.diff', before, proposed, `${path.basename(q.diff.path)}: the agent's proposed change (turn ${q.turn})`, {
      preview: true,
      preserveFocus: true,
      viewColumn: vscode.ViewColumn.Beside,
    });
  }
  const detail = q.diff ? 'The proposed change is open beside the editor.' : `Kind of tool call: ${q.kind}.`;
  const name = await ask(`The agent asks to: ${q.title}`, detail, q.options.map((o) => o.name));
  return { optionId: q.options.find((o) => o.name === name)?.optionId };
}
