// Synthetic dashboard data (deterministic): loss curves shaped like a speedrun, for the harness and the bench.
import type { Curve, Header, HostMessage, RunRow, TaskInfo, TrainPoint, ValPointWire } from '../../src/shared/protocol';

/** Small deterministic PRNG so screenshots and figures are repeatable. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A smooth loss curve from ln(50257) ~ 10.8 at step 0 down to about `end` at `total`. */
export function lossAt(step: number, total: number, end = 3.275): number {
  const f = step / total;
  return end + 7.55 * Math.exp(-step / Math.max(1, total * 0.03)) + 0.6 * (1 - f) * Math.exp(-f * 2);
}

export function syntheticTrain(from: number, to: number, total: number,
  o: { stepMs?: number; withLoss?: boolean; seed?: number } = {}): TrainPoint[] {
  const stepMs = o.stepMs ?? 45;
  const r = rng(o.seed ?? from + 1);
  const out: TrainPoint[] = [];
  for (let s = from; s <= to; s++) {
    const avg = stepMs * (1 + 0.02 * Math.sin(s / 50)) + (r() - 0.5) * 0.4;
    const p: TrainPoint = { step: s, totalSteps: total, trainTimeMs: Math.round(s * stepMs), stepAvgMs: s <= 10 ? null : avg };
    if (o.withLoss !== false) p.trainLoss = lossAt(s, total) + (r() - 0.5) * 0.25;
    out.push(p);
  }
  return out;
}

export function syntheticVal(upTo: number, total: number, every = 125, stepMs = 45, end = 3.275): ValPointWire[] {
  const out: ValPointWire[] = [];
  for (let s = 0; s <= upTo; s += every) out.push({ step: s, totalSteps: total, trainTimeMs: Math.round(s * stepMs), valLoss: lossAt(s, total, end) });
  if (upTo === total && out[out.length - 1].step !== total) out.push({ step: total, totalSteps: total, trainTimeMs: Math.round(total * stepMs), valLoss: lossAt(total, total, end) });
  return out;
}

export const SAMPLE_TASK: TaskInfo = {
  taskId: 12, fromRecord: 12, toRecord: 13,
  baseline: { steps: 3200, valLoss: 3.279, trainTimeMs: 222_000 },
  target: { steps: 3000, valLoss: 3.2785, trainTimeMs: 186_000 },
};

export function sampleHeader(over: Partial<Header> = {}): Header {
  return {
    runId: '20261126-120000-a1b2', target: 'sim-box', state: 'training', phase: 'training', stateSince: Date.now() - 95_000,
    step: null, totalSteps: null, stepAvgMs: null, trainTimeMs: null, projectedTrainTimeMs: null, projectedFsr: null, ...over,
  };
}

export function sampleCurves(): Curve[] {
  return [
    { id: 'record-13', label: 'record 13 (reference)', kind: 'reference', endPointOnly: false, points: syntheticVal(3000, 3000, 125, 62, 3.2785) },
    { id: 'record-12', label: 'record 12 (start)', kind: 'start', endPointOnly: true,
      points: [{ step: 3200, totalSteps: 3200, trainTimeMs: 222_000, valLoss: 3.279 }] },
  ];
}

export function sampleRuns(): RunRow[] {
  return [
    { runId: '20261126-120000-a1b2', state: 'training', createdAt: '2026-11-26T12:00:00Z', target: 'sim-box', trainTimeMs: null, valLoss: null, valid: null, fsr: null, steps: null, stepAvgMs: 45.1 },
    { runId: '20261126-110000-c3d4', state: 'finished', createdAt: '2026-11-26T11:00:00Z', target: 'sim-box', trainTimeMs: 191_200, valLoss: 3.2794, valid: true, fsr: 0.856, steps: 3000, stepAvgMs: 63.7 },
    { runId: '20261126-100000-e5f6', state: 'failed', createdAt: '2026-11-26T10:00:00Z', target: 'h100-box', trainTimeMs: null, valLoss: null, valid: false, fsr: null, steps: 12, stepAvgMs: null },
    { runId: '20261126-090000-0789', state: 'finished', createdAt: '2026-11-26T09:00:00Z', target: 'h100-box', trainTimeMs: 205_900, valLoss: 3.2841, valid: false, fsr: 0.446, steps: 3000, stepAvgMs: 68.6 },
  ];
}

/** An `init` for a live run at `step` of `total`. */
export function sampleInit(step: number, total = 3000, o: { withLoss?: boolean; stepMs?: number } = {}): Extract<HostMessage, { type: 'init' }> {
  const stepMs = o.stepMs ?? 45;
  const train = step > 0 ? syntheticTrain(1, step, total, { stepMs, withLoss: o.withLoss }) : [];
  const last = train[train.length - 1];
  return {
    type: 'init', pinned: false, task: SAMPLE_TASK, targetValLoss: 3.28, train, val: syntheticVal(step, total, 125, stepMs),
    curves: sampleCurves(), runs: sampleRuns(), result: null,
    header: sampleHeader(last ? {
      step: last.step, totalSteps: total, stepAvgMs: last.stepAvgMs, trainTimeMs: last.trainTimeMs,
      projectedTrainTimeMs: total * stepMs, projectedFsr: (222_000 - total * stepMs) / (222_000 - 186_000),
    } : { state: 'compiling', phase: 'compiling' }),
  };
}
