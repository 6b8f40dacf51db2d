import * as assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { FrameCheck, watchFrames } from '../../src/server/frames';

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

  test('the watch reports a broken frame once, and a frame left incomplete after the stall time', async () => {
    const bad = new PassThrough();
    const reasons: string[] = [];
    watchFrames(bad, (r) => reasons.push(r), 60_000);
    // The JSON-RPC reader's own listener is what starts the flow (the watch never reads on its own).
    bad.on('data', () => undefined);
    bad.write('Content-Length: x\r\n\r\n{}');
    bad.write(frame('{}'));
    await new Promise((r) => setImmediate(r));
    assert.equal(reasons.length, 1);
    assert.match(reasons[0], /"x" is not a byte count/);

    const stalled = new PassThrough();
    const late: string[] = [];
    watchFrames(stalled, (r) => late.push(r), 50);
    stalled.on('data', () => undefined);
    stalled.write(frame('{"id":1}'));
    stalled.write('Content-Length: 40\r\n\r\n{"id":');
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(late.length, 1);
    assert.match(late[0], /a frame stayed incomplete for 0.05 s/);

    const whole = new PassThrough();
    const none: string[] = [];
    watchFrames(whole, (r) => none.push(r), 50);
    whole.on('data', () => undefined);
    whole.write('Content-Length: 8\r\n\r\n{"id"');
    whole.write(':1}');
    await new Promise((r) => setTimeout(r, 150));
    assert.deepEqual(none, [], 'a frame completed in time is not reported');
  });
});
