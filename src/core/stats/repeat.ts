// Repeats: run the task's script K times on one target, optionally interleaved with record i's script (the
// baseline) on the same box, so both see the same machine state. A repeat group is stored in
// <task>/.speedrun/repeats/<repeatId>.json; the baseline's runs live in <task>/.speedrun/baseline/, a task
// folder of its own holding record i's script as released, so they stay out of the task's own run list.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readBenchmarkBytes, scriptPath } from '../benchmark/catalog';
import { readTaskFile, SCRIPT_NAME, SPEEDRUN_DIR, TASK_FILE } from '../benchmark/openTask';
import { writeAtomic } from '../files';
import { newRunId, RunStore, isRunId } from '../runs/store';
import type { RunMeta, RunStage } from '../runs/types';
import { runValue } from './samples';
import { sample, StatsError, testBelow, testFaster, type OneSampleTest, type Sample, type WelchTest } from './ttest';

export const REPEATS_DIR = path.join(SPEEDRUN_DIR, 'repeats');
export const BASELINE_DIR = path.join(SPEEDRUN_DIR, 'baseline');

/** What repeats and calibration need from the run manager (src/core/runs/manager.ts). */
export interface RunDriver {
  enqueue(opts: { taskDir: string; target: string; origin?: RunMeta['origin'] }): RunMeta;
  waitForEnd(runId: string): Promise<RunMeta>;
}

export type Role = 'attempt' | 'baseline';

export interface RepeatGroup {
  version: 1;
  repeatId: string;
  createdAt: string;
  target: string;
  /** Runs asked for per role. */
  repeats: number;
  interleaveBaseline: boolean;
  /** Run ids in the task folder. */
  attempt: string[];
  /** Run ids in the baseline folder (BASELINE_DIR). */
  baseline: string[];
  /** Why the repeats stopped before all ran, if they did. */
  stopped?: string;
}

export interface Progress {
  role: Role;
  /** 1-based index within the role, and the role's total. */
  index: number;
  of: number;
  meta: RunMeta;
}

/** Stages where a failure means the box, not the script, is the problem: the next run would fail the same way. */
const BOX_STAGES: readonly RunStage[] = ['connect', 'lock', 'preflight', 'upload', 'launch'];

export function boxFailure(m: RunMeta): string | undefined {
  return m.failure && BOX_STAGES.includes(m.failure.stage) ? `run ${m.runId} failed at ${m.failure.stage}: ${m.failure.message}` : undefined;
}

/** The baseline folder of a task, (re)written with record i's script from the user's clone. */
export function prepareBaseline(taskDir: string): string {
  const task = readTaskFile(taskDir);
  let script: Buffer;
  try {
    script = readBenchmarkBytes(scriptPath(task.benchmarkPath, task.fromRecord));
  } catch (e) {
    throw new StatsError(`record ${task.fromRecord}'s script for the baseline: ${(e as Error).message}`);
  }
  const dir = path.join(taskDir, BASELINE_DIR);
  fs.mkdirSync(path.join(dir, SPEEDRUN_DIR), { recursive: true });
  writeAtomic(path.join(dir, SCRIPT_NAME), script);
  writeAtomic(path.join(dir, TASK_FILE), JSON.stringify(task, null, 2) + '\n');
  return dir;
}

function groupFile(taskDir: string, repeatId: string): string {
  if (!isRunId(repeatId)) throw new StatsError(`'${repeatId}' is not a repeat id`);
  return path.join(taskDir, REPEATS_DIR, `${repeatId}.json`);
}

function saveGroup(taskDir: string, g: RepeatGroup): void {
  fs.mkdirSync(path.join(taskDir, REPEATS_DIR), { recursive: true });
  writeAtomic(groupFile(taskDir, g.repeatId), JSON.stringify(g, null, 2) + '\n');
}

export function readGroup(taskDir: string, repeatId: string): RepeatGroup {
  try {
    return JSON.parse(fs.readFileSync(groupFile(taskDir, repeatId), 'utf8')) as RepeatGroup;
  } catch {
    throw new StatsError(`no repeat ${repeatId} in ${taskDir}`);
  }
}

/** Stored repeat groups of a task, oldest first; unreadable files are skipped. */
export function listGroups(taskDir: string): RepeatGroup[] {
  let names: string[];
  try {
    names = fs.readdirSync(path.join(taskDir, REPEATS_DIR));
  } catch {
    return [];
  }
  return names
    .filter((n) => n.endsWith('.json') && isRunId(n.slice(0, -5)))
    .sort()
    .flatMap((n) => {
      try {
        return [readGroup(taskDir, n.slice(0, -5))];
      } catch {
        return [];
      }
    });
}

/** The repeat group an attempt run belongs to, if any (the newest). */
export function groupOfRun(taskDir: string, runId: string): RepeatGroup | undefined {
  return listGroups(taskDir).reverse().find((g) => g.attempt.includes(runId));
}

