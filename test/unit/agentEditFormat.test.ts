import * as assert from 'node:assert/strict';
import { applyBlocks, changeSize, lineEdits, parseBlocks } from '../../src/core/agent/editFormat';

const FILE = [
  'import os',
  '',
  'class Hyperparameters:',
  '    num_iterations : int = 1875',
  '    warmdown_iters : int = 560',
  '',
  'def lr(step):',
  '    if step < 10:',
  '        return 1.0',
  '    return 0.5',
  '',
  'def other(step):',
  '    if step < 10:',
  '        return 1.0',
  '    return 0.25',
  '',
].join('\n');

const block = (search: string, replace: string, file = 'train_gpt2.py') =>
  `${file}\n<<<<<<< SEARCH\n${search}\n=======\n${replace}\n>>>>>>> REPLACE\n`;

function apply(response: string, text = FILE) {
  const parsed = parseBlocks(response);
  assert.deepEqual(parsed.errors, []);
  return applyBlocks(text, parsed.blocks);
}

suite('agent edit format: parsing', () => {
  test('finds blocks with their file names, inside code fences and around prose', () => {
    const r = parseBlocks(
      `Plan: fewer steps.\n\n\`\`\`python\n${block('    num_iterations : int = 1875', '    num_iterations : int = 1750')}\`\`\`\n` +
        `And a second one:\n${block('a', 'b', 'other.py')}`,
    );
    assert.deepEqual(r.errors, []);
    assert.deepEqual(
      r.blocks.map((b) => [b.index, b.file, b.search, b.replace]),
      [
        [1, 'train_gpt2.py', '    num_iterations : int = 1875', '    num_iterations : int = 1750'],
        [2, 'other.py', 'a', 'b'],
      ],
    );
  });

  test('reports a block without divider or without end marker', () => {
    const r = parseBlocks('<<<<<<< SEARCH\nx = 1\n>>>>>>> REPLACE\n<<<<<<< SEARCH\ny\n=======\nz\n');
    assert.equal(r.blocks.length, 0);
    assert.equal(r.errors.length, 2);
    assert.match(r.errors[0], /Block 1: .*line 1 has no "=======" divider/);
    assert.match(r.errors[1], /Block 2: .*line 4 does not end with ">>>>>>> REPLACE"/);
  });
});

