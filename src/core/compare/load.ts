// Loads the three scripts of a comparison from a task workspace and the user's benchmark clone.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readBenchmarkFile, scriptPath } from '../benchmark/catalog';
import { fsrForRun } from '../benchmark/fsr';
import { z } from 'zod';
import { SCRIPT_NAME } from '../benchmark/openTask';
import { readTaskFile, SPEEDRUN_DIR } from '../benchmark/taskFile';
import type { TaskFile } from '../benchmark/types';
import type { BenchmarkResults } from '../runs/types';
import { compareAttempt, type CompareResult } from './coverage';

/** A task, run or benchmark file that is missing or unusable; the message names it. */
export class CompareError extends Error {}

/** Run ids are directory names: no separators, no dot-only names. */
export function isRunId(id: string): boolean {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id);
}

export function runDirPath(taskDir: string, runId: string): string {
  if (!isRunId(runId)) throw new CompareError(`'${runId}' is not a run id`);
  return path.join(taskDir, SPEEDRUN_DIR, 'runs', runId);
}

/** The script snapshot a run executed. */
export function runScriptPath(taskDir: string, runId: string): string {
  return path.join(runDirPath(taskDir, runId), SCRIPT_NAME);
}

/** Reads a text file, with an error that names it. */
export function readText(file: string, what: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new CompareError(`${what} ${file} ${err.code === 'ENOENT' ? 'is missing' : `cannot be read (${err.code ?? err.message})`}`);
  }
}

/** Record i's or i+1's script in the clone. */
export function readRecordScript(benchmarkPath: string, record: number): string {
  try {
    return readBenchmarkFile(scriptPath(benchmarkPath, record));
  } catch (e) {
    throw new CompareError(`record ${record}'s script: ${(e as Error).message}`);
  }
}

const nullableNumber = z.number().nullable();
const resultsSchema = z.object({
  status: z.enum(['COMPLETED', 'FAILED', 'CANCELLED', 'TIMEOUT']),
  metrics: z.object({ n_steps: nullableNumber, val_loss: nullableNumber, train_time: nullableNumber, is_valid: z.boolean() }),
});
const _sameShape: z.ZodType<BenchmarkResults> = resultsSchema;
void _sameShape;

/** A run's results.json (src/core/runs/types.ts), validated; undefined when the run has none yet. */
export function readRunResults(taskDir: string, runId: string): BenchmarkResults | undefined {
  const file = path.join(runDirPath(taskDir, runId), 'results.json');
  if (!fs.existsSync(file)) return undefined;
  let data: unknown;
  try {
    data = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new CompareError(`${file} cannot be read (${err.code === 'EISDIR' ? 'it is a folder' : (err.code ?? err.message)})`);
  }
  const r = resultsSchema.safeParse(data);
  if (!r.success) {
    const i = r.error.issues[0];
    throw new CompareError(`${file} is not a valid results file: "${i.path.join('.') || '(root)'}" ${i.code === 'invalid_type' ? `should be ${i.expected}` : 'is invalid'}`);
  }
  return r.data;
}

export interface TaskComparison {
  task: TaskFile;
  benchmarkPath: string;
  /** The run compared, or undefined for the working train_gpt2.py. */
  runId?: string;
  files: { baseline: string; reference: string; attempt: string };
  result: CompareResult;
  /** The run's results.json, when it has one. */
  results?: BenchmarkResults;
  /** FSR of the run against records i and i+1 (src/core/benchmark/fsr.ts); null without a train time. */
  fsr: number | null;
  /** The run's val loss passes the benchmark's 3.28 gate (so its FSR would count); null without results. */
  valid: boolean | null;
}

/**
 * Compares a task's working script (or a run's snapshot) with the reference record. The benchmark clone
 * defaults to the one the task was opened from.
 */
export function compareTask(opts: { taskDir: string; runId?: string; benchmarkPath?: string }): TaskComparison {
  let task: TaskFile;
  try {
    task = readTaskFile(opts.taskDir);
  } catch (e) {
    throw new CompareError((e as Error).message);
  }
  const benchmarkPath = opts.benchmarkPath ?? task.benchmarkPath;
  if (!benchmarkPath) throw new CompareError('no benchmark clone: pass its folder');
  const files = {
    baseline: scriptPath(benchmarkPath, task.fromRecord),
    reference: scriptPath(benchmarkPath, task.toRecord),
    attempt: opts.runId ? runScriptPath(opts.taskDir, opts.runId) : path.join(opts.taskDir, SCRIPT_NAME),
  };
  const attempt = readText(files.attempt, opts.runId ? `run ${opts.runId}'s script snapshot` : 'the working script');
  const result = compareAttempt({
    baseline: readRecordScript(benchmarkPath, task.fromRecord),
    reference: readRecordScript(benchmarkPath, task.toRecord),
    attempt,
  });
  const results = opts.runId ? readRunResults(opts.taskDir, opts.runId) : undefined;
  // Only a completed run has a result to score: a cancelled or failed run's last line is not its time.
  const scored = results?.status === 'COMPLETED' && typeof results.metrics.train_time === 'number'
    ? fsrForRun(results.metrics.train_time, results.metrics.val_loss, { baselineMs: task.baseline.trainTimeMs, targetMs: task.target.trainTimeMs })
    : undefined;
  return {
    task,
    benchmarkPath,
    runId: opts.runId,
    files,
    result,
    results,
    fsr: scored && Number.isFinite(scored.fsr) ? scored.fsr : null,
    valid: results ? (scored?.valid ?? false) && results.metrics.is_valid !== false : null,
  };
}
