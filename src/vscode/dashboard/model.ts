// What the dashboard shows for one run, computed in the extension host from run metadata and parser events:
// the point series (stored history + live events, without duplicates), the header, the results card and the
// runs table rows. Pure: no VS Code, no file system, so unit tests cover it on Node. It lives with the
// dashboard face, not in core, because it speaks the webview protocol (src/shared/protocol.ts).
import { fsrForRun } from '../../core/benchmark/fsr';
import type { TaskFile } from '../../core/benchmark/types';
import { TARGET_VAL_LOSS } from '../../core/benchmark/types';
import { projectedTrainTimeMs, recentStepMs } from '../../core/logs/progress';
import type { FinalResult, LogEvent, ParsedLog, Phase, ScriptError, TrainStep, ValPoint } from '../../core/logs/types';
import { TERMINAL_STATES, type RunMeta, type RunState } from '../../core/runs/types';
import {
  finiteOrNull, type Coverage, type Curve, type Header, type ResultCard, type RunRow, type TaskInfo, type TrainPoint,
  type ValPointWire,
} from '../../shared/protocol';

export function toTrainWire(p: TrainStep): TrainPoint {
  const w: TrainPoint = { step: p.step, totalSteps: p.totalSteps, trainTimeMs: p.trainTimeMs, stepAvgMs: finiteOrNull(p.stepAvgMs) };
  if (p.trainLoss !== undefined) w.trainLoss = finiteOrNull(p.trainLoss);
  return w;
}

export function toValWire(p: ValPoint): ValPointWire {
  return { step: p.step, totalSteps: p.totalSteps, trainTimeMs: finiteOrNull(p.trainTimeMs), valLoss: finiteOrNull(p.valLoss) };
}

export function taskInfo(t: TaskFile): TaskInfo {
  return { taskId: t.taskId, fromRecord: t.fromRecord, toRecord: t.toRecord, baseline: t.baseline, target: t.target };
}

/**
 * One run's series. History comes from parsing the stored console.log when the run is opened; live events
 * arrive afterwards and may repeat lines already read (the file is written before events are emitted, and a
 * re-attached run may replay), so a point is kept only if its step moves forward.
 */
export class RunSeries {
  readonly train: TrainStep[] = [];
  readonly val: ValPoint[] = [];
  phase: Phase | null = null;
  error: ScriptError | null = null;
  final: FinalResult | null = null;
  private pendingTrain: TrainStep[] = [];
  private pendingVal: ValPoint[] = [];

  constructor(history?: ParsedLog) {
    if (!history) return;
    this.train.push(...history.train);
    this.val.push(...history.val);
    this.phase = history.phase;
    this.error = history.error;
    this.final = history.final;
  }

  /** Applies a live parser event; true if anything the dashboard shows changed. */
  add(ev: LogEvent): boolean {
    switch (ev.type) {
      case 'train': {
        const last = this.train[this.train.length - 1];
        if (last && ev.step <= last.step) return false;
        const { type: _t, ...p } = ev;
        this.train.push(p);
        this.pendingTrain.push(p);
        return true;
      }
      case 'val': {
        const last = this.val[this.val.length - 1];
        if (last && ev.step <= last.step) return false;
        const { type: _t, ...p } = ev;
        this.val.push(p);
        this.pendingVal.push(p);
        return true;
      }
      case 'phase':
        this.phase = ev.phase;
        return true;
      case 'error':
        this.error = ev.error;
        return true;
      case 'final':
        this.final = ev.result;
        return true;
      default:
        return false;
    }
  }

  /** The points added since the last call (what one batched `append` message carries). */
  takePending(): { train: TrainPoint[]; val: ValPointWire[] } {
    const out = { train: this.pendingTrain.map(toTrainWire), val: this.pendingVal.map(toValWire) };
    this.pendingTrain = [];
    this.pendingVal = [];
    return out;
  }
}

const isTerminal = (s: RunState) => TERMINAL_STATES.includes(s);
const times = (t: TaskFile) => ({ baselineMs: t.baseline.trainTimeMs, targetMs: t.target.trainTimeMs });

export function headerFor(meta: RunMeta, s: RunSeries, task: TaskFile | undefined, stateSince: number | null): Header {
  const last = s.train[s.train.length - 1];
  const projected = isTerminal(meta.state) ? null : projectedTrainTimeMs(s.train);
  const fsr = projected !== null && task ? fsrForRun(projected, null, times(task)).fsr : null;
  return {
    runId: meta.runId,
    // A scheduler's own word (Slurm: "PENDING (waiting: Resources)") travels with the target's name.
    target: meta.schedulerState ? `${meta.target} · Slurm job ${meta.slurmJobId}: ${meta.schedulerState}` : meta.target,
    state: meta.state,
    phase: s.phase,
    stateSince,
    step: last?.step ?? meta.step ?? null,
    totalSteps: last?.totalSteps ?? meta.totalSteps ?? null,
    stepAvgMs: finiteOrNull(recentStepMs(s.train)),
    trainTimeMs: finiteOrNull(last?.trainTimeMs ?? meta.trainTimeMs),
    projectedTrainTimeMs: finiteOrNull(projected),
    projectedFsr: finiteOrNull(fsr),
  };
}

/** The results card once the run has ended; null while it runs. */
export function resultFor(meta: RunMeta, s: RunSeries, task: TaskFile | undefined, coverage: Coverage | null): ResultCard | null {
  if (!isTerminal(meta.state)) return null;
  // Only a run that finished is scored: a crash after some validations has a "last val line", not a result.
  const final = meta.state === 'finished' ? meta.final ?? s.final : null;
  const scored = final && task ? fsrForRun(final.train_time, final.val_loss, times(task)) : null;
  return {
    state: meta.state,
    nSteps: final?.n_steps ?? null,
    trainTimeMs: finiteOrNull(final?.train_time),
    valLoss: finiteOrNull(final?.val_loss),
    valid: meta.state === 'finished' && !!final && final.val_loss <= TARGET_VAL_LOSS,
    fsr: finiteOrNull(scored?.fsr),
    speedup: finiteOrNull(scored?.speedup),
    coverage,
    error: meta.error ?? s.error,
    failure: meta.failure ? { stage: meta.failure.stage, message: meta.failure.message } : null,
  };
}

/** A runs table row: a finished run's score; for a live run its progress; for a failed one how far it got. */
export function runRow(meta: RunMeta, task: TaskFile | undefined): RunRow {
  const f = meta.state === 'finished' ? meta.final ?? null : null;
  const live = !isTerminal(meta.state);
  const trainTimeMs = f ? f.train_time : live ? meta.trainTimeMs ?? null : null;
  const steps = f ? f.n_steps : meta.step ?? null;
  const scored = f && task ? fsrForRun(f.train_time, f.val_loss, times(task)) : null;
  return {
    runId: meta.runId,
    state: meta.state,
    createdAt: meta.createdAt,
    target: meta.target,
    trainTimeMs: finiteOrNull(trainTimeMs),
    valLoss: finiteOrNull(f ? f.val_loss : live ? meta.valLoss : null),
    valid: f ? f.val_loss <= TARGET_VAL_LOSS : live ? null : false,
    fsr: finiteOrNull(scored?.fsr),
    steps,
    stepAvgMs: trainTimeMs !== null && steps ? finiteOrNull(trainTimeMs / steps) : null,
  };
}

/** A validation curve for the chart: a record's (from its log, or only its end point) or another run's. */
export function curve(id: string, label: string, kind: Curve['kind'], points: readonly ValPoint[], endPointOnly: boolean): Curve {
  return { id, label, kind, endPointOnly, points: points.map(toValWire) };
}
