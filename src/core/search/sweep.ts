// A sweep: one search per (task, hint level, scaffold, seed), one after another (each search runs its rounds in
// parallel), with results.csv, results.json (rows and aggregates) and report.html rewritten after every search.
// It is resumable: a configuration whose search is done is read back from disk, one that was interrupted is
// resumed, and the rest start. Searches live in <out>/searches/task<T>-hints<L>-<scaffold>-seed<S>/ as ordinary
// task workspaces, so each can also be opened in the editor.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openTask, readTaskFile } from '../benchmark/openTask';
import type { TaskFile } from '../benchmark/types';
import { writeAtomic } from '../files';
import { aggregate, EXCLUDED_TASKS, rowFromNodes, toCsv, type ConfigAggregate, type SweepRow } from './aggregate';
import { isScaffoldName, SCAFFOLD_NAMES, type ScaffoldName } from './presets';
import { renderReport } from './report';
import { SearchStore } from './tree';

export class SweepError extends Error {}

/** "1-20", "3", "1-5,12" -> task ids, task 6 left out (it is not a benchmark task). */
export function parseTasks(spec: string): number[] {
  const out = new Set<number>();
  for (const part of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new SweepError(`--tasks: '${part}' is not a task number or range like 1-20`);
    const a = Number(m[1]);
    const b = m[2] ? Number(m[2]) : a;
    if (a < 1 || b > 20 || a > b) throw new SweepError(`--tasks: '${part}' must lie within 1-20`);
    for (let t = a; t <= b; t++) if (!EXCLUDED_TASKS.includes(t)) out.add(t);
  }
  if (!out.size) throw new SweepError('--tasks: no task left (task 6 is not part of the benchmark)');
  return [...out].sort((a, b) => a - b);
}

/** "none,1,2,3,1+2,1+2+3" -> canonical labels; each maps to the levels given to the model. */
export function parseHintLevels(spec: string): string[] {
  const out: string[] = [];
  for (const raw of spec.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (raw === 'none') {
      out.push('none');
      continue;
    }
    const levels = raw.split('+').map((x) => Number(x));
    if (!levels.every((l) => l === 1 || l === 2 || l === 3)) {
      throw new SweepError(`--hint-levels: '${raw}' is not none, 1, 2, 3 or a combination such as 1+2+3 (level 0 is the answer and never a hint)`);
    }
    out.push([...new Set(levels)].sort().join('+'));
  }
  if (!out.length) throw new SweepError('--hint-levels: give at least one level');
  return [...new Set(out)];
}

export const hintLevelsOf = (label: string): number[] => (label === 'none' ? [] : label.split('+').map(Number));

export function parseScaffolds(spec: string): ScaffoldName[] {
  const out = spec.split(',').map((s) => s.trim()).filter(Boolean);
  for (const s of out) if (!isScaffoldName(s)) throw new SweepError(`--scaffolds: unknown scaffold '${s}' (choose from ${SCAFFOLD_NAMES.join(', ')})`);
  if (!out.length) throw new SweepError('--scaffolds: give at least one scaffold');
  return [...new Set(out)] as ScaffoldName[];
}

/** A search's RNG seed, fixed by its configuration so a rerun of the sweep repeats it. */
export function searchSeed(task: number, hint: string, scaffold: string, seed: number): number {
  return createHash('sha256').update(`${task}/${hint}/${scaffold}/${seed}`).digest().readUInt32LE(0);
}

export interface SweepPlan {
  benchmark: string;
  tasks: number[];
  hintLevels: string[];
  scaffolds: ScaffoldName[];
  seeds: number;
  out: string;
}

export interface SweepConfig {
  task: number;
  hintLevel: string;
  scaffold: ScaffoldName;
  seed: number;
  taskDir: string;
}

export interface SweepDeps {
  /**
   * Runs (or, with `resumeId`, resumes) one search to its end; returns its id and final state. The CLI builds the
   * writer and runner here; tests pass their own.
   */
  runSearch(c: SweepConfig, task: TaskFile, rngSeed: number, resumeId?: string): Promise<{ searchId: string; state: string }>;
  log?(line: string): void;
}

export function configsOf(p: SweepPlan): SweepConfig[] {
  const out: SweepConfig[] = [];
  for (const task of p.tasks)
    for (const hintLevel of p.hintLevels)
      for (const scaffold of p.scaffolds)
        for (let seed = 1; seed <= p.seeds; seed++)
          out.push({ task, hintLevel, scaffold, seed, taskDir: path.join(p.out, 'searches', `task${task}-hints${hintLevel}-${scaffold}-seed${seed}`) });
  return out;
}

function rowOf(c: SweepConfig, store: SearchStore): SweepRow {
  const { config, progress } = store.read();
  return rowFromNodes(
    { task: c.task, hintLevel: c.hintLevel, scaffold: c.scaffold, seed: c.seed, searchId: config.searchId, state: progress.state },
    { baselineMs: config.baselineMs, targetMs: config.targetMs },
    store.nodes(),
  );
}

export function writeOutputs(out: string, rows: SweepRow[], plan?: SweepPlan): ConfigAggregate[] {
  const aggs = aggregate(rows);
  fs.mkdirSync(out, { recursive: true });
  writeAtomic(path.join(out, 'results.csv'), toCsv(rows));
  writeAtomic(path.join(out, 'results.json'), JSON.stringify({ plan, rows, aggregates: aggs }, null, 2) + '\n');
  writeAtomic(path.join(out, 'report.html'), renderReport(rows, aggs));
  return aggs;
}

export async function runSweep(plan: SweepPlan, deps: SweepDeps): Promise<{ rows: SweepRow[]; aggregates: ConfigAggregate[] }> {
  const rows: SweepRow[] = [];
  const configs = configsOf(plan);
  for (const [i, c] of configs.entries()) {
    const label = `[${i + 1}/${configs.length}] task ${c.task}, hints ${c.hintLevel}, ${c.scaffold}, seed ${c.seed}`;
    let task: TaskFile;
    if (fs.existsSync(path.join(c.taskDir, '.speedrun', 'task.json'))) task = readTaskFile(c.taskDir);
    else task = openTask({ benchmarkPath: plan.benchmark, taskId: c.task, dest: c.taskDir }).task;
    const last = SearchStore.list(c.taskDir).map((id) => new SearchStore(c.taskDir, id)).pop();
    const state = last?.read().progress.state;
    if (last && state === 'done') {
      deps.log?.(`${label}: done earlier (search ${last.searchId})`);
    } else {
      deps.log?.(`${label}: ${last ? `resuming search ${last.searchId}` : 'starting'}`);
      await deps.runSearch(c, task, searchSeed(c.task, c.hintLevel, c.scaffold, c.seed), last?.searchId);
    }
    const done = SearchStore.list(c.taskDir).map((id) => new SearchStore(c.taskDir, id)).pop();
    if (done) rows.push(rowOf(c, done));
    writeOutputs(plan.out, rows, plan);
  }
  return { rows, aggregates: aggregate(rows) };
}
