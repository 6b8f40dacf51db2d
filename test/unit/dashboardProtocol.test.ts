import * as assert from 'node:assert/strict';
import { dashboardHtml, makeNonce } from '../../src/shared/dashboardHtml';
import { isHostMessage } from '../../src/shared/protocol';
import { dashboardMessage, MAX_EXPORT_CHARS, transcriptMessage } from '../../src/shared/webviewMessages';

const isDashboardMessage = (m: unknown) => dashboardMessage.safeParse(m).success;

const header = {
  runId: '20261126-120000-a1b2', target: 'box', state: 'training', phase: 'training', stateSince: 1, step: 10,
  totalSteps: 100, stepAvgMs: 45.5, trainTimeMs: 455, projectedTrainTimeMs: 4550, projectedFsr: 0.5,
};
const init = {
  type: 'init', pinned: false, task: { taskId: 1, fromRecord: 1, toRecord: 2, baseline: { steps: 10, valLoss: 3.27, trainTimeMs: 1000 }, target: { steps: 9, valLoss: 3.26, trainTimeMs: 800 } },
  header, targetValLoss: 3.28,
  train: [{ step: 1, totalSteps: 100, trainTimeMs: 10, stepAvgMs: null, trainLoss: 10.8 }, { step: 2, totalSteps: 100, trainTimeMs: 20, stepAvgMs: 10 }],
  val: [{ step: 0, totalSteps: 100, trainTimeMs: 0, valLoss: 10.8 }, { step: 2, totalSteps: 100, trainTimeMs: null, valLoss: null }],
  curves: [{ id: 'record-2', label: 'record 2 (reference)', kind: 'reference', endPointOnly: true, points: [{ step: 9, totalSteps: 9, trainTimeMs: 800, valLoss: 3.26 }] }],
  runs: [{ runId: '20261126-120000-a1b2', state: 'training', createdAt: '2026-11-26T12:00:00Z', target: 'box', trainTimeMs: null, valLoss: null, valid: null, fsr: null, steps: 10, stepAvgMs: null }],
  result: null,
};
const result = {
  state: 'failed', nSteps: null, trainTimeMs: null, valLoss: null, valid: false, fsr: null, speedup: null, coverage: null,
  error: { kind: 'oom', message: 'CUDA out of memory', file: null, line: 12 }, failure: null,
};

suite('dashboard: protocol guards', () => {
  test('host messages of every kind pass', () => {
    assert.ok(isHostMessage(init));
    assert.ok(isHostMessage({ type: 'append', runId: 'x', train: init.train, val: [] }));
    assert.ok(isHostMessage({ type: 'header', header }));
    assert.ok(isHostMessage({ type: 'result', result }));
    assert.ok(isHostMessage({ type: 'result', result: null }));
    assert.ok(isHostMessage({ type: 'runs', runs: init.runs }));
    assert.ok(isHostMessage({ type: 'overlays', curves: init.curves }));
    assert.ok(isHostMessage({ type: 'requestExport', requestId: 'r', format: 'png' }));
  });

  test('malformed host messages are rejected', () => {
    const bad: unknown[] = [
      null, 'init', [], { type: 'nope' },
      { ...init, header: { ...header, state: 'exploded' } },
      { ...init, header: { ...header, phase: 'warming' } },
      { ...init, targetValLoss: '3.28' },
      { type: 'append', runId: 'x', train: [{ step: '1', totalSteps: 2, trainTimeMs: 1, stepAvgMs: 1 }], val: [] },
      { type: 'append', runId: 'x', train: [{ step: 1, totalSteps: 2, trainTimeMs: NaN, stepAvgMs: 1 }], val: [] },
      { type: 'append', runId: 'x', train: [{ step: 1, totalSteps: 2, trainTimeMs: 1, stepAvgMs: 1, trainLoss: 'x' }], val: [] },
      { type: 'append', runId: 'x', train: [], val: {} },
      { type: 'result', result: { ...result, error: { ...result.error, kind: 'meltdown' } } },
      { type: 'result', result: { ...result, coverage: { reproduced: '50%', extra: 0 } } },
      { type: 'result', result: { ...result, failure: { stage: 1, message: 'x' } } },
      { type: 'overlays', curves: [{ ...init.curves[0], kind: 'mine' }] },
      { type: 'requestExport', requestId: 'r', format: 'svg' },
    ];
    for (const m of bad) assert.equal(isHostMessage(m), false, JSON.stringify(m));
  });

  test('dashboard messages: valid ones pass, paths and junk do not', () => {
    assert.ok(isDashboardMessage({ type: 'ready' }));
    assert.ok(isDashboardMessage({ type: 'openLine', line: 12 }));
    assert.ok(isDashboardMessage({ type: 'openRun', runId: '20261126-120000-a1b2' }));
    assert.ok(isDashboardMessage({ type: 'compareRuns', runId: '20261126-120000-a1b2' }));
    assert.ok(isDashboardMessage({ type: 'setOverlays', runIds: [] }));
    assert.ok(isDashboardMessage({ type: 'exportData', format: 'csv', data: 'a,b\n' }));
    assert.ok(isDashboardMessage({ type: 'exportData', format: 'png', data: 'data:image/png;base64,AA==', requestId: 'r1' }));
    assert.ok(isDashboardMessage({ type: 'pin', pinned: true }));
    const bad: unknown[] = [
      undefined, { type: 'Ready' },
      { type: 'openLine', line: 0 }, { type: 'openLine', line: 1.5 }, { type: 'openLine', line: '3' },
      { type: 'openRun', runId: '../../etc' }, { type: 'openRun', runId: 'a/b' }, { type: 'openRun', runId: '..' },
      { type: 'compareRuns', runId: 7 },
      { type: 'setOverlays', runIds: ['ok', '../x'] },
      { type: 'setOverlays', runIds: Array.from({ length: 33 }, (_, i) => `r${i}`) },
      { type: 'exportData', format: 'exe', data: '' },
      { type: 'exportData', format: 'csv', data: 42 },
      { type: 'exportData', format: 'csv', data: 'x'.repeat(MAX_EXPORT_CHARS + 1) },
      { type: 'exportData', format: 'csv', data: 'x', requestId: 5 },
      { type: 'openLine', line: Infinity }, { type: 'pin', pinned: 'yes' }, { type: 'pin' },
    ];
    bad.forEach((m, i) => assert.equal(isDashboardMessage(m), false, `bad message #${i}`));
  });
});

