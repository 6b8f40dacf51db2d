// Creates a task workspace: record i's script, .speedrun/task.json and a task brief (.speedrun/TASK.md).
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  BenchmarkFileError,
  getRecord,
  getTask,
  listHints,
  loadManifest,
  readBenchmarkBytes,
  readResults,
  referenceMetrics,
  resultsPath,
  scriptPath,
  hintLabel,
} from './catalog';
import { checkLayout } from './clone';
import { fsReason, sha256, writeAtomic } from '../files';
import { SPEEDRUN_DIR, TASK_FILE, tryReadTaskFile } from './taskFile';
import { TARGET_VAL_LOSS, type Manifest, type Metrics, type TaskFile } from './types';

export { SPEEDRUN_DIR, TASK_FILE, TaskFileError, readTaskFile } from './taskFile';
export const SCRIPT_NAME = 'train_gpt2.py';
export const TASK_BRIEF = path.join(SPEEDRUN_DIR, 'TASK.md');

export type OpenTaskProblem = 'unknown-task' | 'no-baseline' | 'bad-dest' | 'conflict';

export class OpenTaskError extends Error {
  constructor(message: string, readonly problem: OpenTaskProblem) {
    super(message);
  }
}

export interface OpenTaskOptions {
  benchmarkPath: string;
  taskId: number;
  dest: string;
  /** Overwrite a different train_gpt2.py / task.json already in dest. */
  force?: boolean;
  manifest?: Manifest;
}

export interface OpenTaskResult {
  taskDir: string;
  scriptPath: string;
  taskFilePath: string;
  briefPath: string;
  task: TaskFile;
  /** dest already held this task's baseline script (nothing was overwritten). */
  alreadyOpen: boolean;
  warnings: string[];
}

export function openTask(opts: OpenTaskOptions): OpenTaskResult {
  const m = opts.manifest ?? loadManifest();
  const facts = getTask(opts.taskId, m);
  if (!facts) {
    const why = m.excluded.find((x) => x.fromRecord === opts.taskId);
    throw new OpenTaskError(
      why
        ? `There is no task ${opts.taskId}: ${why.reason}`
        : `Unknown task ${opts.taskId}; tasks are ${m.tasks.map((t) => t.id).join(', ')}.`,
      'unknown-task',
    );
  }
  const bench = checkLayout(opts.benchmarkPath);
  const warnings: string[] = [];
  let script: Buffer;
  try {
    script = readBenchmarkBytes(scriptPath(bench, facts.fromRecord, m));
  } catch (e) {
    throw new OpenTaskError(`Cannot open task ${facts.id}: ${(e as Error).message}`, 'no-baseline');
  }
  const metrics = (record: number): Metrics => {
    try {
      return readResults(resultsPath(bench, record, m)).metrics;
    } catch (e) {
      warnings.push(`${(e as BenchmarkFileError).message}; using the manifest's reference values for record ${record}`);
      return referenceMetrics(record, m);
    }
  };

  const dest = path.resolve(opts.dest);
  checkDest(dest);
  const destScript = path.join(dest, SCRIPT_NAME);
  const sha = sha256(script);
  const existing = tryReadTaskFile(dest);
  let existingSha: string | undefined;
  writeWorkspace(dest, () => (existingSha = fs.existsSync(destScript) ? sha256(fs.readFileSync(destScript)) : undefined), false);
  if (!opts.force) {
    if (existing && existing.taskId !== facts.id) {
      throw new OpenTaskError(`${dest} already holds task ${existing.taskId}; choose another folder or force.`, 'conflict');
    }
    if (existingSha && existingSha !== sha) {
      throw new OpenTaskError(
        `${destScript} already exists and differs from record ${facts.fromRecord}'s script; choose another folder or force to overwrite it.`,
        'conflict',
      );
    }
  }

  const task: TaskFile = {
    version: 1,
    taskId: facts.id,
    fromRecord: facts.fromRecord,
    toRecord: facts.toRecord,
    baselineSha256: sha,
    benchmarkPath: bench,
    baseline: metrics(facts.fromRecord),
    target: metrics(facts.toRecord),
    createdAt: existing?.taskId === facts.id && existingSha === sha ? existing.createdAt : new Date().toISOString(),
  };
  const taskFilePath = path.join(dest, TASK_FILE);
  const briefPath = path.join(dest, TASK_BRIEF);
  writeWorkspace(dest, () => {
    if (existingSha !== sha) writeAtomic(destScript, script);
    writeAtomic(taskFilePath, JSON.stringify(task, null, 2) + '\n');
    writeAtomic(briefPath, renderTaskBrief(task, m));
  });
  return { taskDir: dest, scriptPath: destScript, taskFilePath, briefPath, task, alreadyOpen: existingSha === sha, warnings };
}

