// What the agent is told, in our own words: the task, the rules, the edit format, the chosen hints, the
// current script and what earlier attempts achieved. Everything sent to a model is built here, so it is exactly
// what the transcript shows. Nothing else is read: no level-0 diff, no reference script, no secrets.
import { TARGET_VAL_LOSS, type TaskFile } from '../benchmark/types';
import type { FinalResult } from '../logs/types';
import type { AgentHint } from './hints';
import { RULE_TEXT, type RuleId } from '../rules';
import type { ChatMessage, RunOutcome } from './types';

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

export function systemPrompt(): string {
  const rules = (Object.keys(RULE_TEXT) as RuleId[]).map((r) => `- ${RULE_TEXT[r]}`).join('\n');
  return [
    'You are a research engineer taking part in the NanoGPT speedrun. You work on a single file, train_gpt2.py,',
    `and your goal is a training run that reaches a validation loss of at most ${TARGET_VAL_LOSS} in as little`,
    'training time as possible on one node with 8 H100 GPUs. Each change you make is run and timed, and you are',
    'told the result before your next change.',
    '',
    'Rules every attempt must keep (an attempt that breaks one is sent back to you and not run):',
    rules,
    '- Change only train_gpt2.py. Speed matters more than tidy code.',
    '- When the previous run failed, fix the cause first.',
    '',
    'How to answer: first a short plan (a few sentences: what you change and why it should be faster), then the',
    'change as one or more SEARCH/REPLACE blocks in exactly this form:',
    '',
    'train_gpt2.py',
    '<<<<<<< SEARCH',
    '(lines copied exactly from the current train_gpt2.py)',
    '=======',
    '(the lines that replace them)',
    '>>>>>>> REPLACE',
    '',
    'Each SEARCH part must match exactly one place in the current file, including indentation. Keep blocks',
    'small: a few lines of context around what changes. To add code, SEARCH for the lines next to where it goes',
    'and repeat them in REPLACE together with the new lines. To delete code, leave REPLACE empty.',
  ].join('\n');
}

/** One earlier turn, as the next turn's prompt remembers it. */
export interface TurnRecord {
  turn: number;
  /** The first lines of the model's plan. */
  plan: string;
  /** What became of it: not applied, rejected, run outcome summary. */
  outcome: string;
}

export interface TurnPromptInput {
  task: TaskFile;
  hints: AgentHint[];
  script: string;
  history: TurnRecord[];
  /** Where the current script came from, e.g. "the best attempt so far (turn 2)". */
  startsFrom: string;
  best?: { turn: number; trainTimeMs: number; valLoss: number };
}

export function turnMessages(input: TurnPromptInput): ChatMessage[] {
  const { task } = input;
  const parts: string[] = [];
  parts.push(
    `# Task ${task.taskId}`,
    `Start from record ${task.fromRecord}, which trains to val loss ${task.baseline.valLoss.toFixed(4)} in ${seconds(task.baseline.trainTimeMs)} ` +
      `(${task.baseline.steps} steps). Record ${task.toRecord} reached val loss <= ${TARGET_VAL_LOSS} in ${seconds(task.target.trainTimeMs)}. ` +
      `Get as close to that time as you can, or beat it, while keeping val loss <= ${TARGET_VAL_LOSS}.`,
    '',
  );
  if (input.hints.length) {
    parts.push('# Hints', 'Ideas that may help (they describe a change that worked):', '');
    for (const h of input.hints) parts.push(`<hint level="${h.level}" name="${h.name}">`, h.text.trim(), '</hint>', '');
  } else {
    parts.push('# Hints', 'No hints for this task: come up with your own idea.', '');
  }
  parts.push('# Earlier attempts');
  if (input.history.length) {
    for (const h of input.history) parts.push(`- Turn ${h.turn}: ${h.plan}`, `  Result: ${h.outcome}`);
  } else {
    parts.push('None yet.');
  }
  if (input.best) {
    parts.push(`Best valid attempt so far: turn ${input.best.turn}, ${seconds(input.best.trainTimeMs)} at val loss ${input.best.valLoss.toFixed(4)}.`);
  }
  parts.push('', `# Current train_gpt2.py (${input.startsFrom})`, '```python', input.script.replace(/\n$/, ''), '```', '', 'Propose your next change.');
  return [
    { role: 'system', content: systemPrompt() },
    { role: 'user', content: parts.join('\n') },
  ];
}

