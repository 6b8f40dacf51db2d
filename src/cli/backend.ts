// Who writes the changes, for every command where an agent writes them (agent, search, sweep): the flags, the
// BackendConfig they make, the key (from the environment only, never argv), and an early look for an ACP agent's
// program, so a typo is bad input (exit 3) before a session, a checkpoint or a search folder is made.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { splitCommand } from '../core/agent/backends/acp';
import type { BackendConfig } from '../core/agent/types';
import { CliError, EXIT, type OptionSpec } from './common';

export const DEFAULT_BASE_URL = 'https://api.openai.com/v1';
export const DEFAULT_MODEL = 'o3-mini';

export const backendOptions = {
  backend: { type: 'string', value: 'KIND', description: 'who writes the changes: openai (any OpenAI-compatible endpoint), acp (an ACP agent: Claude Code, Gemini CLI, ...), replay (the ground truth, not a model)' },
  'agent-command': { type: 'string', value: 'CMD', description: 'the ACP agent to start (--backend acp), e.g. "gemini --acp"' },
  'base-url': { type: 'string', value: 'URL', description: 'the OpenAI-compatible endpoint', defaultText: `$SPEEDRUN_AGENT_BASE_URL, $OPENAI_BASE_URL, else ${DEFAULT_BASE_URL}` },
  model: { type: 'string', value: 'NAME', description: 'the model to ask (--backend openai)', defaultText: `$SPEEDRUN_AGENT_MODEL, else ${DEFAULT_MODEL}` },
} as const satisfies Record<string, OptionSpec>;

export interface BackendFlags {
  backend?: string;
  'agent-command'?: string;
  'base-url'?: string;
  model?: string;
}

/** The key for an OpenAI-compatible endpoint: environment only, so it never shows in `ps` or shell history. */
export function apiKeyFromEnv(): string | undefined {
  return process.env.SPEEDRUN_AGENT_API_KEY || process.env.OPENAI_API_KEY || undefined;
}

export function backendConfig(v: BackendFlags): BackendConfig {
  switch (v.backend) {
    case 'openai': {
      const baseUrl = v['base-url'] ?? process.env.SPEEDRUN_AGENT_BASE_URL ?? process.env.OPENAI_BASE_URL ?? DEFAULT_BASE_URL;
      if (!isHttpUrl(baseUrl)) throw new CliError(`the endpoint must be an http(s) URL such as ${DEFAULT_BASE_URL} (got '${baseUrl}')`, EXIT.usage);
      return { kind: 'openai', baseUrl, model: v.model ?? process.env.SPEEDRUN_AGENT_MODEL ?? DEFAULT_MODEL };
    }
    case 'acp': {
      const command = v['agent-command'];
      if (!command?.trim()) throw new CliError('--backend acp needs --agent-command CMD (the ACP agent to start, e.g. "gemini --acp")', EXIT.usage);
      try {
        splitCommand(command);
      } catch (e) {
        throw new CliError(`--agent-command: ${(e as Error).message}`, EXIT.usage);
      }
      return { kind: 'acp', command };
    }
    case 'replay':
      return { kind: 'replay' };
    default:
      throw new CliError(`--backend must be openai, acp or replay (got ${v.backend === undefined ? 'nothing' : `'${v.backend}'`})`, EXIT.usage);
  }
}

/**
 * What the flags alone cannot tell, checked once the usage is known good and before anything is made: the hosted
 * endpoint needs a key (a local server may need none), an ACP agent's program must exist.
 */
export function checkBackendReady(c: BackendConfig): void {
  if (c.kind === 'openai' && c.baseUrl === DEFAULT_BASE_URL && !apiKeyFromEnv()) {
    throw new CliError(`no API key for ${DEFAULT_BASE_URL}: set SPEEDRUN_AGENT_API_KEY (or OPENAI_API_KEY), or pass --base-url for another endpoint`);
  }
  if (c.kind === 'acp') findProgram(c.command);
}

/** The program an agent command starts, found as the OS would (a path, or a name on $PATH); else bad input. */
export function findProgram(command: string): string {
  const exe = splitCommand(command)[0];
  if (!exe) throw new CliError('--agent-command names no program', EXIT.usage);
  const candidates = exe.includes('/') ? [path.resolve(exe)] : (process.env.PATH ?? '').split(path.delimiter).filter(Boolean).map((d) => path.join(d, exe));
  for (const c of candidates) {
    try {
      fs.accessSync(c, fs.constants.X_OK);
      if (fs.statSync(c).isFile()) return c;
    } catch {
      // not this one
    }
  }
  throw new CliError(
    exe.includes('/')
      ? `--agent-command: ${exe} is not an executable file`
      : `--agent-command: no program '${exe}' on PATH (install the agent, or give its full path)`,
  );
}

function isHttpUrl(s: string): boolean {
  try {
    return /^https?:$/.test(new URL(s).protocol);
  } catch {
    return false;
  }
}
