// The attempt as a unified diff against record i: applies with `git apply`, `patch -p1` and jsdiff's applyPatch.
import { createTwoFilesPatch } from 'diff';
import { SCRIPT_NAME } from '../benchmark/openTask';

export function attemptPatch(baseline: string, attempt: string, opts: { fromRecord: number; label?: string }): string {
  return createTwoFilesPatch(
    `a/${SCRIPT_NAME}`,
    `b/${SCRIPT_NAME}`,
    baseline,
    attempt,
    `record ${opts.fromRecord}`,
    opts.label ?? 'attempt',
  );
}
