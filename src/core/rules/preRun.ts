// The check before a run is sent: the task's script (or the editor's unsaved text) against the task's starting
// script. Every face calls this one function (the editor's Run command, `speedrun run`); each face decides how to
// ask about an override. Agent runs skip it: the agent loop checked the script already.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { scriptPath } from '../benchmark/catalog';
import { readTaskFile } from '../benchmark/taskFile';
import type { TaskFile } from '../benchmark/types';
import { checkScript, describeViolations } from './index';
import type { Violation } from './types';

export interface PreRunResult {
  /** Violations that make the run not count. Empty: the run may start. */
  errors: Violation[];
  /** How syntax was checked. */
  syntaxMethod: string;
  /** Set when the starting script could not be read, so the comparisons against it were skipped. */
  baselineMissing?: string;
  /** One sentence for the user, and the details as a list (empty when there are no errors). */
  summary: string;
  details: string;
}

/** Record i's train_gpt2.py for the task in `taskDir`, or why it cannot be read. */
export function readBaseline(taskDir: string): { text: string } | { error: string } {
  let task: TaskFile;
  try {
    task = readTaskFile(taskDir);
  } catch (e) {
    return { error: (e as Error).message };
  }
  if (!task.benchmarkPath) return { error: 'task.json names no benchmark clone' };
  const file = scriptPath(task.benchmarkPath, task.fromRecord);
  try {
    return { text: fs.readFileSync(file, 'utf8') };
  } catch (e) {
    return { error: `${file} cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})` };
  }
}

/** Checks the task's script (`script`, else train_gpt2.py on disk) before a run. */
export async function preRunCheck(taskDir: string, opts: { script?: string; python?: string | false } = {}): Promise<PreRunResult> {
  const script = opts.script ?? fs.readFileSync(path.join(taskDir, 'train_gpt2.py'), 'utf8');
  const base = readBaseline(taskDir);
  const report = await checkScript(script, 'text' in base ? base.text : undefined, { python: opts.python });
  const errors = report.violations.filter((v) => v.severity === 'error');
  const summary = errors.length
    ? `train_gpt2.py breaks ${errors.length === 1 ? 'a benchmark rule' : `${errors.length} benchmark rules`}, so the run would not count.`
    : 'train_gpt2.py keeps the benchmark rules.';
  return {
    errors,
    syntaxMethod: report.syntaxMethod,
    baselineMissing: 'error' in base ? base.error : undefined,
    summary,
    details: errors.length ? describeViolations(errors, script) : '',
  };
}
