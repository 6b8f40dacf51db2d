// The Search view as a user watches it in code-server: a `speedrun search` started from a terminal (here: a
// child process, our fake OpenAI server, two simulated boxes) grows the tree live, round by round; clicking a
// node opens its diff against its parent. Screenshots: test-results/search-*.png.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { startCodeServer, type CodeServerSession } from '../support/codeServer';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI';
import { removeTemps } from '../support/runFixture';
import { scriptedModel, searchTask, simPool } from '../support/searchFixture';

const CLI = path.resolve(__dirname, '../../src/cli.js');
const pane = (page: Page, title: string) => page.locator('.pane', { has: page.locator('.pane-header', { hasText: new RegExp(`^${title}`, 'i') }) });

suite('search view (code-server)', function () {
  this.timeout(300_000);
  let cs: CodeServerSession | undefined;
  let fake: FakeOpenAI;

  suiteTeardown(async () => {
    await cs?.stop();
    await fake?.close();
    removeTemps();
  });

  test('the tree grows while a CLI search runs; a node opens its diff against its parent', async () => {
    fake = await startFakeOpenAI({ respond: scriptedModel({ badEvery: 3 }) });
    const { taskDir, root } = searchTask(12);
    simPool(root, 2, { SIM_SPEEDUP: '100' });
    cs = await startCodeServer({ workspace: taskDir });
    const { page } = cs;
    await page.locator('.activitybar .action-item a[aria-label^="Speedrun"]').click();
    // Room for the whole tree (rows outside a list's viewport are not rendered): only the Search pane open.
    for (const title of ['Tasks', 'Hints', 'Runs']) {
      const h = pane(page, title).locator('.pane-header');
      await h.waitFor();
      if ((await h.getAttribute('aria-expanded')) === 'true') await h.click();
    }
    const header = pane(page, 'Search').locator('.pane-header');
    await header.waitFor();
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    await pane(page, 'Search').getByText(/No search in this task yet/).waitFor();

    const p = spawn(process.execPath, [CLI, 'search', '--task-dir', taskDir, '--targets-file', path.join(root, 'targets.json'), '--backend', 'openai', '--model', 'fake',
      '--base-url', fake.baseUrl, '--scaffold', 'forest', '--max-nodes', '6', '--target', 'sim1,sim2', '--seed', '3'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (b) => (stderr += b));
    const ended = new Promise<number>((r) => p.on('exit', (c) => r(c ?? -1)));
    const rows = pane(page, 'Search').locator('.monaco-list-row');
    const labels = async () => (await rows.allInnerTexts()).join('\n');

    // Round 1: the search, the start and the first children appear while their runs go on.
    await rows.filter({ hasText: /forest search/ }).first().waitFor({ timeout: 60_000 });
    await rows.filter({ hasText: /^v_1/ }).first().waitFor({ timeout: 60_000 });
    const early = await rows.count();
    await cs.screenshot('search-growing');
    // Round 2's children appear later, under the best node of round 1.
    await rows.filter({ hasText: /^v_5/ }).first().waitFor({ timeout: 120_000 }).catch(async (e) => {
      await cs!.screenshot('search-failed');
      assert.fail(`${(e as Error).message}\nrows: ${await labels()}\nCLI: ${stderr}`);
    });
    assert.ok((await rows.count()) > early, `the tree grew (${early} -> ${await rows.count()} rows)`);
    assert.equal(await ended, 0, stderr);
    await rows.filter({ hasText: /done · round/ }).first().waitFor({ timeout: 30_000 });
    const text = await labels();
    assert.match(text, /v_0 \(start\)/);
    assert.match(text, /valid · \d+\.\d s · loss 3\.\d{4} · FSR -?\d\.\d\d/);
    await cs.screenshot('search-done');

    await rows.filter({ hasText: /^v_2/ }).first().click();
    const tab = page.locator('.tabs-container .tab.active').first();
    await tab.filter({ hasText: /v_0 ↔ v_2/ }).waitFor();
    const diff = page.locator('.monaco-diff-editor').filter({ visible: true }).first();
    await diff.waitFor();
    // The node changed lines of its parent: the diff marks them once it has been computed.
    await diff.locator('.editor.modified .line-insert').first().waitFor();
    await cs.screenshot('search-node-diff');
  });
});
