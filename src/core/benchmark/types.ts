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

// ---- tasks/manifest.json (facts only; see tasks/README.md) ----

/** Log-line shapes a record's script prints (see the log parser): train A/A'/A''/T1/T2, val V0/V, memory M1/M2. */
export interface LogShapes {
  train: 'A' | "A'" | "A''" | 'T1' | 'T2';
  val: 'V0' | 'V';
  memory: 'M1' | 'M2';
  /** Records 18-21 print their own source (and nvidia-smi) before training. */
  printsSource: boolean;
}

export interface RecordFacts extends Metrics {
  record: number;
  /** Standard deviation of train time over the benchmark's 3 reruns, in ms. */
  trainTimeStdMs: number;
  /** Records 19-21 need a 2025 nightly torch; 1-18 run on a stable release. */
  torch: 'stable' | 'nightly';
  condaEnv: string;
  /** Smallest number of fineweb train shards (1e8 tokens each) the run reads. */
  minTrainShards: number;
  /** Where the script writes its own log, relative to the run dir; `<uuid>` is a fresh uuid4 per run. */
  logFile: string;
  logShapes: LogShapes;
  /** Steps before the clock starts (records 4-21 reset the timer at step 10). */
  untimedWarmupSteps: number;
  /** sha256 of the released train_gpt2.py (llm-speedrunner @ manifest.source.commit). */
  scriptSha256: string;
  notes?: string[];
}

export interface TaskFacts {
  id: number;
  fromRecord: number;
  toRecord: number;
  /** Reference train time of record i minus record i+1, in ms. */
  gapMs: number;
  gapPercent: number;
  /** What record i+1 changed, in our words. */
  summary: string;
  /** Hint file names per level, as strings '0' | '1' | '2' | '3' | '9'. Level 0 is the ground truth. */
  hints: Record<'0' | '1' | '2' | '3' | '9', string[]>;
}

export interface Manifest {
  schema: 1;
  about: string;
  source: { repository: string; commit: string; license: string };
  targetValLoss: number;
  /** Paths in a clone; `{record}` is replaced by the record number. */
  layout: { recordDir: string; script: string; results: string; hintsDir: string };
  excluded: { fromRecord: number; toRecord: number; reason: string }[];
  records: RecordFacts[];
  tasks: TaskFacts[];
}
