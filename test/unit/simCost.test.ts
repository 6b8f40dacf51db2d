// The simulated box times a run from the script: the fixture records carry their cost (SIM_STEP_COST_MS and
// num_iterations), so reproducing the reference change i -> i+1 recovers the gap (FSR about 1, simulated).
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { getRecord } from '../../src/core/benchmark';
import { fsrForRun } from '../../src/core/benchmark/fsr';
import { parseLogText } from '../../src/core/logs/parser';
import { FIXTURE, REPO, cleanupTemps, rec, tempDir } from './benchmarkHelpers';

const TORCHRUN = path.join(REPO, 'test/sim/torchrun');

/** One simulated run of `script` (fast: 5000x real time); its parsed final result. */
function simulate(script: string, env: Record<string, string> = {}) {
  const dir = tempDir('speedrun-simcost-');
  fs.writeFileSync(path.join(dir, 'train_gpt2.py'), script);
  const r = spawnSync(TORCHRUN, ['--standalone', '--nproc_per_node=8', 'train_gpt2.py'], {
    cwd: dir,
    encoding: 'utf8',
    env: { ...process.env, NANOGPT_TRAIN_FILES: 'x', NANOGPT_VAL_FILES: 'y', NANOGPT_VAL_TOKENS: '1', SIM_SPEEDUP: '5000', SIM_COMPILE_SECONDS: '0', ...env },
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^SIMULATED torchrun/);
  const final = parseLogText(r.stdout).final;
  assert.ok(final, 'the run reports a final result');
  return final;
}

const script = (r: number) => fs.readFileSync(rec(FIXTURE, r, 'train_gpt2.py'), 'utf8');

suite('simulated cost of the fixture records', function () {
  this.timeout(60_000);
  teardown(cleanupTemps);

  test('each record script carries a cost line: timed steps x cost = the record\'s reference train time', () => {
    for (const r of [1, 5, 12, 13, 20, 21]) {
      const m = /^SIM_STEP_COST_MS = ([\d.]+)$/m.exec(script(r));
      assert.ok(m, `record ${r} has a cost line`);
      const facts = getRecord(r)!;
      const total = Number(m[1]) * (facts.steps - facts.untimedWarmupSteps);
      assert.ok(Math.abs(total - facts.trainTimeMs) < 1, `record ${r}: ${total} vs ${facts.trainTimeMs}`);
    }
  });

  test('task 12 on the simulated box: record 12 scores FSR about 0, the reproduced change about 1, a partial one in between', () => {
    const task = { baselineMs: getRecord(12)!.trainTimeMs, targetMs: getRecord(13)!.trainTimeMs };
    const fsr = (s: string) => fsrForRun(simulate(s).train_time, null, task).fsr;
    const start = fsr(script(12));
    const reproduced = fsr(script(13));
    // Only the step count of the change (1875 -> 1750), not the cheaper steps.
    const stepsOnly = fsr(script(12).replace('num_iterations : int = 1875', 'num_iterations : int = 1750'));
    // The whole-run jitter is at most 0.5% of ~300 s, i.e. about 0.05 of task 12's 28 s gap.
    assert.ok(Math.abs(start) < 0.1, `record 12: FSR ${start}`);
    assert.ok(Math.abs(reproduced - 1) < 0.1, `record 13's script: FSR ${reproduced}`);
    assert.ok(stepsOnly > 0.3 && stepsOnly < 0.95, `steps only: FSR ${stepsOnly}`);
  });

  test('a fast run into a slow reader on a pipe loses no line (the final result comes last)', async () => {
    const dir = tempDir('speedrun-simcost-');
    fs.writeFileSync(path.join(dir, 'train_gpt2.py'), script(13));
    const p = spawn(TORCHRUN, ['--standalone', '--nproc_per_node=8', 'train_gpt2.py'], {
      cwd: dir, stdio: ['ignore', 'pipe', 'ignore'],
      env: { ...process.env, NANOGPT_TRAIN_FILES: 'x', NANOGPT_VAL_FILES: 'y', NANOGPT_VAL_TOKENS: '1', SIM_SPEEDUP: '5000', SIM_COMPILE_SECONDS: '0' },
    });
    p.stdout.pause();
    await new Promise((r) => setTimeout(r, 1500)); // the run is over long before the reader starts
    let out = '';
    p.stdout.on('data', (b) => (out += b));
    p.stdout.resume();
    await new Promise((r) => p.on('close', r));
    assert.match(out, /^step:1750\/1750 val_loss:[\d.]+ train_time:\d+ms/m);
    assert.match(out, /^peak memory consumption: \d+ MiB$/m);
  });

  test('repeats differ unless SIM_SEED pins them', () => {
    const s = script(13);
    const [a, b] = [simulate(s), simulate(s)];
    assert.notDeepEqual([a.train_time, a.val_loss], [b.train_time, b.val_loss]);
    const [c, d] = [simulate(s, { SIM_SEED: '7' }), simulate(s, { SIM_SEED: '7' })];
    assert.deepEqual(c, d);
  });
});
