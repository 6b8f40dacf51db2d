import * as assert from 'node:assert/strict';
import { editFrames } from '../../src/core/agent/frames';

const text = (...ls: string[]) => ls.map((l) => `${l}\n`).join('');
const linesOf = (s: string) => s.split('\n').slice(0, -1);

suite('agent: live edit frames', () => {
  test('one rewritten hunk: new lines top to bottom over the old ones, which stay dimmed until rewritten', () => {
    const old = text('keep', 'a1', 'a2', 'a3', 'tail');
    const neu = text('keep', 'b1', 'b2', 'b3', 'tail');
    const frames = editFrames(old, neu);
    assert.deepEqual(frames.map((f) => linesOf(f.text)), [
      ['keep', 'b1', 'a2', 'a3', 'tail'],
      ['keep', 'b1', 'b2', 'a3', 'tail'],
      ['keep', 'b1', 'b2', 'b3', 'tail'],
    ]);
    assert.deepEqual(frames.map((f) => f.line), [1, 2, 3], 'the line written last');
    assert.deepEqual(frames.map((f) => f.dimmed), [{ start: 2, end: 4 }, { start: 3, end: 4 }, { start: 4, end: 4 }]);
  });

  test('the first frame writes one line, the last is the new text exactly with nothing dimmed', () => {
    const old = 'x = 1\ny = 2\nz = 3';
    const neu = 'x = 1\ny = 20\nw = 4\nz = 30';
    const frames = editFrames(old, neu);
    assert.equal(frames[0].text, 'x = 1\ny = 20\nz = 3', 'first frame: one new line, the rest of the hunk still old');
    assert.equal(frames.at(-1)!.text, neu);
    assert.equal(frames.at(-1)!.dimmed.start, frames.at(-1)!.dimmed.end);
  });

  test('more new lines than old ones: the extra ones are inserted, no old line is left at the end', () => {
    const frames = editFrames(text('a', 'old', 'z'), text('a', 'n1', 'n2', 'n3', 'z'));
    assert.deepEqual(frames.map((f) => linesOf(f.text)), [['a', 'n1', 'z'], ['a', 'n1', 'n2', 'z'], ['a', 'n1', 'n2', 'n3', 'z']]);
    assert.deepEqual(frames.map((f) => f.dimmed.end - f.dimmed.start), [0, 0, 0], 'the one old line is rewritten by the first new one');
  });

  test('insert only: one frame per inserted line, nothing dimmed', () => {
    const frames = editFrames(text('a', 'z'), text('a', 'i1', 'i2', 'z'));
    assert.deepEqual(frames.map((f) => linesOf(f.text)), [['a', 'i1', 'z'], ['a', 'i1', 'i2', 'z']]);
    assert.deepEqual(frames.map((f) => f.line), [1, 2]);
    assert.ok(frames.every((f) => f.dimmed.start === f.dimmed.end));
  });

  test('delete only: one frame that removes the lines, the line above the gap highlighted', () => {
    const frames = editFrames(text('a', 'b', 'gone1', 'gone2', 'z'), text('a', 'b', 'z'));
    assert.equal(frames.length, 1);
    assert.deepEqual(linesOf(frames[0].text), ['a', 'b', 'z']);
    assert.equal(frames[0].line, 1);
    assert.deepEqual(editFrames(text('gone', 'z'), text('z'))[0].line, 0, 'a deletion at the top highlights line 0');
  });

  test('several hunks: earlier hunks are new, later ones still old, lines counted in the new text', () => {
    const old = text('h', 'a', 'm1', 'm2', 'm3', 'b', 't');
    const neu = text('h', 'A', 'A2', 'm1', 'm2', 'm3', 'B', 't');
    const frames = editFrames(old, neu);
    assert.deepEqual(frames.map((f) => linesOf(f.text)), [
      ['h', 'A', 'm1', 'm2', 'm3', 'b', 't'],
      ['h', 'A', 'A2', 'm1', 'm2', 'm3', 'b', 't'],
      ['h', 'A', 'A2', 'm1', 'm2', 'm3', 'B', 't'],
    ]);
    assert.deepEqual(frames.map((f) => f.line), [1, 2, 6]);
  });

  test('the frame count is capped; steps are skipped evenly and the last frame is still the new text', () => {
    const old = Array.from({ length: 100 }, (_, i) => `old ${i}\n`).join('');
    const neu = Array.from({ length: 100 }, (_, i) => `new ${i}\n`).join('');
    const frames = editFrames(old, neu, 10);
    assert.equal(frames.length, 10);
    assert.deepEqual(frames.map((f) => f.line), [9, 19, 29, 39, 49, 59, 69, 79, 89, 99]);
    assert.deepEqual(frames[0].dimmed, { start: 10, end: 100 });
    assert.equal(frames.at(-1)!.text, neu);
    assert.equal(editFrames(old, neu).length, 20, 'the default cap');
  });

  test('equal texts have no frames; empty texts on either side work', () => {
    assert.deepEqual(editFrames('same\n', 'same\n'), []);
    assert.equal(editFrames('', text('a', 'b')).at(-1)!.text, text('a', 'b'));
    assert.equal(editFrames(text('a', 'b'), '').at(-1)!.text, '');
  });
});
