// `speedrun agent`: the agent session without VS Code. The same session (core/agent/loop.ts, the sequential
// strategy unless --strategy names another), the same backends (core/agent/backends), checkpoints and
// transcript in the task folder, and the same run engine as `speedrun run`. Every turn is accepted (no one is
// there to review it); the rules still send a violating change back to the model before any run.
// The API key comes from the environment ($SPEEDRUN_AGENT_API_KEY, else $OPENAI_API_KEY), never from argv.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultBackends } from '../core/agent/backends';
import { fileHost } from '../core/agent/fileHost';
import { AgentLoop } from '../core/agent/loop';
import { planOf } from '../core/agent/prompt';
import { runOutcome } from '../core/agent/runOutcome';
import { buildSession, newSessionId } from '../core/agent/session';
import { createStrategy, strategyNames } from '../core/agent/strategies';
import { appendEvent, transcriptPath } from '../core/agent/transcript';
import { type AgentEvent, type AgentEventBody, type BackendConfig, DEFAULT_BUDGET, type RunOutcome } from '../core/agent/types';
import { readTaskFile } from '../core/benchmark/openTask';
import { plural } from '../core/format';
import { RunStore } from '../core/runs/store';
import { CliError, EXIT, parse, type Command } from './common';
import { commonOptions, loadTargets, manager, taskDirOf } from './run';

const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
const DEFAULT_MODEL = 'o3-mini';

const options = {
  ...commonOptions,
  backend: { type: 'string' },
  'agent-command': { type: 'string' },
  'base-url': { type: 'string' },
  model: { type: 'string' },
  'hint-level': { type: 'string', multiple: true },
  'max-turns': { type: 'string' },
  'max-runs': { type: 'string' },
  'max-tokens': { type: 'string' },
  strategy: { type: 'string' },
  target: { type: 'string' },
  'time-limit': { type: 'string' },
  'no-run': { type: 'boolean' },
  json: { type: 'boolean' },
} as const;

function count(v: string | undefined, flag: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new CliError(`${flag} must be a positive whole number (got '${v}')`, EXIT.usage);
  return Number(v);
}

