// Where the numbers of a t-test come from: a run log (its final val loss or train time), a text file of
// numbers, or stored runs of a task.
import * as fs from 'node:fs';
import { parseLogText } from '../logs/parser';
import { RunStore, isRunId } from '../runs/store';
import type { RunMeta } from '../runs/types';
import { StatsError } from './ttest';

export type Measure = 'valLoss' | 'trainTimeMs';

const NUMBER = /^[-+]?(?:\d+\.?\d*|\.\d+)(?:e[-+]?\d+)?$/i;

/** The numbers of a text made only of numbers (separated by commas, spaces or newlines); undefined otherwise. */
export function parseNumbers(text: string): number[] | undefined {
  const words = text.split(/[\s,]+/).filter(Boolean);
  if (!words.length || !words.every((w) => NUMBER.test(w))) return undefined;
  return words.map(Number);
}

/** Values in a file: every number of a numbers file, or the one final result of a run log. */
export function valuesFromFile(file: string, measure: Measure): number[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new StatsError(`${file} ${code === 'ENOENT' ? 'does not exist' : code === 'EISDIR' ? 'is a folder, not a file' : `cannot be read (${code})`}`);
  }
  const numbers = parseNumbers(text);
  if (numbers) return numbers;
  // The parser reports the last val point of a crashed run too: only a finished run's result counts.
  const log = parseLogText(text);
  const final = log.phase === 'finished' ? log.final : null;
  if (!final) throw new StatsError(`${file} is neither a list of numbers nor a run log with a final result (${log.phase === 'finished' || !log.final ? 'did the run finish?' : `the run ${log.phase}`})`);
  const v = measure === 'valLoss' ? final.val_loss : final.train_time;
  if (!Number.isFinite(v)) throw new StatsError(`${file}: the run log has no final ${measure === 'valLoss' ? 'val loss' : 'train time'}`);
  return [v];
}

/** The final val loss or train time of a finished run. */
export function runValue(m: RunMeta, measure: Measure): number | undefined {
  const v = measure === 'valLoss' ? m.final?.val_loss : m.final?.train_time;
  return m.state === 'finished' && typeof v === 'number' && Number.isFinite(v) ? v : undefined;
}

/** Values of stored runs (by run id) found in the first of `dirs` that has them; a run that is missing or has no result is named. */
export function valuesFromRuns(dirs: readonly string[], runIds: readonly string[], measure: Measure): number[] {
  const stores = dirs.map((d) => new RunStore(d));
  return runIds.map((id) => {
    const m = isRunId(id) ? stores.map((s) => s.read(id)).find(Boolean) : undefined;
    if (!m) throw new StatsError(`no run ${id} in ${dirs[0]}`);
    const v = runValue(m, measure);
    if (v === undefined) throw new StatsError(`run ${id} has no final ${measure === 'valLoss' ? 'val loss' : 'train time'} (it is ${m.state})`);
    return v;
  });
}
