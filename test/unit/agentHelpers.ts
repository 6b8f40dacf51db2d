// Shared helpers for the agent unit tests: task workspaces opened from the fixture clone, fixture texts, and
// applying LSP-style edits to a string.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openTask } from '../../src/core/benchmark/openTask';
import type { AgentHost } from '../../src/core/agent/loop';
import type { AgentEventBody, RunOutcome } from '../../src/core/agent/types';
import { checkScript, type TextEditLike } from '../../src/core/rules';

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

/** Record 12's script: the starting script of task 12. */
export const BASE = recordScript(12);
export const steps = (s: string) => Number(/num_iterations : int = (\d+)/.exec(s)![1]);
export const block = (search: string, replace: string) => `train_gpt2.py\n<<<<<<< SEARCH\n${search}\n=======\n${replace}\n>>>>>>> REPLACE\n`;
export const setSteps = (from: number, to: number, plan = `Train for ${to} steps instead of ${from}.`) =>
  `${plan}\n\n${block(`    num_iterations : int = ${from} # optimizer steps`, `    num_iterations : int = ${to} # optimizer steps`)}`;

/** The simulated box for these tests: 100 ms a step; fewer than 1700 steps miss the 3.28 target. */
export function simRunner(script: string, n: number): RunOutcome {
  const s = steps(script);
  return {
    runId: `run-${n}`,
    state: 'finished',
    final: { n_steps: s, val_loss: s >= 1700 ? 3.2771 : 3.2912, train_time: s * 100, is_valid: s >= 1700 },
  };
}

/** An in-memory editor + run engine standing in for the language client. */
export class FakeHost implements AgentHost {
  version = 1;
  events: AgentEventBody[] = [];
  checkpoints: string[] = [];
  ran: string[] = [];
  decisions: ('accept' | 'reject')[] = [];
  private turnStart = new Map<number, string>();
  constructor(
    public text: string,
    private runner: (script: string, n: number) => RunOutcome = simRunner,
  ) {}
  async readScript() {
    return { text: this.text, version: this.version };
  }
  async applyEdit(e: Parameters<AgentHost['applyEdit']>[0]) {
    if (e.version !== this.version || e.before !== this.text) return { applied: false, reason: 'the document changed' };
    this.text = e.after;
    this.version++;
    return { applied: true };
  }
  async checkpoint(turn: number, text: string) {
    this.checkpoints.push(text);
    this.turnStart.set(turn, text);
    return this.checkpoints.length;
  }
  checkRules(text: string) {
    return checkScript(text, BASE);
  }
  async review(turn: number) {
    const decision = this.decisions.shift() ?? 'accept';
    if (decision === 'reject') await this.revert(turn);
    return { decision, by: 'user' as const };
  }
  async revert(turn: number) {
    this.text = this.turnStart.get(turn)!;
    this.version++;
  }
  async run(_turn: number, _signal: AbortSignal, script: string) {
    this.ran.push(script);
    return this.runner(script, this.ran.length);
  }
  saveTurn() {
    return undefined;
  }
  emit(e: AgentEventBody) {
    this.events.push(e);
  }
  of<T extends AgentEventBody['type']>(type: T) {
    return this.events.filter((e): e is Extract<AgentEventBody, { type: T }> => e.type === type);
  }
}
