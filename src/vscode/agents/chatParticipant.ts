// `@speedrun` in the chat view: answers about the open task from the same tools the agents use (/task, /rules,
// /runs), starts the in-editor agent (/agent), and hands free questions to the chat's model with the task's
// brief, rules, allowed hints and latest runs as context. Without a model it answers with the task summary.
import * as vscode from 'vscode';
import { formatDuration } from '../../core/benchmark/openTask';
import { callTool, ToolError, type runSummary, type ToolHost } from '../../core/tools/tools';

export const PARTICIPANT_ID = 'speedrun.chat';

type Run = ReturnType<typeof runSummary>;

export interface ChatDeps {
  host: ToolHost;
  /** Starts an agent session on the open task (the Ask Agent flow). */
  startAgent(): Thenable<unknown>;
}

function runLine(r: Run): string {
  const progress = r.final
    ? `val loss ${r.final.val_loss} after ${r.final.n_steps} steps, train time ${formatDuration(r.final.train_time)}${r.final.is_valid ? '' : ' (not valid: val loss above 3.28)'}`
    : r.step !== null
      ? `step ${r.step}/${r.totalSteps ?? '?'}${r.valLoss !== null ? `, val loss ${r.valLoss}` : ''}`
      : '';
  const why = r.failure ? `: ${r.failure.message}` : r.error ? `: ${r.error.message}` : '';
  return `- \`${r.runId}\` on ${r.target}: **${r.state}**${progress ? `, ${progress}` : ''}${why}`;
}

async function taskMarkdown(host: ToolHost): Promise<string> {
  const t = (await callTool(host, 'get_task', {})) as {
    taskId: number; fromRecord: number; toRecord: number; baseline: { trainTimeMs: number }; target: { trainTimeMs: number };
    hintLevelsAllowed: number[]; hints: { level: number; name: string }[];
  };
  const { runs } = (await callTool(host, 'run_status', {})) as { runs: Run[] };
  const gap = t.baseline.trainTimeMs - t.target.trainTimeMs;
  return [
    `**Task ${t.taskId}**: start from record ${t.fromRecord} (${formatDuration(t.baseline.trainTimeMs)}) and reach val loss ≤ 3.28 as fast as record ${t.toRecord} (${formatDuration(t.target.trainTimeMs)}): ${formatDuration(gap)} to recover.`,
    '',
    t.hints.length
      ? `Hints agents may read (speedrun.tools.hintLevels): ${t.hints.map((h) => `level ${h.level} (${h.name})`).join(', ')}.`
      : 'Agents get no hints (speedrun.tools.hintLevels is empty).',
    '',
    runs.length ? `Latest runs:\n${runs.slice(0, 5).map(runLine).join('\n')}` : 'No runs yet.',
  ].join('\n');
}

async function rulesMarkdown(host: ToolHost): Promise<string> {
  const r = (await callTool(host, 'check_rules', {})) as { ok: boolean; violations: { rule: string; line: number; message: string }[]; syntaxMethod: string };
  if (!r.violations.length) return `train_gpt2.py keeps every rule (syntax checked with ${r.syntaxMethod}).`;
  return `train_gpt2.py breaks ${r.violations.length === 1 ? 'a rule' : `${r.violations.length} rules`}:\n` +
    r.violations.map((v) => `- line ${v.line} [${v.rule}]: ${v.message}`).join('\n');
}

async function runsMarkdown(host: ToolHost): Promise<string> {
  const { runs } = (await callTool(host, 'run_status', {})) as { runs: Run[] };
  return runs.length ? runs.map(runLine).join('\n') : 'No runs yet for this task.';
}

/** The model's context: what an agent may know (the get_task output: brief, rules, allowed hints) and the runs. */
async function modelContext(host: ToolHost): Promise<string> {
  const task = (await callTool(host, 'get_task', {})) as { brief: string; rules: Record<string, string>; hints: { level: number; name: string; text: string }[] };
  const rules = await rulesMarkdown(host);
  const runs = await runsMarkdown(host);
  return [
    'You answer questions about a task of the Automated LLM Speedrunning Benchmark open in the editor.',
    '', task.brief,
    ...task.hints.map((h) => `\n## Hint level ${h.level} (${h.name})\n\n${h.text}`),
    '', '## Rule check of the current train_gpt2.py', '', rules,
    '', '## Runs', '', runs,
  ].join('\n');
}

export function chatHandler(deps: ChatDeps): vscode.ChatRequestHandler {
  return async (request, _context, stream, token) => {
    const { host } = deps;
    if (!host.defaultTaskDir()) {
      stream.markdown('No speedrun task is open in this window. Open one first.');
      stream.button({ command: 'speedrun.openTask', title: 'Open Task…' });
      return {};
    }
    try {
      switch (request.command) {
        case 'agent':
          stream.progress('Starting the agent on the open task…');
          await deps.startAgent();
          stream.markdown('The agent is working on `train_gpt2.py`: its edits appear in the editor, and you accept or reject each turn.');
          stream.button({ command: 'speedrun.showTranscript', title: 'Show Agent Transcript' });
          return {};
        case 'rules':
          stream.markdown(await rulesMarkdown(host));
          return {};
        case 'runs':
          stream.markdown(await runsMarkdown(host));
          stream.button({ command: 'speedrun.openDashboard', title: 'Open Dashboard' });
          return {};
        case 'task':
          stream.markdown(await taskMarkdown(host));
          return {};
      }
      if (!request.prompt.trim() || !request.model) {
        stream.markdown(await taskMarkdown(host));
        return {};
      }
      const messages = [vscode.LanguageModelChatMessage.User(await modelContext(host)), vscode.LanguageModelChatMessage.User(request.prompt)];
      try {
        const reply = await request.model.sendRequest(messages, {}, token);
        for await (const fragment of reply.text) stream.markdown(fragment);
      } catch (e) {
        if (!(e instanceof vscode.LanguageModelError)) throw e;
        stream.markdown(`The chat model could not answer (${e.message}). Here is the task:\n\n${await taskMarkdown(host)}`);
      }
      return {};
    } catch (e) {
      const msg = e instanceof ToolError ? e.message : `Something went wrong: ${(e as Error)?.message ?? e}`;
      return { errorDetails: { message: msg } };
    }
  };
}

export function registerChatParticipant(context: vscode.ExtensionContext, deps: ChatDeps): vscode.ChatParticipant {
  const p = vscode.chat.createChatParticipant(PARTICIPANT_ID, chatHandler(deps));
  p.iconPath = vscode.Uri.joinPath(context.extensionUri, 'media', 'speedrun.svg');
  context.subscriptions.push(p);
  return p;
}
