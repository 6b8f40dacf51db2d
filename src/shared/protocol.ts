// Typed messages from the extension host to the dashboard webview (both sides import this file; the other
// direction is in webviewMessages.ts). Flow: the webview posts `ready`; only then does the host send `init`,
// followed by batched `append`s and `header`/`result`/`runs`/`overlays` updates. The webview checks every
// message with isHostMessage before using it; the host parses the webview's with zod schemas.
//
// Numbers that can be `nan`/`inf` in a log travel as `null`: webview messages are JSON-serialised.
import type { Phase, ScriptError } from '../core/logs/types';
import type { RunState } from '../core/runs/types';
import type { ExportFormat } from './webviewMessages';

/** Re-exported for the webviews, which import nothing but src/shared. */
export type { Phase, ScriptError };

/** One printed training step. */
export interface TrainPoint {
  step: number;
  totalSteps: number;
  trainTimeMs: number;
  stepAvgMs: number | null;
  /** Absent when the script does not print training loss (records 15 and later). */
  trainLoss?: number | null;
}

/** One validation line. */
export interface ValPointWire {
  step: number;
  totalSteps: number;
  /** Null when unknown (a record log without times). */
  trainTimeMs: number | null;
  valLoss: number | null;
}

/** A validation curve drawn next to the run: the reference record, the starting record, or another run. */
export interface Curve {
  id: string;
  label: string;
  kind: 'reference' | 'start' | 'run';
  points: ValPointWire[];
  /** True when only the record's end point is known (no log to read the full curve from). */
  endPointOnly: boolean;
}

export interface RecordMetrics {
  steps: number;
  valLoss: number;
  trainTimeMs: number;
}

export interface TaskInfo {
  taskId: number;
  fromRecord: number;
  toRecord: number;
  baseline: RecordMetrics;
  target: RecordMetrics;
}

/** What the header shows; computed in the host. */
export interface Header {
  runId: string;
  target: string;
  state: RunState;
  phase: Phase | null;
  /** Epoch ms at which the current state began; the webview ticks the elapsed time from it. */
  stateSince: number | null;
  step: number | null;
  totalSteps: number | null;
  stepAvgMs: number | null;
  trainTimeMs: number | null;
  /** Projected training time at the last step (the ETA of the clock the benchmark scores). */
  projectedTrainTimeMs: number | null;
  /** Projected FSR against records i and i+1, from the projected training time. */
  projectedFsr: number | null;
}

export interface Coverage {
  /** Share of the reference change (record i -> i+1) that the attempt also made, 0..1. */
  reproduced: number;
  /** Share of the attempt's change that is not in the reference, 0..1. */
  extra: number;
}

/** The results card, once a run has ended. */
export interface ResultCard {
  state: RunState;
  nSteps: number | null;
  trainTimeMs: number | null;
  valLoss: number | null;
  valid: boolean;
  fsr: number | null;
  /** t_i / t: how many times faster than the starting record. */
  speedup: number | null;
  coverage: Coverage | null;
  /** The script's error, with its root cause and line. */
  error: ScriptError | null;
  /** A failure around the script (connect, preflight, upload, launch, cancel). */
  failure: { stage: string; message: string } | null;
  /** The run ran on the simulated GPU box: its times are a demo, not a measurement. */
  simulated?: boolean;
  /** FSR against the target's own calibrated times of records i and i+1 (`speedrun calibrate`), when known. */
  boxFsr?: number | null;
  /** The repeats this run belongs to (Run x K), with the significance tests. */
  repeat?: RepeatCard | null;
}

/** Repeats of an attempt (and an interleaved baseline): what the results card and its chart show. */
export interface RepeatCard {
  repeatId: string;
  /** Attempt runs asked for, and their final val losses (finished runs only, in run order). */
  planned: number;
  valLosses: number[];
  threshold: number;
  meanValLoss: number | null;
  sdValLoss: number | null;
  meanTrainTimeMs: number | null;
  sdTrainTimeMs: number | null;
  /** One-sided one-sample t-test, mean val loss below the threshold; null below 2 finished runs. */
  p: number | null;
  pass: boolean | null;
  /** Every val loss the same (the same seed, or a deterministic box): a t-test can tell nothing, no verdict. */
  noSpread: boolean;
  /** Welch's t-test on train times against the interleaved baseline (noSpread: neither side varied). */
  faster: { p: number | null; pass: boolean; noSpread: boolean; baselineMeanMs: number; baselineSdMs: number | null; n: number } | null;
}

