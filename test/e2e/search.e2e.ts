// The Search view as a user watches it in code-server: a `speedrun search` started from a terminal (here: a
// child process, our fake OpenAI server, two simulated boxes) grows the tree live, round by round; clicking a
// node opens its diff against its parent. Then a search started from the view's Start Search… button through its
// quick picks, pooling both boxes. Screenshots: test-results/search-*.png.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
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

  test('Start Search… from the view: scaffold, writer, pooled targets and max nodes picked; the search runs as a task', async () => {
    await cs?.stop();
    const { taskDir, root } = searchTask(12);
    simPool(root, 2, { SIM_SPEEDUP: '2000' });
    const targets = JSON.parse(fs.readFileSync(path.join(root, 'targets.json'), 'utf8'));
    cs = await startCodeServer({ workspace: taskDir, settings: { 'speedrun.targets': targets } });
    const { page } = cs;
    await page.locator('.activitybar .action-item a[aria-label^="Speedrun"]').click();
    const search = pane(page, 'Search');
    const header = search.locator('.pane-header');
    await header.waitFor();
    if ((await header.getAttribute('aria-expanded')) === 'false') await header.click();
    await header.hover();
    await search.locator('.actions .action-label[aria-label="Start Search…"]').click();
    const row = (text: string | RegExp) => page.locator('.quick-input-list .monaco-list-row', { hasText: text }).first();
    const title = page.locator('.quick-input-title');
    await title.filter({ hasText: 'Start Search (1/5): scaffold' }).waitFor();
    assert.match(await row(/^multi-aide/).innerText(), /initial 3 · branching 3 · 20 rounds · debug prob 0\.5 · max bug depth 5/);
    await row(/^flat/).click();
    await title.filter({ hasText: 'who writes the nodes?' }).waitFor();
    assert.match(await row(/Replay record 13/).innerText(), /not a model/);
    await cs.screenshot('search-start-writer');
    await row(/Replay record 13/).click();
    // Replay needs no hints: the targets come next, both checked to pool them.
    await title.filter({ hasText: 'targets' }).waitFor();
    await row(/^sim1/).locator('.quick-input-list-checkbox, input[type=checkbox]').first().click();
    await row(/^sim2/).locator('.quick-input-list-checkbox, input[type=checkbox]').first().click();
    await page.keyboard.press('Enter');
    await title.filter({ hasText: 'max nodes' }).waitFor();
    const input = page.locator('.quick-input-widget input.input[type=text]');
    await input.fill('2');
    await page.keyboard.press('Enter');
    // The task's terminal (named after it) shows the CLI's progress; the view finds the search on disk.
    await page.getByText('search: flat on sim1, sim2').first().waitFor({ timeout: 60_000 });
    const rows = search.locator('.monaco-list-row');
    await rows.filter({ hasText: /flat search/ }).first().waitFor({ timeout: 60_000 });
    await rows.filter({ hasText: /done · round 1 · 2\/2 nodes/ }).first().waitFor({ timeout: 120_000 });
    await cs.screenshot('search-started-from-view');
  });
});
