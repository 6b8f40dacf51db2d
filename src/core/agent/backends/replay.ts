// "Replay ground truth": plays the task's level-0 diff (record i -> i+1) back as if an agent had written it, to
// demonstrate the flow and to check that a box reproduces record i+1's time. It is not a model, it is labelled
// so everywhere, and it is chosen only explicitly. This is the one code path that reads level 0.
import * as fs from 'node:fs';
import { parsePatch } from 'diff';
import { groundTruthHint } from '../../benchmark/catalog';
import type { ChatMessage } from '../types';
import { BackendError, type ChatOptions, type ChatResult, type ModelBackend } from './backend';

export const REPLAY_LABEL = 'Replay ground truth (level-0 diff; not a model)';

/** Reads the ground-truth diff of `record` -> `record + 1` from the clone. */
export function loadGroundTruthDiff(benchmark: string, record: number): string {
  const hint = groundTruthHint(benchmark, record);
  if (!hint) throw new BackendError(`The benchmark clone has no level-0 diff for record ${record}.`);
  const text = fs.readFileSync(hint.path, 'utf8');
  if (!text.trim()) throw new BackendError(`The level-0 diff of record ${record} is empty: record ${record + 1} changed no code.`);
  return text;
}

/** The diff's hunks as SEARCH/REPLACE blocks. */
export function diffToBlocks(diffText: string): string {
  const out: string[] = [];
  for (const file of parsePatch(diffText)) {
    for (const h of file.hunks) {
      const search: string[] = [];
      const replace: string[] = [];
      for (const l of h.lines) {
        const body = l.slice(1);
        if (l[0] === ' ') {
          search.push(body);
          replace.push(body);
        } else if (l[0] === '-') search.push(body);
        else if (l[0] === '+') replace.push(body);
      }
      out.push(['train_gpt2.py', '<<<<<<< SEARCH', ...search, '=======', ...replace, '>>>>>>> REPLACE', ''].join('\n'));
    }
  }
  if (!out.length) throw new BackendError('The level-0 diff holds no hunks.');
  return out.join('\n');
}

export class ReplayBackend implements ModelBackend {
  readonly label = REPLAY_LABEL;
  private played = false;
  constructor(
    private readonly diffText: string,
    private readonly info: { fromRecord: number; toRecord: number },
    /** Pause between streamed lines, so the replay can be watched. */
    private readonly lineDelayMs = 15,
  ) {}

  /** Everything was replayed: there is nothing for a further turn. */
  get exhausted(): boolean {
    return this.played;
  }

  async chat(_messages: ChatMessage[], opts: ChatOptions = {}): Promise<ChatResult> {
    const text = this.played
      ? 'The replay has only the recorded change; there is nothing more to replay or fix.\n'
      : `Replaying the ground-truth change of record ${this.info.fromRecord} -> ${this.info.toRecord} (hint level 0). ` +
        `This is not a model: it shows the flow and checks whether this box reproduces record ${this.info.toRecord}'s time.\n\n` +
        diffToBlocks(this.diffText);
    this.played = true;
    for (const line of text.split(/(?<=\n)/)) {
      if (opts.signal?.aborted) throw opts.signal.reason ?? new Error('aborted');
      opts.onDelta?.(line, 'content');
      if (this.lineDelayMs) await new Promise((r) => setTimeout(r, this.lineDelayMs));
    }
    return { text, usage: { promptTokens: 0, completionTokens: 0 } };
  }
}
