import * as assert from 'node:assert/strict';
import { EXAMPLE_TARGETS, parseTargets } from '../../src/core/remote/targets';

suite('remote: target settings', () => {
  test('defaults are filled in', () => {
    const { targets, errors } = parseTargets([{ name: 'a', kind: 'ssh', host: 'gpu' }, { name: 'b', kind: 'local' }]);
    assert.deepEqual(errors, []);
    assert.deepEqual(targets[0], {
      name: 'a', kind: 'ssh', host: 'gpu', user: undefined, port: undefined, identityFile: undefined, remoteDir: '~/speedrun', setup: undefined,
      torchrun: 'torchrun', gpus: 8, trainFiles: undefined, valFiles: undefined, valTokens: 10485760, env: {},
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
      { name: 'k', kind: 'slurm' },
      'junk',
    ]);
    assert.deepEqual(targets.map((t) => t.name), ['ok']);
    assert.deepEqual(errors, [
      "target 2 'ok': name is used twice",
      'target 3: needs a name; an ssh target needs a host',
      "target 4 'p': port must be 1-65535; gpus must be a positive integer",
      `target 5 'e': env name "A;B" is not a valid variable name; env C must be a string`,
      `target 6 'k': kind must be "ssh" or "local" (got "slurm")`,
      'target 7: must be an object',
    ]);
    assert.deepEqual(parseTargets({}).errors, ['targets must be a list']);
    assert.deepEqual(parseTargets(undefined), { targets: [], errors: [] });
  });

  test('the worked example is valid', () => {
    assert.deepEqual(parseTargets(EXAMPLE_TARGETS).errors, []);
  });
});
