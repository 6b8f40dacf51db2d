// Typed events produced by the torchrun log parser. Everything downstream (runs, dashboard, CLI) consumes these.

export type Phase = 'compiling' | 'training' | 'validating' | 'finished' | 'failed' | 'cancelled';

export interface TrainStep {
  step: number;
  totalSteps: number;
  trainLoss?: number;
  trainTimeMs: number;
  stepAvgMs: number;
  /** Time of this one step, where the script prints it (records 1-3). */
  stepMs?: number;
}

export interface ValPoint {
  step: number;
  totalSteps: number;
  valLoss: number;
  trainTimeMs: number;
  stepAvgMs?: number;
}

export type ErrorKind = 'exception' | 'oom' | 'nccl' | 'syntax' | 'import' | 'signal' | 'timeout';

/** The script's own error (root cause and line). A failure around the script is RunMeta.failure. */
export interface ScriptError {
  kind: ErrorKind;
  message: string;
  /** File and 1-based line of the failure in the user's script, when known. */
  file: string | null;
  line: number | null;
}

/** The benchmark's metrics block (results.json `metrics`). train_time in ms. */
export interface FinalResult {
  n_steps: number;
  val_loss: number;
  train_time: number;
  is_valid: boolean;
}

export type LogEvent =
  | { type: 'phase'; phase: Phase }
  | ({ type: 'train' } & TrainStep)
  | ({ type: 'val' } & ValPoint)
  | { type: 'memory'; peakMiB: number; reservedMiB?: number }
  | { type: 'error'; error: ScriptError }
  | { type: 'final'; result: FinalResult };

/** What a whole log adds up to (also the `speedrun parse-log --json` shape). */
export interface ParsedLog {
  val: ValPoint[];
  train: TrainStep[];
  final: FinalResult | null;
  peakMemoryMiB: number | null;
  error: ScriptError | null;
  phase: Phase;
}

/** Streaming parser: chunks may split lines anywhere. Never throws on bad input. */
export interface LogParser {
  /** Bytes are decoded as streaming UTF-8, so a multi-byte character may be split across chunks. */
  push(chunk: string | Uint8Array): LogEvent[];
  /** Flush a trailing partial line; `exitCode`/`signal` let it decide finished/failed/cancelled. */
  end(outcome?: { exitCode: number | null; signal?: string | null; cancelled?: boolean; timedOut?: boolean }): LogEvent[];
  summary(): ParsedLog;
}
