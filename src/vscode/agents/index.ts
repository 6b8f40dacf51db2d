// Agents from the ecosystem, editor side: our tools for Copilot agent mode (language model tools), the MCP
// server offered to VS Code's MCP support, the @speedrun chat participant (all of them call src/core/tools),
// and how an ACP agent's permission questions are shown (the agent itself runs in the language server).
import * as vscode from 'vscode';
import { executeCommand } from '../register';
import type { PermissionQuestion } from '../../core/agent/backends/acp';
import type { Runs, Workspace } from '../services';
import { ACP_DIFF_SCHEME, askAcpPermission, proposedChanges, type Ask } from './acpPermission';
import { chatHandler, registerChatParticipant, type ChatDeps } from './chatParticipant';
import { TOOLS, type ToolSpec } from '../../core/tools/tools';
import { prepareInvocation, registerLmTools } from './lmTools';
import { mcpLaunch, registerMcpProvider } from './mcpProvider';
import { editorToolHost } from './toolHost';

/** What the extension-host tests reach through the extension's exports. */
export interface AgentsApi {
  /** Whether the MCP server definition provider was registered (VS Code 1.101+). */
  mcpRegistered: boolean;
  /** The command line the provider hands VS Code (also how to add the server to another client). */
  mcpLaunch(): ReturnType<typeof mcpLaunch>;
  /**
   * What VS Code shows before a tool call (the confirmation of start_run and cancel_run). Extension tests can't
   * see the modal itself: VS Code answers every dialog with yes while extension tests run.
   */
  prepareTool(name: string, input: Record<string, unknown>): Thenable<vscode.PreparedToolInvocation>;
  /** An ACP agent's permission question as the editor asks it; `ask` stands in for the modal. */
  askAcpPermission(q: PermissionQuestion, ask?: Ask): Promise<{ optionId?: string }>;
  /** A @speedrun handler with other dependencies (the registered one starts the real agent). */
  chatHandler(deps?: Partial<ChatDeps>): vscode.ChatRequestHandler;
}

export function registerAgents(context: vscode.ExtensionContext, log: vscode.LogOutputChannel, workspace: Workspace, runs: Runs): AgentsApi {
  const host = editorToolHost(workspace, runs);
  const deps: ChatDeps = { host, startAgent: () => executeCommand('speedrun.startAgent') };
  context.subscriptions.push(...registerLmTools(host, log), vscode.workspace.registerTextDocumentContentProvider(ACP_DIFF_SCHEME, proposedChanges));
  registerChatParticipant(context, deps);
  const mcpRegistered = registerMcpProvider(context, workspace, log);
  return {
    mcpRegistered,
    mcpLaunch: () => mcpLaunch(context, workspace),
    prepareTool: (name, input) => prepareInvocation(host, (TOOLS as ToolSpec[]).find((t) => t.name === name)!, input, log),
    chatHandler: (d) => chatHandler({ ...deps, ...d }),
    askAcpPermission,
  };
}
