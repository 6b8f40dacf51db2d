// Where the model's API key lives: VS Code secret storage, one entry per endpoint. Read by the agent and by
// searches started from the editor (which hand it to the CLI only in the task's environment).
import type * as vscode from 'vscode';

export function apiKeySecretName(baseUrl: string): string {
  return `speedrun.agent.apiKey:${baseUrl.replace(/\/+$/, '')}`;
}

export function readApiKey(secrets: vscode.SecretStorage, baseUrl: string): Thenable<string | undefined> {
  return secrets.get(apiKeySecretName(baseUrl));
}

/** A local endpoint (a model server on this machine) usually needs no key, so its absence is not asked about. */
export function isLoopback(url: string): boolean {
  try {
    return ['localhost', '127.0.0.1', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}
