// The compare views as a user meets them in code-server: editor title buttons, the spoiler confirmation, the
// side-by-side diff with a read-only reference, and the CodeLens counts. Screenshots go to test-results/.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { openTask } from '../../src/core/benchmark/openTask';
import { scriptPath } from '../../src/core/benchmark/catalog';
import { FIXTURE_BENCHMARK, startCodeServer, type CodeServerSession } from '../support/codeServer';

suite('compare (code-server)', function () {
  this.timeout(240_000);
  let cs: CodeServerSession;
  let tmp: string;

  suiteSetup(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-compare-e2e-'));
    const { scriptPath: working } = openTask({ benchmarkPath: FIXTURE_BENCHMARK, taskId: 12, dest: path.join(tmp, 'task12') });
    // An attempt that makes part of record 13's change, and one change of its own.
    const attempt = fs.readFileSync(working, 'utf8')
      .replace('num_iterations : int = 1875', 'num_iterations : int = 1750')
      .replace('window_warmup=False', 'window_warmup=True')
      .replace('import os\n', 'import os\nimport gc\n');
    fs.writeFileSync(working, attempt);
    cs = await startCodeServer({ workspace: path.join(tmp, 'task12'), settings: { 'speedrun.benchmarkPath': FIXTURE_BENCHMARK } });
  });

  suiteTeardown(async () => {
    await cs?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const titleButton = (title: string) => cs.page.locator(`.editor-actions a.action-label[aria-label^="${title}"]`).first();
  const diffEditor = () => cs.page.locator('.monaco-diff-editor').filter({ visible: true }).first();
  const activeTab = () => cs.page.locator('.tabs-container .tab.active').first();

  test('CodeLens and title buttons on the task script', async () => {
    const lens = cs.page.locator('.contentWidgets .codelens-decoration').filter({ hasText: 'My changes' }).first();
    await lens.waitFor({ timeout: 120_000 });
    assert.match(await lens.innerText(), /My changes: \+3 −2/);
    assert.match(await lens.innerText(), /Compare with record 13 \(reference\)/);
    await titleButton('Compare with Reference Record').waitFor();
    await titleButton('Show My Changes').waitFor();
  });

  test('the reference asks first; Cancel opens nothing', async () => {
    await titleButton('Compare with Reference Record').click();
    const dialog = cs.page.locator('.monaco-dialog-box');
    await dialog.waitFor();
    assert.match(await dialog.innerText(), /Show record 13's script\?/);
    assert.match(await dialog.innerText(), /answer to task 12/);
    await cs.screenshot('compare-confirm');
    await dialog.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await cs.page.locator('.monaco-diff-editor').filter({ visible: true }).count(), 0);
  });

  test('Compare with Reference opens record 13 beside the working script; the reference is read-only', async () => {
    await titleButton('Compare with Reference Record').click();
    const dialog = cs.page.locator('.monaco-dialog-box');
    await dialog.locator('.monaco-button', { hasText: 'Show Reference' }).click();
    const diff = diffEditor();
    await diff.waitFor();
    assert.match(await activeTab().innerText(), /record 13 \(reference\) ↔ train_gpt2\.py/);
    const original = diff.locator('.editor.original .view-lines');
    const modified = diff.locator('.editor.modified .view-lines');
    await original.getByText('standing in for benchmark record 13').waitFor();
    await modified.getByText('import gc').waitFor();
    // Changes the attempt lacks or adds are highlighted on both sides.
    assert.ok((await diff.locator('.editor.original .line-delete').count()) > 0);
    assert.ok((await diff.locator('.editor.modified .line-insert').count()) > 0);
    await cs.screenshot('compare-reference');

    // Typing into the reference changes nothing.
    await original.getByText('standing in for benchmark record 13').click();
    await cs.page.keyboard.type('zzz');
    await cs.page.locator('.monaco-editor-overlaymessage').filter({ hasText: /read-only/i }).waitFor();
    assert.equal(await original.getByText('zzz').count(), 0);
    assert.equal(fs.readFileSync(scriptPath(FIXTURE_BENCHMARK, 13), 'utf8').includes('zzz'), false);
    await cs.screenshot('compare-reference-readonly');
  });

  test('Show My Changes diffs against record 12', async () => {
    await cs.runCommand('Speedrun: Show My Changes');
    await activeTab().filter({ hasText: 'record 12 (start) ↔ train_gpt2.py' }).waitFor();
    const diff = diffEditor();
    await diff.locator('.editor.original .view-lines').getByText('standing in for benchmark record 12').waitFor();
    await cs.screenshot('compare-my-changes');
  });
});
