// `.speedrun/task.json`: the one reader of a task workspace's task file, validated by a schema. The editor, the
// language server, the run manager, compare and the CLI all read it through here.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import type { TaskFile } from './types';

export const SPEEDRUN_DIR = '.speedrun';
export const TASK_FILE = path.join(SPEEDRUN_DIR, 'task.json');

const finite = z.number().refine(Number.isFinite);
const metrics = z.object({ steps: finite, valLoss: finite, trainTimeMs: finite });

const schema = z
  .object({
    version: z.literal(1),
    taskId: z.number().int(),
    fromRecord: z.number().int(),
    toRecord: z.number().int(),
    baselineSha256: z.string().regex(/^[0-9a-f]{64}$/),
    benchmarkPath: z.string(),
    baseline: metrics,
    target: metrics,
    createdAt: z.string(),
  })
  .refine((t) => t.toRecord === t.fromRecord + 1, { path: ['toRecord'] });

// The schema and the TaskFile interface must describe the same thing.
const _sameShape: z.ZodType<TaskFile> = schema;
void _sameShape;

/** task.json is missing, unreadable or invalid; the message names the file and the bad field. */
export class TaskFileError extends Error {}

export function taskFilePath(dir: string): string {
  return path.join(dir, TASK_FILE);
}

/** Validates task.json's text; `file` names it in the error. */
export function parseTaskFile(text: string, file: string): TaskFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new TaskFileError(`${file} is not valid JSON (${(e as Error).message})`);
  }
  const r = schema.safeParse(data);
  if (!r.success) {
    const field = r.error.issues[0]?.path.join('.') || '(root object)';
    throw new TaskFileError(`${file}: missing or invalid "${field}"`);
  }
  return r.data;
}

/** Reads and validates `<dir>/.speedrun/task.json`; throws TaskFileError naming the file and the bad field. */
export function readTaskFile(dir: string): TaskFile {
  const file = taskFilePath(dir);
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT' || err.code === 'ENOTDIR') throw new TaskFileError(`${file} not found: this folder is not a task workspace (open-task makes one)`);
    throw new TaskFileError(`${file} cannot be read (${err.code === 'EISDIR' ? 'it is a folder' : (err.code ?? err.message)})`);
  }
  return parseTaskFile(text, file);
}

/** The task file, or undefined when the folder is not a valid task workspace. */
export function tryReadTaskFile(dir: string): TaskFile | undefined {
  try {
    return readTaskFile(dir);
  } catch {
    return undefined;
  }
}