suite('transcript: webview message schema', () => {
  test('valid messages pass and come back without extra fields', () => {
    for (const m of [{ type: 'ready' }, { type: 'accept' }, { type: 'reject' }, { type: 'stop' },
      { type: 'openDiff', sessionId: 's1', turn: 2 }, { type: 'openRun', runId: '20261126-120000-a1b2' },
      { type: 'openPrompt', sessionId: 's1', turn: 1, round: 2 }]) {
      assert.deepEqual(transcriptMessage.parse({ ...m, extra: '<script>' }), m);
    }
  });

  test('junk, paths and wrong types are rejected', () => {
    const bad: unknown[] = [
      null, 'ready', { type: 'openDiff', sessionId: 's', turn: '1' }, { type: 'openDiff', sessionId: 'x'.repeat(100), turn: 1 },
      { type: 'openRun', runId: '../x' }, { type: 'openPrompt', sessionId: 's', turn: 1 }, { type: 'openPrompt', sessionId: 's', turn: 1, round: 0.5 },
      { type: 'delete' },
    ];
    bad.forEach((m, i) => assert.equal(transcriptMessage.safeParse(m).success, false, `bad message #${i}`));
  });
});

suite('dashboard: HTML shell', () => {
  test('strict CSP: nothing by default, only the nonce\'d script, styles from the webview source', () => {
    const html = dashboardHtml({ cspSource: 'https://x.vscode-cdn.net', nonce: 'abc123', scriptUri: 'https://x/d.js', styleUri: 'https://x/d.css' });
    const csp = /http-equiv="Content-Security-Policy" content="([^"]+)"/.exec(html)?.[1] ?? '';
    assert.match(csp, /^default-src 'none';/);
    assert.match(csp, /script-src 'nonce-abc123'/);
    assert.match(csp, /style-src https:\/\/x\.vscode-cdn\.net/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval|connect-src/);
    assert.match(html, /<script nonce="abc123" src="https:\/\/x\/d\.js"><\/script>/);
    assert.equal((html.match(/<script/g) ?? []).length, 1, 'no inline script');
  });

  test('attribute values are escaped and nonces are fresh', () => {
    const html = dashboardHtml({ cspSource: 'x', nonce: 'n', scriptUri: 'a"><script>alert(1)</script>', styleUri: 's' });
    assert.doesNotMatch(html, /"><script>alert/);
    const a = makeNonce();
    assert.match(a, /^[0-9a-f]{32}$/);
    assert.notEqual(a, makeNonce());
  });
});
