// Activation only wires services together; every feature lives in src/vscode/* on top of src/core/*.
import * as vscode from 'vscode';
import { TaskWorkspace } from './vscode/benchmark/taskWorkspace';
import { RunController } from './vscode/runs/runController';
import { DashboardController } from './vscode/dashboard/dashboardPanel';
import { registerCompare } from './vscode/compare/compareCommands';
import { registerAgent } from './vscode/agent/agentController';
import { registerSearch } from './vscode/search/searchView';
import { registerStartSearch } from './vscode/search/startSearch';
import { registerAgents } from './vscode/agents';
import { registerStats } from './vscode/stats/statsCommands';

export async function activate(context: vscode.ExtensionContext) {
  const log = vscode.window.createOutputChannel('Speedrun Workbench', { log: true });
  context.subscriptions.push(log);
  const workspace = new TaskWorkspace(context, log);
  const runs = new RunController(context, log, workspace);
  const dashboard = new DashboardController(context, log, runs, workspace);
  context.subscriptions.push(workspace, runs, dashboard);
  registerCompare(context, log, workspace, runs);
  const agent = registerAgent(context, log, workspace, runs, dashboard);
  const agents = registerAgents(context, log, workspace, runs);
  const search = registerSearch(context, workspace, log);
  registerStartSearch(context, workspace);
  registerStats(context, log, workspace, runs, dashboard);
  log.info(`Speedrun Workbench activated (VS Code ${vscode.version})`);
  // Returned for extension-host tests, which reach the services through the extension's exports.
  return { workspace, runs, dashboard, agent, agents, search };
}

export function deactivate() {}
