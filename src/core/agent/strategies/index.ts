// The strategies faces offer, by name. A new strategy (a search scaffold) is one module and one line here.
import { SCAFFOLD_NAMES } from '../../search/presets';
import { ScaffoldStrategy } from '../../search/strategy';
import { SequentialStrategy } from './sequential';
import type { Strategy } from './strategy';

export type { AgentNode, Best, Strategy, StrategyRun } from './strategy';

const STRATEGIES: Record<string, () => Strategy> = {
  sequential: () => new SequentialStrategy(),
  // The benchmark's search scaffolds (src/core/search): flat, tree, forest, aide, multi-aide.
  ...Object.fromEntries(SCAFFOLD_NAMES.map((n) => [n, () => new ScaffoldStrategy(n)])),
};

export function strategyNames(): string[] {
  return Object.keys(STRATEGIES);
}

/** The strategy called `name`, or undefined. */
export function createStrategy(name: string): Strategy | undefined {
  return Object.hasOwn(STRATEGIES, name) ? STRATEGIES[name]() : undefined;
}
