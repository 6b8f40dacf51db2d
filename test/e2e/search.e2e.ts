// The Search view as a user watches it in code-server: a `speedrun search` started from a terminal (here: a
// child process, our fake OpenAI server, two simulated boxes) grows the tree live, round by round; clicking a
// node opens its diff against its parent; clicking a node being written opens its live view (Watch Edits), where
// each rewrite of its script lands in frames. Then a search started from the view's Start Search… button through
// its quick picks, pooling both boxes. Screenshots: test-results/search-*.png.
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { writeAtomic } from '../../src/core/files';
import { resolveScaffold } from '../../src/core/search/presets';
import { newSearchId, SearchStore, type NodeMeta, type NodeStatus } from '../../src/core/search/tree';
import { startCodeServer, type CodeServerSession } from '../support/codeServer';
import { startFakeOpenAI, type FakeOpenAI } from '../support/fakeOpenAI';
import { removeTemps } from '../support/runFixture';
import { scriptedModel, searchTask, simPool } from '../support/searchFixture';

const CLI = path.resolve(__dirname, '../../src/cli.js');
const pane = (page: Page, title: string) => page.locator('.pane', { has: page.locator('.pane-header', { hasText: new RegExp(`^${title}`, 'i') }) });

async function openSearchPane(page: Page): Promise<void> {
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
}


