// The `local` target (this machine, e.g. VS Code already on the GPU box via Remote-SSH) shares every step of
// the run logic with `ssh` targets; here it runs against the simulated box on this machine.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { connectTarget } from '../../src/core/remote/connect';
import { parseTargets } from '../../src/core/remote/targets';
import { RunManager } from '../../src/core/runs/manager';
import { RunStore } from '../../src/core/runs/store';
import type { RunEvent } from '../../src/core/runs/types';
import { REPO_ROOT } from '../support/sshd';
import { liveInGroup, makeShards, makeTask, removeTemps, tempDir } from '../support/runFixture';

const SIM = path.join(REPO_ROOT, 'test/sim');

suite('integration: local target', function () {
  this.timeout(60_000);
  suiteTeardown(removeTemps);

  function local(env: Record<string, string>) {
    const box = tempDir('speedrun-local-');
    const shards = makeShards(path.join(box, 'data'), 12);
    const { targets } = parseTargets([
      { name: 'here', kind: 'local', remoteDir: path.join(box, 'work'), gpus: 2, setup: `export PATH=${SIM}:$PATH PYTHONPATH=${SIM}/pylib SIM_GPUS=2`, ...shards, env },
    ]);
    const events: RunEvent[] = [];
    const m = new RunManager({ targets: () => targets, connect: (t) => connectTarget(t, { confirmHostKey: async () => false }), timeLimitMs: () => 60_000, cancelGraceMs: () => 1000 });
    m.onEvent((e) => events.push(e));
    return { m, events };
  }

  test('a full run on this machine streams and stores the same way', async () => {
    const task = makeTask({ steps: 30, valEvery: 10 });
    const { m, events } = local({ SIM_SPEEDUP: '400', SIM_COMPILE_SECONDS: '1' });
    const meta = m.enqueue({ taskDir: task, target: 'here' });
    const end = await m.waitForEnd(meta.runId);
    assert.equal(end.state, 'finished', JSON.stringify(end.failure));
    assert.equal(end.preflight?.gpus, 2);
    const store = new RunStore(task);
    const log = store.readConsole(meta.runId).toString();
    assert.equal(log, fs.readFileSync(path.join(end.remoteDir!, 'console.log'), 'utf8'));
    assert.match(log, /nproc_per_node=2/);
    assert.equal(events.map((e) => (e.type === 'output' ? e.text : '')).join(''), log);
    assert.equal(store.readResults(meta.runId)!.metrics.n_steps, 30);
  });

  test('cancel on this machine leaves no process of the run', async () => {
    const task = makeTask({ steps: 3000, valEvery: 1000 });
    const { m, events } = local({ SIM_SPEEDUP: '3', SIM_COMPILE_SECONDS: '1' });
    const meta = m.enqueue({ taskDir: task, target: 'here' });
    await new Promise<void>((resolve) => {
      const check = () => (events.some((e) => e.type === 'state' && e.state === 'training') ? resolve() : setTimeout(check, 50));
      check();
    });
    const pgid = Number(fs.readFileSync(path.join(m.get(meta.runId)!.remoteDir!, 'pgid'), 'utf8'));
    assert.ok(liveInGroup(pgid).length >= 3);
    await m.cancel(meta.runId);
    assert.equal((await m.waitForEnd(meta.runId)).state, 'cancelled');
    assert.deepEqual(liveInGroup(pgid), []);
  });
});
