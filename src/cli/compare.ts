// `speedrun compare`: FSR of a run, and how much of the reference change (record i -> i+1) the attempt reproduced.
import * as path from 'node:path';
import { BENCHMARK, CliError, EXIT, JSON_OUT, TASK_DIR, defineCommand, out } from './common';
import { CompareError, compareTask, type CompareHunk, type TaskComparison } from '../core/compare';

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

function hunkLine(h: CompareHunk): string {
  const where = h.scope ? `  ${h.scope}` : '';
  return `  ${h.status.padEnd(8)} ${h.header.padEnd(22)} ${String(h.matchedLines).padStart(3)}/${String(h.totalLines).padEnd(3)} lines${where}`;
}

export function formatComparison(c: TaskComparison): string {
  const r = c.result;
  const out: string[] = [];
  out.push(`Task ${c.task.taskId}: record ${c.task.fromRecord} -> record ${c.task.toRecord}`);
  out.push(`Attempt: ${c.runId ? `run ${c.runId} (script snapshot)` : 'working train_gpt2.py'}`);
  if (c.runId) {
    const m = c.results?.metrics;
    if (!c.results || !m) {
      out.push('Run: no results.json yet');
    } else {
      const time = m.train_time === null ? 'no train time' : `train time ${(m.train_time / 1000).toFixed(1)} s`;
      const loss = m.val_loss === null ? 'no val loss' : `val loss ${m.val_loss.toFixed(4)}`;
      const fsr = c.fsr === null ? `FSR n/a${c.results.status === 'COMPLETED' ? '' : ` (the run is ${c.results.status.toLowerCase()}: no result to score)`}` : `FSR ${c.fsr.toFixed(3)}${c.valid ? '' : ' (does not count)'}`;
      out.push(`Run: ${c.results.status}, ${time}, ${loss}, ${c.valid ? 'valid' : 'invalid'}, ${fsr}`);
    }
  }
  const refTotal = r.reference.added + r.reference.removed;
  const attTotal = r.attempt.added + r.attempt.removed;
  out.push(
    r.coverage === null
      ? 'Coverage: n/a (the reference record changes nothing)'
      : `Coverage: ${pct(r.coverage)} of the reference change reproduced (${r.reference.matched} of ${refTotal} lines)`,
  );
  out.push(`Extraneous: ${pct(r.extraneous)} of the attempt's change is not in the reference (${attTotal - r.attempt.matched} of ${attTotal} lines)`);
  out.push('', `Reference hunks (${r.hunks.length}):`, ...r.hunks.map(hunkLine));
  if (r.extraHunks.length) out.push('', `Attempt hunks not in the reference (${r.extraHunks.length}):`, ...r.extraHunks.map(hunkLine));
  out.push('', 'Coverage counts changed lines (whitespace ignored), not behaviour: different code can reach the same speedup.');
  return out.join('\n') + '\n';
}

export const command = defineCommand({
  name: 'compare',
  summary: "FSR of a run and how much of the reference record's change the attempt (working script or a run's snapshot) reproduced.",
  options: {
    'task-dir': TASK_DIR,
    run: { type: 'string', value: 'RUNID', description: "compare this run's script snapshot and show its FSR", defaultText: 'the working train_gpt2.py, no FSR' },
    benchmark: { ...BENCHMARK, defaultText: 'the clone recorded in task.json' },
    json: JSON_OUT,
  },
  notes: ['A run that failed, was cancelled or timed out has no FSR (shown as n/a, null in JSON); an invalid run (val loss > 3.28) shows one marked "does not count".'],
  examples: ['speedrun compare --run 20260101-120000-ab12 --json'],
  async run({ values }) {
    let c: TaskComparison;
    try {
      c = compareTask({
        taskDir: path.resolve(values['task-dir']),
        runId: values.run,
        benchmarkPath: values.benchmark ? path.resolve(values.benchmark) : undefined,
      });
    } catch (e) {
      if (e instanceof CompareError) throw new CliError(e.message, EXIT.badInput);
      throw e;
    }
    if (values.json) {
      const r = c.result;
      const json = {
        task: { id: c.task.taskId, fromRecord: c.task.fromRecord, toRecord: c.task.toRecord },
        benchmarkPath: c.benchmarkPath,
        runId: c.runId ?? null,
        files: c.files,
        results: c.results ?? null,
        fsr: c.fsr,
        valid: c.valid,
        coverage: r.coverage,
        extraneous: r.extraneous,
        reference: r.reference,
        attempt: r.attempt,
        hunks: r.hunks,
        extraHunks: r.extraHunks,
      };
      out(JSON.stringify(json, null, 2) + '\n');
    } else {
      out(formatComparison(c));
    }
    return EXIT.ok;
  },
});
