// `speedrun search`: one benchmark search (flat, tree, forest, aide, multi-aide) over a task workspace, its
// children run in parallel over the given targets (repeat --target or give a comma list to pool several boxes).
// Ctrl-C or a kill leaves the runs going; `--resume SEARCHID` keeps finished nodes, re-attaches running ones and
// goes on. --json prints { searchId, scaffold, nodes: [...], best, state, spent } on stdout.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { OpenAIBackend } from '../core/agent/backends/openai';
import { ReplayBackend, loadGroundTruthDiff } from '../core/agent/backends/replay';
import type { ModelBackend } from '../core/agent/backends/backend';
import { loadAgentHints } from '../core/agent/hints';
import { readTaskFile } from '../core/benchmark/openTask';
import type { TaskFile } from '../core/benchmark/types';
import { DEFAULT_EARLY_STOP } from '../core/search/earlyStop';
import { ScaffoldError, resolveScaffold, type Scaffold } from '../core/search/presets';
import { ManagerRunner } from '../core/search/runner';
import { Search, createSearch, type SearchOutcome } from '../core/search/search';
import { SweepError, hintLevelsOf, parseHintLevels } from '../core/search/sweep';
import { SearchStore, SearchStoreError, type SearchConfig } from '../core/search/tree';
import { ModelWriter } from '../core/search/writer';
import { CliError, EXIT, parse, type Command } from './common';
import { loadTargets, manager } from './run';

export const searchOptions = {
  scaffold: { type: 'string' },
  'max-nodes': { type: 'string' },
  initial: { type: 'string' },
  branching: { type: 'string' },
  iterations: { type: 'string' },
  'debug-prob': { type: 'string' },
  'max-bug-depth': { type: 'string' },
  backend: { type: 'string' },
  model: { type: 'string' },
  'base-url': { type: 'string' },
  target: { type: 'string', multiple: true },
  'targets-file': { type: 'string' },
  'ssh-config': { type: 'string' },
  'accept-new-host-key': { type: 'boolean' },
  'gpu-hours': { type: 'string' },
  tokens: { type: 'string' },
  'early-stop': { type: 'boolean' },
  'time-limit': { type: 'string' },
  seed: { type: 'string' },
  json: { type: 'boolean' },
} as const;

type Values = { [K in keyof typeof searchOptions]?: (typeof searchOptions)[K] extends { multiple: true } ? string[] : (typeof searchOptions)[K] extends { type: 'boolean' } ? boolean : string };

function num(v: string | undefined, flag: string, check: (n: number) => boolean, what: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || !check(n)) throw new CliError(`--${flag} must be ${what} (got '${v}')`, EXIT.usage);
  return n;
}

export function scaffoldOf(v: Values): Scaffold {
  if (!v.scaffold) throw new CliError('--scaffold NAME is required (flat, tree, forest, aide or multi-aide)', EXIT.usage);
  const whole = (n: number) => Number.isInteger(n) && n >= 0;
  try {
    return resolveScaffold(v.scaffold, {
      maxNodes: num(v['max-nodes'], 'max-nodes', (n) => Number.isInteger(n) && n >= 1, 'a whole number of at least 1'),
      initial: num(v.initial, 'initial', whole, 'a whole number'),
      branching: num(v.branching, 'branching', whole, 'a whole number'),
      iterations: num(v.iterations, 'iterations', whole, 'a whole number'),
      debugProb: num(v['debug-prob'], 'debug-prob', (n) => n >= 0 && n <= 1, 'between 0 and 1'),
      maxBugDepth: num(v['max-bug-depth'], 'max-bug-depth', whole, 'a whole number'),
    });
  } catch (e) {
    if (e instanceof ScaffoldError) throw new CliError(e.message, EXIT.usage);
    throw e;
  }
}

export function targetNames(v: Values): string[] {
  const names = (v.target ?? []).flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean);
  if (!names.length) throw new CliError('--target NAME is required (repeat it, or give NAME,NAME, to run children on several targets at once)', EXIT.usage);
  return [...new Set(names)];
}