const KIND_OF: [string, (st: fs.Stats) => boolean, string][] = [
  [SPEEDRUN_DIR, (st) => st.isDirectory(), 'a folder'],
  [SCRIPT_NAME, (st) => st.isFile(), 'a file'],
  [TASK_FILE, (st) => st.isFile(), 'a file'],
  [TASK_BRIEF, (st) => st.isFile(), 'a file'],
];

/** Refuses a destination where one of the workspace's paths exists as the wrong kind (before anything is written). */
function checkDest(dest: string): void {
  for (let up = path.dirname(dest); ; up = path.dirname(up)) {
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(up, { throwIfNoEntry: false });
    } catch {
      continue; // ENOTDIR: a file further up; found on the way
    }
    if (st && !st.isDirectory()) throw new OpenTaskError(`${up} is a file, so ${dest} cannot be created under it; choose another folder.`, 'bad-dest');
    if (st || up === path.dirname(up)) break;
  }
  if (fs.existsSync(dest) && !fs.statSync(dest).isDirectory()) {
    throw new OpenTaskError(`${dest} is a file; choose a folder for the task workspace.`, 'bad-dest');
  }
  for (const [rel, ok, want] of KIND_OF) {
    const p = path.join(dest, rel);
    let st: fs.Stats | undefined;
    try {
      st = fs.statSync(p, { throwIfNoEntry: false });
    } catch (e) {
      throw new OpenTaskError(`${p} cannot be checked (${(e as NodeJS.ErrnoException).code}); choose another folder.`, 'bad-dest');
    }
    if (st && !ok(st)) throw new OpenTaskError(`${p} must be ${want} but is not; move it away or choose another folder.`, 'bad-dest');
  }
}

/** Runs the reads/writes of a workspace; on a file-system error removes the folders it created and says why in one sentence. */
function writeWorkspace(dest: string, write: () => void, mkdirs = true): void {
  const created: string[] = [];
  try {
    for (const dir of mkdirs ? [dest, path.join(dest, SPEEDRUN_DIR)] : []) {
      if (fs.existsSync(dir)) continue;
      const first = fs.mkdirSync(dir, { recursive: true });
      if (first) created.push(first);
    }
    write();
  } catch (e) {
    for (const dir of created.reverse()) fs.rmSync(dir, { recursive: true, force: true });
    const err = e as NodeJS.ErrnoException;
    if (!err.code) throw e;
    const where = err.path ?? dest;
    throw new OpenTaskError(`Cannot write the task workspace in ${dest}: ${fsReason(err) ?? err.code} (${where}).`, 'bad-dest');
  }
}

/** Formats ms as "49 min 28.3 s" / "3 min 4.3 s" / "4.4 s". */
export function formatDuration(ms: number): string {
  const s = ms / 1000;
  if (Math.abs(s) < 60) return `${s.toFixed(1)} s`;
  const min = Math.trunc(s / 60);
  return `${min} min ${(s - min * 60).toFixed(1)} s`;
}

