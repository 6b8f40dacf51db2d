// The argv of `speedrun search` for a search started or resumed from the editor (src/vscode/search/startSearch.ts
// runs it as a task). Every value goes as one `--flag=value` entry: a value with spaces, quotes or a leading dash
// stays one argument and is never read as another option. Secrets are never arguments: the API key travels in
// the task's environment (SPEEDRUN_AGENT_API_KEY).
import { SCAFFOLD_NAMES, type ScaffoldName } from './presets';
import { isSearchId, type SearchState } from './tree';

/** Who writes the nodes. */
export type SearchWriter =
  | { kind: 'openai'; model: string; baseUrl: string }
  | { kind: 'acp'; command: string }
  /** The record's own change (hint level 0) played as if written: a demonstration, not a model. */
  | { kind: 'replay' };

export interface SearchChoices {
  scaffold: ScaffoldName;
  /** Hint levels given as the idea; [] = none. Level 0, the answer, is never a hint. */
  hintLevels: number[];
  writer: SearchWriter;
  /** One target, or several pooled (each runs one node at a time). */
  targets: string[];
  maxNodes: number;
  seed?: number;
}

/** What every invocation shares: where the CLI is, the task, the targets file and the run settings. */
export interface SearchInvocation {
  cli: string;
  taskDir: string;
  targetsFile: string;
  sshConfig?: string;
  timeLimitMinutes?: number;
}

export class SearchArgsError extends Error {}

/** The hint levels as `--hint-level` reads them: none, 2, 1+2+3. */
export function hintLevelArg(levels: number[]): string {
  const l = [...new Set(levels)].sort();
  if (l.some((x) => x !== 1 && x !== 2 && x !== 3)) throw new SearchArgsError(`hint levels are 1, 2 or 3 (got ${levels.join(', ')}); level 0 is the answer and never a hint`);
  return l.length ? l.join('+') : 'none';
}

const opt = (name: string, value: string | number) => `--${name}=${value}`;

function common(inv: SearchInvocation): string[] {
  if (!inv.taskDir) throw new SearchArgsError('no task folder');
  const a = [inv.cli, 'search', opt('task-dir', inv.taskDir), opt('targets-file', inv.targetsFile)];
  if (inv.sshConfig) a.push(opt('ssh-config', inv.sshConfig));
  if (inv.timeLimitMinutes !== undefined) a.push(opt('time-limit', inv.timeLimitMinutes));
  return a;
}

function writerArgs(w: SearchWriter): string[] {
  switch (w.kind) {
    case 'openai':
      if (!w.model.trim()) throw new SearchArgsError('no model: set speedrun.agent.model');
      return [opt('backend', 'openai'), opt('model', w.model), opt('base-url', w.baseUrl)];
    case 'acp':
      if (!w.command.trim()) throw new SearchArgsError('no ACP agent command: set speedrun.agent.acpCommand');
      return [opt('backend', 'acp'), opt('agent-command', w.command)];
    case 'replay':
      return [opt('backend', 'replay')];
  }
}

/** `speedrun search` for a new search; throws SearchArgsError with one sentence for a choice the CLI would refuse. */
export function startSearchArgv(inv: SearchInvocation, c: SearchChoices): string[] {
  if (!(SCAFFOLD_NAMES as readonly string[]).includes(c.scaffold)) throw new SearchArgsError(`unknown scaffold '${c.scaffold}' (choose one of ${SCAFFOLD_NAMES.join(', ')})`);
  if (!Number.isInteger(c.maxNodes) || c.maxNodes < 1) throw new SearchArgsError(`max nodes must be a whole number of at least 1 (got ${c.maxNodes})`);
  const targets = [...new Set(c.targets)];
  if (!targets.length) throw new SearchArgsError('no target chosen');
  // The CLI pools targets as NAME,NAME: a name with a comma (or an empty one) cannot be told apart.
  for (const t of targets) if (!t.trim() || t.includes(',')) throw new SearchArgsError(`target name ${JSON.stringify(t)} cannot be passed to speedrun search (a comma separates pooled targets); rename it in speedrun.targets`);
  const a = [...common(inv), opt('scaffold', c.scaffold), ...writerArgs(c.writer)];
  // Replay plays the answer itself, so hints would change nothing.
  if (c.writer.kind !== 'replay') a.push(opt('hint-level', hintLevelArg(c.hintLevels)));
  a.push(opt('target', targets.join(',')), opt('max-nodes', c.maxNodes));
  if (c.seed !== undefined) a.push(opt('seed', c.seed));
  return a;
}

/** `speedrun search --resume ID`: the search keeps its scaffold, hints, writer (an ACP agent's command too) and targets (search.json). */
export function resumeSearchArgv(inv: SearchInvocation, searchId: string): string[] {
  if (!isSearchId(searchId)) throw new SearchArgsError(`'${searchId}' is not a search id`);
  return [...common(inv), opt('resume', searchId)];
}

/**
 * What "Resume Search" does with a search in `state`. `ours`: a task this window started runs it. `owner`: whether
 * the process search.json names as following it is alive on this machine, gone, or cannot be judged (another
 * machine, or a search written before owners were kept). So:
 * - ours and paused: un-pause it through control.json; ours otherwise: it is going, show its terminal;
 * - paused, not ours: un-pause through control.json; if no process applies it, none follows the search: start one;
 * - stopped or interrupted: no process; start `--resume`;
 * - running, not ours: its process alive here (a terminal) -> say so and start nothing; gone (killed) -> start;
 *   unknown -> ask before starting a second process on it.
 */
export type ResumePlan = 'unpause' | 'show-task' | 'unpause-or-start' | 'start' | 'confirm-start' | 'running-elsewhere' | 'done';

export function resumePlan(state: SearchState, ours: boolean, owner: 'alive' | 'gone' | 'unknown' = 'unknown'): ResumePlan {
  if (state === 'done') return 'done';
  if (ours) return state === 'paused' ? 'unpause' : 'show-task';
  if (state === 'paused') return 'unpause-or-start';
  if (state === 'running') return owner === 'alive' ? 'running-elsewhere' : owner === 'gone' ? 'start' : 'confirm-start';
  return 'start';
}
