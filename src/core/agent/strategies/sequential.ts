// The sequential best-node loop: one turn at a time in view of the user. Each turn starts from the script as
// the user edited it since the last turn, else from the last attempt if its run crashed (a few debug turns in
// a row), else from the best valid attempt, else from the session's first script. At the end the best attempt
// is left in the file, unless the user has edited it since the agent last did.
import { type TurnResult, checkStopped, playTurn } from '../turn';
import type { TurnRecord } from '../prompt';
import type { Strategy, StrategyRun } from './strategy';

export class SequentialStrategy implements Strategy {
  readonly name = 'sequential';
  /** Turns in a row that may try to fix a crashed run before going back to the best attempt. */
  constructor(private readonly maxDebugDepth = 2) {}

  async run(s: StrategyRun): Promise<string> {
    const { ctx } = s;
    const { host } = ctx;
    const history: TurnRecord[] = [];
    const rootLabel = s.root.isStartingScript ? 'the starting script' : 'the script as you edited it before the agent started';
    let lastAgentText = s.root.text;
    let crashed: { script: string; depth: number } | undefined;
    let reason: string;
    let lastTurn = 0;
    for (;;) {
      const limit = s.limit();
      if (limit) {
        reason = limit;
        break;
      }
      checkStopped(ctx);
      const turn = s.nextTurn();
      lastTurn = turn;
      const cur = await host.readScript();
      let parent: string;
      let startsFrom: string;
      if (cur.text !== lastAgentText) {
        parent = cur.text;
        startsFrom = 'as you edited it since the last turn';
      } else if (crashed && crashed.depth <= this.maxDebugDepth && crashed.script === cur.text) {
        parent = cur.text;
        startsFrom = 'the last attempt, whose run failed';
      } else if (s.best.turn > 0) {
        parent = s.best.script;
        startsFrom = `the best attempt so far, from turn ${s.best.turn}`;
      } else {
        parent = s.root.text;
        startsFrom = rootLabel;
      }
      const best = s.best.turn > 0 ? s.best : undefined;
      const r: TurnResult = await playTurn(ctx, { turn, parent, startsFrom, history: [...history], best });
      history.push({ turn, plan: r.plan, outcome: r.summary });
      if (r.status === 'ran') {
        s.offer(r);
        crashed = r.outcome?.state === 'failed' ? { script: r.script, depth: (crashed?.depth ?? 0) + 1 } : undefined;
      }
      lastAgentText = (await host.readScript()).text;
      if (r.stop) {
        reason = r.stop;
        break;
      }
    }
    // Leave the best valid attempt in the file, unless the user has edited it since the agent last did.
    const now = await host.readScript();
    if (s.best.turn > 0 && now.text === lastAgentText && now.text !== s.best.script) {
      const turn = lastTurn + 1;
      const checkpoint = await host.checkpoint(turn, now.text);
      const r = await host.applyEdit({ turn, checkpoint, kind: 'final', before: now.text, after: s.best.script, version: now.version });
      if (r.applied) host.emit({ type: 'restore', turn, to: `the best attempt, from turn ${s.best.turn}` });
    }
    return reason;
  }
}