/** One row of the runs table. */
export interface RunRow {
  runId: string;
  state: RunState;
  createdAt: string;
  target: string;
  trainTimeMs: number | null;
  valLoss: number | null;
  valid: boolean | null;
  fsr: number | null;
  steps: number | null;
  stepAvgMs: number | null;
}

export type HostMessage =
  | {
      type: 'init';
      /** The dashboard keeps this run instead of following the task's newest. */
      pinned: boolean;
      task: TaskInfo | null;
      header: Header;
      targetValLoss: number;
      train: TrainPoint[];
      val: ValPointWire[];
      curves: Curve[];
      runs: RunRow[];
      result: ResultCard | null;
    }
  | { type: 'append'; runId: string; train: TrainPoint[]; val: ValPointWire[] }
  | { type: 'header'; header: Header }
  | { type: 'result'; result: ResultCard | null }
  | { type: 'runs'; runs: RunRow[] }
  /** The overlaid runs the user picked (replaces the previous set). */
  | { type: 'overlays'; curves: Curve[] }
  /** Ask the webview for an export; it answers with `exportData` carrying the same requestId. */
  | { type: 'requestExport'; requestId: string; format: ExportFormat };

// ---- type guards -------------------------------------------------------------------------------------

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const isNumOrNull = (v: unknown): v is number | null => v === null || isNum(v);
const isStr = (v: unknown): v is string => typeof v === 'string';
const isStrOrNull = (v: unknown): v is string | null => v === null || isStr(v);
const isBool = (v: unknown): v is boolean => typeof v === 'boolean';
const isArrOf = <T>(v: unknown, f: (x: unknown) => x is T): v is T[] => Array.isArray(v) && v.every(f);

const RUN_STATES: readonly string[] = [
  'queued', 'connecting', 'preflight', 'uploading', 'compiling', 'training', 'validating',
  'finished', 'failed', 'cancelled', 'timed-out',
];
const PHASES: readonly string[] = ['compiling', 'training', 'validating', 'finished', 'failed', 'cancelled'];
const ERROR_KINDS: readonly string[] = ['exception', 'oom', 'nccl', 'syntax', 'import', 'signal', 'timeout'];
const isRunState = (v: unknown): v is RunState => isStr(v) && RUN_STATES.includes(v);
const isFormat = (v: unknown): v is ExportFormat => v === 'png' || v === 'csv';

export function isTrainPoint(v: unknown): v is TrainPoint {
  return isObj(v) && isNum(v.step) && isNum(v.totalSteps) && isNum(v.trainTimeMs) && isNumOrNull(v.stepAvgMs)
    && (v.trainLoss === undefined || isNumOrNull(v.trainLoss));
}

export function isValPoint(v: unknown): v is ValPointWire {
  return isObj(v) && isNum(v.step) && isNum(v.totalSteps) && isNumOrNull(v.trainTimeMs) && isNumOrNull(v.valLoss);
}

function isCurve(v: unknown): v is Curve {
  return isObj(v) && isStr(v.id) && isStr(v.label) && (v.kind === 'reference' || v.kind === 'start' || v.kind === 'run')
    && isArrOf(v.points, isValPoint) && isBool(v.endPointOnly);
}

const isMetrics = (v: unknown): v is RecordMetrics =>
  isObj(v) && isNum(v.steps) && isNum(v.valLoss) && isNum(v.trainTimeMs);

function isTaskInfo(v: unknown): v is TaskInfo {
  return isObj(v) && isNum(v.taskId) && isNum(v.fromRecord) && isNum(v.toRecord) && isMetrics(v.baseline)
    && isMetrics(v.target);
}

