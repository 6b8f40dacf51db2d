// Compare views inside a real VS Code. Needs an EMPTY workspace folder (or one holding task 12) and the fixture
// clone; the suite opens task 12 into the folder itself when no task is open.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { applyPatch } from 'diff';
import type { Workspace } from '../../src/vscode/services';

const EXT = 'speedrun-workbench.speedrun-workbench';
const FIXTURE = path.resolve(__dirname, '../../../test/fixtures/benchmark');
const record = (r: number) => fs.readFileSync(path.join(FIXTURE, `workspace_templates/nanogpt_speedrun/record_${r}/train_gpt2.py`), 'utf8');

async function taskWorkspace(): Promise<Workspace> {
  const { workspace } = (await vscode.extensions.getExtension(EXT)!.activate()) as { workspace: Workspace };
  if (!workspace.current()) {
    const dir = vscode.workspace.workspaceFolders?.[0]?.uri.fsPath;
    assert.ok(dir, 'the suite needs a workspace folder');
    await vscode.commands.executeCommand('speedrun.locateBenchmark', FIXTURE);
    const opened = new Promise<void>((resolve) => {
      const sub = workspace.onDidChange((ctx) => ctx && (sub.dispose(), resolve()));
    });
    await vscode.commands.executeCommand('speedrun.openTask', { taskId: 12, dest: dir });
    await opened;
  }
  assert.equal(workspace.current()?.task.taskId, 12);
  return workspace;
}

function diffTab(title: string): vscode.TabInputTextDiff {
  const tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs);
  const tab = tabs.find((t) => t.label === title);
  assert.ok(tab, `no tab "${title}"; tabs: ${JSON.stringify(tabs.map((t) => t.label))}`);
  assert.ok(tab.input instanceof vscode.TabInputTextDiff, `"${title}" is not a diff editor`);
  return tab.input;
}

async function textOf(uri: vscode.Uri): Promise<string> {
  return (await vscode.workspace.openTextDocument(uri)).getText();
}

/** Replaces the whole file through the editor and saves, so the document and the disk agree. */
async function setText(file: string, text: string) {
  const doc = await vscode.workspace.openTextDocument(file);
  const edit = new vscode.WorkspaceEdit();
  edit.replace(doc.uri, new vscode.Range(0, 0, doc.lineCount, 0), text);
  assert.ok(await vscode.workspace.applyEdit(edit));
  assert.ok(await doc.save());
  assert.equal(fs.readFileSync(file, 'utf8'), text);
}

