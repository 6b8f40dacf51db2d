// The backends every face offers. A face adds its own (the language server adds the VS Code language model
// proxy); a new backend that needs no face registers here.
import { acpFactory } from './acp';
import { OpenAIBackend } from './openai';
import { BackendRegistry } from './registry';
import { ReplayBackend, loadGroundTruthDiff } from './replay';

export function defaultBackends(): BackendRegistry {
  return new BackendRegistry()
    .register({
      kind: 'openai',
      summary: 'any OpenAI-compatible chat completions endpoint (OpenAI, Azure, vLLM, Ollama, LiteLLM)',
      create: (c, env) => new OpenAIBackend({ baseUrl: c.baseUrl, model: c.model, apiKey: env.apiKey, temperature: c.temperature }),
      modelOf: (c) => c.model,
    })
    // Headless: no one to ask, so tool calls are allowed by kind (the editor registers one that asks).
    .register(acpFactory())
    .register({
      kind: 'replay',
      summary: "plays the record's own change (hint level 0) as if an agent wrote it; not a model",
      replay: true,
      // The one path that reads level 0, and only because the user chose the replay explicitly.
      create: (_c, env) => new ReplayBackend(loadGroundTruthDiff(env.task.benchmarkPath, env.task.fromRecord), env.task),
    });
}
