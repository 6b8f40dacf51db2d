import * as assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { RECORD_LOGS, loadReferenceCurve } from '../../src/core/logs/reference';

const FIXTURES = path.resolve(__dirname, '../../../test/fixtures/logs');
const END21 = { steps: 1770, valLoss: 3.2739, trainTimeMs: 184_262 };

suite('logs: reference record curve', () => {
  let clone: string;

  suiteSetup(() => {
    // A miniature modded-nanogpt clone holding our own fixture logs under the records' real folder names.
    clone = mkdtempSync(path.join(tmpdir(), 'mn-clone-'));
    const put = (record: number, layout: string[], from: string | { text: string }) => {
      const e = RECORD_LOGS[record]!;
      const dir = path.join(clone, ...layout, e.folder);
      mkdirSync(dir, { recursive: true });
      if (typeof from === 'string') copyFileSync(path.join(FIXTURES, from), path.join(dir, e.file));
      else writeFileSync(path.join(dir, e.file), from.text);
    };
    put(21, ['records', 'track_1_short'], 'rec18-21-echo.log');
    put(4, ['records'], 'rec04-14-t1.log'); // an older clone without track folders
    // Record 1's log is in llm.c's own format: validation as `s:<step> tel:<loss>`, no times.
    put(1, ['records', 'track_1_short'], { text: 's:0 tel:11.0100\ns:0 trl:11.0000 lr:0.000001 norm:15.00\ns:1 trl:10.9000\ns:100 tel:4.5000\ns:200 tel:3.2700\n' });
    put(5, ['records', 'track_1_short'], { text: 'nothing a parser can use\n' });
  });

  suiteTeardown(() => rmSync(clone, { recursive: true, force: true }));

  test('the record -> folder table covers records 1..21 (record 3 has no log)', () => {
    for (let r = 1; r <= 21; r++) assert.ok(r in RECORD_LOGS, `record ${r}`);
    assert.equal(RECORD_LOGS[3], null);
  });

  test('from the clone: the record log\'s validation points', async () => {
    const c = await loadReferenceCurve({ record: 21, recordsPath: clone, endpoint: END21 });
    assert.equal(c.source, 'log');
    assert.deepEqual(c.points.map((p) => p.step), [0, 20, 40, 60]);
    assert.equal(c.points[3].valLoss, 3.2739);
    assert.equal(c.timesEstimated, undefined);
    assert.ok(c.file!.endsWith(path.join('track_1_short', RECORD_LOGS[21]!.folder, RECORD_LOGS[21]!.file)));
  });

  test('older clone layout, and the setting pointing at records/ itself', async () => {
    assert.equal((await loadReferenceCurve({ record: 4, recordsPath: clone })).source, 'log');
    const c = await loadReferenceCurve({ record: 21, recordsPath: path.join(clone, 'records') });
    assert.equal(c.source, 'log');
    assert.equal(c.points.length, 4);
  });

  test('llm.c-format log: times spread over the steps up to the end point', async () => {
    const c = await loadReferenceCurve({ record: 1, recordsPath: clone, endpoint: { steps: 200, valLoss: 3.27, trainTimeMs: 2_000 } });
    assert.equal(c.source, 'log');
    assert.equal(c.timesEstimated, true);
    assert.deepEqual(c.points.map((p) => [p.step, p.valLoss, p.trainTimeMs]), [[0, 11.01, 0], [100, 4.5, 1_000], [200, 3.27, 2_000]]);
    const noEnd = await loadReferenceCurve({ record: 1, recordsPath: clone });
    assert.ok(noEnd.points.every((p) => Number.isNaN(p.trainTimeMs)));
  });

  test('falls back to the end point: no clone, record 3, missing file, unusable log', async () => {
    const expected = { source: 'endpoint', points: [{ step: 1770, totalSteps: 1770, valLoss: 3.2739, trainTimeMs: 184_262 }] };
    assert.deepEqual(await loadReferenceCurve({ record: 21, endpoint: END21 }), expected);
    assert.deepEqual(await loadReferenceCurve({ record: 3, recordsPath: clone, endpoint: END21 }), expected);
    assert.deepEqual(await loadReferenceCurve({ record: 12, recordsPath: clone, endpoint: END21 }), expected);
    assert.deepEqual(await loadReferenceCurve({ record: 5, recordsPath: clone, endpoint: END21 }), expected);
    assert.deepEqual(await loadReferenceCurve({ record: 21, recordsPath: path.join(clone, 'nope'), endpoint: END21 }), expected);
    assert.deepEqual(await loadReferenceCurve({ record: 99, recordsPath: clone }), { source: 'endpoint', points: [] });
  });
});