export interface RepeatOptions {
  taskDir: string;
  target: string;
  repeats: number;
  interleaveBaseline: boolean;
  origin?: RunMeta['origin'];
  onRun?(p: Progress): void;
  /** Checked before each run: true stops the repeats (the current run goes on). */
  stopRequested?(): boolean;
}

/** Runs the repeats in order (attempt, baseline, attempt, ...), storing the group after each run. */
export async function runRepeats(driver: RunDriver, o: RepeatOptions): Promise<RepeatGroup> {
  if (!Number.isInteger(o.repeats) || o.repeats < 1) throw new StatsError('the number of repeats must be a whole number of at least 1');
  readTaskFile(o.taskDir); // a task folder, or a clear error before anything runs
  const baselineDir = o.interleaveBaseline ? prepareBaseline(o.taskDir) : undefined;
  const g: RepeatGroup = {
    version: 1, repeatId: newRunId(), createdAt: new Date().toISOString(), target: o.target,
    repeats: o.repeats, interleaveBaseline: o.interleaveBaseline, attempt: [], baseline: [],
  };
  saveGroup(o.taskDir, g);
  const plan: Role[] = [];
  for (let i = 0; i < o.repeats; i++) plan.push('attempt', ...(baselineDir ? (['baseline'] as const) : []));
  for (const role of plan) {
    if (o.stopRequested?.()) {
      g.stopped = 'stopped on request';
      break;
    }
    const dir = role === 'attempt' ? o.taskDir : baselineDir!;
    const m = driver.enqueue({ taskDir: dir, target: o.target, origin: o.origin });
    g[role].push(m.runId);
    saveGroup(o.taskDir, g);
    const end = await driver.waitForEnd(m.runId);
    o.onRun?.({ role, index: g[role].length, of: o.repeats, meta: end });
    const box = boxFailure(end);
    if (box) {
      g.stopped = box;
      break;
    }
  }
  saveGroup(o.taskDir, g);
  return g;
}

export interface RunResult {
  runId: string;
  state: RunMeta['state'];
  valLoss: number | null;
  trainTimeMs: number | null;
}

export interface Side {
  runs: RunResult[];
  /** Over finished runs with a result; null with none. */
  valLoss: Sample | null;
  trainTimeMs: Sample | null;
}

export interface RepeatSummary {
  group: RepeatGroup;
  attempt: Side;
  baseline: Side | null;
  /** The speedrun's rule on the attempt's val losses (mean below 3.28, p < 0.01); null with fewer than 2. */
  significance: OneSampleTest | null;
  /** Welch's t-test: the attempt trains faster than the baseline; null without 2 of each. */
  faster: WelchTest | null;
}

function side(dir: string, ids: readonly string[]): Side {
  const store = new RunStore(dir);
  const runs = ids.map((runId): RunResult => {
    const m = store.read(runId);
    return { runId, state: m?.state ?? 'failed', valLoss: m ? runValue(m, 'valLoss') ?? null : null, trainTimeMs: m ? runValue(m, 'trainTimeMs') ?? null : null };
  });
  const of = (k: 'valLoss' | 'trainTimeMs') => {
    const xs = runs.map((r) => r[k]).filter((x): x is number => x !== null);
    return xs.length ? sample(xs) : null;
  };
  return { runs, valLoss: of('valLoss'), trainTimeMs: of('trainTimeMs') };
}

const values = (s: Side, k: 'valLoss' | 'trainTimeMs') => s.runs.map((r) => r[k]).filter((x): x is number => x !== null);

export function summarizeGroup(taskDir: string, g: RepeatGroup, threshold?: number): RepeatSummary {
  const attempt = side(taskDir, g.attempt);
  const baseline = g.interleaveBaseline ? side(path.join(taskDir, BASELINE_DIR), g.baseline) : null;
  const losses = values(attempt, 'valLoss');
  const times = values(attempt, 'trainTimeMs');
  const baseTimes = baseline ? values(baseline, 'trainTimeMs') : [];
  return {
    group: g,
    attempt,
    baseline,
    significance: losses.length >= 2 ? testBelow(losses, threshold) : null,
    faster: times.length >= 2 && baseTimes.length >= 2 ? testFaster(times, baseTimes) : null,
  };
}

/** One line for lists (the Runs view): mean ± sd of val loss and train time over the finished repeats, and p. */
export function repeatLine(s: RepeatSummary): string {
  const v = s.attempt.valLoss;
  const t = s.attempt.trainTimeMs;
  const pm = (x: Sample, digits: number, scale = 1) => `${(x.mean / scale).toFixed(digits)}${x.n > 1 ? ` ± ${(x.std / scale).toFixed(digits)}` : ''}`;
  const parts = [`x${s.group.attempt.length}/${s.group.repeats}`];
  if (v) parts.push(`val ${pm(v, 4)}`);
  if (t) parts.push(`${pm(t, 1, 1000)} s`);
  const sig = s.significance;
  if (sig) parts.push(sig.noSpread ? 'no spread: no verdict' : `p ${sig.p < 1e-4 ? sig.p.toExponential(1) : sig.p.toFixed(4)} ${sig.pass ? 'PASS' : 'FAIL'}`);
  return parts.join(' · ');
}
