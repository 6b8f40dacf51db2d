// Shared vocabulary for tasks and records. A Task i goes from Record i (baseline) to Record i+1 (target).

/** Reference metrics of one record, as in its results.json (train time in ms). */
export interface Metrics {
  steps: number;
  valLoss: number;
  trainTimeMs: number;
}

/** Hint levels: 1 pseudocode, 2 description, 3 mini-paper, 9 extra docs. Level 0 is the ground-truth diff. */
export type HintLevel = 0 | 1 | 2 | 3 | 9;

/** `.speedrun/task.json` in a task workspace. Carries the reference metrics so runs and the dashboard work offline. */
export interface TaskFile {
  version: 1;
  taskId: number;
  fromRecord: number;
  toRecord: number;
  /** sha256 (hex) of record i's train_gpt2.py as copied into the workspace. */
  baselineSha256: string;
  /** Absolute path of the user's llm-speedrunner clone the task was opened from. */
  benchmarkPath: string;
  baseline: Metrics;
  target: Metrics;
  createdAt: string;
}

/** The benchmark's validity gate on val loss. */
export const TARGET_VAL_LOSS = 3.28;
