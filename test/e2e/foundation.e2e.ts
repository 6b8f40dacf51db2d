// A newcomer's first minutes, clicked through code-server: open the Speedrun view, locate the benchmark clone
// through the real folder dialog, see the 19 tasks, open task 12 into the open folder, see train_gpt2.py and
// the hint levels and the brief beside it; clicking the open task again shows its brief. Then reopen the folder
// in a new session (light theme): the task state comes back.
// Screenshots: test-results/foundation-*.png.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { Page } from 'playwright-core';
import { FIXTURE_BENCHMARK, startCodeServer, type CodeServerSession } from '../support/codeServer';

/** A pane of the Speedrun view container, by its title. */
const pane = (page: Page, title: string) =>
  page.locator('.pane', { has: page.locator('.pane-header', { hasText: new RegExp(`^${title}`, 'i') }) });
const rows = (page: Page, title: string) => pane(page, title).locator('.monaco-list-row');

/** Answers code-server's simple folder dialog by typing the path, as a user can. */
async function chooseFolder(page: Page, dir: string): Promise<void> {
  const widget = page.locator('.quick-input-widget');
  const input = widget.locator('input.input[type=text]');
  await input.waitFor();
  // The dialog fills in its start folder asynchronously, possibly after we type: type until the path stays put.
  for (let i = 0; !(await input.inputValue()); i++) {
    if (i > 100) assert.fail('the folder dialog shows no start folder');
    await page.waitForTimeout(100);
  }
  const typed = `${dir}/`;
  for (let i = 0; ; i++) {
    if (i > 20) assert.fail(`the folder dialog keeps changing the typed path (now ${await input.inputValue()})`);
    if ((await input.inputValue()) !== typed) await input.fill(typed);
    await page.waitForTimeout(300);
    if ((await input.inputValue()) === typed) break;
  }
  // Accepting before the dialog has listed the typed folder picks the old one: wait for its subfolders.
  const expected = ['..', ...fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name)].sort();
  const listed = async () => (await widget.locator('.monaco-list-row .label-name').allTextContents()).map((t) => t.trim()).sort();
  for (let i = 0; JSON.stringify(await listed()) !== JSON.stringify(expected); i++) {
    if (i > 100) assert.fail(`the folder dialog lists ${JSON.stringify(await listed())}, expected ${JSON.stringify(expected)}`);
    await page.waitForTimeout(100);
  }
  await widget.locator('.monaco-button', { hasText: /\S/ }).first().click();
  await widget.waitFor({ state: 'hidden' });
}

async function openSpeedrunView(page: Page): Promise<void> {
  await page.locator('.activitybar .action-item a[aria-label^="Speedrun"]').click();
  await page.mouse.move(700, 700); // no hover tooltip in the screenshots
  await pane(page, 'Tasks').waitFor();
}

