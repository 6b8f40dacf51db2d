// The dashboard webview on its own (no VS Code): the bundled media/dashboard.js under the extension's CSP in
// Chromium, fed host messages through the harness. Fast checks of rendering, messages and exports; the
// code-server test (dashboard.e2e.ts) covers the real panel.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openDashboardHarness, type DashboardHarness } from '../support/dashboardHarness';
import { RESULTS_DIR } from '../support/codeServer';
import { sampleHeader, sampleInit, syntheticTrain, syntheticVal } from '../support/dashboardSample';
import type { DashboardMessage } from '../../src/shared/webviewMessages';

suite('dashboard webview (harness)', function () {
  this.timeout(60_000);
  let d: DashboardHarness;

  suiteSetup(async () => {
    d = await openDashboardHarness();
  });
  setup(async () => {
    await d.reload();
  });
  suiteTeardown(async () => {
    await d?.close();
  });

  const shot = async (name: string) => {
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    await d.page.screenshot({ path: path.join(RESULTS_DIR, `${name}.png`), fullPage: true });
  };
  const lastPosted = async <T extends DashboardMessage['type']>(type: T) =>
    (await d.posted()).filter((m): m is Extract<DashboardMessage, { type: T }> => m.type === type).pop();

  test('posts ready first and shows an empty state before any run', async () => {
    const posted = await d.posted();
    assert.deepEqual(posted[0], { type: 'ready' });
    const s = await d.testState();
    assert.equal(s, null, 'nothing rendered before init');
    assert.match(await d.page.locator('[data-testid=header]').innerText(), /No run/);
  });

  test('renders a live run with the reference curve, the 3.28 line and appended batches', async () => {
    await d.post(sampleInit(1500));
    let s = await d.testState();
    assert.equal(s.header.step, 1500);
    assert.equal(await d.page.locator('[data-testid=step]').innerText(), '1500 / 3000');
    assert.equal(s.charts.val.refLine, 3.28);
    assert.deepEqual(s.cspViolations, [], 'runs under the extension\'s CSP without violations');
    const labels = s.charts.val.datasets.map((x: { label: string }) => x.label);
    assert.deepEqual(labels, ['this run', 'record 13 (reference)', 'record 12 (start)']);
    assert.equal(s.charts.val.datasets[0].points, 13, 'val points at steps 0..1500 every 125');
    assert.equal(s.charts.train.datasets[0].points, 1500);
    assert.equal(s.charts.step.datasets[0].points, 1490, 'nan step_avg of the first 10 steps is skipped');
    assert.ok(Math.abs(s.charts.step.refLine - 62) < 1e-9, 'record 13 average step time');
    await shot('dashboard-harness-dark');

    await d.post({ type: 'append', runId: '20261126-120000-a1b2', train: syntheticTrain(1501, 1750, 3000), val: syntheticVal(1750, 3000).slice(13) });
    await d.post({ type: 'append', runId: 'some-other-run', train: syntheticTrain(1751, 1800, 3000), val: [] });
    s = await d.testState();
    assert.equal(s.points.train, 1750, 'appends for another run are ignored');
    assert.equal(s.charts.train.datasets[1].points, 1750, 'EMA extended with the raw series');
    assert.equal(s.charts.val.datasets[0].points, 15);
  });

  test('toggles the time axis, log scale and smoothing, and remembers them', async () => {
    await d.post(sampleInit(800));
    await d.page.locator('[data-testid=axis-time]').click();
    await d.page.locator('[data-testid=log-scale]').check();
    await d.page.locator('[data-testid=smoothing]').fill('0.9');
    const s = await d.testState();
    assert.equal(s.charts.val.xAxis, 'time');
    assert.equal(s.charts.val.yType, 'logarithmic');
    assert.equal(s.charts.step.yType, 'linear');
    assert.equal(s.charts.train.datasets[1].label, 'EMA 0.90');
    const state = await d.persisted();
    assert.equal(state.axis, 'time');
    assert.equal(state.log, true);
    assert.equal(state.runId, '20261126-120000-a1b2');
  });

  test('drag to zoom draws every point of the range; reset goes back to the downsampled series', async () => {
    await d.post(sampleInit(5000, 6000));
    let s = await d.testState();
    const sampled = s.charts.train.datasets[0].sampled;
    assert.equal(s.charts.train.datasets[0].points, 5000);
    assert.ok(sampled < 2000, `downsampled at full range (${sampled} of 5000)`);
    const box = (await d.page.locator('[data-testid=chart-train] canvas').boundingBox())!;
    await d.page.mouse.move(box.x + box.width * 0.3, box.y + box.height * 0.3);
    await d.page.mouse.down();
    await d.page.mouse.move(box.x + box.width * 0.6, box.y + box.height * 0.8, { steps: 5 });
    await d.page.mouse.up();
    s = await d.testState();
    assert.equal(s.charts.train.datasets[0].sampled, 5000, 'zoomed: the full series');
    await shot('dashboard-harness-zoomed');
    await d.page.locator('button', { hasText: 'Reset zoom' }).click();
    s = await d.testState();
    assert.equal(s.charts.train.datasets[0].sampled, sampled);
  });

  test('exports CSV and PNG when the host asks', async () => {
    const init = sampleInit(400);
    await d.post(init);
    await d.post({ type: 'requestExport', requestId: 'r1', format: 'csv' });
    const csv = await lastPosted('exportData');
    assert.equal(csv?.requestId, 'r1');
    const lines = csv!.data.trim().split('\n');
    assert.equal(lines[0], 'kind,step,total_steps,train_time_ms,step_avg_ms,train_loss,val_loss');
    assert.equal(lines.length, 1 + init.train.length + init.val.length);
    await d.post({ type: 'requestExport', requestId: 'r2', format: 'png' });
    const png = await lastPosted('exportData');
    assert.equal(png?.requestId, 'r2');
    assert.match(png!.data, /^data:image\/png;base64,/);
    const bytes = Buffer.from(png!.data.split(',')[1], 'base64');
    assert.equal(bytes.subarray(1, 4).toString(), 'PNG');
    assert.ok(bytes.readUInt32BE(16) >= 800, 'image as wide as the charts');
    await d.page.locator('[data-testid=export-csv]').click();
    const fromButton = await lastPosted('exportData');
    assert.equal(fromButton?.format, 'csv');
    assert.equal(fromButton?.requestId, undefined, 'a toolbar export lets the host ask where to save');
  });

  test('shows the results card of a failed run with a link to the failing line', async () => {
    await d.post(sampleInit(12));
    await d.post({ type: 'header', header: sampleHeader({ state: 'failed', phase: 'failed', step: 12, totalSteps: 3000 }) });
    await d.post({
      type: 'result', result: {
        state: 'failed', nSteps: null, trainTimeMs: null, valLoss: null, valid: false, fsr: null, speedup: null, coverage: null,
        error: { kind: 'oom', message: 'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB', file: '/runs/x/train_gpt2.py', line: 321 },
        failure: null,
      },
    });
    await d.testState();
    assert.equal(await d.page.locator('[data-testid=verdict]').innerText(), 'Failed: CUDA out of memory');
    assert.match(await d.page.locator('[data-testid=error]').innerText(), /CUDA out of memory/);
    await shot('dashboard-harness-failed');
    await d.page.locator('[data-testid=error-link]').click();
    assert.deepEqual(await lastPosted('openLine'), { type: 'openLine', line: 321 });
  });

  test('shows a finished run: verdict, FSR, speedup, coverage', async () => {
    const init = sampleInit(3000);
    init.header = sampleHeader({ state: 'finished', phase: 'finished', step: 3000, totalSteps: 3000, stepAvgMs: 45, trainTimeMs: 135_000 });
    init.result = { state: 'finished', nSteps: 3000, trainTimeMs: 135_000, valLoss: 3.2772, valid: true, fsr: 2.42, speedup: 1.644, coverage: { reproduced: 0.62, extra: 0.1 }, error: null, failure: null };
    await d.post(init);
    await d.testState();
    assert.equal(await d.page.locator('[data-testid=verdict]').innerText(), 'Valid');
    assert.equal(await d.page.locator('[data-testid=r-fsr]').innerText(), '2.420');
    assert.equal(await d.page.locator('[data-testid=r-speedup]').innerText(), '×1.644');
    assert.equal(await d.page.locator('[data-testid=r-coverage]').innerText(), '62%');
    await shot('dashboard-harness-finished');
  });

  test('runs table sorts, overlays, opens and diffs runs', async () => {
    await d.post(sampleInit(600));
    const ids = async () => {
      await d.testState();
      const rows = d.page.locator('[data-testid=runs-table] tbody tr');
      return Promise.all((await rows.all()).map((r) => r.getAttribute('data-run')));
    };
    await d.page.locator('button.sort[data-sort=trainTimeMs]').click();
    assert.deepEqual(await ids(), ['20261126-110000-c3d4', '20261126-090000-0789', '20261126-120000-a1b2', '20261126-100000-e5f6']);
    await d.page.locator('button.sort[data-sort=trainTimeMs]').click();
    assert.deepEqual((await ids()).slice(0, 2), ['20261126-090000-0789', '20261126-110000-c3d4']);
    await d.page.locator('tr[data-run="20261126-110000-c3d4"] input[type=checkbox]').check();
    assert.deepEqual(await lastPosted('setOverlays'), { type: 'setOverlays', runIds: ['20261126-110000-c3d4'] });
    await d.post({ type: 'overlays', curves: [{ id: '20261126-110000-c3d4', label: '20261126-110000-c3d4', kind: 'run', endPointOnly: false, points: syntheticVal(3000, 3000, 125, 63.7, 3.2794) }] });
    const s = await d.testState();
    assert.equal(s.charts.val.datasets.length, 4);
    assert.equal(s.charts.val.datasets[3].points, 25);
    await d.page.locator('tr[data-run="20261126-090000-0789"] button', { hasText: '20261126-090000-0789' }).click();
    assert.deepEqual(await lastPosted('openRun'), { type: 'openRun', runId: '20261126-090000-0789' });
    await d.page.locator('tr[data-run="20261126-090000-0789"] button', { hasText: 'Diff' }).click();
    assert.deepEqual(await lastPosted('compareRuns'), { type: 'compareRuns', runId: '20261126-090000-0789' });
  });

  test('the pin keeps the run: posted to the host, persisted, shown pressed', async () => {
    await d.post(sampleInit(600));
    const pin = d.page.locator('[data-testid=pin]');
    assert.equal(await pin.getAttribute('aria-pressed'), 'false');
    assert.equal(await pin.innerText(), 'Pin this run');
    await pin.click();
    assert.deepEqual(await lastPosted('pin'), { type: 'pin', pinned: true });
    assert.equal((await d.testState()).pinned, true);
    assert.equal(await pin.getAttribute('aria-pressed'), 'true');
    assert.equal((await d.persisted()).pinned, true, 'the panel serializer reads it after a reload');
    // The host's init says what holds (a pinned run from an earlier session).
    await d.post({ ...sampleInit(600), pinned: false });
    assert.equal((await d.testState()).pinned, false);
    await pin.click();
    await pin.click();
    assert.deepEqual(await lastPosted('pin'), { type: 'pin', pinned: false });
  });

  test('beside the script (560 px) the runs table fits without scrolling; wider, it shows steps too', async () => {
    await d.page.setViewportSize({ width: 560, height: 1000 });
    try {
      await d.post(sampleInit(600));
      await d.testState();
      const fit = () => d.page.evaluate(`(() => {
        const b = document.querySelector('.table-box');
        return { scroll: b.scrollWidth, client: b.clientWidth };
      })()`) as Promise<{ scroll: number; client: number }>;
      const narrow = await fit();
      assert.ok(narrow.scroll <= narrow.client, `table ${narrow.scroll} px in a box of ${narrow.client} px`);
      assert.equal(await d.page.locator('th', { hasText: 'Step time' }).isVisible(), false);
      assert.equal(await d.page.locator('[data-testid=valid]').first().isVisible(), true);
      await d.page.locator('[data-testid=runs]').screenshot({ path: path.join(RESULTS_DIR, 'dashboard-harness-runs-narrow.png') });
      await d.page.setViewportSize({ width: 1000, height: 1000 });
      assert.equal(await d.page.locator('th', { hasText: 'Step time' }).isVisible(), true);
      const wide = await fit();
      assert.ok(wide.scroll <= wide.client, `table ${wide.scroll} px in a box of ${wide.client} px`);
    } finally {
      await d.page.setViewportSize({ width: 1200, height: 1000 });
    }
  });

  test('the CSP blocks inline styles, and the test hook reports the violation', async () => {
    await d.post(sampleInit(10));
    await d.page.evaluate(`(() => {
      const st = document.createElement('style');
      st.textContent = 'body { background: red }';
      document.head.append(st);
    })()`);
    await d.post({ type: 'header', header: sampleHeader({ step: 11, totalSteps: 3000 }) });
    await d.page.evaluate('new Promise((r) => requestAnimationFrame(r))');
    assert.match(d.takeErrors().join('\n'), /Content Security Policy/, 'Chromium reports the blocked style too');
    const s = await d.testState();
    assert.equal(s.cspViolations.length, 1, JSON.stringify(s.cspViolations));
    assert.match(s.cspViolations[0], /^style-src/);
  });

  test('ignores malformed messages', async () => {
    await d.post(sampleInit(100));
    await d.page.evaluate(`(() => {
      const send = (data) => window.dispatchEvent(new MessageEvent('message', { data }));
      send({ type: 'append', runId: '20261126-120000-a1b2', train: [{ step: 'x' }], val: [] });
      send({ type: 'header', header: { runId: 1 } });
      send('init');
      send({ type: 'evil', html: '<img src=x onerror=alert(1)>' });
    })()`);
    const s = await d.testState();
    assert.equal(s.points.train, 100);
    assert.equal(s.header.step, 100);
  });

  test('follows the theme: light, high contrast, compiling empty state', async () => {
    await d.post(sampleInit(2200));
    const dark = (await d.testState()).charts.val.datasets[0].color;
    await d.setTheme('light');
    const light = (await d.testState()).charts.val.datasets[0].color;
    assert.notEqual(light, dark, 'chart colours re-read on theme change');
    assert.equal(light, '#1a85ff');
    await shot('dashboard-harness-light');
    await d.setTheme('high-contrast');
    await d.testState();
    await shot('dashboard-harness-hc');
    await d.reload();
    await d.post(sampleInit(0));
    const s = await d.testState();
    assert.equal(s.header.state, 'compiling');
    assert.match(await d.page.locator('[data-testid=elapsed]').innerText(), /^1:3\d$/);
    assert.match(await d.page.locator('[data-testid=chart-step]').innerText(), /Compiling: the first step appears/);
    await shot('dashboard-harness-compiling');
  });
});
