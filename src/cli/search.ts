// `speedrun search`: one benchmark search (flat, tree, forest, aide, multi-aide) over a task workspace, its
// children run in parallel over the given targets (repeat --target or give a comma list to pool several boxes).
// Ctrl-C or a kill leaves the runs going; `--resume SEARCHID` keeps finished nodes, re-attaches running ones and
// goes on. --json prints { searchId, scaffold, nodes: [...], best, state, spent } on stdout.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { defaultBackends } from '../core/agent/backends';
import { loadAgentHints } from '../core/agent/hints';
import type { BackendConfig } from '../core/agent/types';
import { readTaskFile } from '../core/benchmark/openTask';
import type { TaskFile } from '../core/benchmark/types';
import { DEFAULT_EARLY_STOP } from '../core/search/earlyStop';
import { ScaffoldError, resolveScaffold, type Scaffold } from '../core/search/presets';
import { ManagerRunner } from '../core/search/runner';
import { Search, createSearch, type SearchOutcome } from '../core/search/search';
import { SweepError, hintLevelsOf, parseHintLevels } from '../core/search/sweep';
import { SearchStore, SearchStoreError, newSearchId, type SearchConfig } from '../core/search/tree';
import { ownerAliveHere } from '../core/processOwner';
import { readBaseline } from '../core/rules/preRun';
import { AgentWriter } from '../core/search/writer';
import { apiKeyFromEnv, backendConfig, backendOptions, checkBackendReady } from './backend';
import { CliError, EXIT, JSON_OUT, TASK_DIR, defineCommand, err, exitAfterFlush, out, type OptionSpec } from './common';
import { loadTargets, manager, pickTarget } from './run';

const str = (description: string, value: string, extra: Partial<OptionSpec> = {}): OptionSpec => ({ type: 'string', value, description, ...extra });

/** Options shared with `speedrun sweep`. */
export const searchOptions = {
  scaffold: str('the search scaffold: flat, tree, forest, aide or multi-aide', 'NAME'),
  'max-nodes': str('stop after this many nodes (the root not counted)', 'N', { default: '20' }),
  initial: str("children of the root in the first round (overrides the scaffold's)", 'N'),
  branching: str("children per later round (overrides the scaffold's)", 'N'),
  iterations: str("rounds (overrides the scaffold's)", 'N'),
  'debug-prob': str("chance that a round fixes a buggy leaf (overrides the scaffold's)", 'P'),
  'max-bug-depth': str("deepest buggy leaf a round may fix (overrides the scaffold's)", 'N'),
  ...backendOptions,
  backend: { ...backendOptions.backend, description: 'who writes the nodes: openai (any OpenAI-compatible endpoint; key from $SPEEDRUN_AGENT_API_KEY or $OPENAI_API_KEY), acp (an ACP agent such as Claude Code or Gemini CLI, one process per node, started with --agent-command), replay (the level-0 diff, not a model)' },
  'parallel-writes': str('nodes written at once', 'N', { defaultText: 'a round\'s children all at once; 4 with --backend acp' }),
  target: str('where nodes run; NAME,NAME,... pools several targets, each running one node at a time', 'NAME[,NAME...]', { defaultText: 'the only target, when exactly one is configured; sweep needs it' }),
  'targets-file': str('your targets (a list shaped like the speedrun.targets setting)', 'FILE', { defaultText: '$SPEEDRUN_TARGETS_FILE, else ~/.config/speedrun/targets.json' }),
  'allow-task-targets': { type: 'boolean', description: "also use targets from the task folder's .speedrun/targets.json" },
  'ssh-config': str('ssh config file to resolve hosts with (ssh -F)', 'FILE'),
  'accept-new-host-key': { type: 'boolean', description: 'trust a host key seen for the first time' },
  'gpu-hours': str('stop starting rounds after this many GPU-hours (run wall time x GPUs)', 'H'),
  tokens: str('stop starting rounds after this many model tokens', 'N'),
  'early-stop': { type: 'boolean', description: 'cancel doomed runs: projected val loss > 3.43 after 3/4 of the steps, or train time past 1.5x the starting record' },
  'time-limit': str('time limit per run', 'MINUTES', { default: '60' }),
  seed: str('seed of the selection (a search with the same seed and outcomes selects the same nodes)', 'N', { defaultText: 'the clock' }),
  json: JSON_OUT,
} as const satisfies Record<string, OptionSpec>;