suite('agent edit format: applying', () => {
  test('an exact block replaces its lines and nothing else', () => {
    const r = apply(block('    num_iterations : int = 1875', '    num_iterations : int = 1750'));
    assert.deepEqual(r.failures, []);
    assert.deepEqual(r.applied, [1]);
    assert.equal(r.text, FILE.replace('1875', '1750'));
  });

  test('blocks apply in order, each to the text the previous one left', () => {
    const r = apply(block('    num_iterations : int = 1875', '    num_iterations : int = 1750') + block('    num_iterations : int = 1750', '    num_iterations : int = 1700'));
    assert.deepEqual(r.applied, [1, 2]);
    assert.match(r.text, /= 1700/);
  });

  test('tolerates trailing whitespace drift', () => {
    const r = apply(block('    num_iterations : int = 1875   ', '    num_iterations : int = 1750'));
    assert.equal(r.text, FILE.replace('1875', '1750'));
  });

  test('tolerates a uniform indentation shift and re-indents the replacement to match the file', () => {
    // The model copied the method body without its indentation.
    const r = apply(block('def lr(step):\nif step < 10:\n    return 1.0\nreturn 0.5'.replace('def lr(step):\n', ''), 'if step < 20:\n    return 1.0\nreturn 0.5'));
    assert.deepEqual(r.failures, []);
    assert.equal(r.text, FILE.replace('    if step < 10:\n        return 1.0\n    return 0.5', '    if step < 20:\n        return 1.0\n    return 0.5'));
  });

  test('tolerates extra indentation in the SEARCH part', () => {
    const r = apply(block('        num_iterations : int = 1875\n        warmdown_iters : int = 560', '        num_iterations : int = 1750\n        warmdown_iters : int = 530'));
    assert.equal(r.text, FILE.replace('1875', '1750').replace('560', '530'));
  });

  test('tolerates changed spacing inside lines and missing blank lines', () => {
    const r = apply(block('    warmdown_iters:int=560\ndef lr(step):', '    warmdown_iters : int = 530\n\ndef lr(step):'));
    assert.deepEqual(r.failures, []);
    assert.equal(r.text, FILE.replace('560', '530'));
  });

  test('an empty REPLACE deletes the lines', () => {
    const r = apply(block('    warmdown_iters : int = 560', ''));
    assert.equal(r.text, FILE.replace('    warmdown_iters : int = 560\n', ''));
  });

  test('keeps CRLF line endings', () => {
    const crlf = FILE.replace(/\n/g, '\r\n');
    const r = apply(block('    num_iterations : int = 1875', '    num_iterations : int = 1750\n    extra = 1'), crlf);
    assert.equal(r.text, crlf.replace('1875', '1750\r\n    extra = 1'));
  });

  test('a block that matches nowhere says where the closest text is and how it differs', () => {
    const r = apply(block('class Hyperparameters:\n    num_iterations : int = 2000\n    warmdown_iters : int = 560', 'x'));
    assert.deepEqual(r.applied, []);
    assert.equal(r.text, FILE);
    assert.equal(r.failures.length, 1);
    const m = r.failures[0].message;
    assert.match(m, /^Block 1: the SEARCH part does not match/);
    assert.match(m, /closest part of the file starts at line 3 \(2 of 3 lines equal\)/);
    assert.match(m, /First difference at line 4: the file has " {4}num_iterations : int = 1875", the SEARCH part has " {4}num_iterations : int = 2000"/);
  });

  test('a block none of whose lines exist says so', () => {
    const r = apply(block('totally = different', 'x'));
    assert.match(r.failures[0].message, /None of its lines appear in the file/);
  });

  test('an ambiguous block names the places it matches and asks for more context', () => {
    const r = apply(block('    if step < 10:\n        return 1.0', '    if step < 5:\n        return 1.0'));
    assert.equal(r.text, FILE);
    assert.match(r.failures[0].message, /matches 2 places \(starting at lines 8, 13\)/);
    assert.match(r.failures[0].message, /more of the surrounding lines/);
  });

  test('an empty SEARCH and a block for another file are refused with a reason', () => {
    const r = apply(block('', 'x = 1') + block('a', 'b', 'model.py'));
    assert.match(r.failures[0].message, /Block 1: the SEARCH part is empty/);
    assert.match(r.failures[1].message, /Block 2 names model.py; only train_gpt2.py can be edited/);
  });

  test('good blocks still apply when another block fails', () => {
    const r = apply(block('nope', 'x') + block('    warmdown_iters : int = 560', '    warmdown_iters : int = 530'));
    assert.deepEqual(r.applied, [2]);
    assert.deepEqual(r.failures.map((f) => f.block), [1]);
    assert.match(r.text, /= 530/);
  });
});

suite('agent edit format: edits for the editor', () => {
  test('lineEdits turn the old text into the new one, touching only changed lines', () => {
    const after = FILE.replace('1875', '1750').replace('    return 0.25\n', '    return 0.125\n    # done\n');
    const edits = lineEdits(FILE, after);
    assert.equal(edits.length, 2);
    let out = FILE;
    for (const e of [...edits].reverse()) out = out.slice(0, e.start) + e.newText + out.slice(e.end);
    assert.equal(out, after);
    assert.equal(FILE.slice(edits[0].start, edits[0].end), '    num_iterations : int = 1875\n');
    assert.deepEqual(changeSize(FILE, after), { added: 3, removed: 2 });
  });

  test('lineEdits handle a last line without newline and a pure insertion', () => {
    const before = 'a\nb';
    for (const after of ['a\nb\nc', 'x\na\nb', 'a\nB']) {
      let out = before;
      for (const e of [...lineEdits(before, after)].reverse()) out = out.slice(0, e.start) + e.newText + out.slice(e.end);
      assert.equal(out, after);
    }
  });
});
