// Foundation checks in a real VS Code: the extension activates, every command package.json contributes is
// registered, and `speedrun.openTask` writes a task workspace. Runs in the default ext-host session
// (empty workspace folder, `speedrun.benchmarkPath` = the fixture clone).
import * as assert from 'node:assert/strict';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';

const EXT = 'speedrun-workbench.speedrun-workbench';
const FIXTURE = path.resolve(__dirname, '../../../test/fixtures/benchmark');
const sha256 = (file: string) => crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');

suite('foundation', () => {
  let ext: vscode.Extension<any>;
  suiteSetup(() => {
    ext = vscode.extensions.getExtension(EXT)!;
    assert.ok(ext, `${EXT} is not installed`);
  });

  test('the extension activates and exposes its services', async () => {
    const api = await ext.activate();
    assert.equal(ext.isActive, true);
    for (const k of ['workspace', 'runs', 'dashboard']) assert.ok(api?.[k], `activate() returned no ${k}`);
  });

  test('every command in package.json is registered', async () => {
    await ext.activate();
    const contributed: string[] = ext.packageJSON.contributes.commands.map((c: { command: string }) => c.command);
    assert.ok(contributed.length > 10, 'package.json lists the commands');
    const registered = new Set(await vscode.commands.getCommands(true));
    assert.deepEqual(contributed.filter((c) => !registered.has(c)), [], 'contributed but not registered');
  });

  test('speedrun.openTask {taskId, dest} writes train_gpt2.py and .speedrun/task.json', async () => {
    await ext.activate();
    await vscode.commands.executeCommand('speedrun.locateBenchmark', FIXTURE);
    const dest = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-foundation-')), 'task12');
    try {
      // openFolder false: switching the window's folder would end this test run.
      await vscode.commands.executeCommand('speedrun.openTask', { taskId: 12, dest, openFolder: false });
      const script = path.join(dest, 'train_gpt2.py');
      const baseline = path.join(FIXTURE, 'workspace_templates/nanogpt_speedrun/record_12/train_gpt2.py');
      assert.equal(fs.readFileSync(script, 'utf8'), fs.readFileSync(baseline, 'utf8'), 'the script is record 12 as is');
      const task = JSON.parse(fs.readFileSync(path.join(dest, '.speedrun/task.json'), 'utf8'));
      assert.equal(task.taskId, 12);
      assert.equal(task.fromRecord, 12);
      assert.equal(task.toRecord, 13);
      assert.equal(task.baselineSha256, sha256(baseline));
      assert.equal(path.resolve(task.benchmarkPath), FIXTURE);
      assert.ok(task.target.trainTimeMs < task.baseline.trainTimeMs, 'record 13 is faster than record 12');
    } finally {
      fs.rmSync(path.dirname(dest), { recursive: true, force: true });
    }
  });
});
