// The agent's host without an editor: the script is a file on disk, every turn is accepted (no one is there to
// review it), and runs go through whatever `run` the face passes (the CLI's run engine). A headless session keeps
// checkpoints and turn scripts where the editor's sessions put them, so it reads the same afterwards; a search
// node keeps nothing beside its own folder.
import * as fs from 'node:fs';
import { writeAtomic } from '../files';
import { checkScript } from '../rules';
import { SCRIPT_NAME, saveCheckpoint } from './checkpoints';
import { saveTurnScript } from './transcript';
import type { AgentHost } from './turn';
import type { AgentEventBody, RunOutcome } from './types';

export interface FileHostOptions {
  /** The script the agent edits. */
  file: string;
  /** Record i's script, for the rules that compare against it (undefined: those checks are skipped). */
  baseline: string | undefined;
  /** Where checkpoints and turn scripts go, as for the editor's sessions; without it they are kept in memory only. */
  keep?: { taskDir: string; sessionId: string };
  emit(e: AgentEventBody): void;
  run(turn: number, signal: AbortSignal, script: string): Promise<RunOutcome>;
  /** Interpreter for the syntax check; false = the bracket/indent check only. */
  python?: string | false;
}

export function fileHost(o: FileHostOptions): AgentHost {
  const before = new Map<number, string>();
  let version = 0;
  let seen: string | undefined;
  const read = () => {
    const text = fs.readFileSync(o.file, 'utf8');
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
      writeAtomic(o.file, e.after);
      read();
      return { applied: true };
    },
    checkpoint: async (turn, text) => {
      before.set(turn, text);
      return o.keep ? saveCheckpoint(o.keep.taskDir, text, { turn, sessionId: o.keep.sessionId, label: `before agent turn ${turn}` }).n : 0;
    },
    checkRules: (text) => checkScript(text, o.baseline, { python: o.python }),
    review: async () => ({ decision: 'accept', by: 'auto' }),
    revert: async (turn) => {
      const text = before.get(turn);
      if (text !== undefined) writeAtomic(o.file, text);
    },
    run: (turn, signal, script) => o.run(turn, signal, script),
    saveTurn: (turn, text) => (o.keep ? saveTurnScript(o.keep.taskDir, o.keep.sessionId, turn, text) : undefined),
    emit: (e) => o.emit(e),
  };
}
