// The benchmark's five search scaffolds (paper arXiv 2506.22419, section 3.2 and Table 2; the launcher's
// `set_agent_search_parameters`, which differs from the harness's YAML defaults: the launcher values reproduce the
// paper, so they are the presets). Users may override any field.
//
// | scaffold   | initial | branching | iterations | debug prob | max bug depth |
// | flat       | 20      | -         | 1          | -          | -             |
// | tree       | 1       | 3         | 20         | -          | -             |
// | forest     | 3       | 3         | 20         | -          | -             |
// | aide       | 3       | 1         | 20         | 0.5        | 5             |
// | multi-aide | 3       | 3         | 20         | 0.5        | 5             |
// Every scaffold stops at maxNodes (20 by default; the root, record i's own script, is not counted).

export const SCAFFOLD_NAMES = ['flat', 'tree', 'forest', 'aide', 'multi-aide'] as const;
export type ScaffoldName = (typeof SCAFFOLD_NAMES)[number];

export interface Scaffold {
  name: ScaffoldName;
  /** Children of the root in the first round. */
  initial: number;
  /** Children of the selected node in later rounds (1 when the selected node is being debugged). */
  branching: number;
  /** Rounds (the benchmark's n_iterations); the first round is the initial one. */
  iterations: number;
  /** Chance that a round debugs a random buggy leaf instead of improving the best valid node. */
  debugProb: number;
  /** Only buggy leaves with bugDepth <= this are debugged. */
  maxBugDepth: number;
  /** Nodes written by the agent, root excluded. */
  maxNodes: number;
}

export const DEFAULT_MAX_NODES = 20;

const PRESETS: Record<ScaffoldName, Omit<Scaffold, 'name' | 'maxNodes'>> = {
  flat: { initial: 20, branching: 0, iterations: 1, debugProb: 0, maxBugDepth: 0 },
  tree: { initial: 1, branching: 3, iterations: 20, debugProb: 0, maxBugDepth: 0 },
  forest: { initial: 3, branching: 3, iterations: 20, debugProb: 0, maxBugDepth: 0 },
  aide: { initial: 3, branching: 1, iterations: 20, debugProb: 0.5, maxBugDepth: 5 },
  'multi-aide': { initial: 3, branching: 3, iterations: 20, debugProb: 0.5, maxBugDepth: 5 },
};

export class ScaffoldError extends Error {}

export function isScaffoldName(s: string): s is ScaffoldName {
  return (SCAFFOLD_NAMES as readonly string[]).includes(s);
}

/** The preset `name` with the user's overrides, checked. Throws ScaffoldError with one sentence. */
export function resolveScaffold(name: string, overrides: Partial<Omit<Scaffold, 'name'>> = {}): Scaffold {
  if (!isScaffoldName(name)) throw new ScaffoldError(`unknown scaffold '${name}' (choose one of ${SCAFFOLD_NAMES.join(', ')})`);
  const s: Scaffold = { name, ...PRESETS[name], maxNodes: DEFAULT_MAX_NODES };
  for (const [k, v] of Object.entries(overrides)) if (v !== undefined) (s as unknown as Record<string, number>)[k] = v as number;
  const int = (k: keyof Scaffold, min: number) => {
    const v = s[k] as number;
    if (!Number.isInteger(v) || v < min) throw new ScaffoldError(`${k} must be a whole number of at least ${min} (got ${v})`);
  };
  int('initial', 1);
  int('branching', 0);
  int('iterations', 1);
  int('maxBugDepth', 0);
  int('maxNodes', 1);
  if (!(s.debugProb >= 0 && s.debugProb <= 1)) throw new ScaffoldError(`debugProb must be between 0 and 1 (got ${s.debugProb})`);
  if (s.iterations > 1 && s.branching < 1) throw new ScaffoldError('branching must be at least 1 when there is more than one round');
  return s;
}
