// The box lock of the detached launcher: who holds it, and when a holder is provably gone. The scripts run in
// bash on this machine (a `local` target), the same scripts an ssh target gets.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { LocalExecutor } from '../../src/core/remote/executor';
import { DetachedLauncher, formatLockOwner, parseLockOwner } from '../../src/core/remote/launchers/detached';
import { ownerGone, processStartMs } from '../../src/core/processOwner';
import { parseTargets } from '../../src/core/remote/targets';
import type { RunMeta } from '../../src/core/runs/types';

/** A pid that was just used and is gone now. */
function deadPid(): number {
  const p = spawnSync('true');
  return p.pid!;
}

const meta = (runId: string): RunMeta => ({ runId, taskId: 12, target: 'l', state: 'connecting', createdAt: '', scriptSha256: '' });

suite('runs: the box lock', () => {
  let dir: string;
  let x: LocalExecutor;
  setup(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-lock-'));
    x = new LocalExecutor();
  });
  teardown(() => {
    x.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const launcher = () => new DetachedLauncher({ target: parseTargets([{ name: 'l', kind: 'local', remoteDir: dir }]).targets[0], timeLimitMs: 1000, cancelGraceMs: 1000, minFreeDiskMiB: 0 });
  const writeLock = (line: string) => fs.writeFileSync(path.join(dir, 'lock'), line + '\n');
  const lockLine = () => fs.readFileSync(path.join(dir, 'lock'), 'utf8').trim();

  test('the lock line names the run, the machine, the pid and its start; an older lock holds only the run id', () => {
    const o = { runId: '20260101-000000-abcd', machine: 'gpu box', pid: 42, startMs: 1700000000000 };
    assert.equal(formatLockOwner(o), '20260101-000000-abcd gpu_box 42 1700000000000');
    assert.deepEqual(parseLockOwner(formatLockOwner(o)), { ...o, machine: 'gpu_box' });
    assert.deepEqual(parseLockOwner('20260101-000000-abcd'), { runId: '20260101-000000-abcd', machine: undefined, pid: undefined, startMs: undefined });
  });

  test('a holder is provably gone only when it is a process of this machine that no longer runs, or whose pid was reused', () => {
    const here = os.hostname();
    const me = processStartMs(process.pid);
    assert.ok(me && Math.abs(me - (Date.now() - process.uptime() * 1000)) < 5000, 'start time from /proc');
    assert.equal(ownerGone({ machine: here, pid: deadPid() }), true);
    assert.equal(ownerGone({ machine: here, pid: process.pid, startMs: me }), false);
    assert.equal(ownerGone({ machine: here, pid: process.pid, startMs: me! - 60_000 }), true, 'same pid, other process');
    assert.equal(ownerGone({ machine: 'elsewhere', pid: deadPid() }), false, 'never judged from another machine');
    assert.equal(ownerGone({}), false);
  });

  test('place frees a lock whose run never launched and whose process is gone, and takes it', async () => {
    const stale = formatLockOwner({ runId: '20200101-000000-dead', machine: os.hostname(), pid: deadPid() });
    writeLock(stale);
    const p = await launcher().place(x, meta('20260101-000000-0001'));
    assert.equal(p.placed, true);
    assert.match((p as { note: string }).note, /freed the target lock of run 20200101-000000-dead: the process that took it \(pid \d+ on .+\) is gone/);
    assert.equal(parseLockOwner(lockLine()).runId, '20260101-000000-0001');
    assert.equal(parseLockOwner(lockLine()).pid, process.pid);
  });

  test('a lock whose run has launched and still runs is kept even when the process that took it is gone', async () => {
    const held = '20200101-000000-0002';
    writeLock(formatLockOwner({ runId: held, machine: os.hostname(), pid: deadPid() }));
    fs.mkdirSync(path.join(dir, 'runs', held), { recursive: true });
    const sleeper = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
    try {
      fs.writeFileSync(path.join(dir, 'runs', held, 'pgid'), String(sleeper.pid));
      const p = await launcher().place(x, meta('20260101-000000-0003'));
      assert.equal(p.placed, false);
      assert.match((p as { holder: string }).holder, new RegExp(`^${held} \\(pid \\d+ on `));
      assert.equal((p as { howToFree: string }).howToFree, `if that run is gone, free the target with: rm -f ${path.join(dir, 'lock')}`);
      assert.equal(parseLockOwner(lockLine()).runId, held);
    } finally {
      sleeper.kill('SIGKILL');
    }
  });

  test('release removes only a lock the run itself holds', async () => {
    const l = launcher();
    const mine = meta('20260101-000000-0004');
    assert.equal((await l.place(x, mine)).placed, true);
    await l.release(x, meta('20260101-000000-0005'));
    assert.equal(parseLockOwner(lockLine()).runId, mine.runId);
    await l.release(x, mine);
    assert.equal(fs.existsSync(path.join(dir, 'lock')), false);
  });
});
