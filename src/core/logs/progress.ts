// Where a run is and where it is heading: step time, projected final train_time, time left, and how long the
// silent compile has taken. Pure functions over parser events; the dashboard and the status bar render them.
//
// Timing conventions of the scripts (docs/benchmark.md section 4):
// - Records 4-21 don't time the first 10 steps (compile/warm-up): train_time restarts from 0 after step 10 and
//   step_avg prints `nan` until step 11. Before that, train_time holds compile time and says nothing about speed.
// - Records 1-3 time every step, the first one (which includes compilation) too; they print each step's own time.
// - Later modded-nanogpt records warm up untimed before step 0, so step_avg is finite from step 1.
import type { LogEvent, Phase, TrainStep } from './types';

const WINDOW = 50;

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Milliseconds per training step over the recent steps, or null before it can be known. Records 1-3: the median
 * of the printed per-step times (robust to the slow first step). Otherwise the slope of train_time over the last
 * `window` lines, never across the restart of the clock after step 10.
 */
export function recentStepMs(train: readonly TrainStep[], window = WINDOW): number | null {
  const n = train.length;
  if (n === 0) return null;
  const last = train[n - 1];
  if (last.stepMs !== undefined) {
    const xs: number[] = [];
    for (let i = n - 1; i >= 0 && xs.length < window; i--) {
      const ms = train[i].stepMs;
      if (ms !== undefined && Number.isFinite(ms)) xs.push(ms);
    }
    return xs.length ? median(xs) : null;
  }
  let first = last;
  for (let i = n - 2; i >= 0 && n - 1 - i <= window; i--) {
    const p = train[i];
    if (!(p.trainTimeMs <= first.trainTimeMs) || !(p.step < first.step)) break; // clock restarted, or a new run
    first = p;
  }
  if (first !== last && last.trainTimeMs > first.trainTimeMs) return (last.trainTimeMs - first.trainTimeMs) / (last.step - first.step);
  return Number.isFinite(last.stepAvgMs) && last.stepAvgMs > 0 ? last.stepAvgMs : null;
}

/** True while the script's clock isn't running yet (records 4-21, steps 1-11: step_avg prints nan). */
export function inUntimedWarmup(last: TrainStep): boolean {
  return last.stepMs === undefined && !Number.isFinite(last.stepAvgMs);
}

/**
 * Projected train_time (ms) at the last step: what the final validation line will most likely print, assuming
 * the recent step time holds. During the untimed warm-up the clock will restart, so the projection is the step
 * time over all steps rather than added to the (compile-inflated) current train_time.
 */
export function projectedTrainTimeMs(train: readonly TrainStep[], window = WINDOW): number | null {
  const last = train[train.length - 1];
  const rate = recentStepMs(train, window);
  if (!last || rate === null || !(last.totalSteps > 0)) return null;
  if (inUntimedWarmup(last)) return rate * last.totalSteps;
  return last.trainTimeMs + Math.max(0, last.totalSteps - last.step) * rate;
}

/** Training time still to go (ms), validation pauses not included. */
export function remainingTrainMs(train: readonly TrainStep[], window = WINDOW): number | null {
  const last = train[train.length - 1];
  const rate = recentStepMs(train, window);
  if (!last || rate === null) return null;
  return Math.max(0, last.totalSteps - last.step) * rate;
}

export interface ProgressSnapshot {
  phase: Phase;
  step: number | null;
  totalSteps: number | null;
  /** Recent ms per step. */
  stepMs: number | null;
  projectedTrainTimeMs: number | null;
  remainingMs: number | null;
  /** Wall-clock time spent compiling: up to now while compiling, up to the first step afterwards. */
  compileMs: number;
  /** Wall-clock time since the last parser event: a long silence while compiling is normal, not a hang. */
  silentMs: number;
}

/**
 * Follows one run's events with wall-clock times (ms since epoch) and keeps only what the header needs, so it
 * stays cheap over a 25,000-step run.
 */
export class ProgressTracker {
  private phase: Phase = 'compiling';
  private readonly tail: TrainStep[] = [];
  private firstStepAt: number | null = null;
  private lastEventAt: number;

  constructor(private readonly launchedAt: number, private readonly window = WINDOW) {
    this.lastEventAt = launchedAt;
  }

  onEvent(ev: LogEvent, now: number): void {
    this.lastEventAt = now;
    if (ev.type === 'phase') this.phase = ev.phase;
    else if (ev.type === 'train') {
      if (this.firstStepAt === null) this.firstStepAt = now;
      const { type: _type, ...step } = ev;
      this.tail.push(step);
      if (this.tail.length > 2 * this.window) this.tail.splice(0, this.tail.length - this.window - 1);
    }
  }

  snapshot(now: number): ProgressSnapshot {
    const last = this.tail[this.tail.length - 1];
    return {
      phase: this.phase,
      step: last ? last.step : null,
      totalSteps: last ? last.totalSteps : null,
      stepMs: recentStepMs(this.tail, this.window),
      projectedTrainTimeMs: projectedTrainTimeMs(this.tail, this.window),
      remainingMs: remainingTrainMs(this.tail, this.window),
      compileMs: Math.max(0, (this.firstStepAt ?? now) - this.launchedAt),
      silentMs: Math.max(0, now - this.lastEventAt),
    };
  }
}
