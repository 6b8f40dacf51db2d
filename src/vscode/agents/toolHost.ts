// The tools of src/core/tools as the editor serves them: the open task, the open document's text (unsaved edits
// included), the extension's own run controller (so tool runs appear in the Runs view and the dashboard), and the
// hint levels the user allows outside agents (speedrun.tools.hintLevels).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { SCRIPT_NAME } from '../../core/benchmark/openTask';
import { AGENT_HINT_LEVELS, type AgentHintLevel } from '../../core/agent/types';
import { parseTargets, type Target } from '../../core/remote/targets';
import { RunStore } from '../../core/runs/store';
import { pickTarget } from '../../core/tools/managerRuns';
import { ToolError, type ToolHost } from '../../core/tools/tools';
import type { Runs, Workspace } from '../services';

export function configuredTargets(): Target[] {
  return parseTargets(vscode.workspace.getConfiguration('speedrun').get('targets')).targets;
}

/** speedrun.tools.hintLevels, with anything but 1, 2 and 3 dropped (level 0 can't get through a setting). */
export function allowedHintLevels(): AgentHintLevel[] {
  const raw = vscode.workspace.getConfiguration('speedrun').get<unknown[]>('tools.hintLevels') ?? [];
  return AGENT_HINT_LEVELS.filter((l) => raw.includes(l));
}

/** The text of a task's script as the editor holds it, when it is open. */
export function openScriptText(taskDir: string): string | undefined {
  const file = path.join(taskDir, SCRIPT_NAME);
  return vscode.workspace.textDocuments.find((d) => d.uri.scheme === 'file' && d.uri.fsPath === file)?.getText();
}

export function editorToolHost(workspace: Workspace, runs: Runs): ToolHost {
  return {
    benchmarkPath: () => workspace.benchmarkPath(),
    hintLevels: allowedHintLevels,
    defaultTaskDir: () => workspace.current()?.taskDir,
    readScript: openScriptText,
    runs: {
      async start(taskDir, target) {
        if (!vscode.workspace.isTrusted) throw new ToolError('Runs need a trusted workspace: trust this folder first (Workspaces: Manage Workspace Trust).');
        const meta = await runs.start({ taskDir, target: pickTarget(configuredTargets(), target), origin: 'agent' });
        if (!meta) throw new ToolError('The run was not started.');
        return meta;
      },
      async cancel(_taskDir, runId) {
        await runs.cancel(runId);
        return runs.waitForEnd(runId);
      },
      get: (taskDir, runId) => runs.get(runId) ?? new RunStore(taskDir).read(runId),
      list: (taskDir) => runs.list(taskDir),
    },
  };
}
