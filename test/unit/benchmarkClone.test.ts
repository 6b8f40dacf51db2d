import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BenchmarkLayoutError, checkLayout, loadManifest, sha256, validateClone } from '../../src/core/benchmark';
import { FIXTURE, cleanupTemps, cloneCopy, hintDir, rec, tempDir } from './benchmarkHelpers';

const byId = (r: ReturnType<typeof validateClone>, id: number) => r.tasks.find((t) => t.id === id)!;

suite('benchmark clone validation', () => {
  teardown(cleanupTemps);

  test('the fixture clone is complete and reads metrics from its files', () => {
    const r = validateClone(FIXTURE);
    assert.equal(r.root, FIXTURE);
    assert.equal(r.completeTasks, 19);
    assert.deepEqual(r.warnings, []);
    const t = byId(r, 12);
    assert.deepEqual(t.baseline, { steps: 1875, valLoss: 3.2739, trainTimeMs: 317839 });
    assert.deepEqual(t.target, { steps: 1750, valLoss: 3.2739, trainTimeMs: 289805 });
    assert.deepEqual(t.hintLevels, [1, 2, 3, 9]);
    assert.equal(t.hasGroundTruth, true);
    assert.ok(t.hints.every((h) => h.level !== 0));
    const script = r.records[11].script!;
    assert.equal(script.sha256, sha256(fs.readFileSync(rec(FIXTURE, 12, 'train_gpt2.py'))));
    // Our fixture scripts are not the released ones.
    assert.equal(script.matchesRelease, false);
  });

  test('a missing record folder makes exactly the two tasks that use it incomplete', () => {
    const root = cloneCopy();
    fs.rmSync(rec(root, 5), { recursive: true });
    const r = validateClone(root);
    assert.equal(r.completeTasks, 17);
    assert.deepEqual(r.tasks.filter((t) => !t.complete).map((t) => t.id), [4, 5]);
    assert.match(byId(r, 5).missing[0], /record 5: folder .*record_5 is missing/);
    assert.equal(byId(r, 4).target, undefined);
    assert.deepEqual(byId(r, 4).baseline, { steps: 6200, valLoss: 3.2772, trainTimeMs: 1301740 });
  });

  test('a truncated results.json is reported with its path, not thrown', () => {
    const root = cloneCopy();
    const f = rec(root, 9, 'results.json');
    fs.writeFileSync(f, fs.readFileSync(f, 'utf8').slice(0, 40));
    const r = validateClone(root);
    assert.deepEqual(r.tasks.filter((t) => !t.complete).map((t) => t.id), [8, 9]);
    assert.ok(byId(r, 9).missing.some((m) => m.includes(f) && /not valid JSON/.test(m)));
  });

  test('metrics that differ from the manifest give a warning naming the file; the clone value is used', () => {
    const root = cloneCopy();
    const f = rec(root, 12, 'results.json');
    const data = JSON.parse(fs.readFileSync(f, 'utf8'));
    data.metrics.train_time = 300000;
    fs.writeFileSync(f, JSON.stringify(data));
    const r = validateClone(root);
    assert.equal(r.completeTasks, 19);
    assert.equal(r.warnings.length, 1);
    assert.ok(r.warnings[0].startsWith(f));
    assert.match(r.warnings[0], /train_time 300000 ms \(manifest 317839 ms\)/);
    assert.equal(byId(r, 12).baseline!.trainTimeMs, 300000);
    assert.equal(byId(r, 12).gapMs, 300000 - 289805);
    assert.equal(byId(r, 11).target!.trainTimeMs, 300000);
    assert.equal(byId(r, 11).warnings.length, 1);
    assert.equal(byId(r, 13).warnings.length, 0);
  });

  test('unreadable files (a folder where the script should be) and empty scripts are problems', () => {
    const root = cloneCopy();
    fs.rmSync(rec(root, 3, 'train_gpt2.py'));
    fs.mkdirSync(rec(root, 3, 'train_gpt2.py'));
    fs.writeFileSync(rec(root, 15, 'train_gpt2.py'), '');
    const r = validateClone(root);
    assert.match(byId(r, 3).missing.join('\n'), /record_3\/train_gpt2\.py cannot be read \(EISDIR\)/);
    assert.match(byId(r, 15).missing.join('\n'), /record_15\/train_gpt2\.py is empty/);
    assert.deepEqual(r.tasks.filter((t) => !t.complete).map((t) => t.id), [2, 3, 14, 15]);
  });

  test('a dangling symlink for results.json is reported as missing', () => {
    const root = cloneCopy();
    const f = rec(root, 20, 'results.json');
    fs.rmSync(f);
    fs.symlinkSync(path.join(root, 'nowhere.json'), f);
    const r = validateClone(root);
    assert.match(byId(r, 20).missing.join('\n'), /record_20\/results\.json is missing/);
  });

  test('missing hint files are listed per task; a missing hints folder is a clone warning', () => {
    const root = cloneCopy();
    fs.rmSync(path.join(hintDir(root, 11), 'level_9_flexattn.txt'));
    fs.rmSync(path.join(hintDir(root, 11), 'level_2_description.txt'));
    let r = validateClone(root);
    assert.deepEqual(byId(r, 11).missing.sort(), [
      'hint level 2: data/nanogpt_speedrun_knowledge_in_levels/record_11/level_2_description.txt',
      'hint level 9: data/nanogpt_speedrun_knowledge_in_levels/record_11/level_9_flexattn.txt',
    ]);
    assert.deepEqual(byId(r, 11).hintLevels, [1, 3]);
    fs.rmSync(path.join(root, 'data'), { recursive: true });
    r = validateClone(root);
    assert.equal(r.completeTasks, 0);
    assert.match(r.warnings.join('\n'), /No hints folder/);
  });

  test('folders that are not a clone get actionable errors', () => {
    const expectLayout = (dir: string, msg: RegExp, suggestion?: string) =>
      assert.throws(
        () => checkLayout(dir),
        (e: unknown) => e instanceof BenchmarkLayoutError && msg.test(e.message) && e.suggestion === suggestion,
      );
    const tmp = tempDir();
    expectLayout(path.join(tmp, 'nope'), /Benchmark folder not found: .*nope\. Clone https:\/\/github\.com\/facebookresearch\/llm-speedrunner/);
    fs.writeFileSync(path.join(tmp, 'file'), 'x');
    expectLayout(path.join(tmp, 'file'), /is a file/);
    expectLayout(tmp, /is not an llm-speedrunner clone: workspace_templates\/nanogpt_speedrun\/record_<i>\/train_gpt2\.py not found/);
    // Pointing inside the clone suggests its top folder.
    expectLayout(path.join(FIXTURE, 'workspace_templates/nanogpt_speedrun'), /inside an llm-speedrunner clone/, FIXTURE);
    expectLayout(rec(FIXTURE, 4), /use the clone's top folder/, FIXTURE);
    // A modded-nanogpt clone is a common mix-up.
    const mn = path.join(tmp, 'modded-nanogpt');
    fs.mkdirSync(path.join(mn, 'records'), { recursive: true });
    fs.writeFileSync(path.join(mn, 'train_gpt2.py'), 'print(1)\n');
    expectLayout(mn, /looks like a modded-nanogpt clone/);
    assert.throws(() => validateClone(mn), BenchmarkLayoutError);
  });

  test('a flat layout (record folders at the top) is rejected, not half-read', () => {
    const root = tempDir();
    fs.cpSync(path.join(FIXTURE, 'workspace_templates/nanogpt_speedrun'), root, { recursive: true });
    assert.ok(fs.existsSync(path.join(root, 'record_1/train_gpt2.py')));
    assert.throws(() => validateClone(root), /not an llm-speedrunner clone/);
  });

  test('uses a different manifest when given one', () => {
    const m = structuredClone(loadManifest());
    m.records[0].trainTimeMs = 1;
    const r = validateClone(FIXTURE, m);
    assert.match(r.warnings.join('\n'), /record_1\/results\.json: train_time 2968348 ms \(manifest 1 ms\)/);
  });
});
