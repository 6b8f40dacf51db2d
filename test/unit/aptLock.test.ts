// `npm start` / `npm test` on a fresh machine: while another process holds apt's or dpkg's lock, the dependency
// step waits and says so, instead of failing at once. A real POSIX lock (python3's fcntl.lockf, as dpkg takes it)
// on a temp file stands in for /var/lib/dpkg/lock-frontend.
import * as assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, cleanupTemps, tempDir } from './benchmarkHelpers';

const SCRIPT = path.join(REPO, 'scripts/wait-apt-lock.sh');

/** Holds a lock on `file` for `seconds`; resolves once it is held. */
async function holdLock(file: string, seconds: number): Promise<ChildProcess> {
  const p = spawn('python3', ['-c', `import fcntl,sys,time\nf=open(sys.argv[1],'w')\nfcntl.lockf(f, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(${seconds})`, file], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve) => p.stdout!.once('data', () => resolve()));
  return p;
}

function waitScript(lock: string, timeout: number) {
  return new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
    const p = spawn('bash', [SCRIPT], { env: { ...process.env, SPEEDRUN_APT_LOCKS: lock, SPEEDRUN_APT_LOCK_TIMEOUT: String(timeout) } });
    let out = '', err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('close', (code) => resolve({ code, out, err }));
  });
}

suite('start: waiting for the apt lock', function () {
  this.timeout(30_000);
  teardown(cleanupTemps);

  test('a free lock: no message, exit 0', () => {
    const lock = path.join(tempDir(), 'lock-frontend');
    fs.writeFileSync(lock, '');
    const r = spawnSync('bash', [SCRIPT], { encoding: 'utf8', env: { ...process.env, SPEEDRUN_APT_LOCKS: lock } });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout + r.stderr, '');
  });

  test('a held lock: says who holds it, waits, and goes on once it is released', async () => {
    const lock = path.join(tempDir(), 'lock-frontend');
    const holder = await holdLock(lock, 2);
    const r = await waitScript(lock, 60);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`waiting for python3 \\(pid ${holder.pid}\\), which holds ${lock.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
    assert.match(r.out, /the lock is free/);
  });

  test('a lock held past the timeout: one clear sentence and exit 1', async () => {
    const lock = path.join(tempDir(), 'lock-frontend');
    const holder = await holdLock(lock, 5);
    const r = await waitScript(lock, 1);
    holder.kill();
    assert.equal(r.code, 1);
    assert.match(r.err, /still holds .* after 1 s; let it finish \(or stop it\) and run this again/);
  });
});
