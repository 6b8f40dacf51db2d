// What src/core/stats adds to the dashboard's results card: the SIMULATED label, FSR against the target's
// calibrated times, and the repeat group the run belongs to (src/shared/protocol.ts RepeatCard), NaN as null.
import { TARGET_VAL_LOSS } from '../../core/benchmark/types';
import type { TaskFile } from '../../core/benchmark/types';
import type { RunMeta } from '../../core/runs/types';
import { fsrBoth } from '../../core/stats/calibration';
import { groupOfRun, summarizeGroup, type RepeatSummary } from '../../core/stats/repeat';
import { finiteOrNull, type RepeatCard, type ResultCard } from '../../shared/protocol';

export function withStats(r: ResultCard, meta: RunMeta, taskDir: string, task: TaskFile): ResultCard {
  const box = r.trainTimeMs !== null ? fsrBoth(task, meta.target, r.trainTimeMs).box : null;
  const g = groupOfRun(taskDir, meta.runId);
  return { ...r, simulated: !!meta.simulated, boxFsr: finiteOrNull(box), repeat: g ? repeatCard(summarizeGroup(taskDir, g)) : null };
}

export function repeatCard(s: RepeatSummary): RepeatCard {
  const losses = s.attempt.runs.map((r) => r.valLoss).filter((x): x is number => x !== null);
  const sd = (x: { n: number; std: number } | null) => (x && x.n > 1 ? finiteOrNull(x.std) : null);
  const base = s.baseline?.trainTimeMs;
  return {
    repeatId: s.group.repeatId,
    planned: s.group.repeats,
    valLosses: losses,
    threshold: s.significance?.threshold ?? TARGET_VAL_LOSS,
    meanValLoss: finiteOrNull(s.attempt.valLoss?.mean),
    sdValLoss: sd(s.attempt.valLoss),
    meanTrainTimeMs: finiteOrNull(s.attempt.trainTimeMs?.mean),
    sdTrainTimeMs: sd(s.attempt.trainTimeMs),
    p: finiteOrNull(s.significance?.p),
    pass: s.significance ? s.significance.pass : null,
    noSpread: !!s.significance?.noSpread,
    faster: s.faster && base
      ? { p: finiteOrNull(s.faster.p), pass: s.faster.pass, noSpread: s.faster.noSpread, baselineMeanMs: base.mean, baselineSdMs: sd(base), n: base.n }
      : null,
  };
}
