// The same tools for Copilot agent mode and any chat participant: vscode.lm.registerTool for each spec of
// src/core/tools, declared in package.json contributes.languageModelTools as `speedrun_<name>`. A tool that
// spends GPU time or stops a run asks first (prepareInvocation's confirmation).
import * as vscode from 'vscode';
import { callTool, parseArgs, TOOLS, ToolError, type ToolHost, type ToolSpec } from '../../core/tools/tools';
import { pickTarget } from '../../core/tools/managerRuns';
import { configuredTargets } from './toolHost';

export const lmToolName = (tool: Pick<ToolSpec, 'name'>) => `speedrun_${tool.name}`;

/**
 * The confirmation a tool shows before it acts, or undefined for a read-only tool. A run that invoke() will
 * refuse (no such target, a broken rule) asks nothing: the refusal is the answer, and nothing runs.
 */
async function confirmationFor(
  host: ToolHost,
  tool: ToolSpec,
  input: Record<string, unknown>,
  log: vscode.LogOutputChannel,
): Promise<vscode.LanguageModelToolConfirmationMessages | undefined> {
  if (tool.name === 'start_run') {
    let target: string;
    try {
      target = pickTarget(configuredTargets(), input.target as string | undefined);
      const rules = (await callTool(host, 'check_rules', { taskDir: input.taskDir })) as { ok: boolean };
      if (!rules.ok) throw new Error('the script breaks a rule');
    } catch (e) {
      log.info(`start_run will be refused (${(e as Error).message}); not asking for confirmation`);
      return undefined;
    }
    const minutes = vscode.workspace.getConfiguration('speedrun').get<number>('timeLimitMinutes', 60);
    return {
      title: 'Start a training run?',
      message: new vscode.MarkdownString(
        `The agent wants to run \`train_gpt2.py\` on target **${target}**. This uses the box's GPUs for up to ${minutes} minutes ` +
          '(speedrun.timeLimitMinutes). You can cancel it from the Runs view.',
      ),
    };
  }
  if (tool.name === 'cancel_run') {
    return { title: 'Cancel the run?', message: `The agent wants to cancel run ${String(input.runId)}.` };
  }
  return undefined;
}

/** What VS Code shows before a call: the title while it runs, and the confirmation (if any) it asks first. */
export async function prepareInvocation(
  host: ToolHost,
  tool: ToolSpec,
  input: Record<string, unknown>,
  log: vscode.LogOutputChannel,
): Promise<vscode.PreparedToolInvocation> {
  return { invocationMessage: tool.title, confirmationMessages: await confirmationFor(host, tool, input, log) };
}

export function registerLmTools(host: ToolHost, log: vscode.LogOutputChannel): vscode.Disposable[] {
  return (TOOLS as ToolSpec[]).map((tool) =>
    vscode.lm.registerTool<Record<string, unknown>>(lmToolName(tool), {
      prepareInvocation: (options) => prepareInvocation(host, tool, options.input ?? {}, log),
      async invoke(options) {
        try {
          const result = await tool.run(host, parseArgs(tool, options.input));
          return new vscode.LanguageModelToolResult([new vscode.LanguageModelTextPart(JSON.stringify(result, null, 2))]);
        } catch (e) {
          // The message goes back to the model; no stack.
          throw new Error(e instanceof ToolError ? e.message : `${tool.name} failed: ${(e as Error)?.message ?? e}`, { cause: e });
        }
      },
    }),
  );
}
