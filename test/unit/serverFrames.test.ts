import * as assert from 'node:assert/strict';
import { FrameCheck } from '../../src/server/frames';

const frame = (body: string) => `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`;

suite('language server: the frame check', () => {
  test('well-formed frames pass whichever way the stream is cut, bodies holding "Content-Length" in strings included', () => {
    const bodies = [
      '{"jsonrpc":"2.0","id":1,"method":"initialize","params":{}}',
      JSON.stringify({ text: 'headers = "Content-Length: 12\\r\\n"\nprint(1)\n', uri: 'file:///ü/train_gpt2.py' }),
      '{"a":\r\n\r\n"Content-Length:", "b": 5}',
      '',
    ];
    const stream = Buffer.from(bodies.map(frame).join('') + 'Content-Length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}');
    for (let size = 1; size <= stream.length; size += size < 8 ? 1 : 7) {
      const c = new FrameCheck();
      for (let i = 0; i < stream.length; i += size) assert.equal(c.push(stream.subarray(i, i + size)), undefined, `chunks of ${size}`);
      assert.equal(c.partial, false);
    }
  });

  test('each kind of broken frame is named', () => {
    const cases: [string, RegExp][] = [
      ['Content-Length: abc\r\n\r\n{}', /"abc" is not a byte count/],
      ['Content-Length: -1\r\n\r\n{}', /"-1" is not a byte count/],
      ['Content-Type: x\r\n\r\n{}', /without a Content-Length/],
      ['hello world\r\n\r\n', /not "Name: value"/],
      [`Content-Length: 300\r\n\r\n{}${frame('{"id":2}')}`, /Content-Length 300 is larger than the message/],
      ['x'.repeat(9000), /more than 8192 bytes without an end/],
    ];
    for (const [bytes, re] of cases) {
      const c = new FrameCheck();
      let problem: string | undefined;
      // Byte by byte, so the checks hold across chunk borders.
      for (const b of Buffer.from(bytes)) problem ??= c.push(Buffer.from([b]));
      assert.match(problem ?? '(none)', re, JSON.stringify(bytes.slice(0, 40)));
    }
  });

  test('a frame whose body has not fully arrived is partial (the stall timer watches it)', () => {
    const c = new FrameCheck();
    assert.equal(c.push(Buffer.from('Content-Length: 10\r\n\r\n{"a"')), undefined);
    assert.equal(c.partial, true);
    assert.equal(c.push(Buffer.from(':1234}')), undefined);
    assert.equal(c.partial, false);
  });
});
