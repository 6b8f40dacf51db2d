// Pieces the search tests share: a task of the fixture benchmark, a pool of simulated boxes on this machine
// (local targets, each its own box dir so they run at once), and a scripted model for the fake OpenAI server
// that edits the script the prompt shows: most answers make the simulated step cheaper (a valid, faster node),
// every `badEvery`-th cuts the steps to 80% (val loss ends above 3.28: an invalid, buggy node), and an answer
// to a debug prompt restores the steps.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openTask } from '../../src/core/benchmark/openTask';
import type { TaskFile } from '../../src/core/benchmark/types';
import { parseTargets, type Target } from '../../src/core/remote/targets';
import type { RecordedRequest, ScriptedResponse } from './fakeOpenAI';
import { makeShards, tempDir } from './runFixture';
import { REPO_ROOT } from './sshd';

export const FIXTURE_BENCHMARK = path.join(REPO_ROOT, 'test/fixtures/benchmark');
const SIM = path.join(REPO_ROOT, 'test/sim');
export const REF_STEPS = 1875;

export function searchTask(record = 12): { taskDir: string; task: TaskFile; root: string } {
  const root = tempDir('speedrun-search-');
  const r = openTask({ benchmarkPath: FIXTURE_BENCHMARK, taskId: record, dest: path.join(root, 'task') });
  return { taskDir: r.taskDir, task: r.task, root };
}

/** `n` local targets on the simulated box, `sim1..simN`; also written to <root>/targets.json for the CLI. */
export function simPool(root: string, n: number, env: Record<string, string> = {}): Target[] {
  const shards = makeShards(path.join(root, 'data'), 12);
  const raw = Array.from({ length: n }, (_, i) => ({
    name: `sim${i + 1}`,
    kind: 'local',
    remoteDir: path.join(root, `box${i + 1}`),
    gpus: 8,
    setup: `export PATH=${SIM}:$PATH PYTHONPATH=${SIM}/pylib`,
    ...shards,
    // SIM_RECORD keeps record 12's loss curve when a node changes the step count.
    env: { SIM_SPEEDUP: '4000', SIM_COMPILE_SECONDS: '1', SIM_VAL_SECONDS: '0.5', SIM_RECORD: '12', ...env },
  }));
  fs.writeFileSync(path.join(root, 'targets.json'), JSON.stringify(raw));
  const { targets, errors } = parseTargets(raw);
  if (errors.length) throw new Error(errors.join('; '));
  return targets;
}

function scriptOf(req: RecordedRequest): string {
  const user = [...(req.body.messages ?? [])].reverse().find((m) => m.role === 'user')?.content ?? '';
  const m = /```python\n([\s\S]*?)\n```/.exec(user);
  return m ? m[1] : '';
}

export function isDebugPrompt(req: RecordedRequest): boolean {
  return (req.body.messages ?? []).some((m) => m.role === 'user' && /whose run failed or missed the target/.test(m.content));
}

/** A `respond` for startFakeOpenAI: see the header. */
/** `costFactor`: every answer multiplies the step cost by this instead (e.g. 1.6: a slower script). */
export function scriptedModel(opts: { badEvery?: number; delayMs?: number; costFactor?: number } = {}) {
  return (req: RecordedRequest, n: number): ScriptedResponse => {
    const script = scriptOf(req);
    const cost = /^SIM_STEP_COST_MS = ([\d.]+)$/m.exec(script);
    const steps = /^( +num_iterations : int = )(\d+)(.*)$/m.exec(script);
    if (!cost || !steps) return { content: 'I cannot find the lines I meant to change.' };
    const block = (search: string, replace: string, plan: string) => ({
      content: `${plan}\n\ntrain_gpt2.py\n<<<<<<< SEARCH\n${search}\n=======\n${replace}\n>>>>>>> REPLACE\n`,
      delayMs: opts.delayMs ?? 1,
    });
    if (isDebugPrompt(req) && Number(steps[2]) !== REF_STEPS) {
      return block(steps[0], `${steps[1]}${REF_STEPS}${steps[3]}`, `Fix: restore num_iterations to ${REF_STEPS} (request ${n}).`);
    }
    if (opts.badEvery && n % opts.badEvery === 0) {
      return block(steps[0], `${steps[1]}${Math.round(Number(steps[2]) * 0.8)}${steps[3]}`, `Cut the steps by 20% (request ${n}).`);
    }
    const next = (Number(cost[1]) * (opts.costFactor ?? 0.97 - (n % 5) * 0.005)).toFixed(4);
    return block(cost[0], `SIM_STEP_COST_MS = ${next}`, `Make each step cheaper (request ${n}).`);
  };
}
