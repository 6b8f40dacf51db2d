// Writes one node as an agent turn proposes a change (turn.ts `propose`), so every backend a session can use writes
// search nodes too: a model answers with SEARCH/REPLACE blocks and gets rounds of fixes, an ACP agent (Claude Code,
// Gemini CLI) edits the file itself. The idea is the hints when the search has them (the benchmark's reproduction
// setting: the hint is the idea) or the agent's own plan; a debug child also sees the bug history.
// The node is written in its own folder: its train_gpt2.py starts as the parent's script and every edit lands
// there as it is made, and its agent events go to its transcript.jsonl, so a face can watch the node being
// written from disk, from another process.
import * as path from 'node:path';
import type { TaskFile } from '../benchmark/types';
import { writeAtomic } from '../files';
import type { AgentBackend } from '../agent/backends/backend';
import { fileHost } from '../agent/fileHost';
import type { AgentHint } from '../agent/hints';
import { appendEventTo } from '../agent/transcript';
import { propose, type ProposeInput, type TurnContext } from '../agent/turn';
import type { AgentEvent } from '../agent/types';
import { NODE_SCRIPT, NODE_TRANSCRIPT } from './tree';

export interface WriteRequest {
  nodeId: number;
  parentId: number;
  parentScript: string;
  /** The node's folder: its script is written there. */
  dir: string;
  /** Fixing a buggy parent rather than improving a working one. */
  debug: boolean;
  /** Earlier buggy nodes on this path (oldest first), each with its hypothesis and outcome summary. */
  bugHistory: { id: number; hypothesis: string; outcome: string }[];
  best?: { id: number; trainTimeMs: number; valLoss: number };
  signal?: AbortSignal;
  /** Streamed agent text, for a live view. */
  onDelta?: (text: string) => void;
}

export type WriteResult =
  | { ok: true; script: string; hypothesis: string; tokens: number }
  | { ok: false; reason: string; hypothesis: string; tokens: number };

export interface NodeWriter {
  write(req: WriteRequest): Promise<WriteResult>;
}

export interface AgentWriterOptions {
  task: TaskFile;
  hints: AgentHint[];
  /** Record i's script, for the rules that compare against it. */
  baseline: string | undefined;
  /** A backend for one node, working in `dir`: an ACP agent is a process of its own there; a model client may be shared. */
  backend: (dir: string) => AgentBackend;
  /** False for the ground-truth replay: it reproduces the record as it is, so rule findings are only reported. */
  enforceRules: boolean;
  /** Nodes written at once; the rest wait their turn (default: no limit). */
  parallel?: number;
  maxFixRounds?: number;
  python?: string | false;
  /** The transcript's session id for a node. */
  sessionId(nodeId: number): string;
}

/** In a search the workbench runs each node once it is written; an agent that asks to run it is told so. */
const NOT_HERE = 'in a search the workbench runs each node after it is written; end your turn instead';

export class AgentWriter implements NodeWriter {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly o: AgentWriterOptions) {}

  async write(req: WriteRequest): Promise<WriteResult> {
    await this.slot(req.signal);
    try {
      return await this.writeNow(req);
    } finally {
      this.active--;
      this.waiting.shift()?.();
    }
  }

  private async slot(signal?: AbortSignal): Promise<void> {
    const limit = this.o.parallel ?? Infinity;
    while (this.active >= limit && !signal?.aborted) await new Promise<void>((r) => this.waiting.push(r));
    this.active++;
  }

  private async writeNow(req: WriteRequest): Promise<WriteResult> {
    const file = path.join(req.dir, NODE_SCRIPT);
    const transcript = path.join(req.dir, NODE_TRANSCRIPT);
    const sessionId = this.o.sessionId(req.nodeId);
    writeAtomic(file, req.parentScript);
    const host = fileHost({
      file,
      baseline: this.o.baseline,
      python: this.o.python,
      run: async () => ({ state: 'not-started', message: NOT_HERE }),
      emit: (e) => {
        if (e.type === 'delta') {
          if (e.channel === 'content') req.onDelta?.(e.text);
        } else appendEventTo(transcript, { ...e, sessionId, at: new Date().toISOString() } as AgentEvent);
      },
    });
    const backend = this.o.backend(req.dir);
    const ctx: TurnContext = {
      host,
      task: this.o.task,
      hints: this.o.hints,
      backend,
      budget: { iterations: 1, runs: 0, tokens: Number.MAX_SAFE_INTEGER },
      signal: req.signal ?? new AbortController().signal,
      enforceRules: this.o.enforceRules,
      maxFixRounds: this.o.maxFixRounds ?? 2,
      usage: { tokens: 0, runs: 0 },
    };
    const input: ProposeInput = {
      turn: 1,
      checkpoint: 0,
      parent: req.parentScript,
      startsFrom: req.debug
        ? `node v_${req.parentId}, whose run failed or missed the target: fix it first`
        : req.parentId === 0
          ? 'the starting script'
          : `node v_${req.parentId}, the best valid node so far`,
      history: req.bugHistory.map((b) => ({ turn: b.id, plan: b.hypothesis, outcome: b.outcome })),
      best: req.best ? { turn: req.best.id, trainTimeMs: req.best.trainTimeMs, valLoss: req.best.valLoss } : undefined,
    };
    host.emit({ type: 'turn', turn: 1, checkpoint: 0, startsFrom: input.startsFrom });
    try {
      const p = await propose(ctx, input);
      const tokens = ctx.usage.tokens;
      if (!p.ready) return { ok: false, reason: p.reason, hypothesis: p.plan || '(no plan given)', tokens };
      return { ok: true, script: (await host.readScript()).text, hypothesis: p.plan, tokens };
    } catch (e) {
      // Kept in the node's transcript; the search stops on it (a missing agent or a refused key fails every node alike).
      host.emit({ type: 'error', turn: 1, message: (e as Error).message });
      throw e;
    } finally {
      await backend.dispose?.();
    }
  }
}
