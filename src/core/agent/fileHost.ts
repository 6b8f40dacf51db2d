// The agent's host without an editor: the script is the file on disk, every turn is accepted (no one is there to
// review it), and runs go through whatever `run` the face passes (the CLI's run engine). Checkpoints and turn
// scripts land where the editor's sessions put them, so a headless session reads the same afterwards.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { writeAtomic } from '../files';
import { checkScript } from '../rules';
import { readBaseline } from '../rules/preRun';
import { SCRIPT_NAME, saveCheckpoint } from './checkpoints';
import { saveTurnScript } from './transcript';
import type { AgentHost } from './turn';
import type { AgentEventBody, RunOutcome } from './types';

export interface FileHostOptions {
  taskDir: string;
  sessionId: string;
  emit(e: AgentEventBody): void;
  run(turn: number, signal: AbortSignal, script: string): Promise<RunOutcome>;
  /** Interpreter for the syntax check; false = the bracket/indent check only. */
  python?: string | false;
}

export function fileHost(o: FileHostOptions): AgentHost {
  const file = path.join(o.taskDir, SCRIPT_NAME);
  const baseline = readBaseline(o.taskDir);
  const before = new Map<number, string>();
  let version = 0;
  let seen: string | undefined;
  const read = () => {
    const text = fs.readFileSync(file, 'utf8');
    if (text !== seen) {
      seen = text;
      version++;
    }
    return { text, version };
  };
  return {
    readScript: async () => read(),
    applyEdit: async (e) => {
      const cur = read();
      if (cur.text !== e.before || cur.version !== e.version) return { applied: false, reason: `${SCRIPT_NAME} changed on disk` };
      writeAtomic(file, e.after);
      read();
      return { applied: true };
    },
    checkpoint: async (turn, text) => {
      before.set(turn, text);
      return saveCheckpoint(o.taskDir, text, { turn, sessionId: o.sessionId, label: `before agent turn ${turn}` }).n;
    },
    checkRules: (text) => checkScript(text, 'text' in baseline ? baseline.text : undefined, { python: o.python }),
    review: async () => ({ decision: 'accept', by: 'auto' }),
    revert: async (turn) => {
      const text = before.get(turn);
      if (text !== undefined) writeAtomic(file, text);
    },
    run: (turn, signal, script) => o.run(turn, signal, script),
    saveTurn: (turn, text) => saveTurnScript(o.taskDir, o.sessionId, turn, text),
    emit: (e) => o.emit(e),
  };
}
