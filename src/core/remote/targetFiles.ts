// Targets from files, for the CLI (the editor reads the machine-scoped `speedrun.targets` setting instead).
// The user's own list comes from one file: an explicit one, $SPEEDRUN_TARGETS_FILE, or
// ~/.config/speedrun/targets.json. A task folder may carry <task>/.speedrun/targets.json, but a target runs its
// `setup` shell code on the user's box, so a shared folder's file is used only on explicit opt-in, never replaces
// a user target of the same name, and every target taken from it is announced.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SPEEDRUN_DIR } from '../benchmark/taskFile';
import { parseTargets, type Target } from './targets';

export class TargetFileError extends Error {}

export interface TargetFileOptions {
  taskDir: string;
  /** --targets-file: the only user file read. */
  file?: string;
  /** Use <task>/.speedrun/targets.json for names the user's list doesn't have. */
  allowTaskTargets?: boolean;
  env?: NodeJS.ProcessEnv;
  home?: string;
}

export interface LoadedTargets {
  targets: Target[];
  /** The file each target came from. */
  origin: Map<string, string>;
  /** The user's file (undefined when there is none). */
  userFile?: string;
  /** The task folder's file, when it exists. */
  taskFile?: string;
  /** Targets of the task file that are not used because the user did not opt in. */
  ignoredTaskTargets: string[];
  /** Sentences to show: invalid entries, task targets hidden behind a user target of the same name. */
  warnings: string[];
}

export function userTargetsFile(env: NodeJS.ProcessEnv = process.env, home = os.homedir()): string {
  return env.SPEEDRUN_TARGETS_FILE || path.join(home, '.config', 'speedrun', 'targets.json');
}

export function taskTargetsFile(taskDir: string): string {
  return path.join(taskDir, SPEEDRUN_DIR, 'targets.json');
}

/** A file's targets; the file holds a list shaped like the setting, or `{ "targets": [...] }`. */
function readFile(file: string, warnings: string[]): Target[] {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'it is a folder' : err.code ?? `not valid JSON (${err.message})`;
    throw new TargetFileError(`cannot read targets from ${file}: ${why}`);
  }
  const list = Array.isArray(raw) ? raw : (raw as { targets?: unknown })?.targets;
  const { targets, errors } = parseTargets(list);
  for (const e of errors) warnings.push(`${file}: ${e}`);
  return targets;
}

export function loadTargetFiles(o: TargetFileOptions): LoadedTargets {
  const warnings: string[] = [];
  const origin = new Map<string, string>();
  const explicit = o.file ?? (o.env ?? process.env).SPEEDRUN_TARGETS_FILE;
  const userFile = explicit ?? userTargetsFile(o.env, o.home);
  const targets = explicit || fs.existsSync(userFile) ? readFile(userFile, warnings) : [];
  for (const t of targets) origin.set(t.name, userFile);
  const taskFile = taskTargetsFile(o.taskDir);
  const ignoredTaskTargets: string[] = [];
  // An explicit file is the whole list; the task folder's file only adds to the user's usual one.
  if (!o.file && fs.existsSync(taskFile) && path.resolve(taskFile) !== path.resolve(userFile)) {
    for (const t of readFile(taskFile, warnings)) {
      if (origin.has(t.name)) {
        warnings.push(`${taskFile} defines target '${t.name}' too; yours from ${userFile} is used`);
      } else if (o.allowTaskTargets) {
        targets.push(t);
        origin.set(t.name, taskFile);
      } else {
        ignoredTaskTargets.push(t.name);
      }
    }
  }
  return {
    targets,
    origin,
    userFile: explicit || fs.existsSync(userFile) ? userFile : undefined,
    taskFile: fs.existsSync(taskFile) ? taskFile : undefined,
    ignoredTaskTargets,
    warnings,
  };
}

/**
 * The target to run on: the one named, or the only one configured. Throws TargetFileError with what to do.
 */
export function chooseTarget(l: LoadedTargets, name: string | undefined): Target {
  const optIn = (names: string[]) =>
    `${l.taskFile} (the task folder's own file) defines ${names.map((n) => `'${n}'`).join(', ')}; a task folder's target runs ` +
    'its setup commands on your box, so it is used only with --allow-task-targets';
  if (name) {
    const t = l.targets.find((x) => x.name === name);
    if (t) return t;
    if (l.ignoredTaskTargets.includes(name)) throw new TargetFileError(optIn([name]));
    const have = l.targets.map((x) => x.name).join(', ') || 'none';
    throw new TargetFileError(`no target '${name}' in ${l.userFile ?? 'your targets'} (have: ${have})`);
  }
  if (l.targets.length === 1) return l.targets[0];
  if (l.targets.length > 1) throw new TargetFileError(`${l.targets.length} targets are configured (${l.targets.map((x) => x.name).join(', ')}); pick one with --target NAME`);
  if (l.ignoredTaskTargets.length) throw new TargetFileError(optIn(l.ignoredTaskTargets));
  throw new TargetFileError(
    `no targets are configured: write ${userTargetsFile()} (a list shaped like the speedrun.targets setting), set SPEEDRUN_TARGETS_FILE, or pass --targets-file`,
  );
}
