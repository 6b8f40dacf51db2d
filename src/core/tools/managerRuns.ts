// ToolRuns on a RunManager of the caller's own: the MCP server and the headless agent, which have no editor
// run controller. Runs an earlier process launched are re-attached when asked about, so their state is live.
import type { Target } from '../remote/targets';
import { RunError, type RunManager } from '../runs/manager';
import { RunStore } from '../runs/store';
import { TERMINAL_STATES, type RunMeta } from '../runs/types';
import { ToolError, type ToolRuns } from './tools';

/** The target a run goes to: the named one, or the only one configured. */
export function pickTarget(targets: readonly Pick<Target, 'name'>[], name: string | undefined): string {
  const names = targets.map((t) => t.name);
  if (name !== undefined) {
    if (!names.includes(name)) throw new ToolError(`No target '${name}'; configured targets: ${names.join(', ') || 'none'}.`);
    return name;
  }
  if (names.length === 1) return names[0];
  if (!names.length) throw new ToolError('No target is configured: add one to speedrun.targets (or the targets file) first.');
  throw new ToolError(`Several targets are configured (${names.join(', ')}): pass target.`);
}

export function managerRuns(manager: RunManager, targets: () => Target[]): ToolRuns {
  /** Follow a stored run that is still going but not followed by this process. */
  const follow = (taskDir: string, runId: string): RunMeta | undefined => {
    const live = manager.get(runId);
    if (live) return live;
    const stored = new RunStore(taskDir).read(runId);
    if (!stored || TERMINAL_STATES.includes(stored.state)) return stored;
    return manager.attach(taskDir, runId, false) ?? stored;
  };
  return {
    async start(taskDir, target) {
      try {
        return manager.enqueue({ taskDir, target: pickTarget(targets(), target), origin: 'agent' });
      } catch (e) {
        if (e instanceof RunError) throw new ToolError(e.message);
        throw e;
      }
    },
    async cancel(taskDir, runId) {
      const m = follow(taskDir, runId);
      if (!m) throw new ToolError(`No run ${runId} in ${taskDir}.`);
      if (!manager.get(runId)) throw new ToolError(`Run ${runId} is on target '${m.target}', which is not configured here.`);
      await manager.cancel(runId);
      return manager.waitForEnd(runId);
    },
    get: follow,
    list: (taskDir) => manager.list(taskDir),
  };
}