/** The user's script as the active editor, in the window title (a development build prefixes "[Extension Development Host] "). */
const USER_EDITOR_TITLE = /^(\[Extension Development Host\] )?train_gpt2\.py - task/;
suite('search view (code-server)', function () {
  this.timeout(300_000);
  let cs: CodeServerSession | undefined;
  let fake: FakeOpenAI;
  let taskDir = '';

  /** A fresh session on a fresh task, the user's script open (the first test leaves its window full of tabs). */
  async function session(): Promise<CodeServerSession> {
    await cs?.stop();
    taskDir = searchTask(12).taskDir;
    cs = await startCodeServer({ workspace: taskDir });
    await openSearchPane(cs.page);
    return cs;
  }

  suiteTeardown(async () => {
    await cs?.stop();
    await fake?.close();
    removeTemps();
  });

  test('the tree grows while a CLI search runs; a node opens its diff against its parent', async () => {
    fake = await startFakeOpenAI({ respond: scriptedModel({ badEvery: 3 }) });
    const task = searchTask(12);
    const root = task.root;
    taskDir = task.taskDir;
    simPool(root, 2, { SIM_SPEEDUP: '100' });
    cs = await startCodeServer({ workspace: taskDir });
    const { page } = cs;
    await openSearchPane(page);
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

  test('a node being written opens its live view beside, where a rewrite lands in frames; focus stays in the tree', async () => {
    const s = await session();
    const { page } = s;
    // A search written by hand as `speedrun search` lays it out, its v_1 just started: the parent's script, writing.
    const rootScript = fs.readFileSync(path.join(taskDir, 'train_gpt2.py'), 'utf8');
    const store = new SearchStore(taskDir, newSearchId());
    store.create(
      {
        version: 1, searchId: store.searchId, taskId: 12, fromRecord: 12, toRecord: 13, baselineMs: 1000, targetMs: 900, scaffold: resolveScaffold('tree'),
        seed: 1, hintLevels: [], backend: 'openai', model: 'fake', targets: ['sim1'], budget: { nodes: 4 }, createdAt: new Date().toISOString(),
      },
      rootScript,
      { valLoss: 3.28, nSteps: 1875 },
    );
    const meta = (status: NodeStatus): NodeMeta => ({
      id: 1, parent: 0, children: [], bugDepth: 0, hypothesis: 'comment the model', createdAt: new Date().toISOString(), status, round: 1, debug: false, idea: 'model',
    });
    store.writeScript(1, rootScript);
    store.writeMeta(meta('writing'));

    const rows = pane(page, 'Search').locator('.monaco-list-row');
    const writing = rows.filter({ hasText: /^v_1.*writing/ }).first();
    await writing.waitFor({ timeout: 30_000 });
    // The tree re-renders when the new search appears: a click on a row being replaced does nothing, so click
    // again as a user would.
    const liveTab = page.locator('.tabs-container .tab', { hasText: /v_1 being written \(from v_0\)/ }).first();
    for (let i = 0; !(await liveTab.isVisible()); i++) {
      assert.ok(i < 5, 'clicking the writing node opens its live view');
      await writing.click();
      await liveTab.waitFor({ timeout: 5_000 }).catch(() => undefined);
    }
    const diff = page.locator('.monaco-diff-editor').filter({ visible: true }).first();
    await diff.waitFor();

    // One model round lands: 16 lines of the model's settings rewritten at once; the view plays them in frames.
    const lines = rootScript.split('\n');
    const from = lines.findIndex((l) => /^MODEL = dict\(/.test(l)) + 1;
    assert.ok(from > 0, 'the script has its MODEL settings');
    const edited = lines.map((l, i) => (i >= from && i < from + 16 && l.trim() ? `${l}  # tuned` : l)).join('\n');
    writeAtomic(path.join(store.nodeDir(1), 'train_gpt2.py'), edited);
    const modified = diff.locator('.editor.modified');
    await modified.locator('.view-line', { hasText: /#\stuned/ }).first().waitFor().catch(async (e) => {
      await s.screenshot('search-watch-failed');
      throw e;
    });
    // Mid-way: some lines rewritten, the line being written highlighted, the rest still old and dimmed.
    const dimmed = "[...document.querySelectorAll('.editor.modified .view-line span')].some((s) => getComputedStyle(s).opacity === '0.4')";
    assert.ok(await page.evaluate<boolean>(dimmed), 'lines not yet rewritten are dimmed');
    await s.screenshot('search-watch-writing');
    const midway = await modified.locator('.view-line').allInnerTexts();
    assert.ok(midway.some((l) => /#\stuned/.test(l)) && midway.some((l) => /^ {4}\w+=.*,$/.test(l.replace(/\u00a0/g, ' '))), `some lines written, some still old:\n${midway.join('\n')}`);
    assert.ok(await page.evaluate<boolean>("!!document.activeElement?.closest('.pane-body')"), 'focus stayed in the Search view');

    store.writeMeta(meta('running'));
    await page.locator('.statusbar-item', { hasText: /v_1 written · running/ }).first().waitFor({ timeout: 30_000 });
    await modified.locator('.line-insert').first().waitFor();
    const tuned = (await modified.locator('.view-line', { hasText: /#\stuned/ }).count());
    assert.ok(tuned >= 10, `the final text is shown (${tuned} tuned lines in view)`);
    await s.screenshot('search-watch-done');

    // What the model was sent and answered for v_1, from its menu.
    const sessionId = `${store.searchId}/v_1`;
    const at = new Date().toISOString();
    fs.writeFileSync(path.join(store.nodeDir(1), 'transcript.jsonl'), [
      { type: 'prompt', turn: 1, round: 1, messages: [{ role: 'user', content: 'Make the run faster.' }], sessionId, at },
      { type: 'response', turn: 1, round: 1, text: 'Tune the model settings.', usage: { promptTokens: 900, completionTokens: 80 }, tokensUsed: 980, sessionId, at },
      { type: 'edit', turn: 1, round: 1, applied: [1], failures: [], linesAdded: 16, linesRemoved: 16, sessionId, at },
      { type: 'rules', turn: 1, round: 1, violations: [], method: 'python ast', sessionId, at },
    ].map((e) => JSON.stringify(e)).join('\n') + '\n');
    const running = rows.filter({ hasText: /^v_1.*running/ }).first();
    await running.waitFor(); // the tree has re-rendered the row for its new status
    const transcriptTab = page.locator('.tabs-container .tab', { hasText: `Transcript: v_1 · search ${store.searchId}` });
    for (let i = 0; !(await transcriptTab.isVisible()); i++) {
      assert.ok(i < 5, 'Show Node Transcript opens the panel');
      // A menu left open by a try on a row the tree replaced would swallow the next click.
      await page.keyboard.press('Escape');
      await running.click({ button: 'right' });
      await page.locator('.context-view .action-label', { hasText: 'Show Node Transcript' }).click({ timeout: 10_000 }).catch(() => undefined);
      await transcriptTab.waitFor({ timeout: 10_000 }).catch(() => undefined);
    }
    const timeline = s.webview().locator('#timeline');
    await timeline.getByText('Tune the model settings.').waitFor();
    const shown = (await timeline.textContent()) ?? '';
    assert.match(shown, /Edit: applied block 1 \(\+16 −16 lines\)/);
    assert.match(shown, /Rules kept/);
    assert.equal(await s.webview().locator('#status').textContent(), 'v_1: running (read-only).');
    assert.equal(await s.webview().locator('#accept:not(.hidden), #reject:not(.hidden), #stop:not(.hidden)').count(), 0, 'read-only: no review or stop buttons');
    await s.screenshot('search-node-transcript');
  });

  test('while a CLI search writes, Watch Edits on the search shows each node being written, one after another', async () => {
    const s = await session();
    const { page } = s;
    const root = path.dirname(taskDir);
    simPool(root, 1, { SIM_SPEEDUP: '4000' });
    // A slow model: each node stays being written for a few seconds.
    const slow = await startFakeOpenAI({ respond: scriptedModel({ delayMs: 1500 }) });
    const p = spawn(process.execPath, [CLI, 'search', '--task-dir', taskDir, '--targets-file', path.join(root, 'targets.json'), '--backend', 'openai', '--model', 'fake',
      '--base-url', slow.baseUrl, '--scaffold', 'flat', '--max-nodes', '2', '--parallel-writes', '1', '--target', 'sim1', '--seed', '5'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    p.stderr.on('data', (b) => (stderr += b));
    const ended = new Promise<number>((r) => p.on('exit', (c) => r(c ?? -1)));
    try {
      const rows = pane(page, 'Search').locator('.monaco-list-row');
      const search = rows.filter({ hasText: /flat search .*running/ }).first();
      await search.waitFor({ timeout: 60_000 });
      // From the palette (the tree re-renders its rows as the search goes on, so clicks on them race): the newest
      // search. The user is typing in their script meanwhile.
      await page.locator('.editor-group-container .monaco-editor .view-line').first().click();
      await s.runCommand('Speedrun: Watch Edits');
      const id = SearchStore.list(taskDir).at(-1)!;
      const tab = (n: number) => page.locator('.tabs-container .tab', { hasText: `v_${n} being written (from v_0) · search ${id} (following)` }).first();
      await tab(1).waitFor({ timeout: 30_000 }).catch(async (e) => {
        await s.screenshot('search-watch-cli-failed');
        throw new Error(`${(e as Error).message}\nCLI: ${stderr}`);
      });
      const diff = page.locator('.monaco-diff-editor').filter({ visible: true }).first();
      // The model's change lands in the node's script while the search goes on: the live diff shows it.
      await diff.locator('.editor.modified .view-line', { hasText: /SIM_STEP_COST_MS\s=/ }).first().waitFor().catch(async (e) => {
        await s.screenshot('search-watch-cli-failed');
        throw e;
      });
      await diff.locator('.line-insert, .char-insert').first().waitFor();
      await page.mouse.move(700, 880); // no tooltip over the tree
      await s.screenshot('search-watch-cli');
      const focusInEditor = "!!document.activeElement?.closest('.monaco-editor') && !document.activeElement?.closest('.monaco-diff-editor')";
      const title = () => page.title();
      const where = "(() => { const e = document.activeElement; return `${e?.tagName}.${e?.className} in ${e?.closest('.part')?.id ?? e?.closest('[id]')?.id}`; })()";
      assert.ok(await page.evaluate<boolean>(focusInEditor), `focus stayed in the user's editor (it is on ${await page.evaluate<string>(where)})`);
      assert.match(await title(), USER_EDITOR_TITLE); // the user's editor is still the active one
      // v_1 is written: following moves on to v_2, in the same place.
      await tab(2).waitFor({ timeout: 60_000 });
      assert.equal(await tab(1).count(), 0, 'v_1\'s live view gave way to v_2\'s');
      assert.ok(await page.evaluate<boolean>(focusInEditor), 'focus still in the user\'s editor');
      assert.match(await title(), USER_EDITOR_TITLE); // and still after moving on
      await page.locator('.statusbar-item', { hasText: /v_2 (being written|written)/ }).first().waitFor({ timeout: 60_000 });
      assert.equal(await ended, 0, stderr);
      await page.locator('.statusbar-item', { hasText: /v_2 written/ }).first().waitFor({ timeout: 30_000 });
      await s.screenshot('search-watch-cli-done');
    } finally {
      p.kill();
      await slow.close();
    }
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
