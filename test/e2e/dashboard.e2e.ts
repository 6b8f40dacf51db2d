// The live dashboard in a real VS Code (code-server) with a run on the simulated GPU box (test/sim, a `local`
// target): the run streams into the panel, which we read back through its DOM test hook (#test-state), check
// the reference curve and the 3.28 line, export the CSV through the save dialog, look at it in the dark and
// light themes (test-results/dashboard-*.png), and reload the window: the panel comes back on the same run.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { FrameLocator, Page } from 'playwright-core';
import { openTask } from '../../src/core/benchmark/openTask';
import { RECORD_LOGS } from '../../src/core/logs/reference';
import { shellQuote } from '../../src/core/remote/shell';
import { FIXTURE_BENCHMARK, REPO_ROOT, runCommand, startCodeServer, type CodeServerSession } from '../support/codeServer';
import { RunStore, sha256 } from '../../src/core/runs/store';
import type { RunMeta } from '../../src/core/runs/types';
import { makeShards } from '../support/runFixture';

const SIM = path.join(REPO_ROOT, 'test/sim');

/** The dashboard's test hook: header values and chart sizes as JSON. */
async function dashState(cs: CodeServerSession): Promise<any> {
  const text = await dashboard(cs).locator('#test-state').textContent({ timeout: 30_000 });
  return text ? JSON.parse(text) : null;
}

