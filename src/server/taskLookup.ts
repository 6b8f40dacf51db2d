// Finds the task a script belongs to (the nearest `.speedrun/task.json` above it) and the task's starting
// script (record i) in the benchmark clone named there. Cached by file modification time.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { scriptPath } from '../core/benchmark/catalog';
import { parseTaskFile, taskFilePath } from '../core/benchmark/taskFile';
import type { TaskFile } from '../core/benchmark/types';

export interface TaskInfo {
  taskDir: string;
  task: TaskFile;
  /** Record i's train_gpt2.py, or why it could not be read. */
  baseline: { text: string; path: string } | { error: string; path?: string };
}

const cache = new Map<string, { mtimeMs: number; value: unknown }>();

function readCached<T>(file: string, parse: (text: string) => T): T | undefined {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    cache.delete(file);
    return undefined;
  }
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === st.mtimeMs) return hit.value as T;
  const value = parse(fs.readFileSync(file, 'utf8'));
  cache.set(file, { mtimeMs: st.mtimeMs, value });
  return value;
}

/** The task folder holding `file`: its own folder or the nearest ancestor with `.speedrun/task.json`. */
export function findTaskDir(file: string): string | undefined {
  let dir = path.dirname(file);
  for (let i = 0; i < 12; i++) {
    if (fs.existsSync(taskFilePath(dir))) return dir;
    const up = path.dirname(dir);
    if (up === dir) return undefined;
    dir = up;
  }
  return undefined;
}

export function loadTask(taskDir: string): TaskInfo | undefined {
  let task: TaskFile | undefined;
  try {
    const file = taskFilePath(taskDir);
    task = readCached(file, (t) => parseTaskFile(t, file));
  } catch {
    return undefined;
  }
  if (!task) return undefined;
  if (!task.benchmarkPath) return { taskDir, task, baseline: { error: 'task.json names no benchmark clone' } };
  const p = scriptPath(task.benchmarkPath, task.fromRecord);
  try {
    const text = readCached(p, (t) => t);
    if (text === undefined) return { taskDir, task, baseline: { error: `${p} is missing`, path: p } };
    return { taskDir, task, baseline: { text, path: p } };
  } catch (e) {
    return { taskDir, task, baseline: { error: `${p} cannot be read (${(e as Error).message})`, path: p } };
  }
}

export function baselineText(info: TaskInfo): string | undefined {
  return 'text' in info.baseline ? info.baseline.text : undefined;
}
