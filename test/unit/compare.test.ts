import * as assert from 'node:assert/strict';
import { compareAttempt, lineChanges, splitLines, toCoverage, type CompareResult } from '../../src/core/compare/coverage';

// Our own toy "record i" and "record i+1". The reference change has 4 hunks and 11 changed lines:
//   norm() added at the top (+2), forward uses norm (-2 +2), a warmdown schedule (-1 +2), fewer steps (-1 +1).
const BASE = `import torch

class Block:
    def __init__(self, d):
        self.attn = Attention(d)
        self.mlp = MLP(d)

    def forward(self, x):
        x = x + self.attn(x)
        x = x + self.mlp(x)
        return x

def lr_schedule(step):
    return 1.0

batch_size = 8
num_iterations = 5100
print0(f"steps {num_iterations}")
`;

const NORM = `def norm(x):
    return F.rms_norm(x, (x.size(-1),))
`;

const REF = `import torch

${NORM}
class Block:
    def __init__(self, d):
        self.attn = Attention(d)
        self.mlp = MLP(d)

    def forward(self, x):
        x = x + self.attn(norm(x))
        x = x + self.mlp(norm(x))
        return x

def lr_schedule(step):
    frac = step / num_iterations
    return min(1.0, 3.6 * (1 - frac))

batch_size = 8
num_iterations = 4578
print0(f"steps {num_iterations}")
`;

const edit = (text: string, pairs: [string, string][]) =>
  pairs.reduce((t, [from, to]) => {
    assert.ok(t.includes(from), `fixture edit: ${from}`);
    return t.replace(from, to);
  }, text);

const FORWARD: [string, string] = [
  '        x = x + self.attn(x)\n        x = x + self.mlp(x)\n',
  '        x = x + self.attn(norm(x))\n        x = x + self.mlp(norm(x))\n',
];
const STEPS: [string, string] = ['num_iterations = 5100', 'num_iterations = 4578'];

const run = (attempt: string, baseline = BASE, reference = REF) => compareAttempt({ baseline, reference, attempt });
const statuses = (r: CompareResult) => r.hunks.map((h) => h.status);

