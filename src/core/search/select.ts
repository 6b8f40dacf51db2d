// Which node a round expands, as the benchmark's runner chooses it (docs/benchmark.md section 5; paper section 3.2):
// - the first round branches the root into `initial` children;
// - later rounds, with probability `debugProb`, pick a random buggy leaf whose bugDepth <= maxBugDepth and write
//   one child that fixes it; otherwise (or when there is no such leaf) they pick the best valid node by train_time,
//   the root included, and write `branching` children.
// The random draws come from a small seeded generator whose state is saved with the search, so a test (or a
// resumed search) makes exactly the same choices.
import type { Scaffold } from './presets';
import { bestValid, isBuggy, type NodeMeta } from './tree';

/** mulberry32: 32-bit state, good enough for selection and reproducible across platforms. */
export class Rng {
  constructor(public state: number) {
    this.state = state >>> 0;
  }

  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An index in [0, n). */
  pick(n: number): number {
    return Math.min(n - 1, Math.floor(this.next() * n));
  }
}

export interface Selection {
  parent: NodeMeta;
  /** Children to write this round (before the node budget trims it). */
  count: number;
  debug: boolean;
}

/** Buggy leaves a debug round may pick: no children yet and bugDepth <= maxBugDepth. */
export function debuggableLeaves(nodes: readonly NodeMeta[], s: Scaffold): NodeMeta[] {
  return nodes.filter((n) => isBuggy(n) && n.children.length === 0 && n.bugDepth <= s.maxBugDepth && !['writing', 'written', 'running'].includes(n.status));
}

/** The selection for round `round` (1-based) over the nodes so far. */
export function selectNode(nodes: readonly NodeMeta[], s: Scaffold, round: number, rng: Rng): Selection {
  const root = nodes.find((n) => n.parent === null);
  if (!root) throw new Error('a search needs its root node');
  if (round === 1) return { parent: root, count: s.initial, debug: false };
  if (s.debugProb > 0 && rng.next() < s.debugProb) {
    const leaves = debuggableLeaves(nodes, s);
    if (leaves.length) return { parent: leaves[rng.pick(leaves.length)], count: 1, debug: true };
  }
  return { parent: bestValid(nodes) ?? root, count: s.branching, debug: false };
}

/**
 * A new node's bugDepth: 0 when it is not buggy; otherwise one more than its parent's when the parent is buggy
 * too (a chain of failed fixes), else 1.
 */
export function bugDepthOf(buggy: boolean, parent: NodeMeta): number {
  if (!buggy) return 0;
  return (isBuggy(parent) ? parent.bugDepth : 0) + 1;
}

/**
 * What the writer of a debug child is shown: up to 3 most recent buggy nodes on the path from the nearest
 * non-buggy ancestor down to `node` (the benchmark's bug history).
 */
export function bugHistory(nodes: readonly NodeMeta[], node: NodeMeta, max = 3): NodeMeta[] {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const chain: NodeMeta[] = [];
  for (let n: NodeMeta | undefined = node; n && isBuggy(n); n = n.parent === null ? undefined : byId.get(n.parent)) chain.unshift(n);
  return chain.slice(-max);
}