function isHeader(v: unknown): v is Header {
  return isObj(v) && isStr(v.runId) && isStr(v.target) && isRunState(v.state)
    && (v.phase === null || (isStr(v.phase) && PHASES.includes(v.phase)))
    && isNumOrNull(v.stateSince) && isNumOrNull(v.step) && isNumOrNull(v.totalSteps) && isNumOrNull(v.stepAvgMs)
    && isNumOrNull(v.trainTimeMs) && isNumOrNull(v.projectedTrainTimeMs) && isNumOrNull(v.projectedFsr);
}

function isScriptError(v: unknown): v is ScriptError {
  return isObj(v) && isStr(v.kind) && ERROR_KINDS.includes(v.kind) && isStr(v.message) && isStrOrNull(v.file)
    && isNumOrNull(v.line);
}

function isResultCard(v: unknown): v is ResultCard {
  return isObj(v) && isRunState(v.state) && isNumOrNull(v.nSteps) && isNumOrNull(v.trainTimeMs)
    && isNumOrNull(v.valLoss) && isBool(v.valid) && isNumOrNull(v.fsr) && isNumOrNull(v.speedup)
    && (v.coverage === null || (isObj(v.coverage) && isNum(v.coverage.reproduced) && isNum(v.coverage.extra)))
    && (v.error === null || isScriptError(v.error))
    && (v.failure === null || (isObj(v.failure) && isStr(v.failure.stage) && isStr(v.failure.message)))
    && (v.simulated === undefined || isBool(v.simulated)) && (v.boxFsr === undefined || isNumOrNull(v.boxFsr))
    && (v.repeat === undefined || v.repeat === null || isRepeatCard(v.repeat));
}

function isRepeatCard(v: unknown): v is RepeatCard {
  return isObj(v) && isStr(v.repeatId) && isNum(v.planned) && isArrOf(v.valLosses, isNum) && isNum(v.threshold)
    && isNumOrNull(v.meanValLoss) && isNumOrNull(v.sdValLoss) && isNumOrNull(v.meanTrainTimeMs) && isNumOrNull(v.sdTrainTimeMs)
    && isNumOrNull(v.p) && (v.pass === null || isBool(v.pass)) && isBool(v.noSpread)
    && (v.faster === null || (isObj(v.faster) && isNumOrNull(v.faster.p) && isBool(v.faster.pass) && isBool(v.faster.noSpread) && isNum(v.faster.baselineMeanMs)
      && isNumOrNull(v.faster.baselineSdMs) && isNum(v.faster.n)));
}

function isRunRow(v: unknown): v is RunRow {
  return isObj(v) && isStr(v.runId) && isRunState(v.state) && isStr(v.createdAt) && isStr(v.target)
    && isNumOrNull(v.trainTimeMs) && isNumOrNull(v.valLoss) && (v.valid === null || isBool(v.valid))
    && isNumOrNull(v.fsr) && isNumOrNull(v.steps) && isNumOrNull(v.stepAvgMs);
}

/** Guard for what the webview receives. */
export function isHostMessage(m: unknown): m is HostMessage {
  if (!isObj(m)) return false;
  switch (m.type) {
    case 'init':
      return isBool(m.pinned) && (m.task === null || isTaskInfo(m.task)) && isHeader(m.header) && isNum(m.targetValLoss)
        && isArrOf(m.train, isTrainPoint) && isArrOf(m.val, isValPoint) && isArrOf(m.curves, isCurve)
        && isArrOf(m.runs, isRunRow) && (m.result === null || isResultCard(m.result));
    case 'append':
      return isStr(m.runId) && isArrOf(m.train, isTrainPoint) && isArrOf(m.val, isValPoint);
    case 'header':
      return isHeader(m.header);
    case 'result':
      return m.result === null || isResultCard(m.result);
    case 'runs':
      return isArrOf(m.runs, isRunRow);
    case 'overlays':
      return isArrOf(m.curves, isCurve);
    case 'requestExport':
      return isStr(m.requestId) && isFormat(m.format);
    default:
      return false;
  }
}

/** Log numbers to wire numbers: nan/inf become null. */
export function finiteOrNull(v: number | undefined | null): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
