// Slurm: submit-to-first-log-line latency of a run through Speedrun Workbench (RunManager.enqueue on a slurm
// target without a login node) against plain `sbatch` + `tail -F` of the same SIMULATED torchrun, for 1, 10
// and 50 jobs submitted at once (8 one-GPU jobs run at a time on the test cluster, the rest queue), one run per
// enqueue and, from 10 jobs on, all of them as one job array (RunManager.enqueueBatch).
// Needs root, slurm-wlm and munge; starts the single-node test cluster (test/support/slurm.ts).
// Run: npx tsc -p tsconfig.test.json && node out/bench/slurm.js [N ...]
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { connectTarget } from '../src/core/remote/connect';
import { parseTargets } from '../src/core/remote/targets';
import { RunManager } from '../src/core/runs/manager';
import { makeShards, makeTask, removeTemps, tempDir } from '../test/support/runFixture';
import { startSlurm } from '../test/support/slurm';

const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
const SIZES = sizes.length ? sizes : [1, 10, 50];
const ENV = { SIM_SPEEDUP: '1000', SIM_COMPILE_SECONDS: '0', SIM_VAL_SECONDS: '0' };
const pct = (xs: number[], p: number) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
const now = () => Number(process.hrtime.bigint()) / 1e6;

async function waitIdle() {
  for (let i = 0; i < 600; i++) {
    if (!spawnSync('squeue', ['-h', '-o', '%i'], { encoding: 'utf8' }).stdout.trim()) return;
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Plain: sbatch each job (a wrap around the sim torchrun), then `tail -F` its output until the first line. */
async function plain(n: number, base: string, simDir: string, shards: { trainFiles: string; valFiles: string }, script: string): Promise<number[]> {
  const dir = fs.mkdtempSync(path.join(base, 'plain-'));
  fs.copyFileSync(script, path.join(dir, 'train_gpt2.py'));
  const env = `export PATH=${simDir}:$PATH NANOGPT_TRAIN_FILES='${shards.trainFiles}' NANOGPT_VAL_FILES='${shards.valFiles}' NANOGPT_VAL_TOKENS=1 ${Object.entries(ENV).map(([k, v]) => `${k}=${v}`).join(' ')}`;
  return Promise.all(
    Array.from({ length: n }, (_, i) => {
      const t0 = now();
      const out = path.join(dir, `${i}.out`);
      spawnSync('sbatch', ['--parsable', '--gres=gpu:1', '--nodes=1', `--chdir=${dir}`, `--output=${out}`, `--wrap=${env}; torchrun --standalone --nproc_per_node=1 train_gpt2.py`]);
      return new Promise<number>((resolve) => {
        const tail = spawn('tail', ['-c', '+1', '-F', out], { stdio: ['ignore', 'pipe', 'ignore'] });
        tail.stdout.once('data', () => {
          resolve(now() - t0);
          tail.kill();
        });
      });
    }),
  );
}

async function ours(n: number, base: string, simSetup: string, shards: { trainFiles: string; valFiles: string }, array = false): Promise<{ first: number[]; submitted: number[] }> {
  const { targets } = parseTargets([{ name: 'cluster', kind: 'slurm', gpus: 1, setup: simSetup, remoteDir: path.join(base, 'work'), ...shards, env: ENV }]);
  const m = new RunManager({ targets: () => targets, connect: (t) => connectTarget(t, { confirmHostKey: async () => false }), timeLimitMs: () => 600_000, cancelGraceMs: () => 2000 });
  const first = new Map<string, number>();
  const submitted: number[] = [];
  const t0 = new Map<string, number>();
  const done = new Map<string, () => void>();
  m.onEvent((e) => {
    if (e.type === 'state' && e.state === 'compiling' && /submitted/.test(e.detail ?? '')) submitted.push(now() - t0.get(e.runId)!);
    if (e.type === 'output' && !first.has(e.runId) && t0.has(e.runId)) {
      first.set(e.runId, now() - t0.get(e.runId)!);
      done.get(e.runId)?.();
    }
  });
  const waits: Promise<void>[] = [];
  const tasks = Array.from({ length: n }, (_, i) => makeTask({ steps: 5, valEvery: 5, parent: base, name: `task-${n}-${i}-${array ? 'a' : 's'}` }));
  if (array) {
    // One sbatch for all: the runs' start is the call, their first line comes through their own followers.
    const start = now();
    const batch = m.enqueueBatch({ taskDirs: tasks, target: 'cluster', parallel: 8 });
    const metas = await batch;
    submitted.push(now() - start);
    for (const meta of metas) {
      t0.set(meta.runId, start);
      if (!first.has(meta.runId)) waits.push(new Promise<void>((r) => done.set(meta.runId, r)));
    }
  } else {
    for (const task of tasks) {
      const start = now();
      const meta = m.enqueue({ taskDir: task, target: 'cluster' });
      t0.set(meta.runId, start);
      waits.push(new Promise<void>((r) => done.set(meta.runId, r)));
    }
  }
  await Promise.all(waits);
  await Promise.all([...t0.keys()].map((id) => m.waitForEnd(id)));
  m.dispose();
  return { first: [...first.values()], submitted };
}

async function main() {
  const c = await startSlurm();
  const base = tempDir('speedrun-bench-slurm-');
  fs.chmodSync(base, 0o755);
  try {
    const shards = makeShards(path.join(base, 'data'), 12);
    const script = path.join(makeTask({ steps: 5, valEvery: 5, parent: base, name: 'plain-task' }), 'train_gpt2.py');
    console.log(`Slurm submit -> first log line, ms (median / p90 / max over the jobs), ${new Date().toISOString()}`);
    console.log(`cluster: 1 node, ${c.gpus} GPUs (one per job, so ${c.gpus} run at once and the rest queue); SIMULATED torchrun`);
    for (const n of SIZES) {
      await waitIdle();
      const p = await plain(n, base, c.simDir, shards, script);
      await waitIdle();
      const o = await ours(n, base, c.simSetup, shards);
      await waitIdle();
      const a = n > 1 ? await ours(n, base, c.simSetup, shards, true) : undefined;
      const f = (xs: number[]) => `${pct(xs, 0.5).toFixed(0)} / ${pct(xs, 0.9).toFixed(0)} / ${Math.max(...xs).toFixed(0)}`;
      console.log(
        `  ${String(n).padStart(2)} jobs  plain sbatch + tail -F: ${f(p).padEnd(20)} speedrun: ${f(o.first).padEnd(20)} overhead (median): ${(pct(o.first, 0.5) - pct(p, 0.5)).toFixed(0)} ms` +
          `  (speedrun's own submit: connect + mkdir + sinfo preflight + copy + sbatch, median ${pct(o.submitted, 0.5).toFixed(0)} ms)`,
      );
      if (a) console.log(`           as one job array (%8): ${f(a.first).padEnd(20)} overhead (median): ${(pct(a.first, 0.5) - pct(p, 0.5)).toFixed(0)} ms  (one submit for all: ${a.submitted[0].toFixed(0)} ms)`);
    }
  } finally {
    spawnSync('scancel', ['--user=root'], { stdio: 'ignore' });
    c.stop();
    removeTemps();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