suite('foundation: first run (e2e)', function () {
  this.timeout(300_000);
  let cs: CodeServerSession | undefined;
  let workspace: string;
  let tasksFolder: string;

  suiteSetup(() => {
    workspace = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-e2e-foundation-'));
    tasksFolder = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-e2e-tasks-'));
  });
  teardown(async function () {
    if (this.currentTest?.state === 'failed') await cs?.screenshot(`failed-${this.currentTest.title.slice(0, 40).replace(/\W+/g, '-')}`);
    await cs?.stop();
    cs = undefined;
  });
  suiteTeardown(() => {
    fs.rmSync(workspace, { recursive: true, force: true });
    fs.rmSync(tasksFolder, { recursive: true, force: true });
  });

  test('locate the benchmark, list tasks, open task 12, see the script and the hint levels (dark)', async () => {
    cs = await startCodeServer({ workspace, theme: 'dark', settings: { 'speedrun.tasksFolder': tasksFolder } });
    const { page } = cs;
    await openSpeedrunView(page);
    // Not located yet: the welcome content offers Locate and Clone.
    await pane(page, 'Tasks').getByRole('button', { name: /Locate Benchmark/ }).waitFor();
    await cs.screenshot('foundation-1-welcome-dark');

    await cs.runCommand('Speedrun: Locate Benchmark…');
    await chooseFolder(page, FIXTURE_BENCHMARK);
    await rows(page, 'Tasks').filter({ hasText: /Task 12\b/ }).waitFor();
    const labels = await rows(page, 'Tasks').allTextContents();
    // The tree renders only the rows in view; its size is in the rows' aria-setsize.
    assert.equal(await rows(page, 'Tasks').first().getAttribute('aria-setsize'), '19', `tasks listed: ${JSON.stringify(labels)}`);
    assert.match(labels[0], /^Task 1: 1 → 2/);
    assert.ok(!labels.some((l) => /^Task 6\b/.test(l.trim())), 'task 6 (the PyTorch upgrade) is excluded');
    await cs.screenshot('foundation-2-tasks-dark');

    // The labels fit the view's default width (nothing cut off with an ellipsis).
    const clipped = await rows(page, 'Tasks').locator('.monaco-icon-label-container').evaluateAll(
      (els) => els.filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.textContent));
    assert.deepEqual(clipped, [], 'task rows cut off');

    // Where to open it: the default folder (created for you) or this window's empty folder.
    await rows(page, 'Tasks').filter({ hasText: /Task 12\b/ }).click();
    const choices = page.locator('.quick-input-widget .monaco-list-row');
    await choices.first().waitFor();
    const offered = await choices.allTextContents();
    assert.ok(offered.some((t) => t.includes(path.join(tasksFolder, 'task-12')) && t.includes('created for you')), JSON.stringify(offered));
    await cs.screenshot('foundation-2b-open-task-where-dark');
    await choices.filter({ hasText: "this window's folder" }).click();
    // The script opens in an editor, the brief beside it, and the task's files are in the folder.
    await page.locator('.tabs-container .tab.active', { hasText: 'train_gpt2.py' }).waitFor();
    await page.locator('.tabs-container .tab', { hasText: /TASK\.md/ }).waitFor();
    await page.locator('.monaco-editor .view-lines', { hasText: 'num_iterations' }).first().waitFor();
    assert.ok(fs.existsSync(path.join(workspace, 'train_gpt2.py')));
    assert.equal(JSON.parse(fs.readFileSync(path.join(workspace, '.speedrun/task.json'), 'utf8')).taskId, 12);

    // Hints: levels 1-3 of record 12 and the hidden ground truth, but never its content.
    await rows(page, 'Hints').filter({ hasText: /Level 1/ }).waitFor();
    const hints = (await rows(page, 'Hints').allTextContents()).join('\n');
    for (const level of [/Level 1/, /Level 2/, /Level 3/, /Level 0.*hidden/]) assert.match(hints, level);
    assert.doesNotMatch(hints, /^\+\+\+|^@@/m, 'no diff content in the Hints view');
    await cs.webview().locator('h1', { hasText: 'Task 12: record 12 → record 13' }).waitFor();
    assert.match(await page.title(), /^(\[.*\] )?train_gpt2\.py/, 'the script keeps the focus');
    await page.mouse.move(700, 700);
    await cs.screenshot('foundation-3-task-open-dark');

    // The task already open, clicked again: its brief comes back, no folder question.
    await page.locator('.tabs-container .tab', { hasText: 'train_gpt2.py' }).click();
    await cs.runCommand('View: Close Editors in Other Groups');
    await page.locator('.tabs-container .tab', { hasText: /TASK\.md/ }).waitFor({ state: 'detached' });
    await rows(page, 'Tasks').filter({ hasText: /Task 12\b/ }).click();
    await page.locator('.tabs-container .tab', { hasText: /TASK\.md/ }).waitFor();
    assert.equal(await page.locator('.quick-input-widget').isVisible(), false, 'no folder question');
    assert.ok(!fs.existsSync(path.join(tasksFolder, 'task-12')), 'nothing written to the default folder');
  });

  test('reopening the task folder restores the task: script, Tasks and Hints (light)', async () => {
    assert.ok(fs.existsSync(path.join(workspace, '.speedrun/task.json')), 'needs the task opened by the previous test');
    // A fresh user-data-dir: nothing but the folder's .speedrun/task.json carries the state.
    cs = await startCodeServer({ workspace, theme: 'light' });
    const { page } = cs;
    await openSpeedrunView(page);
    await rows(page, 'Hints').filter({ hasText: /Level 1/ }).waitFor();
    await rows(page, 'Tasks').filter({ hasText: /Task 12\b/ }).waitFor();
    await cs.runCommand('Speedrun: Show Task Brief');
    await page.locator('.tabs-container .tab', { hasText: /TASK|Brief/i }).first().waitFor();
    await cs.webview().locator('h1', { hasText: 'Task 12: record 12 → record 13' }).waitFor();
    await cs.screenshot('foundation-4-reopened-light');
  });
});