/** The follow-up when blocks failed to apply or the result breaks a rule; the model fixes it in the same turn. */
export function fixMessage(opts: { applied: number[]; failures: string[]; violations?: string; script: string }): string {
  const parts: string[] = [];
  if (opts.failures.length) {
    parts.push(
      opts.applied.length ? `Blocks ${opts.applied.join(', ')} were applied.` : 'No block was applied.',
      'Problems with your answer:',
      ...opts.failures.map((f) => `- ${f}`),
      '',
    );
  }
  if (opts.violations) parts.push('The script now breaks these rules, so it cannot be run:', opts.violations, '');
  parts.push(
    'Send SEARCH/REPLACE blocks that fix this, against the current file below (blocks already applied are in it).',
    '',
    '# Current train_gpt2.py',
    '```python',
    opts.script.replace(/\n$/, ''),
    '```',
  );
  return parts.join('\n');
}

/** The plan part of a response: the text before the first block, shortened for the history. */
export function planOf(response: string, max = 400): string {
  const cut = response.search(/^(?:\s*```[\w]*\s*\n)?\s*(?:train_gpt2\.py\s*\n)?\s*<{5,9} ?SEARCH/m);
  const plan = (cut >= 0 ? response.slice(0, cut) : response).replace(/\s+/g, ' ').trim();
  if (!plan) return '(no plan given)';
  return plan.length > max ? `${plan.slice(0, max - 3)}...` : plan;
}

// ---- run outcomes ----

export function isValid(final: FinalResult | null | undefined): final is FinalResult {
  return !!final && Number.isFinite(final.val_loss) && final.val_loss <= TARGET_VAL_LOSS && Number.isFinite(final.train_time);
}

/** Fraction of the speedup recovered: (t_i - t) / (t_i - t_{i+1}). */
export function fsr(task: TaskFile, trainTimeMs: number): number {
  return (task.baseline.trainTimeMs - trainTimeMs) / (task.baseline.trainTimeMs - task.target.trainTimeMs);
}

/** A run's outcome for the next turn: its metrics, or the root cause of its failure with the last output lines. */
export function summarizeOutcome(o: RunOutcome, task: TaskFile, maxTailLines = 25): string {
  const id = o.runId ? `Run ${o.runId}` : 'The run';
  if (o.state === 'not-started') return `${id} did not start${o.message ? `: ${o.message}` : '.'}`;
  const f = o.final;
  if (o.state === 'finished' && f) {
    const verdict = isValid(f) ? `meets the ${TARGET_VAL_LOSS} target` : `misses the ${TARGET_VAL_LOSS} target, so the attempt is not valid`;
    return (
      `${id} finished: val loss ${f.val_loss.toFixed(4)} (${verdict}), training time ${seconds(f.train_time)} over ${f.n_steps} steps ` +
      `(record ${task.fromRecord}: ${seconds(task.baseline.trainTimeMs)}, record ${task.toRecord}: ${seconds(task.target.trainTimeMs)}; ` +
      `fraction of the speedup recovered ${fsr(task, f.train_time).toFixed(2)}).`
    );
  }
  const what = o.state === 'finished' ? 'finished without a final validation line' : o.state === 'timed-out' ? 'hit the time limit' : o.state;
  const lines = [`${id} ${what}.`];
  if (o.error) {
    const where = o.error.line ? ` (train_gpt2.py line ${o.error.line})` : '';
    lines.push(`Root cause: ${o.error.kind}: ${o.error.message}${where}.`);
  }
  if (o.message) lines.push(o.message);
  const tail = (o.logTail ?? '').trimEnd().split('\n').slice(-maxTailLines).join('\n');
  if (tail.trim()) lines.push('Last lines of its output:', tail);
  return lines.join('\n');
}