/** The task brief: goal, the rules a run must keep, reference times. Deliberately says nothing about the answer. */
export function renderTaskBrief(task: TaskFile, m: Manifest = loadManifest()): string {
  const from = getRecord(task.fromRecord, m);
  const to = getRecord(task.toRecord, m);
  const gap = task.baseline.trainTimeMs - task.target.trainTimeMs;
  const hints = task.benchmarkPath ? listHints(task.benchmarkPath, task.fromRecord, { manifest: m }) : [];
  const row = (name: string, x: Metrics, std?: number) =>
    `| ${name} | ${x.steps} | ${x.valLoss.toFixed(4)} | ${x.trainTimeMs} | ${formatDuration(x.trainTimeMs)}${std ? ` (± ${formatDuration(std)})` : ''} |`;
  // Only the starting record's notes: the target's could hint at what changed.
  const notes = (from?.notes ?? []).map((n) => `Record ${task.fromRecord}: ${n}`);
  return [
    `# Task ${task.taskId}: record ${task.fromRecord} → record ${task.toRecord}`,
    '',
    '## Goal',
    '',
    `Change \`${SCRIPT_NAME}\` (record ${task.fromRecord} as released) so that a run reaches a final validation loss of ` +
      `at most **${TARGET_VAL_LOSS}** in as little training time as possible. Record ${task.toRecord} did it in ` +
      `**${formatDuration(task.target.trainTimeMs)}**; the script you start from takes ${formatDuration(task.baseline.trainTimeMs)}, ` +
      `so the gap to recover is **${formatDuration(gap)}** (${((100 * gap) / task.baseline.trainTimeMs).toFixed(1)}%).`,
    '',
    'Score (fraction of speedup recovered): (baseline time − your time) / (baseline time − target time).',
    '',
    '## Reference times',
    '',
    '| | steps | val loss | train time (ms) | duration |',
    '|---|---|---|---|---|',
    row(`baseline: record ${task.fromRecord}`, task.baseline, from?.trainTimeStdMs),
    row(`target: record ${task.toRecord}`, task.target, to?.trainTimeStdMs),
    '',
    'Times are means of three runs on one 8×H100 node; the ± is their standard deviation. On other hardware, measure the baseline there first.',
    '',
    '## Rules a run must keep',
    '',
    `- The script still starts with plain \`torchrun --standalone --nproc_per_node=8 ${SCRIPT_NAME}\` on a single 8×H100 node.`,
    '- Training and validation data stay as given: `train_files`, `val_files` and `val_tokens` keep reading the ' +
      '`NANOGPT_TRAIN_FILES`, `NANOGPT_VAL_FILES` and `NANOGPT_VAL_TOKENS` environment variables, unchanged.',
    '- `save_checkpoint` stays `False`.',
    '- Every `print0` call keeps its arguments, so the log lines (and the measured time and loss) stay readable.',
    `- Edit \`${SCRIPT_NAME}\` only.`,
    `- The result is the last validation line the script prints: its \`val_loss\` must be ≤ ${TARGET_VAL_LOSS} and its ` +
      '`train_time` is the score. Validation time is not counted.',
    '- A run that breaks one of these rules does not count.',
    '',
    '## This task',
    '',
    `- PyTorch: ${from?.torch === 'nightly' ? 'a 2025 nightly build, shipped by the benchmark as a packed conda env' : 'a stable release'}; the benchmark's env is \`${from?.condaEnv}\`.`,
    `- Training shards needed: at least ${from?.minTrainShards} (\`fineweb_train_000001.bin\` …).`,
    `- The script writes its own log to \`${from?.logFile}\` in the run folder.`,
    ...notes.map((n) => `- ${n}`),
    '',
    '## Hints',
    '',
    hints.length
      ? `Available in the Hints view (read from your clone): ${hints.map((h) => hintLabel(h)).join(', ')}. ` +
        'The ground-truth diff (level 0) stays hidden unless you reveal it.'
      : 'No hint files were found in the benchmark clone.',
    '',
  ].join('\n');
}