/** The dashboard webview's content frame (it is not necessarily the only webview). */
function dashboard(cs: CodeServerSession): FrameLocator {
  return cs.page.locator('iframe.webview.ready').filter({ visible: true }).first().contentFrame()
    .locator('iframe#active-frame').contentFrame();
}

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 120_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      last = await get();
      if (ok(last)) return last;
    } catch (e) {
      lastErr = e;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(last)?.slice(0, 400) ?? String(lastErr)}`);
}

/** Record 13's log in a modded-nanogpt-like folder, written here (validation lines only, shape V). */
function writeRecordLog(root: string): void {
  const entry = RECORD_LOGS[13]!;
  const dir = path.join(root, 'records', 'track_1_short', entry.folder);
  fs.mkdirSync(dir, { recursive: true });
  const lines: string[] = [];
  for (let s = 0; s <= 1750; s += 125) {
    const loss = 3.274 + 7.55 * Math.pow(1 + (s / 1750) * 200, -0.7) - 7.55 * Math.pow(201, -0.7);
    lines.push(`step:${s}/1750 val_loss:${loss.toFixed(4)} train_time:${Math.round(s * 165.6)}ms step_avg:${s > 10 ? '165.60' : 'nan'}ms`);
  }
  fs.writeFileSync(path.join(dir, entry.file), lines.join('\n') + '\n');
}

/** Switches the colour theme through the palette, as a user would. */
async function setTheme(cs: CodeServerSession, theme: 'Light Modern' | 'Dark Modern') {
  await runCommand(cs.page, 'Preferences: Color Theme');
  const input = cs.page.locator('.quick-input-widget input.input[type=text]');
  await input.fill(theme);
  await cs.page.locator('.quick-input-list .monaco-list-row', { hasText: theme }).first().waitFor();
  await cs.page.keyboard.press('Enter');
  const cls = theme === 'Light Modern' ? 'light_modern' : 'dark_modern';
  await cs.page.locator(`.monaco-workbench.vscode-theme-defaults-themes-${cls}-json`).waitFor({ timeout: 30_000 });
}

/** Answers code-server's simple save dialog with the path it proposes. */
async function acceptSaveDialog(page: Page, expectSuffix: string): Promise<string> {
  const input = page.locator('.quick-input-widget input.input[type=text]');
  await input.waitFor();
  const value = await until('the save dialog to propose a file', () => input.inputValue(), (v) => v.endsWith(expectSuffix), 15_000);
  await page.keyboard.press('Enter');
  await page.locator('.quick-input-widget').waitFor({ state: 'hidden' });
  return value;
}

/** A run from an earlier session, as the run store keeps it: meta.json and the console output (ours, shape
 * T1/V of record 12: 1,875 steps, validation every 125, ending at 3.2791 in 300 s). */
function storePastRun(taskDir: string): string {
  const runId = '20261126-000000-abcd';
  const lines: string[] = [];
  for (let s = 0; s <= 1875; s++) {
    const loss = (x: number) => 3.2791 + 7.55 * Math.pow(1 + (x / 1875) * 200, -0.7) - 7.55 * Math.pow(201, -0.7);
    const time = (x: number) => Math.round(Math.max(0, x - 10) * (300_000 / 1865));
    const avg = (x: number) => (x > 10 ? (time(x) / (x - 10)).toFixed(2) : 'nan');
    if (s % 125 === 0 || s === 1875) lines.push(`step:${s}/1875 val_loss:${loss(s).toFixed(4)} train_time:${time(s)}ms step_avg:${avg(s)}ms`);
    if (s < 1875) lines.push(`step:${s + 1}/1875 train_loss:${(loss(s + 1) + 0.05).toFixed(4)} train_time:${time(s + 1)}ms step_avg:${avg(s + 1)}ms`);
  }
  const store = new RunStore(taskDir);
  const script = fs.readFileSync(path.join(taskDir, 'train_gpt2.py'));
  const meta: RunMeta = {
    runId, taskId: 12, target: 'sim-box', state: 'finished', createdAt: '2026-11-26T00:00:00.000Z', scriptSha256: sha256(script),
    startedAt: '2026-11-26T00:00:01.000Z', endedAt: '2026-11-26T00:06:00.000Z', exitCode: 0,
    step: 1875, totalSteps: 1875, final: { n_steps: 1875, val_loss: 3.2791, train_time: 300_000, is_valid: true },
  };
  store.create(meta, script);
  store.appendConsole(runId, Buffer.from(lines.join('\n') + '\n'));
  return runId;
}

suite('dashboard: a simulated run streams into the panel (e2e)', function () {
  this.timeout(300_000);
  let cs: CodeServerSession | undefined;
  let tmp: string;

  suiteSetup(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-e2e-dashboard-'));
    writeRecordLog(path.join(tmp, 'modded-nanogpt'));
  });
  teardown(async function () {
    if (this.currentTest?.state === 'failed') await cs?.screenshot(`failed-dashboard-${this.currentTest.title.slice(0, 30).replace(/\W+/g, '-')}`);
    await cs?.stop();
    cs = undefined;
  });
  suiteTeardown(() => fs.rmSync(tmp, { recursive: true, force: true }));

  const newTask = (name: string) => openTask({ benchmarkPath: FIXTURE_BENCHMARK, taskId: 12, dest: path.join(tmp, name) }).taskDir;

  /** code-server on a fresh task 12 workspace, with one `local` target: the simulated box (its env: the
   * SIM_* knobs). */
  async function startSim(taskDir: string, env: Record<string, string>): Promise<CodeServerSession> {
    const box = fs.mkdtempSync(path.join(tmp, 'box-'));
    const shards = makeShards(path.join(box, 'data'), 12);
    return startCodeServer({
      workspace: taskDir,
      theme: 'dark',
      viewport: { width: 1500, height: 1000 },
      settings: {
        'speedrun.benchmarkPath': FIXTURE_BENCHMARK,
        'speedrun.recordsPath': path.join(tmp, 'modded-nanogpt'),
        'speedrun.targets': [{
          name: 'sim-box', kind: 'local', remoteDir: box, gpus: 8, ...shards,
          // The simulated box: its torchrun and nvidia-smi first on PATH, its stand-in torch module importable.
          setup: `export PATH=${shellQuote(SIM)}:"$PATH" PYTHONPATH=${shellQuote(path.join(SIM, 'pylib'))}`,
          env,
        }],
      },
    });
  }

  test('live header and charts, reference curve, target line, CSV export, themes, reload', async () => {
    // Record 12's full 1,875 steps, 25x faster than real time: about 15 s.
    const taskDir = newTask('live');
    cs = await startSim(taskDir, { SIM_SPEEDUP: '25', SIM_COMPILE_SECONDS: '75', SIM_VAL_SECONDS: '1' });
    const page = cs.page;
    // The extension shows the task's script once it has activated; the dashboard then opens beside it.
    await page.locator('.tabs-container .tab', { hasText: 'train_gpt2.py' }).waitFor({ timeout: 60_000 });

    // Run opens the dashboard beside the script, on the new run.
    await runCommand(page, 'Speedrun: Run Task Script');
    await dashboard(cs).locator('[data-testid=header]').waitFor();
    const groups = page.locator('.editor-group-container');
    assert.equal(await groups.count(), 2, 'the script and, beside it, the dashboard');
    assert.equal(await groups.filter({ has: page.locator('.tab', { hasText: 'train_gpt2.py' }) }).filter({ has: page.locator('.tab', { hasText: 'Dashboard' }) }).count(), 0);

    const compiling = await until('the run to show up (compiling)', () => dashState(cs!),
      (s) => s?.runId && ['connecting', 'preflight', 'uploading', 'compiling', 'training'].includes(s.header.state));
    assert.match(compiling.runId, /^\d{8}-\d{6}-[0-9a-f]{4}$/);

    const early = await until('training steps', () => dashState(cs!), (s) => s?.header.state === 'training' && s.points.train >= 100);
    const later = await until('more steps', () => dashState(cs!), (s) => s.points.train > early.points.train + 100);
    assert.equal(later.runId, early.runId);
    assert.ok(later.header.step > early.header.step, 'the header step advances');
    assert.equal(later.header.totalSteps, 1875);
    assert.ok(later.header.projectedTrainTimeMs > 200_000 && later.header.projectedTrainTimeMs < 450_000, `ETA ${later.header.projectedTrainTimeMs}`);
    assert.equal(typeof later.header.projectedFsr, 'number');
    assert.match(await dashboard(cs).locator('[data-testid=step]').innerText(), new RegExp(`^\\d+ / 1875$`));
    assert.ok(later.renders < later.points.train / 2, `updates are batched (${later.renders} renders for ${later.points.train} steps)`);
    await cs.screenshot('dashboard-live-dark');

    const done = await until('the run to finish', () => dashState(cs!), (s) => s.header.state === 'finished' && s.result, 180_000);
    assert.equal(done.points.train, 1875);
    assert.equal(done.points.val, 16, 'validation at 0, 125, ..., 1875');
    assert.equal(done.charts.train.datasets.length, 2, 'record 12 prints the training loss: raw + EMA');
    assert.equal(done.charts.step.datasets[0].points, 1875 - 10, 'step_avg is nan for the first 10 steps');
    assert.equal(done.charts.val.refLine, 3.28, 'the 3.28 target line');
    const ref = done.curves.find((c: any) => c.kind === 'reference');
    assert.equal(ref?.label, 'record 13 (reference)');
    assert.equal(ref.points, 15, 'the reference curve comes from record 13\'s log');
    assert.ok(done.curves.some((c: any) => c.kind === 'start' && c.points === 1), 'record 12 (start) as its end point');
    assert.deepEqual(done.charts.val.datasets.map((d: any) => d.label), ['this run', 'record 13 (reference)', 'record 12 (start)']);
    assert.equal(done.result.state, 'finished');
    assert.ok(Math.abs(done.result.valLoss - 3.2739) < 0.01, String(done.result.valLoss));
    assert.equal(done.result.valid, done.result.valLoss <= 3.28);
    assert.equal(typeof done.result.fsr, 'number');
    assert.ok(done.result.trainTimeMs > 250_000, String(done.result.trainTimeMs));
    assert.equal(await dashboard(cs).locator('[data-testid=verdict]').innerText(), done.result.valid ? 'Valid' : 'Not valid');
    assert.equal(await dashboard(cs).locator('[data-testid=runs-table] tbody tr').count(), 1);
    // The whole editor area for the dashboard: focus its tab, close the script's group.
    await page.locator('.tabs-container .tab', { hasText: 'Dashboard' }).click();
    await runCommand(page, 'View: Close Editors in Other Groups');
    await page.locator('.tabs-container .tab', { hasText: 'train_gpt2.py' }).waitFor({ state: 'detached' });
    await runCommand(page, 'Notifications: Clear All Notifications');
    await page.waitForTimeout(500);
    await cs.screenshot('dashboard-finished-dark');

    // CSV through the toolbar button and the save dialog.
    await dashboard(cs).locator('[data-testid=export-csv]').click();
    const saved = await acceptSaveDialog(page, '.csv');
    const csvFile = path.join(taskDir, `run-${done.runId}.csv`);
    assert.equal(path.resolve(saved.replace(/^~(?=\/)/, os.homedir())), csvFile);
    const csv = (await until('the CSV file', async () => fs.existsSync(csvFile) && fs.readFileSync(csvFile, 'utf8'), (t) => !!t && t.endsWith('\n'), 15_000)) as string;
    const rows = csv.trim().split('\n');
    assert.equal(rows[0], 'kind,step,total_steps,train_time_ms,step_avg_ms,train_loss,val_loss');
    assert.equal(rows.length, 1 + 1875 + 16);
    assert.match(rows[rows.length - 1], /^val,1875,1875,\d+,,,3\.2\d+$/);

    // Light theme: the webview re-reads the theme's colours.
    const darkColor = done.charts.val.datasets[0].color;
    await setTheme(cs, 'Light Modern');
    const light = await until('chart colours to follow the theme', () => dashState(cs!), (s) => s.charts.val.datasets[0].color !== darkColor, 30_000);
    assert.equal(light.points.train, 1875);
    await runCommand(page, 'Notifications: Clear All Notifications');
    await cs.screenshot('dashboard-finished-light');

    // A window reload restores the panel (serializer) on the same run.
    await page.reload();
    await page.locator('.monaco-workbench').waitFor({ timeout: 60_000 });
    // The task workspace shows its script when the extension activates, after the restored dashboard tab:
    // bring the dashboard back to the front (again, if the script took it).
    const dashTab = page.locator('.tabs-container .tab', { hasText: `Dashboard · ${done.runId}` });
    await page.locator('.tabs-container .tab', { hasText: 'train_gpt2.py' }).waitFor({ timeout: 60_000 });
    const restored = await until('the restored dashboard', async () => {
      if (!(await dashTab.getAttribute('class'))?.includes('active')) await dashTab.click();
      return dashState(cs!);
    }, (s) => s?.runId === done.runId && s.points.train === 1875, 60_000);
    assert.equal(restored.header.state, 'finished');
    assert.deepEqual(restored.cspViolations, [], 'the webview saw no Content Security Policy violation');
  });

  test('a crash shows its root cause; the link opens train_gpt2.py at the failing line', async () => {
    // CUDA out of memory at step 300, 40x faster than real time.
    const taskDir = newTask('crash');
    const past = storePastRun(taskDir);
    cs = await startSim(taskDir, { SIM_SPEEDUP: '40', SIM_COMPILE_SECONDS: '20', SIM_VAL_SECONDS: '1', SIM_FAULT: 'oom@300' });
    const page = cs.page;
    await page.locator('.tabs-container .tab', { hasText: 'train_gpt2.py' }).waitFor({ timeout: 60_000 });
    // Opened on the earlier run, the dashboard moves to the new run once it starts.
    await runCommand(page, 'Speedrun: Open Dashboard');
    await until('the earlier run', () => dashState(cs!), (s) => s?.runId === past);
    await page.locator('.tabs-container .tab', { hasText: 'train_gpt2.py' }).click();
    await runCommand(page, 'Speedrun: Run Task Script');
    const following = await until('the dashboard to follow the new run', () => dashState(cs!), (s) => s?.runId !== past && s?.header?.state === 'training' && s.points.train >= 50);
    assert.equal(following.pinned, false);
    assert.equal(await dashboard(cs).locator('[data-testid=pin]').innerText(), 'Pin this run');
    await runCommand(page, 'Notifications: Clear All Notifications');
    await cs.screenshot('dashboard-following-new-run-dark');
    const failed = await until('the run to fail', () => dashState(cs!), (s) => s?.header?.state === 'failed' && s.result, 120_000);
    assert.equal(failed.result.error.kind, 'oom');
    assert.match(failed.result.error.message, /CUDA out of memory/);
    assert.equal(failed.points.train, 300, 'the steps before the crash are on the charts');
    const line = failed.result.error.line as number;
    const script = fs.readFileSync(path.join(taskDir, 'train_gpt2.py'), 'utf8').split('\n');
    assert.ok(line > 1 && script[line - 1].trim(), `line ${line} is a statement of the script`);
    assert.equal(await dashboard(cs).locator('[data-testid=verdict]').innerText(), 'Failed: CUDA out of memory');
    // The earlier run in the table: overlay its validation curve.
    assert.equal(await dashboard(cs).locator('[data-testid=runs-table] tbody tr').count(), 2);
    await dashboard(cs).locator(`tr[data-run="${past}"] input[type=checkbox]`).check();
    const overlaid = await until('the overlay', () => dashState(cs!), (s) => s.charts.val.datasets.some((d: any) => d.label === `run ${past}`));
    assert.equal(overlaid.charts.val.datasets.find((d: any) => d.label === `run ${past}`).points, 16);
    await runCommand(page, 'Notifications: Clear All Notifications');
    await cs.screenshot('dashboard-overlay-dark');
    await dashboard(cs).locator('[data-testid=header]').evaluate('(el) => el.scrollIntoView()');
    await cs.screenshot('dashboard-failed-dark');

    await dashboard(cs).locator('[data-testid=error-link]').click();
    const status = page.locator('.statusbar-item', { hasText: /^Ln \d+, Col \d+$/ });
    await until('the editor at the failing line', () => status.first().innerText(), (t) => t === `Ln ${line}, Col 1`, 30_000);
    assert.match(await page.title(), /^(\[.*\] )?train_gpt2\.py/, 'the script is the active editor');
    assert.equal(failed.result.fsr, null, 'a crash is not scored');

    // Open the earlier run from the table: replayed from its stored console.log.
    await dashboard(cs).locator(`tr[data-run="${past}"] button`, { hasText: past }).click();
    const replayed = await until('the stored run', () => dashState(cs!), (s) => s.runId === past && s.points.train === 1875);
    assert.equal(replayed.points.val, 16);
    assert.equal(replayed.result.valid, true);
    assert.equal(replayed.result.trainTimeMs, 300_000);
    assert.equal(typeof replayed.result.fsr, 'number');
  });
});
