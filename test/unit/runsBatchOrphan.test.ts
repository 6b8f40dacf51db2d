// A run record a job-array submission left behind: queued, never submitted, naming the process that was
// submitting it. Re-attaching (a reload, `speedrun attach`, a resumed search) must neither queue it a second time
// while that process may still submit it, nor leave it waiting forever once that process is provably gone.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { machineWord, processStartMs, thisProcess } from '../../src/core/processOwner';
import { parseTargets } from '../../src/core/remote/targets';
import { RunManager } from '../../src/core/runs/manager';
import { RunStore, newRunId } from '../../src/core/runs/store';
import type { RunMeta } from '../../src/core/runs/types';
import { makeTask, removeTemps } from '../support/runFixture';

suite('runs: a job array killed while it was being submitted', () => {
  suiteTeardown(removeTemps);

  function setup(submitter: RunMeta['submitter']) {
    const taskDir = makeTask();
    const { targets } = parseTargets([{ name: 'box', kind: 'local', remoteDir: path.join(taskDir, 'box') }]);
    let connects = 0;
    const manager = new RunManager({
      targets: () => targets,
      connect: async () => {
        connects++;
        throw new Error('nothing may connect for a run another process is submitting');
      },
      timeLimitMs: () => 60_000,
      cancelGraceMs: () => 1000,
    });
    const store = new RunStore(taskDir);
    const meta: RunMeta = { runId: newRunId(), taskId: 12, target: 'box', state: 'queued', createdAt: new Date().toISOString(), scriptSha256: '', submitter };
    store.create(meta, Buffer.from('print(1)\n'));
    return { taskDir, manager, store, meta, connects: () => connects };
  }

  test('its submitter gone: the run ends failed at launch, saying nothing ran', () => {
    const dead = spawnSync('true').pid!;
    const { taskDir, manager, store, meta, connects } = setup({ machine: machineWord(os.hostname()), pid: dead, startMs: processStartMs(process.pid) });
    const ended: RunMeta[] = [];
    manager.onEvent((e) => e.type === 'ended' && ended.push(e.meta));
    const m = manager.attach(taskDir, meta.runId, true)!;
    assert.equal(m.state, 'failed');
    assert.equal(m.failure?.stage, 'launch');
    assert.match(m.failure!.message, /ended before it was submitted; nothing ran/);
    assert.equal(m.submitter, undefined);
    assert.equal(store.read(meta.runId)?.state, 'failed', 'stored, so every face sees it');
    assert.deepEqual(ended.map((x) => x.runId), [meta.runId]);
    assert.deepEqual(manager.resume(taskDir), [], 'a reload has nothing left to resume');
    assert.equal(connects(), 0);
  });

  test('its submitter alive (or on another machine): loaded, never queued a second time', async () => {
    for (const submitter of [thisProcess(), { machine: 'other-host', pid: 1 }]) {
      const { taskDir, manager, store, meta, connects } = setup(submitter);
      assert.equal(manager.attach(taskDir, meta.runId, true)?.state, 'queued');
      await new Promise((r) => setTimeout(r, 100));
      assert.equal(connects(), 0, `${submitter.machine}: no second submission`);
      assert.equal(store.read(meta.runId)?.state, 'queued');
    }
  });
});
