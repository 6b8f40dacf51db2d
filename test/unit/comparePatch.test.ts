import * as assert from 'node:assert/strict';
import { applyPatch, parsePatch } from 'diff';
import { attemptPatch } from '../../src/core/compare/patch';

const BASE = 'import torch\n\ndef f(x):\n    return x\n\nnum_iterations = 5100\n';
const ATTEMPT = 'import torch\nimport math\n\ndef f(x):\n    return math.tanh(x)\n\nnum_iterations = 4578\n';

suite('compare: patch export', () => {
  const cases: [string, string, string][] = [
    ['LF', BASE, ATTEMPT],
    ['CRLF', BASE.replace(/\n/g, '\r\n'), ATTEMPT.replace(/\n/g, '\r\n')],
    ['LF to CRLF', BASE, ATTEMPT.replace(/\n/g, '\r\n')],
    ['no final newline', BASE.trimEnd(), ATTEMPT.trimEnd()],
    ['final newline added', BASE.trimEnd(), ATTEMPT],
    ['from an empty file', '', ATTEMPT],
    ['to an empty file', BASE, ''],
    ['unchanged', BASE, BASE],
    ['whitespace only', BASE, BASE.replace(/ {4}/g, '\t')],
  ];
  for (const [name, baseline, attempt] of cases) {
    test(`round-trips with applyPatch: ${name}`, () => {
      const patch = attemptPatch(baseline, attempt, { fromRecord: 12 });
      assert.equal(applyPatch(baseline, patch), attempt);
    });
  }

  test('names both sides train_gpt2.py with a/ b/ prefixes and says which record it is against', () => {
    const patch = attemptPatch(BASE, ATTEMPT, { fromRecord: 12, label: 'run 7' });
    const [p] = parsePatch(patch);
    assert.equal(p.oldFileName, 'a/train_gpt2.py');
    assert.equal(p.newFileName, 'b/train_gpt2.py');
    assert.equal(p.oldHeader, 'record 12');
    assert.equal(p.newHeader, 'run 7');
    assert.deepEqual(p.hunks.flatMap((h) => h.lines.filter((l) => l[0] !== ' ')), [
      '+import math', '-    return x', '+    return math.tanh(x)', '-num_iterations = 5100', '+num_iterations = 4578',
    ]);
  });

  test('does not apply to a different baseline', () => {
    const patch = attemptPatch(BASE, ATTEMPT, { fromRecord: 12 });
    assert.equal(applyPatch(BASE.replace('return x', 'return -x'), patch), false);
  });
});
