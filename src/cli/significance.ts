// `speedrun significance`: the speedrun's rule on repeated runs (one-sided one-sample t-test that the mean val
// loss is below 3.28, p < 0.01 passes), and with --baseline or a repeat group, Welch's t-test that the attempt
// trains faster than the baseline. Exit 0 when the test passes, 1 when it does not.
import * as path from 'node:path';
import { TaskFileError } from '../core/benchmark/openTask';
import { BASELINE_DIR, readGroup, summarizeGroup } from '../core/stats/repeat';
import { valuesFromFile, valuesFromRuns, type Measure } from '../core/stats/samples';
import { PASS_P, StatsError, testBelow, testFaster, type OneSampleTest, type WelchTest } from '../core/stats/ttest';
import { CliError, EXIT, JSON_OUT, TASK_DIR, defineCommand, out } from './common';

/** Core's bad-input errors become one sentence with exit code 3. */
export async function userErrors<T>(f: () => T | Promise<T>): Promise<T> {
  try {
    return await f();
  } catch (e) {
    if (e instanceof StatsError || e instanceof TaskFileError) throw new CliError(e.message);
    throw e;
  }
}

const fmt = (x: number, digits: number) => (Number.isFinite(x) ? x.toFixed(digits) : String(x));
const pText = (p: number) => (Number.isNaN(p) ? 'undefined' : p < 1e-4 ? p.toExponential(2) : p.toFixed(4));

/** Why identical values give no verdict, in the user's words. */
const NO_SPREAD = 'the runs did not vary (likely the same seed, or a deterministic box), so a t-test can tell nothing: no p-value, no verdict';

export function describeBelow(r: OneSampleTest): string {
  if (r.noSpread) return `n ${r.n}, every val loss is ${fmt(r.mean, 5)}\nNO VERDICT: ${NO_SPREAD}\n`;
  return [
    `n ${r.n}, mean val loss ${fmt(r.mean, 5)}, sd ${fmt(r.std, 5)} (sample), t ${fmt(r.t, 3)}, df ${r.df}`,
    `p = ${pText(r.p)} (one-sided: mean below ${r.threshold}): ${r.pass ? 'PASS' : 'FAIL'} (passes when p < ${PASS_P})`,
  ].join('\n') + '\n';
}

/** `scale` divides the values for display (1000: ms shown as s). */
export function describeFaster(r: WelchTest, unit: string, scale = 1): string {
  const u = unit ? ` ${unit}` : '';
  const s = (x: { n: number; mean: number; std: number }) => `${fmt(x.mean / scale, 1)} ± ${fmt(x.std / scale, 1)}${u} (n ${x.n})`;
  if (r.noSpread) return `train time: attempt ${s(r.attempt)}, baseline ${s(r.baseline)}\nNO VERDICT on the timing: ${NO_SPREAD}\n`;
  return [
    `train time: attempt ${s(r.attempt)}, baseline ${s(r.baseline)}; difference ${fmt(r.diff / scale, 1)}${u}`,
    `Welch t ${fmt(r.t, 3)}, df ${fmt(r.df, 2)}, p = ${pText(r.p)} (one-sided: the attempt is faster): ${r.pass ? 'FASTER' : 'NOT SHOWN FASTER'} (p < ${PASS_P})`,
  ].join('\n') + '\n';
}

const oneSampleJson = (r: OneSampleTest) => ({ n: r.n, mean: r.mean, std: r.std, t: r.t, df: r.df, p: r.p, threshold: r.threshold, pass: r.pass, noSpread: r.noSpread });

