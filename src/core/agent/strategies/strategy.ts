// How an agent spends its budget: which script each turn starts from, how many turns run at once, and what is
// kept. The sequential best-node loop is the first strategy; the benchmark's search scaffolds (flat, tree, forest,
// AIDE, multi-AIDE) are further ones on the same seam: each plays turns (turn.ts) from nodes it chooses.
import type { TurnContext, TurnResult } from '../turn';
import type { AttemptResult } from '../types';

/** One attempt in a search: a script, the node it was made from, and what became of it. */
export interface AgentNode {
  /** The turn that made it; 0 for the script the session started from. */
  id: number;
  parent?: number;
  script: string;
  result?: TurnResult;
}

/** The best valid attempt so far, with its script. */
export interface Best extends AttemptResult {
  script: string;
}

/** What a session gives its strategy. */
export interface StrategyRun {
  ctx: TurnContext;
  /** The script when the session started; `isStartingScript` when it is the task's untouched record i script. */
  root: { text: string; isStartingScript: boolean };
  /** Numbers a new turn. A strategy that plays a round in parallel takes one number per turn. */
  nextTurn(): number;
  /** Why no further turn may start (a budget used up, the backend has nothing more), or undefined. */
  limit(): string | undefined;
  /** The best valid attempt so far (the starting script counts, with the record's own time). */
  readonly best: Best;
  /** Keeps `r` when it is valid and faster than the best so far (emits the `best` event); true when kept. */
  offer(r: TurnResult): boolean;
}

export interface Strategy {
  /** The name faces offer, e.g. "sequential", "tree". */
  readonly name: string;
  /** Plays turns until it is done; resolves with why it stopped. The session's signal aborts it. */
  run(s: StrategyRun): Promise<string>;
}