/** Usage errors of --backend and --model, before anything is created. */
export function checkBackend(v: Values): void {
  if (v.backend === 'acp') throw new CliError('--backend acp is not available in this build yet; use openai or replay', EXIT.usage);
  if (v.backend !== 'openai' && v.backend !== 'replay') {
    throw new CliError(`--backend must be openai, replay or acp (got ${v.backend === undefined ? 'nothing' : `'${v.backend}'`})`, EXIT.usage);
  }
  if (v.backend === 'openai' && !v.model) throw new CliError('--model M is required with --backend openai', EXIT.usage);
}

/** The model behind the writer: one client for openai, a fresh replay per node (it plays its diff once). */
export function backendOf(v: Values, task: TaskFile): { label: string; make: () => ModelBackend } {
  checkBackend(v);
  if (v.backend === 'openai') {
    const baseUrl = v['base-url'] ?? process.env.SPEEDRUN_OPENAI_BASE_URL ?? process.env.OPENAI_BASE_URL ?? 'https://api.openai.com/v1';
    // The key only ever comes from the environment, never argv.
    const b = new OpenAIBackend({ baseUrl, model: v.model!, apiKey: process.env.OPENAI_API_KEY });
    return { label: b.label, make: () => b };
  }
  let diff: string;
  try {
    diff = loadGroundTruthDiff(task.benchmarkPath, task.fromRecord);
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const make = () => new ReplayBackend(diff, task, 0);
  return { label: make().label, make };
}

/** Runs one search (new or resumed) to its end; progress lines go to stderr. */
export async function runSearchCli(o: {
  taskDir: string;
  task: TaskFile;
  values: Values;
  hintLevels: number[];
  resumeId?: string;
  seed?: number;
  quiet?: boolean;
}): Promise<SearchOutcome> {
  const { taskDir, task, values: v } = o;
  const { targets, source } = loadTargets(taskDir, v['targets-file']);
  let store: SearchStore;
  let config: SearchConfig;
  if (o.resumeId) {
    try {
      store = new SearchStore(taskDir, o.resumeId);
    } catch (e) {
      throw new CliError((e as SearchStoreError).message, EXIT.usage);
    }
    if (!store.exists()) throw new CliError(`no search ${o.resumeId} in ${taskDir} (have: ${SearchStore.list(taskDir).join(', ') || 'none'})`);
    config = store.read().config;
  } else {
    const scaffold = scaffoldOf(v);
    store = createSearch(
      {
        taskDir,
        task,
        scaffold,
        seed: o.seed ?? num(v.seed, 'seed', (n) => Number.isInteger(n) && n >= 0, 'a whole number') ?? Date.now(),
        hintLevels: o.hintLevels,
        backend: v.backend!,
        model: v.model,
        baseUrl: v['base-url'],
        targets: targetNames(v),
        gpuHours: num(v['gpu-hours'], 'gpu-hours', (n) => n > 0, 'a positive number'),
        tokens: num(v.tokens, 'tokens', (n) => Number.isInteger(n) && n > 0, 'a positive whole number'),
        earlyStop: v['early-stop'] ? DEFAULT_EARLY_STOP : undefined,
      },
      fs.readFileSync(path.join(taskDir, 'train_gpt2.py'), 'utf8'),
    );
    config = store.read().config;
  }
  const names = v.target?.length ? targetNames(v) : config.targets;
  const missing = names.filter((n) => !targets.some((t) => t.name === n));
  if (missing.length) throw new CliError(`no target ${missing.map((m) => `'${m}'`).join(', ')} in ${source} (have: ${targets.map((t) => t.name).join(', ') || 'none'})`);
  const backend = backendOf({ ...v, backend: v.backend ?? config.backend, model: v.model ?? config.model, 'base-url': v['base-url'] ?? config.baseUrl }, task);
  const timeLimit = num(v['time-limit'], 'time-limit', (n) => n > 0, 'a positive number of minutes') ?? 60;
  const m = manager({ taskDir, sshConfig: v['ssh-config'], acceptNewHostKey: v['accept-new-host-key'], timeLimitMinutes: timeLimit }, targets);
  const runner = new ManagerRunner(m, taskDir, names, (t) => targets.find((x) => x.name === t)?.gpus ?? 0);
  const baseline = fs.existsSync(path.join(taskDir, 'train_gpt2.py')) ? store.script(0) : '';
  const hints = config.hintLevels.length ? loadAgentHints(task.benchmarkPath, task.fromRecord, config.hintLevels) : [];
  const writer = new ModelWriter(backend.make, { task, hints, baselineScript: baseline });
  const search = new Search(store, task, writer, runner);
  const say = (s: string) => o.quiet || process.stderr.write(`[search ${store.searchId}] ${s}\n`);
  say(`${o.resumeId ? 'resuming' : 'started'}: ${config.scaffold.name}, up to ${config.budget.nodes} nodes, targets ${names.join(', ')}; stored in ${store.dir}`);
  const shown = new Map<number, string>();
  search.onEvent((e) => {
    if (e.type !== 'node' || shown.get(e.node.id) === e.node.status) return;
    const n = e.node;
    shown.set(n.id, n.status);
    if (n.status === 'running') say(`v_${n.id} (from v_${n.parent}${n.debug ? ', debug' : ''}) running as run ${n.runId} on ${n.target}`);
    else if (n.status === 'finished') say(`v_${n.id} finished: val loss ${n.valLoss?.toFixed(4)}, train time ${((n.trainTimeMs ?? 0) / 1000).toFixed(1)} s${n.isValid ? '' : ' (not valid)'}`);
    else if (n.status === 'failed' || n.status === 'stopped') say(`v_${n.id} ${n.status}${n.hypothesis ? `: ${n.hypothesis.slice(0, 100)}` : ''}`);
  });
  // A kill or Ctrl-C leaves the runs going on their boxes; the search resumes from disk.
  const detach = () => {
    say(`detached; the runs go on. Resume with: speedrun search --task-dir ${JSON.stringify(taskDir)} --resume ${store.searchId}`);
    m.dispose();
    process.exit(EXIT.failed);
  };
  process.once('SIGINT', detach);
  process.once('SIGTERM', detach);
  try {
    const out = await search.run();
    say(`${out.state}: ${out.stopReason ?? ''}; best ${out.best ? `v_${out.best.id}` : 'none'}; spent ${out.spent.nodes} nodes, ${out.spent.gpuHours.toFixed(3)} GPU-hours, ${out.spent.tokens} tokens`);
    return out;
  } finally {
    process.off('SIGINT', detach);
    process.off('SIGTERM', detach);
    m.dispose();
  }
}

export const command: Command = {
  usage:
    '--scaffold flat|tree|forest|aide|multi-aide --backend openai|replay|acp --target NAME[,NAME...] [--task-dir DIR] [--max-nodes N] ' +
    '[--hint-level none|1|2|3|1+2|1+2+3] [--model M] [--base-url URL] [--targets-file JSON] [--gpu-hours H] [--tokens N] [--early-stop] ' +
    '[--seed N] [--json] [--resume SEARCHID]',
  summary: "Search the task with one of the benchmark's scaffolds; each round's children run in parallel over the targets. --resume picks up a killed search.",
  run: async (args) => {
    const { values } = parse(args, { ...searchOptions, 'task-dir': { type: 'string' }, 'hint-level': { type: 'string' }, resume: { type: 'string' } });
    const taskDir = path.resolve(values['task-dir'] ?? '.');
    let task: TaskFile;
    try {
      task = readTaskFile(taskDir);
    } catch (e) {
      throw new CliError(`${(e as Error).message} (pass --task-dir, or open a task with speedrun open-task)`);
    }
    let hintLevels: number[] = [];
    if (values['hint-level'] !== undefined) {
      try {
        const labels = parseHintLevels(values['hint-level']);
        if (labels.length !== 1) throw new SweepError('--hint-level takes one level or combination, e.g. 2 or 1+2+3');
        hintLevels = hintLevelsOf(labels[0]);
      } catch (e) {
        throw new CliError((e as Error).message.replace('--hint-levels', '--hint-level'), EXIT.usage);
      }
    }
    if (!values.resume) {
      scaffoldOf(values);
      targetNames(values);
      backendOf(values, task);
    }
    const out = await runSearchCli({ taskDir, task, values, hintLevels, resumeId: values.resume });
    if (values.json) process.stdout.write(JSON.stringify(out, null, 2) + '\n');
    return out.state === 'done' ? EXIT.ok : EXIT.failed;
  },
};
