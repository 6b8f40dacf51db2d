// Launch overhead on loopback: from Run (enqueue) to the remote process started (PGID known), against a
// baseline of plain `ssh box true` plus an `scp` of the same script. Target: at most 1.5x the baseline.
// Needs root and openssh-server (a real sshd is started on a free port).
// Run: npx tsc -p tsconfig.test.json && node out/bench/launch.js [REPEATS]
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import type { RunEvent } from '../src/core/runs/types';
import { ensureUser, startSshd } from '../test/support/sshd';
import { harness, makeShards, makeTask, removeTemps, writeSshConfig } from '../test/support/runFixture';

const repeats = Number(process.argv[2] ?? 7);
const median = (xs: number[]) => xs.slice().sort((a, b) => a - b)[xs.length >> 1];
const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;

async function main() {
  const s = await startSshd();
  try {
    const { uid } = ensureUser(s.user);
    const shards = makeShards(path.join(s.boxDir, 'data'), 12, uid);
    const cfg = writeSshConfig(s);
    const task = makeTask({ steps: 5, valEvery: 5 });
    const script = path.join(task, 'train_gpt2.py');
    const h = harness(s, { sshConfig: cfg, target: { ...shards, env: { SIM_SPEEDUP: '1000', SIM_COMPILE_SECONDS: '0' } } });

    const baseline: number[] = [];
    const ours: number[] = [];
    const stages: Record<string, number[]> = {};
    for (let i = 0; i < repeats + 1; i++) {
      // Baseline: what a user would type (OpenSSH client, no connection sharing).
      let t0 = process.hrtime.bigint();
      execFileSync('ssh', ['-F', cfg, 'box', 'true']);
      execFileSync('scp', ['-q', '-F', cfg, script, `box:${s.boxDir}/baseline.py`]);
      const b = ms(t0);

      t0 = process.hrtime.bigint();
      const marks: Record<string, number> = {};
      const onState = (e: RunEvent) => {
        if (e.type === 'state' && !(e.state in marks)) marks[e.state] = ms(t0);
      };
      const off = h.manager.onEvent(onState);
      const meta = h.manager.enqueue({ taskDir: task, target: 'box' });
      await h.until(meta.runId, (e) => e.type === 'state' && e.state === 'compiling');
      const o = ms(t0);
      off();
      const end = await h.manager.waitForEnd(meta.runId);
      if (end.state !== 'finished') throw new Error(`run ${meta.runId} ${end.state}: ${end.failure?.message}`);
      if (i === 0) continue; // warm-up (first ssh -G, disk caches)
      baseline.push(b);
      ours.push(o);
      const order = ['connecting', 'preflight', 'uploading', 'compiling'];
      let prev = 0;
      for (const st of order) {
        (stages[st] ??= []).push(marks[st] - prev);
        prev = marks[st];
      }
    }
    const mb = median(baseline);
    const mo = median(ours);
    console.log(`launch overhead on loopback, median of ${repeats} (after 1 warm-up), ${new Date().toISOString()}`);
    console.log(`  baseline  ssh box true + scp train_gpt2.py : ${mb.toFixed(0)} ms   (all: ${baseline.map((x) => x.toFixed(0)).join(' ')})`);
    console.log(`  speedrun  Run -> remote process started   : ${mo.toFixed(0)} ms   (all: ${ours.map((x) => x.toFixed(0)).join(' ')})`);
    console.log(`  ratio ${(mo / mb).toFixed(2)}x (target <= 1.5x)`);
    console.log(
      '  stages (median ms, each from the previous): ' +
        Object.entries({ 'queued->connecting': 'connecting', 'connect+lock': 'preflight', preflight: 'uploading', 'upload+verify+launch': 'compiling' })
          .map(([label, st]) => `${label} ${median(stages[st]).toFixed(0)}`)
          .join(', '),
    );
  } finally {
    await s.stop();
    removeTemps();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
