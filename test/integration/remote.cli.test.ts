// `speedrun run` / `speedrun cancel` as a user types them, against a real sshd.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunStore } from '../../src/core/runs/store';
import { ensureUser, startSshd, type Sshd } from '../support/sshd';
import { cli } from '../support/cli';
import { liveUnder, makeShards, makeTask, removeTemps, writeSshConfig } from '../support/runFixture';

suite('integration: the speedrun CLI runs over real sshd', function () {
  this.timeout(60_000);
  let s: Sshd;
  let targetsFile: string;
  let sshConfig: string;
  let uid: number;

  suiteSetup(async () => {
    s = await startSshd();
    uid = ensureUser(s.user).uid;
    const shards = makeShards(path.join(s.boxDir, 'data'), 12, uid);
    sshConfig = writeSshConfig(s);
    targetsFile = path.join(s.dir, 'targets.json');
    fs.writeFileSync(
      targetsFile,
      JSON.stringify([
        { name: 'fast', kind: 'ssh', host: 'box', remoteDir: path.join(s.boxDir, 'work'), ...shards, env: { SIM_SPEEDUP: '400', SIM_COMPILE_SECONDS: '1' } },
        { name: 'crash', kind: 'ssh', host: 'box', remoteDir: path.join(s.boxDir, 'work'), ...shards, env: { SIM_SPEEDUP: '400', SIM_FAULT: 'oom@3' } },
        { name: 'slow', kind: 'ssh', host: 'box', remoteDir: path.join(s.boxDir, 'work'), ...shards, env: { SIM_SPEEDUP: '3', SIM_COMPILE_SECONDS: '1' } },
      ]),
    );
  });
  suiteTeardown(async () => {
    await s?.stop();
    removeTemps();
  });

  const common = () => ['--targets-file', targetsFile, '--ssh-config', sshConfig];

  test('run streams the output to stdout and exits 0 when the run finished', async () => {
    const task = makeTask({ steps: 30, valEvery: 10 });
    const p = cli(['run', '--target', 'fast', '--task-dir', task, ...common()]);
    assert.equal(await p.code, 0, p.stderr());
    assert.match(p.stdout(), /^SIMULATED torchrun/);
    assert.match(p.stdout(), /^step:30\/30 val_loss:[\d.]+ train_time:\d+ms/m);
    assert.match(p.stderr(), /\[speedrun\] preflight: ok: 8 GPUs/);
    assert.match(p.stderr(), /run \d{8}-\d{6}-[0-9a-f]{4} finished \(exit code 0\)/);
    const [m] = new RunStore(task).list();
    assert.equal(new RunStore(task).readConsole(m.runId).toString(), p.stdout());
    assert.equal(new RunStore(task).readResults(m.runId)!.status, 'COMPLETED');
  });

  test('a failing run exits 1 and names the error', async () => {
    const task = makeTask({ steps: 30, valEvery: 10 });
    const p = cli(['run', '--target', 'crash', '--task-dir', task, ...common()]);
    assert.equal(await p.code, 1);
    assert.match(p.stderr(), /failed \(exit code 1\)/);
    assert.match(p.stderr(), /oom: .*CUDA out of memory/);
  });

  test('speedrun cancel from another process stops the run; the running CLI exits 1', async () => {
    const task = makeTask({ steps: 3000, valEvery: 1000 });
    const run = cli(['run', '--target', 'slow', '--task-dir', task, ...common()]);
    const [, runId] = await run.waitFor(/run (\d{8}-\d{6}-[0-9a-f]{4}) on slow/);
    await run.waitFor(/\[speedrun\] training/);
    const cancel = cli(['cancel', runId, '--task-dir', task, ...common()]);
    assert.equal(await cancel.code, 0, cancel.stderr());
    assert.equal(await run.code, 1);
    assert.match(run.stderr(), new RegExp(`run ${runId} cancelled`));
    const m = new RunStore(task).read(runId)!;
    assert.equal(m.state, 'cancelled');
    assert.deepEqual(liveUnder(m.remoteDir!, uid), []);
    // One writer: the log holds the death-signal lines once.
    const log = new RunStore(task).readConsole(runId).toString();
    assert.equal(log.match(/Received 15 death signal/g)?.length, 1);
    assert.equal(log, fs.readFileSync(path.join(m.remoteDir!, 'console.log'), 'utf8'));
  });

  test('usage and input errors have their exit codes', async () => {
    const several = cli(['run', '--task-dir', makeTask(), ...common()]);
    assert.equal(await several.code, 3);
    assert.match(several.stderr(), /3 targets are configured \(fast, crash, slow\); pick one with --target NAME/);
    assert.equal(await cli(['run', '--target', 'fast', '--bogus', ...common()]).code, 2);
    const p = cli(['run', '--target', 'nope', '--task-dir', makeTask(), ...common()]);
    assert.equal(await p.code, 3);
    assert.match(p.stderr(), /no target 'nope' .* \(have: fast, crash, slow\)/);
  });
});
