// A search on a Slurm target (this machine's real single-node cluster, the simulated GPU box in its jobs): a
// round's children are all written first and then go out as one job array, each run followed to its end.
// Needs root, slurm-wlm and munge (scripts/ensure-deps.sh).
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { connectTarget } from '../../src/core/remote/connect';
import { parseTargets } from '../../src/core/remote/targets';
import { RunManager } from '../../src/core/runs/manager';
import { RunStore } from '../../src/core/runs/store';
import { resolveScaffold } from '../../src/core/search/presets';
import { ManagerRunner } from '../../src/core/search/runner';
import { Search, createSearch } from '../../src/core/search/search';
import { fakeModelWriter } from '../support/searchWriter';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI';
import { makeShards, removeTemps } from '../support/runFixture';
import { scriptedModel, searchTask } from '../support/searchFixture';
import { startSlurm, type SlurmCluster } from '../support/slurm';

suite('integration: search on a Slurm target', function () {
  this.timeout(240_000);
  let cluster: SlurmCluster;
  let fake: FakeOpenAI;
  suiteSetup(async () => {
    cluster = await startSlurm();
    fake = await startFakeOpenAI({ respond: scriptedModel({ badEvery: 3 }) });
  });
  suiteTeardown(async () => {
    await fake.close();
    cluster?.stop();
    removeTemps();
  });

  /** A flat search of 3 nodes over the cluster, not started yet. */
  function slurmSearch() {
    const { taskDir, task, root } = searchTask(12);
    fs.chmodSync(root, 0o755);
    const shards = makeShards(path.join(root, 'data'), 12);
    const { targets, errors } = parseTargets([
      {
        name: 'cluster',
        kind: 'slurm',
        partition: cluster.partition,
        gpuType: cluster.gpuType,
        gpus: 8,
        setup: cluster.simSetup,
        remoteDir: path.join(root, 'work'),
        ...shards,
        env: { SIM_SPEEDUP: '4000', SIM_COMPILE_SECONDS: '0', SIM_VAL_SECONDS: '0', SIM_RECORD: '12' },
      },
    ]);
    assert.deepEqual(errors, []);
    const manager = new RunManager({ targets: () => targets, connect: (t) => connectTarget(t, { confirmHostKey: async () => false }), timeLimitMs: () => 10 * 60_000, cancelGraceMs: () => 1000 });
    const store = createSearch(
      { taskDir, task, scaffold: resolveScaffold('flat', { maxNodes: 3 }), seed: 1, hintLevels: [], backend: 'openai', model: 'fake', targets: ['cluster'] },
      fs.readFileSync(path.join(taskDir, 'train_gpt2.py'), 'utf8'),
    );
    const runner = new ManagerRunner(manager, taskDir, ['cluster'], () => 8);
    const s = new Search(store, task, fakeModelWriter(fake.baseUrl, task, store), runner);
    return { s, store, taskDir, manager, runner };
  }

  /** The runs of the search's nodes, and the id of the one job array they must share. */
  function arrayOf(taskDir: string, runIds: string[]) {
    const runs = runIds.map((id) => new RunStore(taskDir).read(id)!);
    const arrayId = runs[0].slurmJobId!.split('_')[0];
    assert.match(arrayId, /^\d+$/);
    assert.deepEqual(runs.map((r) => r.slurmJobId).sort(), [0, 1, 2].map((i) => `${arrayId}_${i}`));
    return { runs, arrayId };
  }

  test('flat, 3 nodes: the round goes out as one job array (job ids <id>_0.._2, no throttle below 3) and every node gets its result', async () => {
    const { s, store, taskDir, manager, runner } = slurmSearch();
    assert.equal(runner.batches, true, 'a Slurm target batches');
    // No run may start before the round's last child is written.
    const writtenAt: number[] = [];
    s.onEvent((e) => e.type === 'node' && e.node.status === 'written' && writtenAt.push(Date.now()));
    // Slurm shows the array's throttle only while some of its elements wait: read it as soon as the array is in.
    let job = '';
    s.onEvent((e) => {
      if (e.type !== 'node' || e.node.status !== 'running' || job) return;
      const id = new RunStore(taskDir).read(e.node.runId!)!.slurmJobId!.split('_')[0];
      job = spawnSync('scontrol', ['show', 'job', '-o', id], { encoding: 'utf8' }).stdout;
    });
    const out = await s.run();
    manager.dispose();

    assert.equal(out.state, 'done');
    assert.equal(out.stopReason, 'all 1 rounds done');
    const nodes = store.nodes().slice(1);
    assert.equal(nodes.length, 3);
    assert.equal(writtenAt.length, 3);
    const { runs, arrayId } = arrayOf(taskDir, nodes.map((n) => n.runId!));
    assert.ok(runs.every((r) => Date.parse(r.createdAt) >= Math.max(...writtenAt)), 'the runs were created after every child was written');
    // One array of the round's three elements, none held back by a throttle (the limit is the round's size).
    assert.match(job, new RegExp(`ArrayJobId=${arrayId} ArrayTaskId=0-2 `), job);
    assert.doesNotMatch(job, /ArrayTaskThrottle|ArrayTaskId=\S*%/);
    // Each node has its run's result: the scripted model makes two faster valid nodes and one cut short (invalid).
    assert.deepEqual(runs.map((r) => r.state), ['finished', 'finished', 'finished']);
    for (const n of nodes) {
      assert.equal(n.status, 'finished');
      assert.equal(store.readResults(n.id)?.status, 'COMPLETED');
      assert.equal(n.valLoss, new RunStore(taskDir).read(n.runId!)!.final?.val_loss);
    }
    assert.equal(nodes.filter((n) => n.isValid).length, 2);
    assert.ok(out.best && out.best.id > 0 && out.best.fsr! > 0);
  });

  test('resumed with a child written but not submitted: it goes out in the same job array as the children written now', async () => {
    const { s, store, taskDir, manager } = slurmSearch();
    // As a killed session leaves it: round 1 pending, v_1 written (script on disk), nothing submitted.
    const written = store.script(0).replace(/^SIM_STEP_COST_MS = ([\d.]+)$/m, (_, c: string) => `SIM_STEP_COST_MS = ${(Number(c) * 0.9).toFixed(4)}`);
    assert.notEqual(written, store.script(0));
    store.writeScript(1, written);
    store.writeMeta({ id: 1, parent: 0, children: [], bugDepth: 0, hypothesis: 'ten percent cheaper steps', createdAt: new Date().toISOString(), status: 'written', round: 1, debug: false, idea: 'model' });
    store.writeMeta({ ...store.node(0)!, children: [1] });
    const p = store.read().progress;
    store.writeProgress({ ...p, round: 1, pending: { round: 1, parent: 0, count: 3, debug: false }, spent: { ...p.spent, nodes: 1 } });
    const before = fake.requests.length;
    const out = await s.run();
    manager.dispose();

    assert.equal(out.state, 'done');
    assert.equal(out.stopReason, 'all 1 rounds done');
    assert.equal(fake.requests.length - before, 2, 'the model wrote only the two missing children');
    const nodes = store.nodes().slice(1);
    assert.deepEqual(nodes.map((n) => n.id), [1, 2, 3]);
    const { runs } = arrayOf(taskDir, nodes.map((n) => n.runId!));
    assert.equal(new RunStore(taskDir).script(runs[0].runId).toString("utf8"), written, "v_1's run is the script written before the kill");
    assert.deepEqual(nodes.map((n) => n.status), ['finished', 'finished', 'finished']);
    assert.ok(nodes[0].isValid && nodes[0].hypothesis === 'ten percent cheaper steps');
  });
});
