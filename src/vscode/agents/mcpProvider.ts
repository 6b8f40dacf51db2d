// Offers our MCP server (dist/mcp.js) to VS Code's own MCP support, so Copilot agent mode and any MCP-aware
// extension can list and call the tools. The API exists from VS Code 1.101; on older hosts (code-server 4.99)
// nothing is registered and activation goes on (engines stays ^1.99).
import * as vscode from 'vscode';
import type { Workspace } from '../services';
import { allowedHintLevels, configuredTargets } from './toolHost';

export const MCP_PROVIDER_ID = 'speedrun.mcp';

export interface McpLaunch {
  command: string;
  args: string[];
  env: Record<string, string>;
}

/** How to start the server for the window's task: this Node (Electron runs as Node), settings passed along. */
export function mcpLaunch(context: vscode.ExtensionContext, workspace: Workspace): McpLaunch {
  const args = [context.asAbsolutePath('dist/mcp.js')];
  const task = workspace.current();
  if (task) args.push('--task-dir', task.taskDir);
  const levels = allowedHintLevels();
  args.push('--hint-levels', levels.length ? levels.join(',') : 'none');
  // Targets travel in the environment, not argv: a target's env may hold tokens, and argv is public in `ps`.
  const env: Record<string, string> = { ELECTRON_RUN_AS_NODE: '1', SPEEDRUN_TARGETS_JSON: JSON.stringify(configuredTargets()) };
  const bench = workspace.benchmarkPath();
  if (bench) env.SPEEDRUN_BENCHMARK = bench;
  return { command: process.execPath, args, env };
}

/** The 1.101 API, typed here because @types/vscode is 1.99. */
interface McpApi {
  registerMcpServerDefinitionProvider(
    id: string,
    provider: { onDidChangeMcpServerDefinitions: vscode.Event<void>; provideMcpServerDefinitions(): unknown[] },
  ): vscode.Disposable;
}
type StdioDefinitionCtor = new (label: string, command: string, args: string[], env: Record<string, string>, version?: string) => unknown;

/** Registers the provider when the host has the API; returns whether it did. */
export function registerMcpProvider(context: vscode.ExtensionContext, workspace: Workspace, log: vscode.LogOutputChannel): boolean {
  const lm = vscode.lm as unknown as Partial<McpApi>;
  const Definition = (vscode as unknown as { McpStdioServerDefinition?: StdioDefinitionCtor }).McpStdioServerDefinition;
  if (typeof lm.registerMcpServerDefinitionProvider !== 'function' || typeof Definition !== 'function') {
    log.info(`MCP server definitions need VS Code 1.101 (this is ${vscode.version}); add dist/mcp.js to your MCP client by hand (README).`);
    return false;
  }
  const changed = new vscode.EventEmitter<void>();
  const version = String(context.extension.packageJSON.version ?? '0');
  context.subscriptions.push(
    changed,
    workspace.onDidChange(() => changed.fire()),
    vscode.workspace.onDidGrantWorkspaceTrust(() => changed.fire()),
    vscode.workspace.onDidChangeConfiguration((e) => e.affectsConfiguration('speedrun') && changed.fire()),
    lm.registerMcpServerDefinitionProvider(MCP_PROVIDER_ID, {
      onDidChangeMcpServerDefinitions: changed.event,
      provideMcpServerDefinitions: () => {
        if (!vscode.workspace.isTrusted) return [];
        const l = mcpLaunch(context, workspace);
        return [new Definition('Speedrun Workbench', l.command, l.args, l.env, version)];
      },
    }),
  );
  return true;
}
