// A Run: one execution of a task's train_gpt2.py on a Target. Stored in <task>/.speedrun/runs/<runId>/.
import type { FinalResult, LogEvent, ScriptError } from '../logs/types';

export type RunState =
  | 'queued' | 'connecting' | 'preflight' | 'uploading'
  | 'compiling' | 'training' | 'validating'
  | 'finished' | 'failed' | 'cancelled' | 'timed-out';

export const TERMINAL_STATES: readonly RunState[] = ['finished', 'failed', 'cancelled', 'timed-out'];

/** meta.json */
/** A process of a machine (see core/processOwner.ts). */
export interface ProcessOwner {
  machine?: string;
  pid?: number;
  /** When that process started (ms since the epoch, from /proc), to tell a reused pid from the owner. */
  startMs?: number;
}

export interface RunMeta {
  runId: string;
  taskId: number;
  target: string;
  state: RunState;
  createdAt: string;
  startedAt?: string;
  endedAt?: string;
  exitCode?: number | null;
  error?: ScriptError | null;
  /** sha256 of the script snapshot that ran. */
  scriptSha256: string;
  /** Remote run directory, for re-attaching after a reload. */
  remoteDir?: string;
  /** Last known progress, so lists render without re-parsing logs. */
  step?: number;
  totalSteps?: number;
  valLoss?: number;
  trainTimeMs?: number;
  final?: FinalResult | null;
  /** True when the target is the simulated GPU box. */
  simulated?: boolean;
  /** Why a run failed before or around the script (connect, preflight, upload, launch, cancel); `error` is the script's. */
  failure?: RunFailure | null;
  /** Who asked for the run. */
  origin?: 'user' | 'agent' | 'cli';
  /** The script's own log file, relative to the run dir (e.g. `logs/<uuid>.txt`), once fetched. */
  scriptLog?: string;
  /** The run's Slurm job (`123`, or `123_4` in a job array), for re-attaching, status and scancel. */
  slurmJobId?: string;
  /** The scheduler's own word on the run while it has one ("PENDING (waiting: Resources)", "RUNNING", "TIMEOUT"). */
  schedulerState?: string;
  /** Preflight findings worth keeping (python/torch versions, warnings). */
  preflight?: PreflightReport;
  /** The process submitting this run as part of a job array, until it is submitted (see RunManager.attach). */
  submitter?: ProcessOwner;
}

export type RunStage = 'connect' | 'lock' | 'preflight' | 'upload' | 'launch' | 'stream' | 'cancel';

export interface RunFailure {
  stage: RunStage;
  message: string;
}

export interface PreflightReport {
  gpus: number | null;
  python: string | null;
  torch: string | null;
  trainShards: number | null;
  freeDiskMiB: number | null;
  warnings: string[];
}

/** results.json, in the benchmark's format. */
export interface BenchmarkResults {
  status: 'COMPLETED' | 'FAILED' | 'CANCELLED' | 'TIMEOUT';
  metrics: { n_steps: number | null; val_loss: number | null; train_time: number | null; is_valid: boolean };
}

/** Everything a run reports; UIs only render these. */
export type RunEvent =
  | { type: 'state'; runId: string; state: RunState; detail?: string }
  | { type: 'output'; runId: string; text: string }
  | { type: 'log'; runId: string; event: LogEvent }
  | { type: 'ended'; runId: string; meta: RunMeta };
