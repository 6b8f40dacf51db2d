// Checkpoints: the script as it was before each agent turn, in <task>/.speedrun/checkpoints/<n>/.
// A plain copy is enough for one file; restoring one is "put this text back".
import { sha256, writeAtomic } from '../files';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface CheckpointMeta {
  n: number;
  /** Agent turn it precedes (0 when made by hand). */
  turn: number;
  sessionId?: string;
  createdAt: string;
  sha256: string;
  label: string;
}

export const SCRIPT_NAME = 'train_gpt2.py';

export function checkpointsDir(taskDir: string): string {
  return path.join(taskDir, '.speedrun', 'checkpoints');
}

export function checkpointScript(taskDir: string, n: number): string {
  return path.join(checkpointsDir(taskDir), String(n), SCRIPT_NAME);
}

/** writeAtomic that also creates the checkpoint's folder. */
function writeFileAtomic(file: string, data: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeAtomic(file, data);
}

/** Saves `text` as the next checkpoint and returns its metadata. */
export function saveCheckpoint(taskDir: string, text: string, info: { turn: number; sessionId?: string; label: string }): CheckpointMeta {
  const existing = listCheckpoints(taskDir);
  const n = (existing.length ? existing[existing.length - 1].n : 0) + 1;
  const meta: CheckpointMeta = { n, turn: info.turn, sessionId: info.sessionId, createdAt: new Date().toISOString(), sha256: sha256(text), label: info.label };
  writeFileAtomic(checkpointScript(taskDir, n), text);
  writeFileAtomic(path.join(checkpointsDir(taskDir), String(n), 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  return meta;
}

/** Checkpoints in order; folders without a readable meta.json are skipped. */
export function listCheckpoints(taskDir: string): CheckpointMeta[] {
  let names: string[];
  try {
    names = fs.readdirSync(checkpointsDir(taskDir));
  } catch {
    return [];
  }
  const out: CheckpointMeta[] = [];
  for (const name of names) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const meta = JSON.parse(fs.readFileSync(path.join(checkpointsDir(taskDir), name, 'meta.json'), 'utf8')) as CheckpointMeta;
      if (meta.n === Number(name) && fs.existsSync(checkpointScript(taskDir, meta.n))) out.push(meta);
    } catch {
      // A half-written checkpoint from a crash: ignore it.
    }
  }
  return out.sort((a, b) => a.n - b.n);
}

export function readCheckpoint(taskDir: string, n: number): string {
  return fs.readFileSync(checkpointScript(taskDir, n), 'utf8');
}
