import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { isRunId, newRunId, RunStore, sha256, writeAtomic } from '../../src/core/runs/store';
import type { RunMeta } from '../../src/core/runs/types';

const STORE_JS = path.resolve(__dirname, '../../src/core/runs/store.js');

const meta = (runId: string, createdAt: string, state: RunMeta['state'] = 'queued'): RunMeta => ({
  runId, taskId: 12, target: 'box', state, createdAt, scriptSha256: sha256('x'),
});

suite('runs: store on disk', () => {
  let dir: string;
  setup(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-store-'));
  });
  teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('a writer killed mid-write leaves a complete previous or new version, never a torn file', async function () {
    this.timeout(30_000);
    const file = path.join(dir, 'meta.json');
    // Big versions so a kill lands inside a write; each is valid JSON with one repeated letter.
    const version = (c: string) => JSON.stringify({ fill: c.repeat(8 << 20) });
    writeAtomic(file, version('0'));
    const child = `
      const { writeAtomic } = require(${JSON.stringify(STORE_JS)});
      const v = (c) => JSON.stringify({ fill: c.repeat(8 << 20) });
      const big = [v('a'), v('b')];
      process.stdout.write('go\\n');
      for (let i = 0; ; i++) writeAtomic(${JSON.stringify(file)}, big[i % 2]);`;
    for (const delay of [30, 120, 260]) {
      const p = spawn(process.execPath, ['-e', child], { stdio: ['ignore', 'pipe', 'inherit'] });
      await new Promise((r) => p.stdout!.once('data', r));
      await new Promise((r) => setTimeout(r, delay));
      p.kill('SIGKILL');
      await new Promise((r) => p.once('exit', r));
      const text = fs.readFileSync(file, 'utf8');
      const parsed = JSON.parse(text) as { fill: string };
      assert.ok(['0', 'a', 'b'].includes(parsed.fill[0]) && parsed.fill === parsed.fill[0].repeat(8 << 20), 'one complete version');
    }
    // Temp files of the killed writer never replace the real name.
    assert.ok(fs.readdirSync(dir).includes('meta.json'));
    assert.equal(version('0').length, fs.statSync(file).size);
  });

  test('run ids sort by time and are safe in shells and paths', () => {
    const a = newRunId(new Date('2026-11-26T17:05:12Z'));
    assert.match(a, /^20261126-170512-[0-9a-f]{4}$/);
    assert.ok(isRunId(a));
    assert.ok(newRunId(new Date('2026-11-26T17:05:13Z')) > a);
    assert.equal(isRunId('../x'), false);
    assert.equal(isRunId('20261126-170512-zzzz'), false);
    assert.throws(() => new RunStore(dir).dir('../../etc'), /not a run id/);
  });

  test('create snapshots the script; list is oldest first and skips junk; results and console round-trip', () => {
    const s = new RunStore(dir);
    const ids = ['20261126-170000-aaaa', '20261126-160000-bbbb'];
    s.create(meta(ids[0], '2026-11-26T17:00:00Z'), Buffer.from('print(1)\n'));
    s.create(meta(ids[1], '2026-11-26T16:00:00Z'), Buffer.from('print(2)\n'));
    fs.mkdirSync(path.join(s.root, 'not-a-run'));
    fs.mkdirSync(path.join(s.root, '20261126-150000-cccc')); // no meta.json
    assert.deepEqual(s.list().map((m) => m.runId), [ids[1], ids[0]]);
    assert.equal(s.script(ids[0]).toString(), 'print(1)\n');
    s.appendConsole(ids[0], Buffer.from('line 1\n'));
    s.appendConsole(ids[0], Buffer.from('line 2\n'));
    assert.equal(s.consoleSize(ids[0]), 14);
    assert.equal(s.readConsole(ids[0]).toString(), 'line 1\nline 2\n');
    s.writeResults(ids[0], { status: 'COMPLETED', metrics: { n_steps: 10, val_loss: 3.27, train_time: 1000, is_valid: true } });
    assert.deepEqual(JSON.parse(fs.readFileSync(s.file(ids[0], 'results.json'), 'utf8')), {
      status: 'COMPLETED', metrics: { n_steps: 10, val_loss: 3.27, train_time: 1000, is_valid: true },
    });
    s.writeMeta({ ...meta(ids[0], '2026-11-26T17:00:00Z'), state: 'finished' });
    assert.equal(s.read(ids[0])!.state, 'finished');
    assert.deepEqual(fs.readdirSync(s.dir(ids[0])).filter((f) => f.endsWith('.tmp')), []);
    s.remove(ids[1]);
    assert.deepEqual(s.list().map((m) => m.runId), [ids[0]]);
  });

  test('files fetched from the box cannot escape the run directory', () => {
    const s = new RunStore(dir);
    const id = '20261126-170000-aaaa';
    s.create(meta(id, '2026-11-26T17:00:00Z'), Buffer.from(''));
    s.writeExtra(id, 'logs/u.txt', Buffer.from('log'));
    assert.equal(fs.readFileSync(path.join(s.dir(id), 'logs/u.txt'), 'utf8'), 'log');
    assert.throws(() => s.writeExtra(id, '../../evil.txt', Buffer.from('x')), /outside the run dir/);
    assert.equal(fs.existsSync(path.join(dir, '.speedrun', 'evil.txt')), false);
  });
});
