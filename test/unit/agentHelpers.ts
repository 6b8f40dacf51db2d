// Shared helpers for the agent unit tests: task workspaces opened from the fixture clone, fixture texts, and
// applying LSP-style edits to a string.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openTask } from '../../src/core/benchmark/openTask';
import type { TextEditLike } from '../../src/core/rules';

export const REPO = path.resolve(__dirname, '../../..');
export const FIXTURE = path.join(REPO, 'test/fixtures/benchmark');

export const recordScript = (r: number) =>
  fs.readFileSync(path.join(FIXTURE, 'workspace_templates/nanogpt_speedrun', `record_${r}`, 'train_gpt2.py'), 'utf8');
export const hintText = (r: number, file: string) =>
  fs.readFileSync(path.join(FIXTURE, 'data/nanogpt_speedrun_knowledge_in_levels', `record_${r}`, file), 'utf8');

const temps: string[] = [];
export function tempDir(prefix = 'speedrun-agent-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(d);
  return d;
}
export function cleanupTemps(): void {
  for (const d of temps.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** A task workspace for `taskId`, opened from the fixture clone as the extension would. */
export function makeTaskDir(taskId = 12): string {
  return openTask({ benchmarkPath: FIXTURE, taskId, dest: path.join(tempDir(), 'task') }).taskDir;
}

/** Applies LSP-style edits (0-based line/character ranges against `text`) and returns the new text. */
export function applyEdits(text: string, edits: TextEditLike[]): string {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === '\n') starts.push(i + 1);
  const off = (p: { line: number; character: number }) => (starts[p.line] ?? text.length) + p.character;
  const sorted = edits.map((e) => ({ a: off(e.range.start), b: off(e.range.end), t: e.newText })).sort((x, y) => y.a - x.a);
  let out = text;
  for (const e of sorted) out = out.slice(0, e.a) + e.t + out.slice(e.b);
  return out;
}

/** Replaces exactly one occurrence of `from`; fails loudly when the fixture no longer has it. */
export function mutate(text: string, from: string | RegExp, to: string): string {
  const count = typeof from === 'string' ? text.split(from).length - 1 : (text.match(new RegExp(from.source, 'g')) ?? []).length;
  if (count !== 1) throw new Error(`fixture drift: ${String(from)} occurs ${count} times`);
  return text.replace(from, to);
}
