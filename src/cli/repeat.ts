// `speedrun run --repeat K [--interleave-baseline]`: K runs of the task's script on one target (and as many of
// record i's, interleaved), then mean ± sd of val loss and train time, the speedrun's t-test and Welch's test.
import { readTaskFile } from '../core/benchmark/openTask';
import type { RunManager } from '../core/runs/manager';
import type { RunMeta } from '../core/runs/types';
import { CalibrationStore, fsrBoth } from '../core/stats/calibration';
import { runRepeats, summarizeGroup, type RepeatSummary, type Side } from '../core/stats/repeat';
import type { Sample } from '../core/stats/ttest';
import { EXIT, err, out } from './common';
import { describeBelow, describeFaster, userErrors } from './significance';

export interface RepeatCliOptions {
  taskDir: string;
  target: string;
  repeats: number;
  interleaveBaseline: boolean;
  json: boolean;
}

const pm = (s: Sample | null, scale: number, digits: number, unit: string) =>
  s ? `${(s.mean / scale).toFixed(digits)}${s.n > 1 ? ` ± ${(s.std / scale).toFixed(digits)}` : ''}${unit} (n ${s.n})` : 'none finished';

function runLine(m: RunMeta): string {
  const f = m.final;
  return `run ${m.runId} ${m.state}${f ? `: val_loss ${f.val_loss}, train_time ${(f.train_time / 1000).toFixed(1)} s` : m.failure ? `: ${m.failure.message}` : ''}`;
}

function sideLines(name: string, s: Side): string[] {
  return [`  ${name.padEnd(9)} val loss ${pm(s.valLoss, 1, 5, '')}   train time ${pm(s.trainTimeMs, 1000, 1, ' s')}`];
}

export function describeRepeat(s: RepeatSummary, fsr: { paper: number; box: number | null } | null): string {
  const g = s.group;
  const lines = [`repeat ${g.repeatId} on ${g.target}: ${g.attempt.length} attempt run(s)${g.interleaveBaseline ? `, ${g.baseline.length} baseline run(s) interleaved` : ''}`];
  lines.push(...sideLines('attempt', s.attempt));
  if (s.baseline) lines.push(...sideLines('baseline', s.baseline));
  if (fsr) lines.push(`  FSR of the mean train time: ${fsr.paper.toFixed(3)} against the paper's times${fsr.box !== null ? `; ${fsr.box.toFixed(3)} against ${g.target}'s own (calibrated)` : ''}`);
  if (g.stopped) lines.push(`  stopped early: ${g.stopped}`);
  let text = lines.join('\n') + '\n';
  text += s.significance ? describeBelow(s.significance) : 'val-loss test: needs at least 2 finished runs\n';
  if (s.faster) text += describeFaster(s.faster, 's', 1000);
  return text;
}

/** Runs the repeats through `m` and prints the summary; exit 0 when every run finished and the val-loss test passes. */
export async function runRepeated(m: RunManager, o: RepeatCliOptions): Promise<number> {
  const task = await userErrors(() => readTaskFile(o.taskDir));
  err(`[speedrun] ${o.repeats} run(s) of the attempt on ${o.target}${o.interleaveBaseline ? `, interleaved with record ${task.fromRecord}'s script` : ''}\n`);
  const group = await userErrors(() =>
    runRepeats(m, {
      ...o,
      origin: 'cli',
      onRun: (p) => err(`[speedrun] ${p.role} ${p.index}/${p.of}: ${runLine(p.meta)}\n`),
    }),
  );
  const s = summarizeGroup(o.taskDir, group);
  const mean = s.attempt.trainTimeMs?.mean;
  const fsr = mean !== undefined ? fsrBoth(task, o.target, mean, new CalibrationStore()) : null;
  if (o.json) out(JSON.stringify({ ...s, fsr }, null, 2) + '\n');
  else out(describeRepeat(s, fsr));
  const allFinished = s.attempt.runs.every((r) => r.state === 'finished') && !group.stopped;
  return allFinished && s.significance?.pass ? EXIT.ok : EXIT.failed;
}
