// The writer the search tests and bench use: our fake OpenAI-compatible server as the model, one client for all
// nodes, rules enforced against the search's root script, as `speedrun search --backend openai` does.
import { OpenAIBackend } from '../../src/core/agent/backends/openai';
import type { AgentHint } from '../../src/core/agent/hints';
import type { TaskFile } from '../../src/core/benchmark/types';
import type { SearchStore } from '../../src/core/search/tree';
import { AgentWriter } from '../../src/core/search/writer';

export function fakeModelWriter(baseUrl: string, task: TaskFile, store: SearchStore, hints: AgentHint[] = []): AgentWriter {
  const backend = new OpenAIBackend({ baseUrl, model: 'fake' });
  return new AgentWriter({
    task,
    hints,
    baseline: store.script(0),
    backend: () => backend,
    enforceRules: true,
    sessionId: (n) => `${store.searchId}/v_${n}`,
  });
}
