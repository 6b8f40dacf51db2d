// Checks the harness itself: suites run in a Node extension host with this extension in development mode.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';

suite('harness', () => {
  test('runs in a Node extension host of VS Code 1.99+', () => {
    assert.ok(process.versions.node, 'not a Node extension host');
    const [major, minor] = vscode.version.split('.').map(Number);
    assert.ok(major > 1 || minor >= 99, `VS Code ${vscode.version}`);
  });

  test('the extension under test is the development copy', () => {
    const ext = vscode.extensions.getExtension('speedrun-workbench.speedrun-workbench');
    assert.ok(ext, 'speedrun-workbench.speedrun-workbench not found');
    assert.equal(ext.packageJSON.main, './dist/extension.js');
    assert.ok(fs.existsSync(path.join(ext.extensionPath, 'dist/extension.js')));
    // The runner bundle sits in the same extension folder.
    assert.equal(path.resolve(__dirname, '../../..'), ext.extensionPath);
  });
});
