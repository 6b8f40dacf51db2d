// For suites inside the extension host: the extension's API with a task opened in the session's workspace folder.
import * as vscode from 'vscode';
import type { Workspace } from '../../src/vscode/services';

export const EXT = 'speedrun-workbench.speedrun-workbench';

/** Activates the extension, opens task `taskId` in the workspace folder and waits for it to be the current task. */
export async function openTaskHere<Api extends { workspace: Workspace }>(taskId: number): Promise<{ api: Api; taskDir: string }> {
  const api = (await vscode.extensions.getExtension(EXT)!.activate()) as Api;
  const opened = new Promise<void>((resolve) => {
    const sub = api.workspace.onDidChange((ctx) => ctx && (sub.dispose(), resolve()));
  });
  await vscode.commands.executeCommand('speedrun.openTask', { taskId, dest: vscode.workspace.workspaceFolders![0].uri.fsPath });
  if (!api.workspace.current()) await opened;
  return { api, taskDir: api.workspace.current()!.taskDir };
}
