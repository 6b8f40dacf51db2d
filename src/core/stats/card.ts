// The results card's view of a repeat group (src/shared/protocol.ts RepeatCard): plain numbers, NaN as null.
import { TARGET_VAL_LOSS } from '../benchmark/types';
import { finiteOrNull, type RepeatCard } from '../../shared/protocol';
import type { RepeatSummary } from './repeat';

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
    faster: s.faster && base
      ? { p: finiteOrNull(s.faster.p), pass: s.faster.pass, baselineMeanMs: base.mean, baselineSdMs: sd(base), n: base.n }
      : null,
  };
}
