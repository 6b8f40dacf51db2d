// Run x K and calibration inside a real VS Code (code-server), on the simulated GPU box as a `local` target.
// The attempt is record 13's script (the reference change reproduced), so it is really faster than the
// interleaved baseline (record 12) on the simulated box. Default session: an empty workspace folder and the
// fixture clone as speedrun.benchmarkPath.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { shellQuote as quote } from '../../src/core/remote/shell';
import { RunStore } from '../../src/core/runs/store';
import { CalibrationStore, type TaskCalibration } from '../../src/core/stats/calibration';
import { repeatCard } from '../../src/vscode/dashboard/statsCard';
import { BASELINE_DIR, groupOfRun, type RepeatSummary } from '../../src/core/stats/repeat';
import type { Workspace } from '../../src/vscode/services';
import { makeShards } from '../support/runFixture';

const EXT = 'speedrun-workbench.speedrun-workbench';
const REPO = path.resolve(__dirname, '../../..');
const SIM = path.join(REPO, 'test/sim');
const RECORD_13 = path.join(REPO, 'test/fixtures/benchmark/workspace_templates/nanogpt_speedrun/record_13/train_gpt2.py');
const folder = () => vscode.workspace.workspaceFolders![0].uri.fsPath;

suite('stats in VS Code: Run x K and calibration', function () {
  this.timeout(240_000);
  let taskDir: string;
  const box = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-stats-box-'));
  const calDir = path.join(box, 'calibration');

  suiteSetup(async () => {
    // The extension host is this process: the calibration store reads its folder from here.
    process.env.SPEEDRUN_CALIBRATION_DIR = calDir;
    const api = (await vscode.extensions.getExtension(EXT)!.activate()) as { workspace: Workspace };
    const opened = new Promise<void>((resolve) => {
      const sub = api.workspace.onDidChange((ctx) => ctx && (sub.dispose(), resolve()));
    });
    await vscode.commands.executeCommand('speedrun.openTask', { taskId: 12, dest: folder() });
    if (!api.workspace.current()) await opened;
    taskDir = api.workspace.current()!.taskDir;
    fs.copyFileSync(RECORD_13, path.join(taskDir, 'train_gpt2.py'));
    const shards = makeShards(path.join(box, 'data'), 12);
    await vscode.workspace.getConfiguration('speedrun').update('targets', [{
      name: 'sim', kind: 'local', remoteDir: path.join(box, 'work'), gpus: 8, ...shards,
      setup: `export PATH=${quote(SIM)}:"$PATH" PYTHONPATH=${quote(path.join(SIM, 'pylib'))}`,
      // No whole-run jitter: with two runs a side, Welch's df is about 1 and 0.5% jitter can push p past 0.01.
      env: { SIM_SPEEDUP: '2000', SIM_COMPILE_SECONDS: '1', SIM_RUN_JITTER: '0' },
    }], vscode.ConfigurationTarget.Global);
  });
  suiteTeardown(() => fs.rmSync(box, { recursive: true, force: true }));

  test('Run x K interleaved with the baseline: mean ± sd, the t-test, Welch, and the results card data', async () => {
    const s = (await vscode.commands.executeCommand('speedrun.runRepeated', { repeats: 2, interleaveBaseline: true, target: 'sim' })) as RepeatSummary;
    assert.ok(s, 'the command returns the summary');
    assert.deepEqual([s.attempt.runs.length, s.baseline?.runs.length], [2, 2]);
    assert.ok(s.attempt.runs.every((r) => r.state === 'finished'), JSON.stringify(s.attempt.runs));
    assert.equal(s.significance?.n, 2);
    assert.equal(s.faster?.pass, true, JSON.stringify(s.faster));
    // The task's Runs view lists the attempts only; the baseline's runs are in its own folder.
    assert.deepEqual(new RunStore(taskDir).list().map((m) => m.runId), s.group.attempt);
    assert.equal(new RunStore(path.join(taskDir, BASELINE_DIR)).list().length, 2);
    // What the dashboard's results card gets for either attempt run.
    const g = groupOfRun(taskDir, s.group.attempt[0]);
    assert.equal(g?.repeatId, s.group.repeatId);
    const card = repeatCard(s);
    assert.equal(card.valLosses.length, 2);
    assert.equal(card.p, s.significance!.p);
    assert.equal(card.faster?.pass, true);
  });

  test('Calibrate Task: records 12 and 13 measured on the target, stored for the Tasks view and FSR', async () => {
    const [c] = (await vscode.commands.executeCommand('speedrun.calibrateTask', { task: 12, runs: 1, target: 'sim', confirmed: true })) as TaskCalibration[];
    assert.ok(c && !c.stopped, JSON.stringify(c));
    const t = new CalibrationStore(calDir).taskTimes('sim', 12);
    assert.ok(t && t.baselineMs > t.targetMs, JSON.stringify(t));
    assert.deepEqual(c.box, t);
    assert.ok(Math.abs(t!.baselineMs - 317_839) < 0.01 * 317_839, String(t!.baselineMs));
  });
});
