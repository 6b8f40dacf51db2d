import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  getRecord,
  getTask,
  groundTruthHint,
  hintLabel,
  listHints,
  loadManifest,
  readResults,
  resultsPath,
  validateManifest,
  BenchmarkFileError,
  ManifestError,
} from '../../src/core/benchmark';
import { FIXTURE, REPO, cleanupTemps, hintDir, tempDir } from './benchmarkHelpers';

suite('benchmark manifest', () => {
  const m = loadManifest();

  test('lists the 19 tasks i -> i+1 for i in 1..5 and 7..20', () => {
    assert.deepEqual(m.tasks.map((t) => t.id), [1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
    for (const t of m.tasks) assert.equal(t.toRecord, t.fromRecord + 1);
    assert.equal(getTask(6), undefined);
    assert.equal(m.excluded[0].fromRecord, 6);
    assert.equal(m.records.length, 21);
  });

  test('gap of each task is record i minus record i+1', () => {
    for (const t of m.tasks) {
      assert.equal(t.gapMs, getRecord(t.fromRecord)!.trainTimeMs - getRecord(t.toRecord)!.trainTimeMs, `task ${t.id}`);
      assert.ok(t.gapMs > 0);
      assert.ok(t.summary.length > 10);
    }
    assert.equal(getTask(20)!.gapMs, 4418);
    assert.equal(getTask(1)!.gapMs, 758422);
  });

  test('per-record facts: torch family, log file layout, shards, log shapes', () => {
    assert.equal(getRecord(18)!.torch, 'stable');
    for (const r of [19, 20, 21]) assert.equal(getRecord(r)!.torch, 'nightly');
    assert.equal(getRecord(2)!.logFile, 'pylog124m/<uuid>.log');
    assert.equal(getRecord(3)!.logFile, 'logs/<uuid>/log.txt');
    assert.equal(getRecord(4)!.logFile, 'logs/<uuid>.txt');
    assert.equal(getRecord(1)!.minTrainShards, 65);
    assert.equal(getRecord(21)!.minTrainShards, 7);
    assert.equal(getRecord(15)!.logShapes.train, 'T2');
    assert.equal(getRecord(14)!.logShapes.train, 'T1');
    assert.equal(getRecord(17)!.logShapes.memory, 'M2');
    assert.equal(getRecord(18)!.logShapes.printsSource, true);
    assert.equal(getRecord(17)!.logShapes.printsSource, false);
  });

  test('extra level-9 docs only for tasks 2, 3, 11, 12', () => {
    const withExtra = m.tasks.filter((t) => t.hints['9'].length > 0).map((t) => t.id);
    assert.deepEqual(withExtra, [2, 3, 11, 12]);
    for (const t of m.tasks) assert.deepEqual(t.hints['0'], ['level_0_diff.txt']);
  });

  test('the fixture clone results.json files equal the manifest', () => {
    for (const r of m.records) {
      const res = readResults(resultsPath(FIXTURE, r.record));
      assert.deepEqual(res.metrics, { steps: r.steps, valLoss: r.valLoss, trainTimeMs: r.trainTimeMs }, `record ${r.record}`);
      assert.equal(res.status, 'COMPLETED');
    }
  });

  test('validateManifest rejects broken manifests', () => {
    const good = JSON.parse(fs.readFileSync(path.join(REPO, 'tasks/manifest.json'), 'utf8'));
    assert.throws(() => validateManifest({ ...good, schema: 2 }), ManifestError);
    const badTask = structuredClone(good);
    badTask.tasks[0].toRecord = 3;
    assert.throws(() => validateManifest(badTask), /task 1: must go from record i to i\+1/);
    const badRecord = structuredClone(good);
    badRecord.records[4].trainTimeMs = '949528';
    assert.throws(() => validateManifest(badRecord), /record 5/);
    assert.equal(validateManifest(good).tasks.length, 19);
  });
});

suite('benchmark results.json', () => {
  teardown(cleanupTemps);

  test('reads the runtime "status" key as well as the template "job_status" key', () => {
    const f = path.join(tempDir(), 'results.json');
    fs.writeFileSync(f, JSON.stringify({ status: 'FAILED', metrics: { n_steps: 10, val_loss: 3.5, train_time: 1234 } }));
    assert.deepEqual(readResults(f), { status: 'FAILED', metrics: { steps: 10, valLoss: 3.5, trainTimeMs: 1234 } });
  });

  test('names the file and the problem for missing, truncated and wrongly shaped files', () => {
    const d = tempDir();
    const check = (name: string, content: string | undefined, problem: string, msg: RegExp) => {
      const f = path.join(d, name);
      if (content !== undefined) fs.writeFileSync(f, content);
      assert.throws(
        () => readResults(f),
        (e: unknown) => e instanceof BenchmarkFileError && e.problem === problem && e.file === f && msg.test(e.message) && e.message.includes(f),
      );
    };
    check('none.json', undefined, 'missing', /is missing/);
    check('trunc.json', '{"job_status": "COMPLETED", "metrics": {"n_steps": 12', 'invalid-json', /not valid JSON/);
    check('shape.json', '{"job_status": "COMPLETED", "metrics": {"n_steps": 12}}', 'bad-shape', /metrics\.val_loss/);
    check('null.json', 'null', 'bad-shape', /no numeric/);
  });
});

suite('benchmark hints', () => {
  teardown(cleanupTemps);

  test('never returns level 0 unless asked explicitly', () => {
    for (let r = 1; r <= 20; r++) {
      const hints = listHints(FIXTURE, r);
      assert.ok(hints.length >= 3, `record ${r}`);
      assert.ok(hints.every((h) => h.level !== 0 && !h.name.startsWith('level_0')), `record ${r}`);
      assert.deepEqual([...new Set(hints.map((h) => h.level))].filter((l) => l !== 9), [1, 2, 3]);
      const all = listHints(FIXTURE, r, { includeGroundTruth: true });
      assert.equal(all[0].level, 0);
      assert.equal(all[0].name, 'level_0_diff.txt');
    }
    assert.equal(groundTruthHint(FIXTURE, 12)!.name, 'level_0_diff.txt');
  });

  test('only exact hint names count; look-alike files never leak the ground truth', () => {
    const root = tempDir();
    const dir = hintDir(root, 4);
    fs.mkdirSync(dir, { recursive: true });
    for (const n of ['level_0_diff.txt', 'level_00_diff.txt', 'level_0_diff.txt.bak', 'Level_0_diff.txt', 'level_10_x.txt', 'level_4_x.txt', 'notes.txt', 'level_1_pseudo.txt', 'level_9_muon.txt']) {
      fs.writeFileSync(path.join(dir, n), 'x');
    }
    fs.mkdirSync(path.join(dir, 'level_2_description.txt')); // a folder is not a hint
    assert.deepEqual(listHints(root, 4).map((h) => h.name), ['level_1_pseudo.txt', 'level_9_muon.txt']);
    assert.deepEqual(listHints(root, 4, { includeGroundTruth: true }).map((h) => h.name), ['level_0_diff.txt', 'level_1_pseudo.txt', 'level_9_muon.txt']);
    assert.deepEqual(listHints(root, 5), []);
  });

  test('labels hints by level', () => {
    assert.equal(hintLabel({ level: 1, name: 'level_1_pseudo.txt' }), 'Level 1 · pseudocode');
    assert.equal(hintLabel({ level: 3, name: 'level_3_paper.txt' }), 'Level 3 · mini-paper');
    assert.equal(hintLabel({ level: 9, name: 'level_9_flexattn.txt' }), 'Extra · flexattn');
  });
});
