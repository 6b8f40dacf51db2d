// The model keys our faces read from the environment (never argv). Programs we start that have no use for them
// must not inherit them: a local target's run executes a script an agent wrote, and an ACP agent is another
// vendor's program with its own credentials.
export const MODEL_KEY_VARS = ['SPEEDRUN_AGENT_API_KEY', 'OPENAI_API_KEY'] as const;

/** `env` without `names` (default: every model key). */
export function withoutKeys(env: NodeJS.ProcessEnv, names: readonly string[] = MODEL_KEY_VARS): NodeJS.ProcessEnv {
  const out = { ...env };
  for (const n of names) delete out[n];
  return out;
}
