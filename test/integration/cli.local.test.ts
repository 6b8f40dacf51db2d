// `speedrun run` as a user types it, on the local target against the simulated box: the defaults (task folder =
// current folder, the only target), the console stream into a slow reader, and task-folder targets.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RunStore } from '../../src/core/runs/store';
import { REPO_ROOT } from '../support/sshd';
import { makeShards, makeTask, removeTemps, tempDir } from '../support/runFixture';

const CLI = path.resolve(__dirname, '../../src/cli.js');
const SIM = path.join(REPO_ROOT, 'test/sim');

suite('integration: speedrun run on the local target', function () {
  this.timeout(120_000);
  suiteTeardown(removeTemps);

  /** A local target on the simulated box; `before` runs first in its setup (to show whether the setup ran). */
  function localTarget(name: string, box: string, env: Record<string, string>, before = 'true') {
    const shards = makeShards(path.join(box, 'data'), 12);
    return { name, kind: 'local', remoteDir: path.join(box, 'work'), gpus: 2, setup: `${before}; export PATH=${SIM}:$PATH PYTHONPATH=${SIM}/pylib SIM_GPUS=2`, ...shards, env };
  }

  /** A HOME whose ~/.config/speedrun/targets.json holds `targets`. */
  function homeWith(targets: unknown[]): string {
    const home = tempDir('speedrun-home-');
    fs.mkdirSync(path.join(home, '.config/speedrun'), { recursive: true });
    fs.writeFileSync(path.join(home, '.config/speedrun/targets.json'), JSON.stringify(targets));
    return home;
  }

  function speedrun(args: string[], o: { cwd?: string; home: string; pipeTo?: string }) {
    const env: NodeJS.ProcessEnv = { ...process.env, HOME: o.home };
    delete env.SPEEDRUN_TARGETS_FILE;
    if (!o.pipeTo) {
      const r = spawnSync(process.execPath, [CLI, ...args], { cwd: o.cwd, env, encoding: 'utf8', maxBuffer: 1 << 28 });
      return { code: r.status, out: r.stdout, err: r.stderr };
    }
    const q = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
    const cmd = `${[process.execPath, CLI, ...args].map(q).join(' ')} | (sleep 2; cat > ${q(o.pipeTo)})`;
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { cwd: o.cwd, env, encoding: 'utf8' });
    return { code: r.status, out: '', err: r.stderr };
  }

  test('in the task folder with one target: no --task-dir, no --target; the console reaches a slow reader whole', () => {
    const task = makeTask({ steps: 12000, valEvery: 3000 });
    const home = homeWith([localTarget('here', tempDir('speedrun-box-'), { SIM_SPEEDUP: '2000', SIM_COMPILE_SECONDS: '0' })]);
    const piped = path.join(tempDir(), 'console.txt');
    const r = speedrun(['run'], { cwd: task, home, pipeTo: piped });
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /run \d{8}-\d{6}-[0-9a-f]{4} on here/);
    const [m] = new RunStore(task).list();
    const stored = new RunStore(task).readConsole(m.runId);
    assert.ok(stored.length > 500_000, `console is ${stored.length} bytes`);
    assert.ok(fs.readFileSync(piped).equals(stored), 'the reader got the whole console, byte for byte');
  });

  test("a task folder's targets: never shadow yours, refused without --allow-task-targets, announced with it", () => {
    const task = makeTask({ steps: 20, valEvery: 10 });
    const marks = tempDir('speedrun-marks-');
    const fast = { SIM_SPEEDUP: '400', SIM_COMPILE_SECONDS: '0' };
    const home = homeWith([localTarget('here', tempDir('speedrun-box-'), fast)]);
    const taskFile = path.join(task, '.speedrun/targets.json');
    fs.writeFileSync(
      taskFile,
      JSON.stringify([
        localTarget('here', tempDir('speedrun-box-'), fast, `touch ${path.join(marks, 'shadow-ran')}`),
        localTarget('shared', tempDir('speedrun-box-'), fast, `touch ${path.join(marks, 'shared-ran')}`),
      ]),
    );

    const mine = speedrun(['run', '--target', 'here', '--allow-task-targets'], { cwd: task, home });
    assert.equal(mine.code, 0, mine.err);
    assert.match(mine.err, new RegExp(`${taskFile.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} defines target 'here' too; yours from .* is used`));
    assert.doesNotMatch(mine.err, /using target here from/);

    const refused = speedrun(['run', '--target', 'shared'], { cwd: task, home });
    assert.equal(refused.code, 3);
    assert.match(refused.err, /defines 'shared'; a task folder's target runs its setup commands on your box, so it is used only with --allow-task-targets/);
    assert.equal(new RunStore(task).list().length, 1, 'the refused run stored nothing');

    const allowed = speedrun(['run', '--target', 'shared', '--allow-task-targets'], { cwd: task, home });
    assert.equal(allowed.code, 0, allowed.err);
    assert.ok(allowed.err.includes(`[speedrun] using target shared from ${taskFile}`), allowed.err);
    assert.deepEqual(fs.readdirSync(marks), ['shared-ran'], "the shadowed target's setup never ran");
  });
});
