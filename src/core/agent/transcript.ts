// The persisted transcript of agent sessions: <task>/.speedrun/agent/transcript.jsonl, one event per line.
// Live-only events (streamed text deltas) are not stored; the full text arrives in the `response` event.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeAtomic } from '../files';
import type { AgentEvent } from './types';

export function agentDir(taskDir: string): string {
  return path.join(taskDir, '.speedrun', 'agent');
}

export function transcriptPath(taskDir: string): string {
  return path.join(agentDir(taskDir), 'transcript.jsonl');
}

/** Where the script is kept as a turn's edit left it (the "after" side of that turn's diff). */
export function turnScriptPath(taskDir: string, sessionId: string, turn: number): string {
  return path.join(agentDir(taskDir), 'turns', sessionId, `${turn}.py`);
}

export function saveTurnScript(taskDir: string, sessionId: string, turn: number, text: string): string {
  const file = turnScriptPath(taskDir, sessionId, turn);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  writeAtomic(file, text);
  return path.relative(taskDir, file);
}

export function appendEvent(taskDir: string, e: AgentEvent): void {
  appendEventTo(transcriptPath(taskDir), e);
}

/** Appends to any transcript file (a search node keeps its own, in its folder). */
export function appendEventTo(file: string, e: AgentEvent): void {
  if (e.type === 'delta') return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.appendFileSync(file, JSON.stringify(e) + '\n');
}

/** All stored events; a torn last line (crash mid-write) is skipped. */
export function readTranscript(taskDir: string): AgentEvent[] {
  return readTranscriptFile(transcriptPath(taskDir));
}

export function readTranscriptFile(file: string): AgentEvent[] {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  const out: AgentEvent[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    try {
      const e = JSON.parse(line) as AgentEvent;
      if (e && typeof e.type === 'string' && typeof e.sessionId === 'string') out.push(e);
    } catch {
      // skip
    }
  }
  return out;
}
