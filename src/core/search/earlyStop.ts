// Optional early stop of doomed runs: a search node's run is cancelled when
// - its train_time already passes `timeFactor` times the starting record's (it cannot score: FSR would be < 0), or
// - after `minProgress` of its steps, the projected final val loss is above 3.28 + `valMargin`.
// The projection fits val_loss = a + b*ln(step) through the last two validations and reads it at the last step.
// Loss falls faster than that near the end (the learning-rate warm-down), so the projection errs high; the margin
// absorbs it. bench/search.ts measures how many valid record logs it would have stopped (it must stop none).
import { TARGET_VAL_LOSS } from '../benchmark/types';
import type { LogEvent, ValPoint } from '../logs/types';
import type { EarlyStopOptions } from './tree';

// Tuned on 920 valid modded-nanogpt record logs (bench/search.ts): from 3/4 of the steps the projection overshoots
// a valid run's end by at most 0.09, so a 0.15 margin stops none of them.
export const DEFAULT_EARLY_STOP: EarlyStopOptions = { valMargin: 0.15, timeFactor: 1.5, minProgress: 0.75 };

/** Projected val loss at the last step from the validations so far, or null with fewer than two after step 0. */
export function projectFinalValLoss(vals: readonly ValPoint[]): number | null {
  const pts = vals.filter((v) => v.step > 0 && Number.isFinite(v.valLoss));
  if (pts.length < 2) return null;
  const a = pts[pts.length - 2];
  const b = pts[pts.length - 1];
  if (b.step >= b.totalSteps) return b.valLoss;
  const slope = (b.valLoss - a.valLoss) / (Math.log(b.step) - Math.log(a.step));
  if (!Number.isFinite(slope)) return null;
  // A loss that rises is not projected to rise further; it is held at its last value.
  return b.valLoss + Math.min(0, slope) * (Math.log(b.totalSteps) - Math.log(b.step));
}

/** Follows one run's log events and says why it is doomed, once it is. */
export class DoomWatch {
  private readonly vals: ValPoint[] = [];
  private reason: string | null = null;

  constructor(private readonly o: EarlyStopOptions, private readonly baselineMs: number) {}

  get doomed(): string | null {
    return this.reason;
  }

  onEvent(ev: LogEvent): string | null {
    if (this.reason) return this.reason;
    if (ev.type === 'train' && Number.isFinite(ev.stepAvgMs) && ev.trainTimeMs > this.o.timeFactor * this.baselineMs) {
      this.reason = `train_time ${(ev.trainTimeMs / 1000).toFixed(1)} s passed ${this.o.timeFactor}x the starting record's ${(this.baselineMs / 1000).toFixed(1)} s`;
    } else if (ev.type === 'val') {
      this.vals.push(ev);
      if (ev.step < ev.totalSteps && ev.step >= this.o.minProgress * ev.totalSteps) {
        const p = projectFinalValLoss(this.vals);
        if (p !== null && p > TARGET_VAL_LOSS + this.o.valMargin) {
          this.reason = `val loss ${ev.valLoss.toFixed(4)} at step ${ev.step}/${ev.totalSteps} projects to ${p.toFixed(3)}, above ${TARGET_VAL_LOSS} + ${this.o.valMargin}`;
        }
      }
    }
    return this.reason;
  }
}
