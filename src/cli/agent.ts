// `speedrun agent`: the agent session without VS Code. The same session (core/agent/loop.ts, the sequential
// strategy unless --strategy names another), the same backends (core/agent/backends), checkpoints and
// transcript in the task folder, and the same run engine as `speedrun run`. Every turn is accepted (no one is
// there to review it); the rules still send a violating change back to the model before any run.
// The API key comes from the environment ($SPEEDRUN_AGENT_API_KEY, else $OPENAI_API_KEY), never from argv.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultBackends } from '../core/agent/backends';
import { SCRIPT_NAME } from '../core/agent/checkpoints';
import { fileHost } from '../core/agent/fileHost';
import { AgentLoop } from '../core/agent/loop';
import { planOf } from '../core/agent/prompt';
import { runOutcome } from '../core/agent/runOutcome';
import { buildSession, newSessionId } from '../core/agent/session';
import { createStrategy, strategyNames } from '../core/agent/strategies';
import { appendEvent, transcriptPath } from '../core/agent/transcript';
import { type AgentEvent, type AgentEventBody, DEFAULT_BUDGET, type RunOutcome } from '../core/agent/types';
import { readTaskFile } from '../core/benchmark/openTask';
import { plural } from '../core/format';
import { readBaseline } from '../core/rules/preRun';
import { RunStore } from '../core/runs/store';
import { apiKeyFromEnv, backendConfig, backendOptions, checkBackendReady } from './backend';
import { CliError, EXIT, JSON_OUT, defineCommand, err, exitAfterFlush, out, type OptionSpec } from './common';
import { commonOptions, loadTargets, manager, pickTarget, taskDirOf } from './run';

const options = {
  ...commonOptions,
  ...backendOptions,
  backend: { ...backendOptions.backend, default: 'openai' },
  'hint-level': { type: 'string', value: 'L', description: 'hint levels the agent may read: 1, 2, 3 or a list like 1,3 (level 0, the answer, never)', defaultText: 'none' },
  'max-turns': { type: 'string', value: 'N', description: 'turns (one proposal and at most one run each)', default: String(DEFAULT_BUDGET.iterations) },
  'max-runs': { type: 'string', value: 'N', description: 'runs over the session', defaultText: '--max-turns' },
  'max-tokens': { type: 'string', value: 'N', description: 'prompt + completion tokens over the session', default: String(DEFAULT_BUDGET.tokens) },
  strategy: {
    type: 'string',
    value: 'NAME',
    description: `how turns are chosen: sequential, or a search scaffold whose nodes are the turns: ${strategyNames().filter((n) => n !== 'sequential').join(', ')}`,
    default: 'sequential',
    defaultText: 'sequential, one turn at a time from the best valid attempt so far',
  },
  target: { type: 'string', value: 'NAME', description: 'the target the attempts run on', defaultText: 'the only target, when exactly one is configured' },
  'time-limit': { type: 'string', value: 'MINUTES', description: 'stop each run after this long', default: '60' },
  'no-run': { type: 'boolean', description: 'propose and check rules, but start no run (no GPU time)' },
  json: { ...JSON_OUT, description: 'print the transcript events as JSON lines instead of text' },
} as const satisfies Record<string, OptionSpec>;

function count(v: string | undefined, flag: string, fallback: number): number {
  if (v === undefined) return fallback;
  if (!/^\d+$/.test(v) || Number(v) < 1) throw new CliError(`${flag} must be a positive whole number (got '${v}')`, EXIT.usage);
  return Number(v);
}