type Values = { [k: string]: string | boolean | undefined } & {
  scaffold?: string; 'max-nodes'?: string; initial?: string; branching?: string; iterations?: string; 'debug-prob'?: string; 'max-bug-depth'?: string;
  backend?: string; model?: string; 'base-url'?: string; 'agent-command'?: string; 'parallel-writes'?: string; target?: string; 'targets-file'?: string; 'allow-task-targets'?: boolean; 'ssh-config'?: string;
  'accept-new-host-key'?: boolean; 'gpu-hours'?: string; tokens?: string; 'early-stop'?: boolean; 'time-limit'?: string; seed?: string; json?: boolean;
};

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
  const names = (v.target ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  if (!names.length) throw new CliError('--target NAME is required (give NAME,NAME,... to run children on several targets at once)', EXIT.usage);
  return [...new Set(names)];
}

/** Who writes the nodes, from the flags: usage errors only (the rest is checked by writerOf, before anything is made). */
export function checkBackend(v: Values): BackendConfig {
  return backendConfig(v);
}

const parallelOf = (v: Values) => num(v['parallel-writes'], 'parallel-writes', (n) => Number.isInteger(n) && n >= 1, 'a whole number of at least 1');

/** One agent per node (an ACP agent is a process of its own in the node's folder); hints never include level 0. */
function writerOf(config: BackendConfig, o: { taskDir: string; task: TaskFile; hintLevels: number[]; searchId: string; parallel?: number }): AgentWriter {
  const registry = defaultBackends();
  const replay = !!registry.get(config.kind)?.replay;
  const apiKey = apiKeyFromEnv();
  const create = (dir: string) => registry.create(config, { taskDir: dir, task: o.task, apiKey }).backend;
  // The key, the agent's program, the replay's diff: checked now, so bad input ends the command, not every node.
  checkBackendReady(config);
  try {
    void create(o.taskDir).dispose?.();
  } catch (e) {
    throw new CliError((e as Error).message);
  }
  const baseline = readBaseline(o.taskDir);
  return new AgentWriter({
    task: o.task,
    hints: !replay && o.hintLevels.length ? loadAgentHints(o.task.benchmarkPath, o.task.fromRecord, o.hintLevels) : [],
    baseline: 'text' in baseline ? baseline.text : undefined,
    backend: create,
    enforceRules: !replay,
    parallel: o.parallel ?? (config.kind === 'acp' ? 4 : undefined),
    python: process.env.SPEEDRUN_PYTHON,
    sessionId: (n) => `${o.searchId}/v_${n}`,
  });
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
  const loaded = loadTargets(taskDir, v['targets-file'], !!v['allow-task-targets']);
  const { targets, userFile, taskFile } = loaded;
  const source = [userFile, taskFile].filter(Boolean).join(' and ') || 'your targets';
  const check = (names: string[]) => {
    const missing = names.filter((n) => !targets.some((t) => t.name === n));
    if (missing.length) throw new CliError(`no target ${missing.map((m) => `'${m}'`).join(', ')} in ${source} (have: ${targets.map((t) => t.name).join(', ') || 'none'})`);
    return names;
  };
  const timeLimit = num(v['time-limit'], 'time-limit', (n) => n > 0, 'a positive number of minutes') ?? 60;
  let store: SearchStore;
  let config: SearchConfig;
  let names: string[];
  let backend: BackendConfig;
  let writer: AgentWriter;
  if (o.resumeId) {
    try {
      store = new SearchStore(taskDir, o.resumeId);
    } catch (e) {
      throw new CliError((e as SearchStoreError).message, EXIT.usage);
    }
    if (!store.exists()) throw new CliError(`no search ${o.resumeId} in ${taskDir} (have: ${SearchStore.list(taskDir).join(', ') || 'none'})`);
    const { config: stored, progress } = store.read();
    // Two processes on one search would write the same nodes twice.
    if (progress.owner && (progress.state === 'running' || progress.state === 'paused') && ownerAliveHere(progress.owner)) {
      throw new CliError(`search ${o.resumeId} is being run by process ${progress.owner.pid} on this machine; stop it first (Ctrl-C there, or Stop in the Search view)`);
    }
    config = stored;
    names = check(v.target ? targetNames(v) : config.targets);
    // The search's own writer unless the flags name another.
    backend = checkBackend({
      backend: v.backend ?? config.backend,
      model: v.model ?? config.model,
      'base-url': v['base-url'] ?? config.baseUrl,
      'agent-command': v['agent-command'] ?? config.agentCommand,
    });
    writer = writerOf(backend, { taskDir, task, hintLevels: config.hintLevels, searchId: store.searchId, parallel: parallelOf(v) });
  } else {
    // Everything is checked before the search folder is made: bad input leaves nothing behind.
    const scaffold = scaffoldOf(v);
    // As for `run`: --target may be left out when exactly one target is configured.
    names = check(v.target ? targetNames(v) : [pickTarget(loaded, undefined).name]);
    backend = checkBackend(v);
    const searchId = newSearchId();
    writer = writerOf(backend, { taskDir, task, hintLevels: o.hintLevels, searchId, parallel: parallelOf(v) });
    store = createSearch(
      {
        taskDir,
        task,
        searchId,
        scaffold,
        seed: o.seed ?? num(v.seed, 'seed', (n) => Number.isInteger(n) && n >= 0, 'a whole number') ?? Date.now(),
        hintLevels: o.hintLevels,
        backend: backend.kind,
        model: backend.kind === 'openai' ? backend.model : undefined,
        baseUrl: backend.kind === 'openai' ? backend.baseUrl : undefined,
        agentCommand: backend.kind === 'acp' ? backend.command : undefined,
        targets: names,
        gpuHours: num(v['gpu-hours'], 'gpu-hours', (n) => n > 0, 'a positive number'),
        tokens: num(v.tokens, 'tokens', (n) => Number.isInteger(n) && n > 0, 'a positive whole number'),
        earlyStop: v['early-stop'] ? DEFAULT_EARLY_STOP : undefined,
      },
      fs.readFileSync(path.join(taskDir, 'train_gpt2.py'), 'utf8'),
    );
    config = store.read().config;
  }
  const m = manager({ taskDir, sshConfig: v['ssh-config'], acceptNewHostKey: v['accept-new-host-key'], timeLimitMinutes: timeLimit }, targets);
  const runner = new ManagerRunner(m, taskDir, names, (t) => targets.find((x) => x.name === t)?.gpus ?? 0);
  const search = new Search(store, task, writer, runner);
  const say = (s: string) => o.quiet || err(`[search ${store.searchId}] ${s}\n`);
  say(`${o.resumeId ? 'resuming' : 'started'}: ${config.scaffold.name}, up to ${config.budget.nodes} nodes, targets ${names.join(', ')}; stored in ${store.dir}`);
  const shown = new Map<number, string>();
  search.onEvent((e) => {
    if (e.type !== 'node' || shown.get(e.node.id) === e.node.status) return;
    const n = e.node;
    shown.set(n.id, n.status);
    if (n.status === 'writing') say(`v_${n.id} (from v_${n.parent}${n.debug ? ', debug' : ''}) being written; its edits land in ${path.join(store.nodeDir(n.id), 'train_gpt2.py')}`);
    else if (n.status === 'running') say(`v_${n.id} (from v_${n.parent}${n.debug ? ', debug' : ''}) running as run ${n.runId} on ${n.target}`);
    else if (n.status === 'finished') say(`v_${n.id} finished: val loss ${n.valLoss?.toFixed(4)}, train time ${((n.trainTimeMs ?? 0) / 1000).toFixed(1)} s${n.isValid ? '' : ' (not valid)'}`);
    else if (n.status === 'failed' || n.status === 'stopped') say(`v_${n.id} ${n.status}${n.hypothesis ? `: ${n.hypothesis.slice(0, 100)}` : ''}`);
  });
  // A kill or Ctrl-C leaves the runs going on their boxes; the search resumes from disk.
  const detach = () => {
    say(`detached; the runs go on. Resume with: speedrun search --task-dir ${JSON.stringify(taskDir)} --resume ${store.searchId}`);
    m.dispose();
    void exitAfterFlush(EXIT.failed);
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

export const command = defineCommand({
  name: 'search',
  summary: "Search the task with one of the benchmark's scaffolds; each round's children run at once over the targets. --resume picks up a killed search.",
  options: {
    'task-dir': TASK_DIR,
    ...searchOptions,
    'hint-level': str('hints given as the idea: none, 1, 2, 3 or a combination such as 1+2+3 (level 0, the answer, never)', 'L', { default: 'none' }),
    resume: str('go on with this search: finished nodes are kept, running ones re-attached', 'SEARCHID'),
  },
  notes: [
    'Scaffolds (initial / branching / rounds / debug prob / max bug depth): flat 20/-/1, tree 1/3/20, forest 3/3/20, aide 3/1/20/0.5/5, multi-aide 3/3/20/0.5/5; every search stops at --max-nodes.',
    'Nodes are stored in <task>/.speedrun/search/<SEARCHID>/v_<n>/ (train_gpt2.py, meta.json, results.json); each node\'s run is an ordinary run in <task>/.speedrun/runs/.',
    "While a node is written its train_gpt2.py takes each edit as it lands, and v_<n>/transcript.jsonl keeps the agent's prompts, answers, edits and rule checks. An ACP agent runs as one process per node in the node's folder; it may edit train_gpt2.py there and nothing else, and never run it (the search does).",
    '--json prints { searchId, scaffold, nodes: [{ id, parent, status, bugDepth, valLoss, trainTimeMs, isValid, fsr }], best, state, spent }.',
    'Exit codes: 0 the search ended (done), 1 it was stopped or failed, 2 usage, 3 bad input.',
  ],
  examples: [
    'speedrun search --scaffold aide --backend openai --model o3-mini --hint-level 1 --target box1,box2',
    'speedrun search --scaffold flat --max-nodes 6 --backend acp --agent-command "gemini --acp"',
    'speedrun search --resume 20261201-041500-a3f9',
  ],
  run: async ({ values }) => {
    const taskDir = path.resolve(values['task-dir']);
    let task: TaskFile;
    try {
      task = readTaskFile(taskDir);
    } catch (e) {
      throw new CliError(`${(e as Error).message}; pass --task-dir`);
    }
    let hintLevels: number[];
    try {
      const labels = parseHintLevels(values['hint-level'] ?? 'none');
      if (labels.length !== 1) throw new SweepError('--hint-level takes one level or combination, e.g. 2 or 1+2+3');
      hintLevels = hintLevelsOf(labels[0]);
    } catch (e) {
      throw new CliError((e as Error).message.replace('--hint-levels', '--hint-level'), EXIT.usage);
    }
    if (!values.resume) {
      scaffoldOf(values);
      if (values.target !== undefined) targetNames(values);
      checkBackend(values);
    }
    const res = await runSearchCli({ taskDir, task, values, hintLevels, resumeId: values.resume });
    if (values.json) out(JSON.stringify(res, null, 2) + '\n');
    return res.state === 'done' ? EXIT.ok : EXIT.failed;
  },
});