suite('compare: reproduction coverage', () => {
  test('the reference change is counted in lines, per hunk', () => {
    const r = run(BASE);
    assert.deepEqual(r.reference, { added: 7, removed: 4, matched: 0 });
    assert.equal(r.hunks.length, 4);
    assert.deepEqual(r.hunks.map((h) => h.totalLines), [2, 4, 3, 2]);
  });

  test('identical to the reference: full coverage, nothing extraneous', () => {
    const r = run(REF);
    assert.equal(r.coverage, 1);
    assert.equal(r.extraneous, 0);
    assert.deepEqual(statuses(r), ['matched', 'matched', 'matched', 'matched']);
    assert.deepEqual(r.extraHunks, []);
    assert.deepEqual(r.attempt, { added: 7, removed: 4, matched: 11 });
  });

  test('no change at all: nothing reproduced, nothing extraneous', () => {
    const r = run(BASE);
    assert.equal(r.coverage, 0);
    assert.equal(r.extraneous, 0);
    assert.deepEqual(statuses(r), ['missed', 'missed', 'missed', 'missed']);
  });

  test('disjoint change: coverage 0, all of the attempt extraneous', () => {
    const r = run(edit(BASE, [['self.mlp = MLP(d)', 'self.mlp = MLP(d, bias=False)'], ['import torch\n', 'import torch\nimport math\n']]));
    assert.equal(r.coverage, 0);
    assert.equal(r.extraneous, 1);
    assert.equal(r.extraHunks.length, 2);
    assert.ok(r.extraHunks.every((h) => h.side === 'attempt' && h.status === 'extra'));
    assert.deepEqual(r.extraHunks[1].lines, [
      { op: '-', text: '        self.mlp = MLP(d)', matched: false },
      { op: '+', text: '        self.mlp = MLP(d, bias=False)', matched: false },
    ]);
  });

  test('partial: two of four hunks, one of them half done', () => {
    const halfSchedule: [string, string] = ['    return 1.0\n', '    frac = step / num_iterations\n    return 1.0\n'];
    const r = run(edit(BASE, [FORWARD, STEPS, halfSchedule]));
    // forward 4 + steps 2 + the added `frac` line 1 = 7 of 11.
    assert.equal(r.reference.matched, 7);
    assert.equal(r.coverage, 7 / 11);
    assert.deepEqual(statuses(r), ['missed', 'matched', 'partial', 'matched']);
    const schedule = r.hunks[2];
    assert.deepEqual(
      schedule.lines.map((l) => `${l.op}${l.matched ? 'y' : 'n'}`),
      ['-n', '+y', '+n'],
    );
    // The attempt's own change is 5 lines, all of them in the reference.
    assert.equal(r.extraneous, 0);
    assert.deepEqual(r.extraHunks, []);
  });

  test('partial with an extra line inside a reproduced hunk', () => {
    const r = run(edit(REF, [['        return x\n', '        x = self.drop(x)\n        return x\n']]));
    assert.equal(r.coverage, 1);
    assert.equal(r.extraneous, 1 / 12);
    assert.equal(r.extraHunks.length, 1);
    assert.equal(r.extraHunks[0].status, 'partial');
    assert.deepEqual(r.extraHunks[0].lines.filter((l) => !l.matched).map((l) => l.text), ['        x = self.drop(x)']);
  });

  test('reordered: the same change in other places and another order still counts', () => {
    // norm() at the bottom instead of the top; the two schedule lines and the forward lines swapped.
    const attempt = edit(BASE, [
      STEPS,
      ['        x = x + self.attn(x)\n        x = x + self.mlp(x)\n', '        x = x + self.mlp(norm(x))\n        x = x + self.attn(norm(x))\n'],
      ['    return 1.0\n', '    return min(1.0, 3.6 * (1 - frac))\n    frac = step / num_iterations\n'],
    ]) + '\n' + NORM;
    const r = run(attempt);
    assert.equal(r.coverage, 1);
    assert.equal(r.extraneous, 0);
    assert.deepEqual(statuses(r), ['matched', 'matched', 'matched', 'matched']);
  });

  test('whitespace-only changes are not changes', () => {
    const reindented = BASE.replace(/^ {4}/gm, '\t').replace(/\n\n/g, '\n\n\n').replace(/\)\n/g, ')   \n');
    assert.notEqual(reindented, BASE);
    const r = run(reindented);
    assert.deepEqual(r.attempt, { added: 0, removed: 0, matched: 0 });
    assert.equal(r.coverage, 0);
    assert.equal(r.extraneous, 0);
    assert.deepEqual(r.extraHunks, []);
  });

  test('the reference change written with different spacing is reproduced', () => {
    const spaced = edit(REF, [
      ['self.attn(norm(x))', 'self.attn( norm(x) )'],
      ['num_iterations = 4578', 'num_iterations=4578'],
      ['    return min(1.0, 3.6 * (1 - frac))', '        return min(1.0, 3.6*(1-frac))'],
    ]);
    const r = run(spaced);
    assert.equal(r.coverage, 1);
    assert.equal(r.extraneous, 0);
  });

  test('CRLF files compare like LF files, and hunk text carries no CR', () => {
    const crlf = (s: string) => s.replace(/\n/g, '\r\n');
    const mixed = run(crlf(REF));
    assert.equal(mixed.coverage, 1);
    assert.equal(mixed.extraneous, 0);
    const all = run(crlf(edit(BASE, [STEPS])), crlf(BASE), crlf(REF));
    assert.equal(all.coverage, 2 / 11);
    assert.deepEqual(statuses(all), ['missed', 'missed', 'missed', 'matched']);
    assert.ok(all.hunks.every((h) => h.lines.every((l) => !l.text.includes('\r'))));
    assert.deepEqual(splitLines('a\r\nb\rc\n'), ['a', 'b', 'c']);
  });

  test('empty files', () => {
    // Reference writes a file from nothing; an empty attempt reproduces none of it.
    const fromEmpty = run('', '', REF);
    assert.equal(fromEmpty.coverage, 0);
    assert.equal(fromEmpty.reference.added, splitLines(REF).filter((l) => l.trim()).length);
    assert.equal(fromEmpty.hunks.length, 1);
    assert.deepEqual(fromEmpty.hunks[0].baseline, { start: 0, count: 0 });
    // An attempt that empties the script reproduces exactly the reference's removals (4 of 11).
    const emptied = run('');
    assert.equal(emptied.coverage, 4 / 11);
    assert.equal(emptied.attempt.removed, splitLines(BASE).filter((l) => l.trim()).length);
    // Nothing to reproduce: coverage is undefined, not 0 or 1.
    const none = run('', '', '');
    assert.equal(none.coverage, null);
    assert.equal(none.extraneous, 0);
    assert.deepEqual(none.hunks, []);
    assert.equal(run('x = 1\n', '', '').extraneous, 1);
  });

  test('a line the reference adds twice counts twice', () => {
    const base = 'a = 1\nb = 2\nc = 3\n';
    const ref = 'a = 1\nx = norm(x)\nb = 2\nx = norm(x)\nc = 3\n';
    const once = compareAttempt({ baseline: base, reference: ref, attempt: 'a = 1\nb = 2\nx = norm(x)\nc = 3\n' });
    assert.equal(once.coverage, 1 / 2);
    // The one added line pairs with the reference occurrence nearest to it (the second).
    assert.deepEqual(statuses(once), ['missed', 'matched']);
  });

  test('hunks carry original line numbers and the enclosing def', () => {
    const r = run(BASE);
    const [norm, forward, schedule, steps] = r.hunks;
    assert.equal(norm.header, '@@ -1,0 +3,2 @@');
    assert.equal(forward.header, '@@ -9,2 +12,2 @@');
    assert.equal(forward.scope, 'def forward');
    assert.equal(schedule.scope, 'def lr_schedule');
    assert.equal(steps.header, '@@ -17,1 +21,1 @@');
    assert.equal(steps.scope, undefined, 'module level has no scope');
    assert.equal(splitLines(BASE)[steps.baseline.start - 1], 'num_iterations = 5100');
    assert.equal(splitLines(REF)[steps.changed.start - 1], 'num_iterations = 4578');
  });

  test('the scope follows indentation, not just the nearest def above', () => {
    const base = 'def f(x):\n    return x\n\nMODEL = dict(\n    depth=12,\n)\nclass A:\n    def g(self):\n        if x:\n            y = 1\n';
    const ref = base.replace('depth=12', 'depth=11').replace('y = 1', 'y = 2');
    const r = compareAttempt({ baseline: base, reference: ref, attempt: base });
    assert.deepEqual(r.hunks.map((h) => h.scope), [undefined, 'def g']);
  });

  test('lineChanges counts like coverage; toCoverage gives the dashboard pair', () => {
    assert.deepEqual(lineChanges(BASE, REF), { added: 7, removed: 4 });
    assert.deepEqual(lineChanges(BASE, BASE.replace(/\n/g, '\r\n')), { added: 0, removed: 0 });
    assert.deepEqual(toCoverage(run(edit(BASE, [STEPS]))), { reproduced: 2 / 11, extra: 0 });
    assert.equal(toCoverage(run('', '', '')), null);
  });
});
