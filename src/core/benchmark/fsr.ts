// Fraction of Speedup Recovered (paper arXiv 2506.22419, section 3.1, Eq. 1):
//   FSR_i = (t_i - t') / (t_i - t_{i+1})
// for task i (record i -> record i+1), with t_i and t_{i+1} the records' train_time (ms, from their results.json)
// and t' the attempt's train_time. 0 = no faster than record i, 1 = as fast as record i+1, > 1 = faster still.
import { TARGET_VAL_LOSS } from './types';

/** The looser gate the released analysis code applies when it scores nodes (val_loss < 3.29 counts). */
export const ANALYSIS_VAL_LOSS = 3.29;
/** The analysis code treats task FSR values outside [0, 3] as 0. */
export const ANALYSIS_MAX_FSR = 3;

export interface TaskTimes {
  /** Record i's train_time in ms (the task's baseline). */
  baselineMs: number;
  /** Record i+1's train_time in ms (the task's target). */
  targetMs: number;
}

export interface RunFsr {
  /** Raw FSR of this one run: negative when slower than record i. NaN when it can't be computed. */
  fsr: number;
  /** t_i / t: how many times faster than record i (> 1 is faster). */
  speedup: number;
  /** val_loss <= 3.28, the benchmark's search-time gate. Only a valid run's FSR counts. */
  valid: boolean;
  /** Valid and at least as fast as record i+1 (FSR >= 1). */
  beatsTarget: boolean;
}

function finite(x: number | null | undefined): x is number {
  return typeof x === 'number' && Number.isFinite(x);
}

/**
 * FSR of a single run, for our per-run display (results card, projected FSR while a run trains). Unlike the
 * paper's score it is not clamped, so a slower run shows its negative FSR; `valid` says whether the run would
 * count at all (val_loss <= 3.28, the gate the benchmark applies during search; null or NaN loss = not valid).
 */
export function fsrForRun(trainTimeMs: number, valLoss: number | null, task: TaskTimes): RunFsr {
  const gap = task.baselineMs - task.targetMs;
  const ok = finite(trainTimeMs) && trainTimeMs > 0 && finite(task.baselineMs) && finite(task.targetMs) && gap !== 0;
  const fsr = ok ? (task.baselineMs - trainTimeMs) / gap : NaN;
  const valid = finite(valLoss) && valLoss <= TARGET_VAL_LOSS;
  return {
    fsr,
    speedup: ok ? task.baselineMs / trainTimeMs : NaN,
    valid,
    beatsTarget: valid && fsr >= 1,
  };
}

export interface ScoredRun {
  /** train_time in ms; null for a run that produced none (crash). */
  trainTimeMs: number | null;
  valLoss: number | null;
}

/**
 * A task's FSR following the released analysis code (llm-speedrunner `analysis/parse_levels.py`,
 * `analysis/main_plots.ipynb`), so our numbers compare with the paper's:
 * - t' is the minimum train_time over every node of the search, **including the root** (record i itself, t' <=
 *   t_i), so the result is never negative: a task where nothing got faster scores 0, not less.
 * - a node counts only if val_loss < 3.29 (the analysis gate, looser than the 3.28 search gate); a node above it,
 *   without a loss, or without a time is skipped (its train_time is NaN there).
 * - NaN becomes 0, and values outside [0, 3] become 0.
 * (Across seeds the paper then averages the top 3 runs per task and the tasks, record 6 excluded.)
 */
export function fsrForTask(runs: readonly ScoredRun[], task: TaskTimes): number {
  let best = task.baselineMs; // the root node
  for (const r of runs) {
    if (!finite(r.trainTimeMs) || !finite(r.valLoss) || r.valLoss >= ANALYSIS_VAL_LOSS) continue;
    if (r.trainTimeMs < best) best = r.trainTimeMs;
  }
  const fsr = (task.baselineMs - best) / (task.baselineMs - task.targetMs);
  if (!Number.isFinite(fsr) || fsr < 0 || fsr > ANALYSIS_MAX_FSR) return 0;
  return fsr;
}
