// The fixture clone's scripts follow the conventions other areas rely on, and print each record's line shapes.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { getRecord, loadManifest } from '../../src/core/benchmark';
import { FIXTURE, cleanupTemps, rec, tempDir } from './benchmarkHelpers';

// Line shapes from the benchmark notes (NUM also covers nan).
const NUM = String.raw`(?:[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?|nan|inf|-inf)`;
const SHAPES: Record<string, RegExp> = {
  V: new RegExp(String.raw`^step:(\d+)/(\d+) val_loss:(${NUM}) train_time:(\d+)ms step_avg:(${NUM})ms$`),
  V0: new RegExp(String.raw`^step:(\d+)/(\d+) val_loss:(${NUM}) train_time:(\d+)ms$`),
  T1: new RegExp(String.raw`^step:(\d+)/(\d+) train_loss:${NUM} train_time:\d+ms step_avg:${NUM}ms$`),
  T2: new RegExp(String.raw`^step:(\d+)/(\d+) train_time:\d+ms step_avg:${NUM}ms$`),
  A: new RegExp(String.raw`^step\s+\d+/\d+ \| train loss ${NUM} \| norm ${NUM} \| lr ${NUM} \| \(${NUM} ms \| \d+ tok/s\)$`),
  "A'": new RegExp(String.raw`^step\s+\d+/\d+ \| train loss ${NUM} \| lr ${NUM} \| \(${NUM} ms \| \d+ tok/s\)$`),
  "A''": new RegExp(String.raw`^step\s+\d+/\d+ \| train loss \d+\.\d{4} \| lr_scale ${NUM} \| \(${NUM} ms \| \d+ tok/s\)$`),
  M1: /^peak memory consumption: \d+ MiB$/,
  M2: /^peak memory allocated: \d+ MiB reserved: \d+ MiB$/,
  VLOSS: new RegExp(String.raw`^val loss (?:tensor\()?(${NUM})(?:, device='cuda:\d+'\))?$`),
};

suite('benchmark fixture scripts', function () {
  this.timeout(60_000);
  teardown(cleanupTemps);

  test('every record script keeps the benchmark conventions with its own step count', () => {
    for (const r of loadManifest().records) {
      const src = fs.readFileSync(rec(FIXTURE, r.record, 'train_gpt2.py'), 'utf8');
      assert.match(src, /^class Hyperparameters:$/m);
      assert.match(src, /^ {4}train_files = os\.environ\["NANOGPT_TRAIN_FILES"\]$/m);
      assert.match(src, /^ {4}val_files = os\.environ\["NANOGPT_VAL_FILES"\]$/m);
      assert.match(src, /^ {4}val_tokens = int\(os\.environ\["NANOGPT_VAL_TOKENS"\]\)$/m);
      assert.match(src, new RegExp(`^ {4}num_iterations : int = ${r.steps} `, 'm'), `record ${r.record}`);
      assert.match(src, /^ {4}val_loss_every : int = 125 /m);
      assert.match(src, /^ {4}save_checkpoint : bool = False$/m);
      assert.match(src, /^def print0\(s/m);
      assert.equal(/^print0\(code\)$/m.test(src), r.record >= 18, `record ${r.record} prints its source`);
    }
    // Like the benchmark, records 6 and 7 share one script; every other neighbour differs.
    const text = (i: number) => fs.readFileSync(rec(FIXTURE, i, 'train_gpt2.py'), 'utf8');
    for (let i = 1; i < 21; i++) assert.equal(text(i) === text(i + 1), i === 6, `records ${i} and ${i + 1}`);
  });

  for (const record of [2, 3, 12, 20]) {
    test(`record ${record} runs on plain python3, prints its line shapes and ends on the reference metrics`, () => {
      const facts = getRecord(record)!;
      const cwd = tempDir();
      const r = spawnSync('python3', [rec(FIXTURE, record, 'train_gpt2.py')], {
        cwd,
        encoding: 'utf8',
        env: { ...process.env, NANOGPT_TRAIN_FILES: path.join(cwd, 'fineweb_train_*.bin'), NANOGPT_VAL_FILES: 'x', NANOGPT_VAL_TOKENS: '10485760' },
      });
      assert.equal(r.status, 0, r.stderr);
      const lines = r.stdout.split('\n').filter(Boolean);
      const { train, val, memory } = facts.logShapes;
      const count = (re: RegExp) => lines.filter((l) => re.test(l)).length;
      assert.equal(count(SHAPES[train]), facts.steps, 'one train line per step');
      assert.equal(count(SHAPES[val]), Math.floor(facts.steps / 125) + 1 + (facts.steps % 125 ? 1 : 0), 'val lines');
      assert.equal(count(SHAPES[memory]), 1);
      if (val === 'V0') assert.equal(count(SHAPES.VLOSS), count(SHAPES.V0));
      const last = SHAPES[val].exec(lines.filter((l) => SHAPES[val].test(l)).pop()!)!;
      assert.deepEqual([Number(last[1]), Number(last[3]), Number(last[4])], [facts.steps, facts.valLoss, facts.trainTimeMs]);
      // The script's own log file lands where the record's real one does.
      const pattern = new RegExp('^' + facts.logFile.replace(/[.]/g, '\\.').replace('<uuid>', '[0-9a-f-]{36}') + '$');
      const written = fs.readdirSync(cwd, { recursive: true }).map(String).filter((f) => fs.statSync(path.join(cwd, f)).isFile());
      assert.equal(written.filter((f) => pattern.test(f)).length, 1, written.join(', '));
    });
  }

  test('simulation knobs: a crash at a chosen step exits non-zero with a traceback', () => {
    const r = spawnSync('python3', [rec(FIXTURE, 20, 'train_gpt2.py')], {
      cwd: tempDir(),
      encoding: 'utf8',
      env: { ...process.env, NANOGPT_TRAIN_FILES: 'x', NANOGPT_VAL_FILES: 'x', NANOGPT_VAL_TOKENS: '1', SPEEDRUN_SIM_CRASH_AT_STEP: '30' },
    });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /RuntimeError: simulated crash at step 30/);
    assert.match(r.stdout, /^step:30\/1393 train_time:\d+ms/m);
    assert.doesNotMatch(r.stdout, /^step:31\/1393/m);
  });
});
