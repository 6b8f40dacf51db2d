// The results card of a run that belongs to Run x K, in the dashboard webview on its own (the bundled
// media/dashboard.js under the extension's CSP in Chromium, fed host messages through the harness): the
// repeats' mean ± sd, the p-value with its pass/fail badge, Welch against the baseline, the significance chart
// (each repeat's val loss against 3.28), the SIMULATED label and FSR on the calibrated box.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { openDashboardHarness, type DashboardHarness } from '../support/dashboardHarness';
import { RESULTS_DIR } from '../support/codeServer';
import { sampleHeader, sampleInit } from '../support/dashboardSample';
import type { RepeatCard, ResultCard } from '../../src/shared/protocol';

const REPEAT: RepeatCard = {
  repeatId: '20261201-050000-ab12', planned: 5, valLosses: [3.2741, 3.2728, 3.2752, 3.2735], threshold: 3.28,
  meanValLoss: 3.2739, sdValLoss: 0.00102, meanTrainTimeMs: 290_120, sdTrainTimeMs: 870, p: 0.00041, pass: true, noSpread: false,
  faster: { p: 0.00002, pass: true, noSpread: false, baselineMeanMs: 317_960, baselineSdMs: 920, n: 4 },
};

const finished = (over: Partial<ResultCard>): ResultCard => ({
  state: 'finished', nSteps: 1750, trainTimeMs: 290_500, valLoss: 3.2735, valid: true, fsr: 0.98, speedup: 1.094,
  coverage: null, error: null, failure: null, ...over,
});

suite('dashboard webview: repeats and significance (harness)', function () {
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

  async function show(result: ResultCard) {
    const init = sampleInit(1750, 1750);
    init.header = sampleHeader({ state: 'finished', phase: 'finished', step: 1750, totalSteps: 1750, trainTimeMs: result.trainTimeMs });
    init.result = result;
    await d.post(init);
    return d.testState();
  }

  test('repeats: mean ± sd, p with a PASS badge, Welch against the baseline, the chart, SIMULATED and FSR on this box', async () => {
    const s = await show(finished({ simulated: true, boxFsr: 1.02, repeat: REPEAT }));
    assert.deepEqual(s.cspViolations, [], 'the chart renders under the CSP (no inline styles)');
    const text = (id: string) => d.page.locator(`[data-testid=${id}]`).innerText();
    assert.equal(await text('simulated'), 'SIMULATED');
    assert.match(await text('r-fsr'), /^0\.980$/);
    assert.match(await d.page.locator('[data-testid=result]').innerText(), /1\.020 on this box \(calibrated\)/);
    assert.match(await text('repeat'), /Repeats 4\/5/);
    assert.equal(await text('repeat-val'), '3.2739 ± 0.0010');
    assert.equal(await text('repeat-time'), '290.1 ± 0.9 s');
    assert.equal(await text('repeat-p'), '0.0004');
    assert.equal(await text('repeat-badge'), 'PASS p < 0.01');
    assert.match(await text('repeat-faster'), /baseline 318\.0 ± 0\.9 s \(n 4\) · Welch p = 2\.0e-5/);
    assert.equal(await text('repeat-faster-badge'), 'faster');
    // The chart: one dot per finished repeat (in order), the 3.28 line above them all.
    const chart = d.page.locator('[data-testid=significance-chart]');
    const dots = await chart.locator('circle').evaluateAll((els) => els.map((e) => [Number(e.getAttribute('data-value')), Number(e.getAttribute('cy'))]));
    assert.deepEqual(dots.map(([v]) => v), REPEAT.valLosses);
    const line = Number(await chart.locator('line.sig-threshold').getAttribute('y1'));
    assert.ok(dots.every(([, cy]) => cy > line), 'every val loss is drawn below the 3.28 line (larger y = lower loss)');
    assert.equal(await chart.locator('circle.above').count(), 0);
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    await d.page.screenshot({ path: path.join(RESULTS_DIR, 'dashboard-repeats.png'), fullPage: true });
  });

  test('a failing repeat group: FAIL badge, a point above the line in the bad colour, Welch not shown faster', async () => {
    const repeat: RepeatCard = {
      ...REPEAT, valLosses: [3.2795, 3.2812], meanValLoss: 3.28035, sdValLoss: 0.0012, p: 0.63, pass: false,
      faster: { ...REPEAT.faster!, p: 0.4, pass: false },
    };
    await show(finished({ valLoss: 3.2812, valid: false, repeat }));
    assert.equal(await d.page.locator('[data-testid=repeat-badge]').innerText(), 'FAIL');
    assert.equal(await d.page.locator('[data-testid=repeat-faster-badge]').innerText(), 'not shown faster');
    assert.equal(await d.page.locator('[data-testid=significance-chart] circle.above').count(), 1);
    assert.equal(await d.page.locator('[data-testid=simulated]').count(), 0, 'no label for a real box');
  });

  test('repeats that did not vary (same seed, deterministic box): no verdict instead of a PASS or FAIL badge', async () => {
    const same: RepeatCard = {
      ...REPEAT, valLosses: [3.2741, 3.2741, 3.2741], meanValLoss: 3.2741, sdValLoss: 0, p: null, pass: false, noSpread: true,
      faster: { ...REPEAT.faster!, p: null, pass: false, noSpread: true, baselineSdMs: 0 },
    };
    await show(finished({ repeat: same }));
    assert.match(await d.page.locator('[data-testid=repeat-no-spread]').innerText(), /^no verdict: the runs did not vary/);
    assert.equal(await d.page.locator('[data-testid=repeat-badge]').count(), 0);
    assert.equal(await d.page.locator('[data-testid=repeat-faster-badge]').count(), 0);
    assert.match(await d.page.locator('[data-testid=repeat-faster]').innerText(), /Welch p = – no verdict/);
  });

  test('one finished repeat: no p-value yet, and the host message guard rejects a malformed repeat', async () => {
    const one: RepeatCard = { ...REPEAT, valLosses: [3.274], meanValLoss: 3.274, sdValLoss: null, p: null, pass: null, faster: null };
    await show(finished({ repeat: one }));
    assert.match(await d.page.locator('[data-testid=repeat]').innerText(), /needs 2 finished runs/);
    assert.equal(await d.page.locator('[data-testid=repeat-badge]').count(), 0);
    // A repeat whose val losses are not numbers never reaches the card.
    await d.post({ type: 'result', result: finished({ repeat: { ...REPEAT, valLosses: ['x'] } as unknown as RepeatCard }) });
    await d.testState();
    assert.match(await d.page.locator('[data-testid=repeat]').innerText(), /needs 2 finished runs/, 'the bad message was ignored');
  });
});
