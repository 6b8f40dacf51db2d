// Task workspace glue inside a real VS Code. Needs: an EMPTY workspace folder (the suite opens task 12 into it,
// so no window reload happens) and the fixture clone at `speedrun.benchmarkPath` or passed to Locate.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OpenTaskResult } from '../../src/core/benchmark';
import type { Workspace } from '../../src/vscode/services';
import type { TaskWorkspace } from '../../src/vscode/benchmark/taskWorkspace';

const EXT = 'speedrun-workbench.speedrun-workbench';
const FIXTURE = path.resolve(__dirname, '../../../test/fixtures/benchmark');

async function services(): Promise<{ workspace: Workspace & TaskWorkspace }> {
  const ext = vscode.extensions.getExtension(EXT)!;
  return ext.activate();
}

suite('taskWorkspace', () => {
  const folder = () => vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;

  test('registers its commands', async () => {
    await services();
    const all = await vscode.commands.getCommands(true);
    for (const c of ['locateBenchmark', 'cloneBenchmark', 'openTask', 'showTaskBrief', 'refreshTasks', 'openHint', 'revealGroundTruth']) {
      assert.ok(all.includes(`speedrun.${c}`), c);
    }
  });

  test('Locate Benchmark with a path validates the clone and stores the setting', async () => {
    const { workspace } = await services();
    const res = (await vscode.commands.executeCommand('speedrun.locateBenchmark', FIXTURE)) as { path: string; completeTasks: number };
    assert.deepEqual(res, { path: FIXTURE, completeTasks: 19 });
    assert.equal(workspace.benchmarkPath(), FIXTURE);
    assert.equal(vscode.workspace.getConfiguration('speedrun').get('benchmarkPath'), FIXTURE);
    assert.equal(workspace.cloneReport()!.tasks.length, 19);
  });

  test('Open Task into the current folder writes the workspace, becomes current and shows the script', async () => {
    const dir = folder();
    assert.ok(dir, 'the suite needs a workspace folder');
    const { workspace } = await services();
    const changed = new Promise<void>((resolve) => {
      const sub = workspace.onDidChange((ctx) => ctx && (sub.dispose(), resolve()));
    });
    const res = (await vscode.commands.executeCommand('speedrun.openTask', { taskId: 12, dest: dir })) as OpenTaskResult;
    await changed;
    assert.equal(res.task.taskId, 12);
    assert.ok(fs.existsSync(path.join(dir, '.speedrun/task.json')));
    assert.ok(fs.existsSync(path.join(dir, '.speedrun/TASK.md')));
    const ctx = workspace.current()!;
    assert.equal(ctx.task.taskId, 12);
    assert.equal(ctx.scriptPath, path.join(dir, 'train_gpt2.py'));
    assert.equal(vscode.window.activeTextEditor?.document.uri.fsPath, ctx.scriptPath);
  });

  test('hints: levels 1-3 and extra docs by default, opened read-only; level 0 only after Reveal', async () => {
    const { workspace } = await services();
    assert.deepEqual(workspace.currentHints().map((h) => h.level), [1, 2, 3, 9]);
    assert.equal(workspace.isRevealed(), false);
    const ed = (await vscode.commands.executeCommand('speedrun.openHint', { level: 1 })) as vscode.TextEditor;
    assert.equal(ed.document.uri.scheme, 'speedrun-hint');
    assert.match(ed.document.getText(), /^# Pseudocode \(fixture\) for record 12 -> 13/);
    assert.equal(await vscode.commands.executeCommand('speedrun.openHint', { level: 0 }), undefined);
    const diff = (await vscode.commands.executeCommand('speedrun.revealGroundTruth', { confirmed: true })) as vscode.TextEditor;
    assert.match(diff.document.getText(), /^diff --git a\/temp_current\.py b\/temp_next\.py/);
    assert.equal(workspace.isRevealed(), true);
    assert.deepEqual(workspace.currentHints().map((h) => h.level), [0, 1, 2, 3, 9]);
  });

  test('Show Task Brief opens without error', async () => {
    await vscode.commands.executeCommand('speedrun.showTaskBrief');
  });
});
