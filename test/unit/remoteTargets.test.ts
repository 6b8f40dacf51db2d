import * as assert from 'node:assert/strict';
import { EXAMPLE_TARGETS, parseTargets } from '../../src/core/remote/targets';

suite('remote: target settings', () => {
  test('defaults are filled in', () => {
    const { targets, errors } = parseTargets([{ name: 'a', kind: 'ssh', host: 'gpu' }, { name: 'b', kind: 'local' }]);
    assert.deepEqual(errors, []);
    assert.deepEqual(JSON.parse(JSON.stringify(targets[0])), {
      name: 'a', kind: 'ssh', host: 'gpu', remoteDir: '~/speedrun', torchrun: 'torchrun', gpus: 8, valTokens: 10485760, env: {},
    });
    assert.equal(targets[1].kind, 'local');
  });

  test('each invalid target is named with its problems and left out', () => {
    const { targets, errors } = parseTargets([
      { name: 'ok', kind: 'local' },
      { name: 'ok', kind: 'local' },
      { kind: 'ssh' },
      { name: 'p', kind: 'ssh', host: 'h', port: 70000, gpus: 0 },
      { name: 'e', kind: 'local', env: { 'A;B': 'x', C: 3 } },
      { name: 'k', kind: 'cluster' },
      'junk',
      { name: 's', kind: 'slurm', gpuType: 'h100:2', sbatchArgs: '--exclusive', cpusPerTask: 0 },
    ]);
    assert.deepEqual(targets.map((t) => t.name), ['ok']);
    assert.deepEqual(errors, [
      "target 2 'ok': name is used twice",
      'target 3: needs a name; an ssh target needs a host',
      "target 4 'p': gpus must be a positive integer; port must be 1-65535",
      `target 5 'e': env name "A;B" is not a valid variable name; env C must be a string`,
      `target 6 'k': kind must be "ssh", "local" or "slurm" (got "cluster")`,
      'target 7: must be an object',
      "target 8 's': gpuType must be a plain word such as h100; cpusPerTask must be a positive integer; sbatchArgs must be a list of strings",
    ]);
    assert.deepEqual(parseTargets({}).errors, ['targets must be a list']);
    assert.deepEqual(parseTargets(undefined), { targets: [], errors: [] });
  });

  test('a slurm target: login node optional, sbatch options kept, blank strings unset', () => {
    const { targets, errors } = parseTargets([
      { name: 'c', kind: 'slurm', partition: 'gpu', account: ' ', gpuType: 'h100', timeLimitMinutes: 30, sbatchArgs: ['--exclusive'], gpus: 4 },
      { name: 'd', kind: 'slurm', host: 'login', port: 2200 },
    ]);
    assert.deepEqual(errors, []);
    const [c, d] = targets;
    assert.ok(c.kind === 'slurm' && d.kind === 'slurm');
    assert.deepEqual([c.host, c.partition, c.account, c.gpuType, c.timeLimitMinutes, c.sbatchArgs, c.gpus], [undefined, 'gpu', undefined, 'h100', 30, ['--exclusive'], 4]);
    assert.deepEqual([d.host, d.port, d.sbatchArgs, d.gpus, d.remoteDir], ['login', 2200, [], 8, '~/speedrun']);
  });

  test('the worked example is valid', () => {
    assert.deepEqual(parseTargets(EXAMPLE_TARGETS).errors, []);
  });
});
