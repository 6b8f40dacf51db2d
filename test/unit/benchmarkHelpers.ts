// Shared helpers for the benchmark unit tests: the fixture clone and throw-away copies of it.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const REPO = path.resolve(__dirname, '../../..');
export const FIXTURE = path.join(REPO, 'test/fixtures/benchmark');

const temps: string[] = [];

export function tempDir(prefix = 'speedrun-bench-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(d);
  return d;
}

/** A private copy of the fixture clone that a test may damage. */
export function cloneCopy(): string {
  const d = path.join(tempDir(), 'llm-speedrunner');
  fs.cpSync(FIXTURE, d, { recursive: true });
  return d;
}

export function cleanupTemps(): void {
  for (const d of temps.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

export const rec = (root: string, r: number, file = '') => path.join(root, 'workspace_templates/nanogpt_speedrun', `record_${r}`, file);
export const hintDir = (root: string, r: number) => path.join(root, 'data/nanogpt_speedrun_knowledge_in_levels', `record_${r}`);