suite('compare', () => {
  const made: string[] = [];
  suiteTeardown(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    // Leave the task as other suites expect it: no runs or patches of ours.
    for (const p of made) fs.rmSync(p, { recursive: true, force: true });
  });

  function addRun(taskDir: string, runId: string, script: string) {
    const dir = path.join(taskDir, '.speedrun/runs', runId);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'train_gpt2.py'), script);
    made.push(dir);
  }

  test('registers its commands', async () => {
    await taskWorkspace();
    const all = await vscode.commands.getCommands(true);
    for (const c of ['compareWithReference', 'showMyChanges', 'compareRuns', 'exportPatch']) assert.ok(all.includes(`speedrun.${c}`), c);
  });

  test('Show My Changes: record 12 (read-only) against the working script', async () => {
    const ctx = (await taskWorkspace()).current()!;
    await vscode.commands.executeCommand('speedrun.showMyChanges');
    const input = diffTab('record 12 (start) ↔ train_gpt2.py');
    assert.equal(input.original.scheme, 'speedrun-ref');
    assert.equal(await textOf(input.original), record(12));
    assert.equal(input.modified.scheme, 'file');
    assert.equal(input.modified.fsPath, ctx.scriptPath);
  });

  test('Compare with Reference: record 13 against the working script', async () => {
    const ctx = (await taskWorkspace()).current()!;
    await vscode.commands.executeCommand('speedrun.compareWithReference', { confirmed: true });
    const input = diffTab('record 13 (reference) ↔ train_gpt2.py');
    assert.equal(input.original.scheme, 'speedrun-ref');
    assert.equal(await textOf(input.original), record(13));
    assert.notEqual(record(13), record(12));
    assert.equal(input.modified.fsPath, ctx.scriptPath);
  });

  test('the reference side is read-only; the working side stays editable', async () => {
    await vscode.commands.executeCommand('speedrun.compareWithReference', { confirmed: true });
    const input = diffTab('record 13 (reference) ↔ train_gpt2.py');
    assert.equal(vscode.workspace.fs.isWritableFileSystem('speedrun-ref'), false);

    await assert.rejects(Promise.resolve(vscode.workspace.fs.writeFile(input.original, Buffer.from('x'))), /NoPermissions|permission/i);
    await assert.rejects(Promise.resolve(vscode.workspace.fs.delete(input.original)), /NoPermissions|permission/i);
    // The editor refuses typing (test/e2e/compare.e2e.ts); an extension's in-memory edit cannot be saved.
    const ref = await vscode.workspace.openTextDocument(input.original);
    await vscode.window.showTextDocument(ref, { preview: true });
    const refEdit = new vscode.WorkspaceEdit();
    refEdit.insert(ref.uri, new vscode.Position(0, 0), '# tampered\n');
    await vscode.workspace.applyEdit(refEdit);
    try {
      assert.equal(await ref.save(), false, 'saving the reference must fail');
    } finally {
      await vscode.commands.executeCommand('workbench.action.files.revert');
    }
    assert.equal(ref.getText(), record(13));
    assert.equal(ref.isDirty, false);
    assert.equal(fs.readFileSync(path.join(FIXTURE, 'workspace_templates/nanogpt_speedrun/record_13/train_gpt2.py'), 'utf8'), record(13));

    const working = await vscode.workspace.openTextDocument(input.modified);
    const ok = new vscode.WorkspaceEdit();
    ok.insert(working.uri, new vscode.Position(0, 0), '# mine\n');
    assert.equal(await vscode.workspace.applyEdit(ok), true);
    assert.ok(working.getText().startsWith('# mine\n'));
    const undo = new vscode.WorkspaceEdit();
    undo.delete(working.uri, new vscode.Range(0, 0, 1, 0));
    assert.equal(await vscode.workspace.applyEdit(undo), true);
    await working.save();
    assert.equal(working.getText(), record(12));
  });

  test('CodeLenses count my changes, unsaved edits included', async () => {
    const ctx = (await taskWorkspace()).current()!;
    const uri = vscode.Uri.file(ctx.scriptPath);
    const titles = async () => ((await vscode.commands.executeCommand('vscode.executeCodeLensProvider', uri)) as vscode.CodeLens[])
      .map((l) => l.command?.title ?? '');
    assert.ok((await titles()).includes('$(git-compare) No changes from record 12 yet'), JSON.stringify(await titles()));
    assert.ok((await titles()).includes('$(diff) Compare with record 13 (reference)'));
    const doc = await vscode.workspace.openTextDocument(uri);
    const line = doc.getText().split('\n').findIndex((l) => l.includes('num_iterations : int = 1875'));
    assert.ok(line > 0);
    const edit = new vscode.WorkspaceEdit();
    edit.replace(uri, doc.lineAt(line).range, '    num_iterations : int = 1750 # optimizer steps');
    edit.insert(uri, new vscode.Position(0, 0), 'import gc\n');
    assert.ok(await vscode.workspace.applyEdit(edit));
    try {
      assert.ok((await titles()).includes('$(git-compare) My changes: +2 −1'), JSON.stringify(await titles()));
    } finally {
      await setText(ctx.scriptPath, record(12));
    }
  });

  test('Compare Two Runs diffs the two snapshots, read-only', async () => {
    const ctx = (await taskWorkspace()).current()!;
    addRun(ctx.taskDir, 'r1', record(12).replace('1875', '1800'));
    addRun(ctx.taskDir, 'r2', record(13));
    await vscode.commands.executeCommand('speedrun.compareRuns', 'r1', { runId: 'r2' });
    const input = diffTab('run r1 ↔ run r2');
    assert.equal(input.original.scheme, 'speedrun-ref');
    assert.equal(input.modified.scheme, 'speedrun-ref');
    assert.match(await textOf(input.original), /num_iterations : int = 1800/);
    assert.equal(await textOf(input.modified), record(13));
  });

  test('Export Patch writes a patch against record 12 that applies back', async () => {
    const ctx = (await taskWorkspace()).current()!;
    const working = record(12).replace('1875', '1700');
    await setText(ctx.scriptPath, working);
    try {
      const out = path.join(ctx.taskDir, 'attempt.patch');
      made.push(out);
      assert.equal(await vscode.commands.executeCommand('speedrun.exportPatch', out), out);
      const patch = fs.readFileSync(out, 'utf8');
      assert.match(patch, /^--- a\/train_gpt2\.py\trecord 12$/m);
      assert.equal(applyPatch(record(12), patch), working);

      assert.equal(await vscode.commands.executeCommand('speedrun.exportPatch', ctx.scriptPath), undefined, 'never over the script');
      assert.equal(fs.readFileSync(ctx.scriptPath, 'utf8'), working);

      addRun(ctx.taskDir, 'r3', record(13));
      const runOut = path.join(ctx.taskDir, 'r3.patch');
      made.push(runOut);
      await vscode.commands.executeCommand('speedrun.exportPatch', { runId: 'r3', target: runOut });
      assert.equal(applyPatch(record(12), fs.readFileSync(runOut, 'utf8')), record(13));
    } finally {
      await setText(ctx.scriptPath, record(12));
    }
  });
});
