import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { envInput, preflightScript } from '../../src/core/remote/commands';
import { parseTargets } from '../../src/core/remote/targets';
import { evaluatePreflight, torchAdvice } from '../../src/core/runs/preflight';
import { resolveRemoteGlob } from '../../src/core/runs/launcher';

const SIM = path.resolve(__dirname, '../../../test/sim');

const report = (p: Partial<Record<string, string>>) =>
  [
    '@@setup', p.setup ?? 'rc=0',
    '@@gpus', p.gpus ?? Array.from({ length: 8 }, (_, i) => `${i}, 0, 81559`).join('\n') + '\nrc=0',
    '@@apps', p.apps ?? 'rc=0',
    '@@python', p.python ?? '3.12.8\n2.7.1+cu126\nrc=0',
    '@@torchrun', p.torchrun ?? 'rc=0',
    '@@train', p.train ?? '12',
    '@@val', p.val ?? '1',
    '@@disk', p.disk ?? String(500 * 1024 * 1024),
    '@@end',
  ].join('\n');

const expect = { gpus: 8, record: { record: 12, minTrainShards: 10, torch: 'stable' as const }, trainGlob: '/d/train_*.bin', valGlob: '/d/val_*.bin', minFreeDiskMiB: 1024, where: 'box' };

suite('runs: preflight', () => {
  test('a healthy box passes and its facts are reported', () => {
    const r = evaluatePreflight(report({}), expect);
    assert.deepEqual(r.errors, []);
    assert.deepEqual(r.report, { gpus: 8, python: '3.12.8', torch: '2.7.1+cu126', trainShards: 12, freeDiskMiB: 500 * 1024, warnings: [] });
  });

  test('each problem fails with its own message', () => {
    const cases: [Partial<Record<string, string>>, RegExp][] = [
      [{ setup: 'rc=1\nconda: command not found' }, /setup command failed on box \(exit 1\): conda: command not found/],
      [{ gpus: '0, 0, 81559\n1, 0, 81559\nrc=0' }, /Expected 8 GPUs on box .* nvidia-smi shows 2/],
      [{ gpus: 'bash: nvidia-smi: command not found\nrc=127' }, /nvidia-smi was not found on box/],
      [{ apps: '777, 1024\nrc=0' }, /Other processes hold GPU memory on box: pid 777 \(1024 MiB\)/],
      [{ python: "ModuleNotFoundError: No module named 'torch'\nrc=1" }, /PyTorch is not importable on box/],
      [{ torchrun: 'rc=1' }, /torchrun command was not found/],
      [{ train: '0' }, /No training shards match NANOGPT_TRAIN_FILES=\/d\/train_\*\.bin/],
      [{ train: '9' }, /Only 9 training shards .* record 12 reads at least 10/],
      [{ val: '0' }, /validation file NANOGPT_VAL_FILES=\/d\/val_\*\.bin does not exist/],
      [{ disk: '1000' }, /Only 0 MiB free/],
    ];
    for (const [p, re] of cases) {
      const r = evaluatePreflight(report(p), expect);
      assert.equal(r.errors.length, 1, `${JSON.stringify(p)} -> ${r.errors}`);
      assert.match(r.errors[0], re);
    }
    assert.match(evaluatePreflight('bash: line 1: cd: /x: No such file', expect).errors[0], /did not complete/);
    assert.match(evaluatePreflight(report({}), { ...expect, trainGlob: undefined }).errors[0], /no trainFiles/);
  });

  test('torch versions are checked against the record: 19-21 want the 2025 nightly', () => {
    assert.match(torchAdvice({ record: 19, torch: 'nightly' }, '2.7.1+cu126')!, /Record 19 was made with a 2025 PyTorch nightly/);
    assert.equal(torchAdvice({ record: 19, torch: 'nightly' }, '2.8.0.dev20250319+cu126'), null);
    assert.equal(torchAdvice({ record: 12, torch: 'stable' }, '2.7.1'), null);
    assert.match(torchAdvice({ record: 12, torch: 'stable' }, '2.4.0')!, /needs PyTorch 2.5/);
    const r = evaluatePreflight(report({}), { ...expect, record: { record: 20, minTrainShards: 8, torch: 'nightly' } });
    assert.deepEqual(r.errors, []);
    assert.equal(r.report.warnings.length, 1);
  });

  test('remote globs: ~ is the home, relative is under remoteDir', () => {
    assert.equal(resolveRemoteGlob('~/data/*.bin', '/home/u', '/w'), '/home/u/data/*.bin');
    assert.equal(resolveRemoteGlob('data/*.bin', '/home/u', '/w'), '/w/data/*.bin');
    assert.equal(resolveRemoteGlob('/abs/*.bin', '/home/u', '/w'), '/abs/*.bin');
  });

  test('the real preflight script on this machine with the simulated box counts globbed shards literally', function () {
    this.timeout(20_000);
    const d = fs.mkdtempSync(path.join(os.tmpdir(), "speedrun-pf '$(x)"));
    try {
      for (let i = 1; i <= 3; i++) fs.writeFileSync(path.join(d, `fineweb_train_00000${i}.bin`), '');
      fs.writeFileSync(path.join(d, 'fineweb_val_000000.bin'), '');
      const t = parseTargets([{ name: 'l', kind: 'local', setup: `export PATH=${SIM}:$PATH PYTHONPATH=${SIM}/pylib`, env: { SIM_GPUS: '2' } }]).targets[0];
      const out = execFileSync('bash', ['-c', preflightScript({ remoteDirAbs: d, setup: t.setup, torchrun: t.torchrun, trainGlob: path.join(d, 'fineweb_train_*.bin'), valGlob: path.join(d, 'fineweb_val_*.bin') })], { encoding: 'utf8', input: envInput(t.env) });
      const r = evaluatePreflight(out, { ...expect, gpus: 2, record: { record: 15, minTrainShards: 8, torch: 'stable' }, trainGlob: 'T', valGlob: 'V' });
      assert.equal(r.report.gpus, 2);
      assert.equal(r.report.trainShards, 3);
      assert.equal(r.report.torch, '2.7.1+simulated');
      assert.deepEqual(r.errors.map((e) => e.slice(0, 30)), ['Only 3 training shards match N']);
      assert.deepEqual(fs.readdirSync(os.tmpdir()).filter((f) => f === 'x'), []);
    } finally {
      fs.rmSync(d, { recursive: true, force: true });
    }
  });
});
