// Stream latency on loopback: from a line appended to console.log on the box to the parsed event in this
// process (tail -F -> sshd -> ssh2 -> engine -> parser). Target: p99 under 100 ms.
// Needs root and openssh-server (a real sshd is started on a free port).
// Run: npx tsc -p tsconfig.test.json && node out/bench/stream.js [LINES]
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ensureUser, startSshd } from '../test/support/sshd';
import { harness, makeShards, makeTask, removeTemps } from '../test/support/runFixture';

const lines = Number(process.argv[2] ?? 300);
const pct = (xs: number[], p: number) => xs.slice().sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))];

async function main() {
  const s = await startSshd();
  try {
    const { uid } = ensureUser(s.user);
    const shards = makeShards(path.join(s.boxDir, 'data'), 12, uid);
    const task = makeTask();
    // The "training" is a sleep; this process plays the script by appending lines to console.log on the box.
    const h = harness(s, { target: { ...shards, torchrun: 'sleep 600; :' } });
    const meta = h.manager.enqueue({ taskDir: task, target: 'box' });
    await h.until(meta.runId, (e) => e.type === 'state' && e.state === 'compiling');
    const consoleLog = path.join(h.manager.get(meta.runId)!.remoteDir!, 'console.log');

    const sentAt = new Map<number, bigint>();
    const latency: number[] = [];
    let resolveAll!: () => void;
    const all = new Promise<void>((r) => (resolveAll = r));
    h.manager.onEvent((e) => {
      if (e.type !== 'log' || e.event.type !== 'train') return;
      const t = sentAt.get(e.event.step);
      if (t !== undefined) latency.push(Number(process.hrtime.bigint() - t) / 1e6);
      if (latency.length === lines) resolveAll();
    });
    const fd = fs.openSync(consoleLog, 'a');
    // Measure the steady state: first wait until the follow on the box is running (a warm-up line arrives).
    fs.writeSync(fd, 'bench: warm-up line\n');
    await h.until(meta.runId, (e) => e.type === 'output' && e.text.includes('warm-up line'));
    for (let step = 1; step <= lines; step++) {
      // Irregular gaps, like real step times; some lines come in bursts.
      await new Promise((r) => setTimeout(r, step % 10 === 0 ? 0 : 5 + Math.random() * 25));
      sentAt.set(step, process.hrtime.bigint());
      fs.writeSync(fd, `step:${step}/${lines} train_time:${step * 100}ms step_avg:100.00ms\n`);
    }
    fs.closeSync(fd);
    await Promise.race([all, new Promise((_, rej) => setTimeout(() => rej(new Error(`only ${latency.length}/${lines} lines arrived`)), 30_000))]);
    await h.manager.cancel(meta.runId);
    await h.manager.waitForEnd(meta.runId);
    console.log(`stream latency on loopback, ${lines} lines, ${new Date().toISOString()}`);
    console.log(`  line appended on the box -> parsed train event here: p50 ${pct(latency, 50).toFixed(1)} ms, p99 ${pct(latency, 99).toFixed(1)} ms, max ${Math.max(...latency).toFixed(1)} ms (target p99 < 100 ms)`);
  } finally {
    await s.stop();
    removeTemps();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
