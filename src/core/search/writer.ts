// Writes one node: asks the model for a change to the parent's script and applies it, with a few rounds to fix
// blocks that did not apply or broken rules. The idea is the hints when the search has them (the benchmark's
// reproduction setting: the hint is the idea) or the model's own plan; a debug child also sees the bug history.
// Prompts are the in-editor agent's (src/core/agent/prompt.ts), so what a search sends is what the agent sends.
import type { TaskFile } from '../benchmark/types';
import type { ModelBackend } from '../agent/backends/backend';
import { applyBlocks, parseBlocks } from '../agent/editFormat';
import type { AgentHint } from '../agent/hints';
import { fixMessage, planOf, turnMessages, type TurnRecord } from '../agent/prompt';
import { checkScript, describeViolations } from '../rules';
import type { ChatMessage } from '../agent/types';

export interface WriteRequest {
  nodeId: number;
  parentId: number;
  parentScript: string;
  /** Fixing a buggy parent rather than improving a working one. */
  debug: boolean;
  /** Earlier buggy nodes on this path (oldest first), each with its hypothesis and outcome summary. */
  bugHistory: { id: number; hypothesis: string; outcome: string }[];
  best?: { id: number; trainTimeMs: number; valLoss: number };
  signal?: AbortSignal;
  /** Streamed model text, for a live view. */
  onDelta?: (text: string) => void;
}

export type WriteResult =
  | { ok: true; script: string; hypothesis: string; tokens: number }
  | { ok: false; reason: string; hypothesis: string; tokens: number };

export interface NodeWriter {
  readonly label: string;
  write(req: WriteRequest): Promise<WriteResult>;
}

export class ModelWriter implements NodeWriter {
  readonly label: string;

  /** `backend` is called once per node: a shared client, or a fresh replay for each node. */
  constructor(
    private readonly backend: () => ModelBackend,
    private readonly o: { task: TaskFile; hints: AgentHint[]; baselineScript: string; maxFixRounds?: number; python?: string | false },
  ) {
    this.label = backend().label;
  }

  async write(req: WriteRequest): Promise<WriteResult> {
    const history: TurnRecord[] = req.bugHistory.map((b) => ({ turn: b.id, plan: b.hypothesis, outcome: b.outcome }));
    const startsFrom = req.debug
      ? `node v_${req.parentId}, whose run failed or missed the target: fix it first`
      : req.parentId === 0
        ? 'the starting script'
        : `node v_${req.parentId}, the best valid node so far`;
    let messages: ChatMessage[] = turnMessages({
      task: this.o.task,
      hints: this.o.hints,
      script: req.parentScript,
      history,
      startsFrom,
      best: req.best ? { turn: req.best.id, trainTimeMs: req.best.trainTimeMs, valLoss: req.best.valLoss } : undefined,
    });
    let tokens = 0;
    let hypothesis = '';
    let reason = 'no usable change';
    const rounds = (this.o.maxFixRounds ?? 2) + 1;
    const backend = this.backend();
    for (let round = 1; round <= rounds; round++) {
      const resp = await backend.chat(messages, { signal: req.signal, onDelta: (t, ch) => ch === 'content' && req.onDelta?.(t) });
      tokens += resp.usage.promptTokens + resp.usage.completionTokens;
      if (round === 1) hypothesis = planOf(resp.text);
      const parsed = parseBlocks(resp.text);
      const res = applyBlocks(req.parentScript, parsed.blocks);
      const problems = [...parsed.errors, ...res.failures.map((f) => f.message)];
      if (!parsed.blocks.length && !parsed.errors.length) problems.push('Your answer had no SEARCH/REPLACE block. Answer with a short plan and then the blocks.');
      else if (!problems.length && res.text === req.parentScript) problems.push('The blocks leave the script exactly as it was. Make an actual change.');
      const report = problems.length ? undefined : await checkScript(res.text, this.o.baselineScript, { python: this.o.python, signal: req.signal });
      const blocking = report?.violations.filter((v) => v.severity === 'error') ?? [];
      if (!problems.length && !blocking.length) return { ok: true, script: res.text, hypothesis, tokens };
      reason = problems.length ? problems[0] : `the change breaks the rules (${[...new Set(blocking.map((v) => v.rule))].join(', ')})`;
      // Blocks are always applied to the parent's script, so a fix answer restates the whole change.
      messages = [
        ...messages,
        { role: 'assistant', content: resp.text },
        {
          role: 'user',
          content: fixMessage({ applied: [], failures: problems, violations: blocking.length ? describeViolations(blocking, res.text) : undefined, script: req.parentScript }),
        },
      ];
    }
    return { ok: false, reason: `${reason} (after ${rounds - 1} rounds of fixes)`, hypothesis: hypothesis || '(no plan given)', tokens };
  }
}
