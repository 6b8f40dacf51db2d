// A sweep's rows and the aggregates the paper reports, computed with the conventions of the released analysis code
// (llm-speedrunner analysis/parse_levels.py and main_plots.ipynb; docs/benchmark.md section 3):
// - a search's t' is the minimum train_time over all its nodes, the root (record i, t_i) included, so FSR >= 0;
// - a node counts only when val_loss < 3.29 (the analysis gate, looser than the search's 3.28 gate);
// - NaN becomes 0, and a task FSR outside [0, 3] becomes 0 (src/core/benchmark/fsr.ts: fsrForTask does all three);
// - per task and configuration, the top 3 runs (seeds) are averaged; then tasks are averaged; task 6 (record 6 ->
//   7, a PyTorch upgrade only) is never a task;
// - the error is a standard error of the mean. The paper does not say over what; we take it over seeds: the
//   sample standard deviation of the per-seed means over tasks, divided by sqrt(seeds) (0 with one seed).
// Node shares (paper section 4.5): buggy (run failed or val loss > 3.28), improved (valid and faster than its
// parent), unimproved (valid, not faster).
import { fsrForTask } from '../benchmark/fsr';
import type { ScaffoldName } from './presets';
import { bestValid, isBuggy, type NodeMeta } from './tree';

export const TOP_RUNS_PER_TASK = 3;
/** 6 -> 7 is excluded from the benchmark. */
export const EXCLUDED_TASKS: readonly number[] = [6];

/** One search of a sweep: results.csv / results.json row. */
export interface SweepRow {
  task: number;
  /** 'none', '1', '2', '3', or a combination such as '1+2+3'. */
  hintLevel: string;
  scaffold: ScaffoldName;
  seed: number;
  searchId: string;
  /** done, or stopped / interrupted when the search did not finish. */
  state: string;
  baselineMs: number;
  targetMs: number;
  /** The best valid node (3.28 gate) by train_time; 0 = the root, nothing beat record i. */
  bestNode: number | null;
  trainTimeMs: number | null;
  valLoss: number | null;
  isValid: boolean;
  /** The task FSR of this search, analysis conventions (see above). */
  fsr: number;
  nodes: number;
  buggy: number;
  improved: number;
  unimproved: number;
}

export function rowFromNodes(
  key: { task: number; hintLevel: string; scaffold: ScaffoldName; seed: number; searchId: string; state: string },
  times: { baselineMs: number; targetMs: number },
  nodes: readonly NodeMeta[],
): SweepRow {
  const agentNodes = nodes.filter((n) => n.parent !== null);
  const byId = new Map(nodes.map((n) => [n.id, n]));
  let improved = 0;
  let unimproved = 0;
  for (const n of agentNodes) {
    if (isBuggy(n)) continue;
    const p = byId.get(n.parent!);
    if (p && typeof p.trainTimeMs === 'number' && (n.trainTimeMs as number) < p.trainTimeMs) improved++;
    else unimproved++;
  }
  const best = bestValid(nodes);
  return {
    ...key,
    ...times,
    bestNode: best ? best.id : null,
    trainTimeMs: best?.trainTimeMs ?? null,
    valLoss: best?.valLoss ?? null,
    isValid: !!best && best.id !== 0,
    fsr: fsrForTask(
      agentNodes.map((n) => ({ trainTimeMs: n.status === 'finished' ? (n.trainTimeMs ?? null) : null, valLoss: n.valLoss ?? null })),
      times,
    ),
    nodes: agentNodes.length,
    buggy: agentNodes.filter(isBuggy).length,
    improved,
    unimproved,
  };
}

export interface TaskScore {
  task: number;
  /** Mean of the top-3 seeds' FSR. */
  fsr: number;
  runs: number;
}

export interface ConfigAggregate {
  scaffold: ScaffoldName;
  hintLevel: string;
  /** Mean over tasks of each task's top-3 mean. */
  meanFsr: number;
  /** Standard error over seeds (see the header). */
  sem: number;
  tasks: TaskScore[];
  seeds: number;
  shares: { buggy: number; improved: number; unimproved: number };
}

const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

function sem(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  const sd = Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / (xs.length - 1));
  return sd / Math.sqrt(xs.length);
}

/** Aggregates per (scaffold, hint level), in the order configurations first appear in `rows`. */
export function aggregate(rows: readonly SweepRow[]): ConfigAggregate[] {
  const groups = new Map<string, SweepRow[]>();
  for (const r of rows) {
    if (EXCLUDED_TASKS.includes(r.task)) continue;
    const k = `${r.scaffold}\u0000${r.hintLevel}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  const out: ConfigAggregate[] = [];
  for (const g of groups.values()) {
    const byTask = new Map<number, number[]>();
    for (const r of g) byTask.set(r.task, [...(byTask.get(r.task) ?? []), r.fsr]);
    const tasks: TaskScore[] = [...byTask.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([task, fs]) => ({ task, fsr: mean([...fs].sort((a, b) => b - a).slice(0, TOP_RUNS_PER_TASK)), runs: fs.length }));
    const seeds = [...new Set(g.map((r) => r.seed))].sort((a, b) => a - b);
    const perSeed = seeds.map((s) => mean(g.filter((r) => r.seed === s).map((r) => r.fsr)));
    const total = g.reduce((a, r) => a + r.nodes, 0) || 1;
    out.push({
      scaffold: g[0].scaffold,
      hintLevel: g[0].hintLevel,
      meanFsr: mean(tasks.map((t) => t.fsr)),
      sem: sem(perSeed),
      tasks,
      seeds: seeds.length,
      shares: {
        buggy: g.reduce((a, r) => a + r.buggy, 0) / total,
        improved: g.reduce((a, r) => a + r.improved, 0) / total,
        unimproved: g.reduce((a, r) => a + r.unimproved, 0) / total,
      },
    });
  }
  return out;
}

export const CSV_COLUMNS: readonly (keyof SweepRow)[] = [
  'task', 'hintLevel', 'scaffold', 'seed', 'searchId', 'state', 'baselineMs', 'targetMs', 'bestNode', 'trainTimeMs', 'valLoss', 'isValid', 'fsr',
  'nodes', 'buggy', 'improved', 'unimproved',
];

/** RFC 4180 CSV: a header, then one line per row; empty cell for null. */
export function toCsv(rows: readonly SweepRow[]): string {
  const cell = (v: unknown) => {
    const s = v === null || v === undefined ? '' : String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  return [CSV_COLUMNS.join(','), ...rows.map((r) => CSV_COLUMNS.map((c) => cell(r[c])).join(','))].join('\r\n') + '\r\n';
}