/** `--hint-level 1 --hint-level 3` or `--hint-level 1,3`; level 0 is refused. */
function hintLevels(values: string[] | undefined): number[] {
  const levels = (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  for (const l of levels) {
    if (l === '0') throw new CliError('hint level 0 is the answer (the ground-truth diff) and is never given to an agent; use 1, 2 or 3', EXIT.usage);
    if (!['1', '2', '3'].includes(l)) throw new CliError(`--hint-level must be 1, 2 or 3 (got '${l}')`, EXIT.usage);
  }
  return [...new Set(levels.map(Number))];
}

function backendConfig(kind: string, v: { 'agent-command'?: string; 'base-url'?: string; model?: string }): BackendConfig {
  switch (kind) {
    case 'openai':
      return {
        kind,
        baseUrl: v['base-url'] ?? process.env.SPEEDRUN_AGENT_BASE_URL ?? process.env.OPENAI_BASE_URL ?? DEFAULT_BASE_URL,
        model: v.model ?? process.env.SPEEDRUN_AGENT_MODEL ?? DEFAULT_MODEL,
      };
    case 'acp':
      if (!v['agent-command']) throw new CliError('--backend acp needs --agent-command CMD (the ACP agent to start, e.g. "gemini --acp")', EXIT.usage);
      return { kind, command: v['agent-command'] };
    case 'replay':
      return { kind };
    default:
      throw new CliError(`--backend must be openai, acp or replay (got '${kind}')`, EXIT.usage);
  }
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** One line on stderr per event worth a line; the streamed text and prompts stay in the transcript. */
function describe(e: AgentEventBody): string | undefined {
  switch (e.type) {
    case 'session':
      return `session: ${e.backend}${e.hintLevels.length ? ` · hint levels ${e.hintLevels.join(', ')}` : e.replay ? '' : ' · no hints'} · budget ${plural(e.budget.iterations, 'turn')}, ${plural(e.budget.runs, 'run')}, ${e.budget.tokens.toLocaleString('en-US')} tokens${e.target ? ` · target ${e.target}` : ''}`;
    case 'turn':
      return `turn ${e.turn} (checkpoint #${e.checkpoint}) starts from ${e.startsFrom}`;
    case 'response':
      return e.round === 1 ? `turn ${e.turn} plan: ${planOf(e.text, 200)}` : `turn ${e.turn} fix round ${e.round}`;
    case 'edit':
      return `turn ${e.turn} edit: ${plural(e.applied.length, 'block')} applied, +${e.linesAdded} -${e.linesRemoved} lines${e.failures.length ? `, ${plural(e.failures.length, 'block')} failed` : ''}`;
    case 'rules':
      return e.violations.length ? `turn ${e.turn} rules: ${e.violations.map((v) => `${v.rule} (line ${v.line})`).join(', ')}` : undefined;
    case 'review':
      return e.decision === 'reject' ? `turn ${e.turn} not run: ${e.reason ?? 'rejected'}` : undefined;
    case 'run-start':
      return `turn ${e.turn} run ${e.runId}${e.target ? ` on ${e.target}` : ''}`;
    case 'run-end':
      return `turn ${e.turn} ${e.summary.split('\n')[0]}`;
    case 'best':
      return `best so far: turn ${e.turn}, ${seconds(e.trainTimeMs)} at val loss ${e.valLoss.toFixed(4)}`;
    case 'restore':
      return `restored ${e.to}`;
    case 'note':
    case 'error':
      return `${e.type === 'error' ? 'error' : 'note'}: ${e.type === 'error' ? e.message : e.text}`;
    case 'end':
      return `ended (${e.reason}) · ${plural(e.turns, 'turn')} · ${plural(e.runs, 'run')} · ${e.tokensUsed.toLocaleString('en-US')} tokens`;
    default:
      return undefined;
  }
}

export const command: Command = {
  usage:
    '[--task-dir DIR] [--backend openai|acp|replay] [--agent-command CMD] [--base-url URL] [--model NAME] [--hint-level L]... ' +
    '[--max-turns N] [--max-runs N] [--max-tokens N] [--strategy NAME] [--target NAME] [--no-run] [--json] [--targets-file JSON] [--ssh-config FILE] [--time-limit MINUTES] [--accept-new-host-key]',
  summary:
    "Let the agent work the task without VS Code: turns of propose, rules, run, summarise; the best valid attempt is left in train_gpt2.py. " +
    'Key from $SPEEDRUN_AGENT_API_KEY or $OPENAI_API_KEY. --json prints the transcript events as JSON lines. Exit 0 when the session ended without an error.',
  run: async (args) => {
    const { values } = parse(args, options);
    const taskDir = taskDirOf(values['task-dir']);
    let task;
    try {
      task = readTaskFile(taskDir);
    } catch (e) {
      throw new CliError(`${(e as Error).message} (open one with: speedrun open-task)`);
    }
    const backend = backendConfig(values.backend ?? 'openai', values);
    const turns = count(values['max-turns'], '--max-turns', DEFAULT_BUDGET.iterations);
    const budget = {
      iterations: turns,
      runs: count(values['max-runs'], '--max-runs', turns),
      tokens: count(values['max-tokens'], '--max-tokens', DEFAULT_BUDGET.tokens),
    };
    const timeLimit = count(values['time-limit'], '--time-limit', 60);
    const strategy = values.strategy === undefined ? undefined : createStrategy(values.strategy);
    if (values.strategy !== undefined && !strategy) throw new CliError(`--strategy must be one of ${strategyNames().join(', ')} (got '${values.strategy}')`, EXIT.usage);
    const noRun = !!values['no-run'];

    // Runs: the same engine and targets as `speedrun run`.
    let target = values.target;
    let m: ReturnType<typeof manager> | undefined;
    if (!noRun) {
      const { targets, source } = loadTargets(taskDir, values['targets-file']);
      if (!target) {
        if (targets.length !== 1) throw new CliError(`pass --target NAME (${source} has ${targets.map((t) => t.name).join(', ') || 'no targets'}), or --no-run`, EXIT.usage);
        target = targets[0].name;
      }
      if (!targets.some((t) => t.name === target)) throw new CliError(`no target '${target}' in ${source} (have: ${targets.map((t) => t.name).join(', ') || 'none'})`);
      m = manager({ taskDir, sshConfig: values['ssh-config'], acceptNewHostKey: values['accept-new-host-key'], timeLimitMinutes: timeLimit }, targets);
    }

    let built: ReturnType<typeof buildSession>;
    try {
      const apiKey = process.env.SPEEDRUN_AGENT_API_KEY || process.env.OPENAI_API_KEY || undefined;
      built = buildSession(defaultBackends(), { taskDir, task, backend, hintLevels: hintLevels(values['hint-level']), budget, apiKey, target: noRun ? undefined : target, strategy });
    } catch (e) {
      m?.dispose();
      throw e instanceof CliError ? e : new CliError((e as Error).message);
    }

    const sessionId = newSessionId();
    let failed = false;
    let endReason = '';
    const emit = (body: AgentEventBody) => {
      if (body.type === 'delta') return;
      if (body.type === 'end') endReason = body.reason;
      const e = { ...body, sessionId, at: new Date().toISOString() } as AgentEvent;
      try {
        appendEvent(taskDir, e);
      } catch (err) {
        if (!failed) process.stderr.write(`speedrun agent: cannot write the transcript: ${(err as Error).message}\n`);
        failed = true;
      }
      if (values.json) process.stdout.write(JSON.stringify(e) + '\n');
      else {
        const line = describe(body);
        if (line) process.stderr.write(`[agent] ${line}\n`);
      }
    };

    const store = new RunStore(taskDir);
    // Each run gets the turn's script, so a strategy may run a round of attempts at once.
    const run = async (turn: number, signal: AbortSignal, script: string): Promise<RunOutcome> => {
      if (!m || !target) return { state: 'not-started', message: 'runs are off for this session (--no-run)' };
      let meta;
      try {
        meta = m.enqueue({ taskDir, target, origin: 'agent', script });
      } catch (e) {
        return { state: 'not-started', message: (e as Error).message };
      }
      emit({ type: 'run-start', turn, runId: meta.runId, target });
      const cancel = () => void m!.cancel(meta.runId).catch(() => undefined);
      signal.addEventListener('abort', cancel, { once: true });
      try {
        return runOutcome(await m.waitForEnd(meta.runId), store.dir(meta.runId));
      } finally {
        signal.removeEventListener('abort', cancel);
      }
    };

    const host = fileHost({ taskDir, sessionId, emit, run, python: process.env.SPEEDRUN_PYTHON });
    const loop = new AgentLoop(host, built.options);
    const stop = () => {
      process.stderr.write('\n[agent] stopping (Ctrl-C again to leave at once)\n');
      loop.stop('stopped by the user (Ctrl-C)');
      process.once('SIGINT', () => process.exit(EXIT.failed));
    };
    process.once('SIGINT', stop);
    emit(built.opening);
    let best;
    try {
      best = await loop.run();
    } finally {
      process.off('SIGINT', stop);
      m?.dispose();
    }
    if (!values.json) {
      process.stdout.write(
        best
          ? `best attempt: turn ${best.turn}, ${seconds(best.trainTimeMs)} at val loss ${best.valLoss.toFixed(4)}${best.runId ? ` (run ${best.runId})` : ''}; left in ${path.join(taskDir, 'train_gpt2.py')}\n`
          : 'no valid attempt beat the starting point\n',
      );
      if (fs.existsSync(transcriptPath(taskDir))) process.stderr.write(`[agent] transcript: ${transcriptPath(taskDir)} (session ${sessionId})\n`);
    }
    // Everything written reaches a slow reader on a pipe before the process ends.
    await new Promise<void>((resolve) => process.stdout.write('', () => resolve()));
    return endReason.startsWith('error:') || endReason.startsWith('stopped') ? EXIT.failed : EXIT.ok;
  },
};