export const command = defineCommand({
  name: 'significance',
  summary: 'Is it real? The t-test of the speedrun rule (mean val loss below 3.28, p < 0.01) over repeated runs, and Welch\'s t-test on training times against a baseline.',
  positionals: [{
    name: 'FILE',
    description: 'a run log (its final val loss; its train time with --baseline) or a text file of numbers separated by commas, spaces or newlines; with --runs, run ids',
    optional: true,
    variadic: true,
  }],
  options: {
    threshold: { type: 'string', value: 'LOSS', description: 'the val loss the mean must be below', default: '3.28' },
    runs: { type: 'boolean', description: 'the arguments are run ids of the task in --task-dir' },
    repeat: { type: 'string', value: 'ID', description: "a repeat group from 'speedrun run --repeat' (its id); with an interleaved baseline, also the timing test" },
    baseline: { type: 'string', value: 'FILE[,FILE...]', description: "test training times instead: is FILE... faster than these (logs' train times, or numbers in one unit)? With --runs: baseline run ids" },
    'task-dir': TASK_DIR,
    json: JSON_OUT,
  },
  notes: [
    'The val-loss test is one-sided and one-sample with the sample standard deviation: t = (mean - threshold) / (sd / sqrt(n)), ' +
      'df = n - 1, p = P(T <= t). --json prints { n, mean, std, t, df, p, threshold, pass, noSpread }, ' +
      'plus "faster" for a repeat group with a baseline; with --baseline it prints the timing test { attempt, baseline, diff, t, df, p, pass }.',
    'Values that are all the same (the same seed, or a deterministic box) give no verdict: noSpread is true, t and p are null, and the exit code is 1.',
    'Exit codes: 0 the test passes (p < 0.01), 1 it does not or cannot tell, 2 usage, 3 bad input (a file that is neither numbers nor a finished run log, fewer than 2 values).',
  ],
  examples: [
    'speedrun significance seed*.log',
    'speedrun significance losses.txt --json',
    'speedrun significance --runs 20261201-101500-ab12 20261201-103000-cd34 --task-dir ~/task-12',
    'speedrun significance --repeat 20261201-101455-9f3e --task-dir ~/speedrun-tasks/task-12',
    'speedrun significance attempt-times.txt --baseline baseline-times.txt',
  ],
  run: async ({ values, positionals }) => {
    const threshold = Number(values.threshold);
    if (!Number.isFinite(threshold)) throw new CliError(`--threshold must be a number, got '${values.threshold}'`, EXIT.usage);
    const taskDir = path.resolve(values['task-dir']);
    if (values.repeat) {
      if (positionals.length || values.baseline || values.runs) throw new CliError('--repeat takes no files, --runs or --baseline: the group names its runs', EXIT.usage);
      const s = await userErrors(() => summarizeGroup(taskDir, readGroup(taskDir, values.repeat!), threshold));
      if (!s.significance) throw new CliError(`repeat ${values.repeat} has ${s.attempt.valLoss?.n ?? 0} finished run(s) with a val loss; the test needs at least 2`);
      if (values.json) out(JSON.stringify({ ...oneSampleJson(s.significance), faster: s.faster }, null, 2) + '\n');
      else out(describeBelow(s.significance) + (s.faster ? describeFaster(s.faster, 's', 1000) : ''));
      return s.significance.pass ? EXIT.ok : EXIT.failed;
    }
    if (!positionals.length) throw new CliError('give at least two values: FILE... (or --runs ID..., or --repeat ID)', EXIT.usage);
    // Baseline runs of `run --repeat --interleave-baseline` live in the task's baseline folder.
    const runDirs = [taskDir, path.join(taskDir, BASELINE_DIR)];
    const values_ = (items: readonly string[], measure: Measure) =>
      userErrors(() => (values.runs ? valuesFromRuns(runDirs, items, measure) : items.flatMap((f) => valuesFromFile(f, measure))));
    if (values.baseline !== undefined) {
      const base = values.baseline.split(',').map((x) => x.trim()).filter(Boolean);
      if (!base.length) throw new CliError('--baseline needs at least one file (or run id with --runs)', EXIT.usage);
      const [a, b] = [await values_(positionals, 'trainTimeMs'), await values_(base, 'trainTimeMs')];
      const r = await userErrors(() => testFaster(a, b));
      // Logs and runs give ms; a numbers file is in whatever unit it was written in.
      out(values.json ? JSON.stringify(r, null, 2) + '\n' : describeFaster(r, values.runs ? 's' : '', values.runs ? 1000 : 1));
      return r.pass ? EXIT.ok : EXIT.failed;
    }
    const xs = await values_(positionals, 'valLoss');
    const r = await userErrors(() => testBelow(xs, threshold));
    out(values.json ? JSON.stringify(oneSampleJson(r), null, 2) + '\n' : describeBelow(r));
    return r.pass ? EXIT.ok : EXIT.failed;
  },
});
