// Where our editors go: the dashboard, the agent transcript, the agent's live diff and the search nodes' live
// diffs share one group beside the code instead of opening a group each (three groups squeeze the script).
import * as vscode from 'vscode';

export const DASHBOARD_VIEW = 'speedrun.dashboard';
export const TRANSCRIPT_VIEW = 'speedrun.agentTranscript';
/** A search node's transcript: the same page, read-only. */
export const NODE_TRANSCRIPT_VIEW = 'speedrun.nodeTranscript';
/** Documents of agent checkpoints: the left side of the live diff. */
export const CHECKPOINT_SCHEME = 'speedrun-checkpoint';
/** A search node's script as Watch Edits shows it being written: the right side of its live diff. */
export const NODE_LIVE_SCHEME = 'speedrun-node-live';

/** The group that already holds one of those, else the one beside the active editor. */
export function sideColumn(): vscode.ViewColumn {
  for (const g of vscode.window.tabGroups.all) {
    for (const t of g.tabs) {
      const ours = t.input instanceof vscode.TabInputWebview
        ? [DASHBOARD_VIEW, TRANSCRIPT_VIEW, NODE_TRANSCRIPT_VIEW].some((v) => (t.input as vscode.TabInputWebview).viewType.endsWith(v))
        : t.input instanceof vscode.TabInputTextDiff && (t.input.original.scheme === CHECKPOINT_SCHEME || t.input.modified.scheme === NODE_LIVE_SCHEME);
      if (ours) return g.viewColumn;
    }
  }
  return vscode.ViewColumn.Beside;
}

/**
 * The column to open in without making its group the active one: VS Code activates a group named by its number
 * even with preserveFocus (the window title and the active editor would move there), but not the side group.
 */
export function quietColumn(target: vscode.ViewColumn): vscode.ViewColumn {
  return target === vscode.window.tabGroups.activeTabGroup.viewColumn + 1 ? vscode.ViewColumn.Beside : target;
}
