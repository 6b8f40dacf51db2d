// The hints an agent may read: levels 1 (pseudocode), 2 (description) and 3 (mini-paper) of the task's record.
// Level 0 (the ground-truth diff) and the reference script (record i+1) are never given to an agent; this is the
// only place agent prompts get benchmark text from, and it refuses anything else.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { listHints } from '../benchmark/catalog';
import { AGENT_HINT_LEVELS, type AgentHintLevel } from './types';

export interface AgentHint {
  level: AgentHintLevel;
  name: string;
  text: string;
}

export class ForbiddenHintError extends Error {}

/** Throws unless `level` is one an agent may see. */
export function assertAgentLevel(level: number): asserts level is AgentHintLevel {
  if (!AGENT_HINT_LEVELS.includes(level as AgentHintLevel)) {
    throw new ForbiddenHintError(`hint level ${level} is not available to an agent (only levels 1, 2 and 3 are)`);
  }
}

/** Reads the chosen hint levels of `record` (the task's starting record) from the benchmark clone. */
export function loadAgentHints(benchmark: string, record: number, levels: readonly number[]): AgentHint[] {
  levels.forEach((l) => assertAgentLevel(l));
  const out: AgentHint[] = [];
  for (const h of listHints(benchmark, record)) {
    if (!levels.includes(h.level)) continue;
    // Belt and braces: the catalog already hides level 0, but this path must never read it.
    if (h.level === 0 || /^level_0/.test(path.basename(h.path))) throw new ForbiddenHintError(`refusing to read ${h.name}`);
    assertAgentLevel(h.level);
    out.push({ level: h.level, name: h.name, text: fs.readFileSync(h.path, 'utf8') });
  }
  return out;
}
