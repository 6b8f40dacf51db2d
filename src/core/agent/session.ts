// Everything a face needs to start an agent session, built one way: the backend from the registry, the hints
// the user allowed (never level 0; none for the replay), the validated budget, and the `session` event that
// opens the transcript. Faces map the errors thrown here (BudgetError, ForbiddenHintError, BackendError) to
// their own kind of error.
import { randomUUID } from 'node:crypto';
import type { TaskFile } from '../benchmark/types';
import type { BackendRegistry } from './backends/registry';
import { parseBudget } from './budget';
import { loadAgentHints } from './hints';
import type { LoopOptions } from './loop';
import type { Strategy } from './strategies/strategy';
import type { AgentEventBody, AgentHintLevel, BackendConfig } from './types';

export interface SessionRequest {
  taskDir: string;
  task: TaskFile;
  backend: BackendConfig;
  hintLevels: readonly number[];
  /** Unvalidated: checked against the budget schema here. */
  budget: unknown;
  apiKey?: string;
  target?: string;
  strategy?: Strategy;
}

export function newSessionId(now = new Date()): string {
  return `${now.toISOString().replace(/[-:]/g, '').replace(/\..*/, '')}-${randomUUID().slice(0, 6)}`;
}

export function buildSession(registry: BackendRegistry, req: SessionRequest): { options: LoopOptions; opening: AgentEventBody } {
  const budget = parseBudget(req.budget);
  const factory = registry.get(req.backend?.kind);
  const replay = !!factory?.replay;
  // Hints first: a forbidden level is refused before any backend (an agent process) is started.
  const hints = replay ? [] : loadAgentHints(req.task.benchmarkPath, req.task.fromRecord, req.hintLevels);
  const { backend, model } = registry.create(req.backend, { taskDir: req.taskDir, task: req.task, apiKey: req.apiKey });
  return {
    options: { task: req.task, hints, backend, budget, enforceRules: !replay, strategy: req.strategy },
    opening: {
      type: 'session',
      backend: backend.label,
      model,
      hintLevels: replay ? [] : ([...new Set(req.hintLevels)].sort() as AgentHintLevel[]),
      hintFiles: hints.map((h) => h.name),
      target: req.target,
      budget,
      taskId: req.task.taskId,
      replay,
    },
  };
}
