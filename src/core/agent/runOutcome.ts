// What a finished run tells the agent: its state and metrics, the script's error, and the last output lines
// (for the root cause of a failure). Built the same way by every face that runs an agent's attempt.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { RunMeta } from '../runs/types';
import type { RunOutcome } from './types';

const LOG_TAIL_CHARS = 6000;

export function runOutcome(end: RunMeta, runDir: string): RunOutcome {
  let logTail = '';
  try {
    logTail = fs.readFileSync(path.join(runDir, 'console.log'), 'utf8').slice(-LOG_TAIL_CHARS);
  } catch {
    // no output stored
  }
  return { runId: end.runId, state: end.state, final: end.final ?? null, error: end.error ?? null, logTail, message: end.failure?.message };
}