/** `--hint-level 2` or `--hint-level 1,3`; level 0 is refused. */
function hintLevels(value: string | undefined): number[] {
  const levels = (value ?? '').split(',').map((v) => v.trim()).filter(Boolean);
  for (const l of levels) {
    if (l === '0') throw new CliError('hint level 0 is the answer (the ground-truth diff) and is never given to an agent; use 1, 2 or 3', EXIT.usage);
    if (!['1', '2', '3'].includes(l)) throw new CliError(`--hint-level must be 1, 2 or 3 (got '${l}')`, EXIT.usage);
  }
  return [...new Set(levels.map(Number))];
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

export const command = defineCommand({
  name: 'agent',
  summary: 'Let the agent work the task without VS Code: turns of propose, rules, run, summarise; the best valid attempt is left in train_gpt2.py.',
  options,
  notes: [
    'The key comes from $SPEEDRUN_AGENT_API_KEY or $OPENAI_API_KEY, never from the command line. Every turn is accepted (no one is there to review it); a change that breaks a benchmark rule still goes back to the model before any run.',
    'Checkpoints (.speedrun/checkpoints/), the transcript (.speedrun/agent/transcript.jsonl) and the runs (.speedrun/runs/) are written as the editor writes them. --json prints the transcript events as JSON lines on stdout.',
    'Exit codes: 0 the session ended on its budget or the replay ran out, 1 it ended with an error or Ctrl-C, 2 usage, 3 bad input.',
  ],
  examples: [
    'speedrun agent --model o3-mini --hint-level 2 --max-turns 3 --target h100',
    'speedrun agent --backend replay --target simulated-h100 --json > transcript.jsonl',
  ],
  run: async ({ values }) => {
    const taskDir = taskDirOf(values['task-dir']);
    let task;
    try {
      task = readTaskFile(taskDir);
    } catch (e) {
      throw new CliError((e as Error).message);
    }
    const levels = hintLevels(values['hint-level']);
    const backend = backendConfig(values);
    const turns = count(values['max-turns'], '--max-turns', DEFAULT_BUDGET.iterations);
    const budget = {
      iterations: turns,
      runs: count(values['max-runs'], '--max-runs', turns),
      tokens: count(values['max-tokens'], '--max-tokens', DEFAULT_BUDGET.tokens),
    };
    const timeLimit = count(values['time-limit'], '--time-limit', 60);
    const strategy = createStrategy(values.strategy);
    if (!strategy) throw new CliError(`--strategy must be one of ${strategyNames().join(', ')} (got '${values.strategy}')`, EXIT.usage);
    const noRun = !!values['no-run'];

    // Runs: the same engine and targets as `speedrun run`.
    let target: string | undefined;
    let m: ReturnType<typeof manager> | undefined;
    if (!noRun) {
      const loaded = loadTargets(taskDir, values['targets-file'], values['allow-task-targets']);
      target = pickTarget(loaded, values.target).name;
      m = manager({ taskDir, sshConfig: values['ssh-config'], acceptNewHostKey: values['accept-new-host-key'], timeLimitMinutes: timeLimit }, loaded.targets);
    }

    try {
      checkBackendReady(backend);
    } catch (e) {
      m?.dispose();
      throw e;
    }
    const apiKey = apiKeyFromEnv();
    let built: ReturnType<typeof buildSession>;
    try {
      built = buildSession(defaultBackends(), { taskDir, task, backend, hintLevels: levels, budget, apiKey, target: noRun ? undefined : target, strategy });
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
      } catch (e2) {
        if (!failed) err(`speedrun agent: cannot write the transcript: ${(e2 as Error).message}\n`);
        failed = true;
      }
      if (values.json) out(JSON.stringify(e) + '\n');
      else {
        const line = describe(body);
        if (line) err(`[agent] ${line}\n`);
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

    const baseline = readBaseline(taskDir);
    const host = fileHost({
      file: path.join(taskDir, SCRIPT_NAME),
      baseline: 'text' in baseline ? baseline.text : undefined,
      keep: { taskDir, sessionId },
      emit,
      run,
      python: process.env.SPEEDRUN_PYTHON,
    });
    const loop = new AgentLoop(host, built.options);
    const stop = () => {
      err('\n[agent] stopping (Ctrl-C again to leave at once)\n');
      loop.stop('stopped by the user (Ctrl-C)');
      process.once('SIGINT', () => void exitAfterFlush(EXIT.failed));
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
      out(
        best
          ? `best attempt: turn ${best.turn}, ${seconds(best.trainTimeMs)} at val loss ${best.valLoss.toFixed(4)}${best.runId ? ` (run ${best.runId})` : ''}; left in ${path.join(taskDir, 'train_gpt2.py')}\n`
          : noRun
            ? `runs were off (--no-run): ${path.join(taskDir, 'train_gpt2.py')} holds the last accepted change; the script before each turn is in .speedrun/checkpoints/\n`
            : 'no valid attempt beat the starting point\n',
      );
      if (fs.existsSync(transcriptPath(taskDir))) err(`[agent] transcript: ${transcriptPath(taskDir)} (session ${sessionId})\n`);
    }
    return endReason.startsWith('error:') || endReason.startsWith('stopped') ? EXIT.failed : EXIT.ok;
  },
});
