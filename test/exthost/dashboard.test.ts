// The dashboard panel inside a real VS Code (code-server), with runs on the simulated GPU box (a `local` target,
// test/sim first on PATH): Run reveals it beside the script, it follows each new run of the task unless pinned,
// and the setting turns the reveal off. Default session: an empty workspace folder, the fixture clone.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { shellQuote } from '../../src/core/remote/shell';
import { RunStore, sha256 } from '../../src/core/runs/store';
import type { RunMeta } from '../../src/core/runs/types';
import type { DashboardController } from '../../src/vscode/dashboard/dashboardPanel';
import type { Runs, Workspace } from '../../src/vscode/services';
import { makeShards } from '../support/runFixture';
import { waitFor } from '../support/waitFor';

const EXT = 'speedrun-workbench.speedrun-workbench';
const REPO = path.resolve(__dirname, '../../..');
const SIM = path.join(REPO, 'test/sim');
const folder = () => vscode.workspace.workspaceFolders![0].uri.fsPath;

/** The editor group showing a tab, by a test on its input. */
function groupOf(test: (input: unknown) => boolean): vscode.ViewColumn | undefined {
  return vscode.window.tabGroups.all.find((g) => g.tabs.some((t) => test(t.input)))?.viewColumn;
}
const isDashboard = (i: unknown) => i instanceof vscode.TabInputWebview && i.viewType.endsWith('speedrun.dashboard');

suite('dashboard in VS Code', function () {
  this.timeout(180_000);
  let runs: Runs;
  let dashboard: DashboardController;
  let taskDir: string;
  let past: string;
  const box = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-dashboard-box-'));

  suiteSetup(async () => {
    const api = (await vscode.extensions.getExtension(EXT)!.activate()) as { workspace: Workspace; runs: Runs; dashboard: DashboardController };
    ({ runs, dashboard } = api);
    const opened = new Promise<void>((resolve) => {
      const sub = api.workspace.onDidChange((ctx) => ctx && (sub.dispose(), resolve()));
    });
    await vscode.commands.executeCommand('speedrun.openTask', { taskId: 12, dest: folder() });
    if (!api.workspace.current()) await opened;
    taskDir = api.workspace.current()!.taskDir;
    // A finished run from an earlier session.
    past = '20261126-000000-abcd';
    const script = fs.readFileSync(path.join(taskDir, 'train_gpt2.py'));
    const meta: RunMeta = {
      runId: past, taskId: 12, target: 'sim', state: 'finished', createdAt: '2026-11-26T00:00:00.000Z', scriptSha256: sha256(script),
      final: { n_steps: 1875, val_loss: 3.2791, train_time: 300_000, is_valid: true },
    };
    new RunStore(taskDir).create(meta, script);
    const shards = makeShards(path.join(box, 'data'), 12);
    await vscode.workspace.getConfiguration('speedrun').update('targets', [{
      name: 'sim', kind: 'local', remoteDir: path.join(box, 'work'), gpus: 8, ...shards,
      setup: `export PATH=${shellQuote(SIM)}:"$PATH" PYTHONPATH=${shellQuote(path.join(SIM, 'pylib'))}`,
      env: { SIM_SPEEDUP: '2000', SIM_COMPILE_SECONDS: '1' },
    }], vscode.ConfigurationTarget.Global);
  });

  suiteTeardown(async () => {
    await vscode.workspace.getConfiguration('speedrun').update('dashboard.revealOnRun', undefined, vscode.ConfigurationTarget.Global);
    fs.rmSync(box, { recursive: true, force: true });
  });

  /** Starts a run of the script and resolves with its id once it is queued. */
  async function startRun(): Promise<string> {
    const meta = await runs.start({ taskDir, target: 'sim' });
    assert.ok(meta, 'the run was queued');
    return meta.runId;
  }

  test('opened on an older run, it moves to the run that starts next', async () => {
    dashboard.show();
    assert.equal(dashboard.shownRunId, past, 'without an id: the newest run of the task');
    dashboard.show(past);
    const id = await startRun();
    await waitFor('the dashboard to follow the new run', () => dashboard.shownRunId === id);
    await runs.waitForEnd(id);
    assert.equal(dashboard.shownRunId, id, 'and it stays on it once it ends');
  });

  test('pinned, it keeps its run while a new one runs; unpinned, it catches up', async () => {
    dashboard.show(past);
    dashboard.pin(true);
    const id = await startRun();
    const end = await runs.waitForEnd(id);
    assert.equal(end.state, 'finished');
    assert.equal(dashboard.shownRunId, past, 'the pinned run stayed');
    assert.equal(dashboard.isPinned, true);
    dashboard.pin(false);
    assert.equal(dashboard.shownRunId, id, 'unpinned: the newest run');
  });

  test('Run reveals it beside the script; the setting turns that off', async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await waitFor('the panel to close', () => groupOf(isDashboard) === undefined);
    const script = await vscode.window.showTextDocument(vscode.Uri.file(path.join(taskDir, 'train_gpt2.py')));
    const before = new Set(runs.list(taskDir).map((m) => m.runId));
    await vscode.commands.executeCommand('speedrun.run', 'sim');
    const column = await waitFor('the dashboard tab', () => groupOf(isDashboard));
    const id = runs.list(taskDir).map((m) => m.runId).find((r) => !before.has(r));
    assert.ok(id, 'Run Task Script queued a run');
    assert.notEqual(column, script.viewColumn, 'beside the script, not over it');
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, script.document.uri.fsPath, 'the script keeps the focus');
    await waitFor('the dashboard on the new run', () => dashboard.shownRunId === id);
    await runs.waitForEnd(id);

    // The host asks the page for its export and waits for the answer (request/response over postMessage).
    const csv = path.join(box, 'export.csv');
    assert.equal(await vscode.commands.executeCommand('speedrun.exportDashboard', 'csv', csv), csv);
    assert.match(fs.readFileSync(csv, 'utf8'), /^kind,step,total_steps,train_time_ms,step_avg_ms,train_loss,val_loss\nval,0,/);
    const png = path.join(box, 'export.png');
    assert.equal(await vscode.commands.executeCommand('speedrun.exportDashboard', 'png', png), png);
    assert.deepEqual([...fs.readFileSync(png).subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47], 'a PNG file');

    await vscode.workspace.getConfiguration('speedrun').update('dashboard.revealOnRun', false, vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await waitFor('the panel to close', () => groupOf(isDashboard) === undefined);
    await vscode.window.showTextDocument(vscode.Uri.file(path.join(taskDir, 'train_gpt2.py')));
    const count = runs.list(taskDir).length;
    await vscode.commands.executeCommand('speedrun.run', 'sim');
    const next = await waitFor('the next run', () => runs.list(taskDir).length > count && runs.list(taskDir).at(-1));
    await runs.waitForEnd(next.runId);
    assert.equal(groupOf(isDashboard), undefined, 'no dashboard with speedrun.dashboard.revealOnRun off');
  });
});
