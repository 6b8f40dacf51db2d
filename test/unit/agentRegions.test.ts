import * as assert from 'node:assert/strict';
import { type Change, TurnRegions } from '../../src/core/agent/regions';

/** A document that records every change as an agent's or a user's, like the live edit view does. */
class Doc {
  readonly regions = new TurnRegions();
  constructor(public text: string) {}
  agent(start: number, end: number, text: string) {
    this.regions.agentChange(this.text, { start, end, text });
    this.apply({ start, end, text });
  }
  user(start: number, end: number, text: string) {
    this.regions.userChange({ start, end, text });
    this.apply({ start, end, text });
  }
  reject() {
    const r = this.regions.revertEdits();
    for (const e of r.edits) this.apply(e);
    return r.skipped;
  }
  private apply(c: Change) {
    this.text = this.text.slice(0, c.start) + c.text + this.text.slice(c.end);
  }
}

const ORIGINAL = 'line 1\nline 2\nline 3\nline 4\nline 5\n';

suite('agent turn regions', () => {
  test('undoing agent edits alone gives the original back exactly, through overlapping and adjacent edits', () => {
    const d = new Doc(ORIGINAL);
    d.agent(7, 14, 'LINE TWO\n');
    d.agent(7, 16, 'LINE TWO\nextra\n'); // rewrites its own region (a streamed frame)
    d.agent(22, 29, ''); // next to it: line 3 deleted
    d.agent(0, 0, '# header\n');
    assert.notEqual(d.text, ORIGINAL);
    assert.deepEqual(d.reject(), []);
    assert.equal(d.text, ORIGINAL);
  });

  test('random streams of agent edits always undo byte for byte', () => {
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % n);
    for (let round = 0; round < 200; round++) {
      const d = new Doc(ORIGINAL.repeat(3));
      for (let k = 0; k < 1 + rnd(8); k++) {
        const a = rnd(d.text.length + 1);
        const b = a + rnd(Math.min(12, d.text.length - a + 1));
        d.agent(a, b, ['', 'x', 'new line\n', '\r\n'][rnd(4)]);
      }
      d.reject();
      assert.equal(d.text, ORIGINAL.repeat(3), `round ${round}`);
    }
  });

  test("the user's edits outside the agent's regions survive a reject", () => {
    const d = new Doc(ORIGINAL);
    d.agent(14, 21, 'LINE THREE'); // line 3
    d.user(0, 0, '# mine\n'); // before the region
    d.user(d.text.length, d.text.length, 'line 6\n'); // after it
    assert.deepEqual(d.reject(), []);
    assert.equal(d.text, `# mine\n${ORIGINAL}line 6\n`);
  });

  test('typing right at the edge of a region does not count as inside it', () => {
    const d = new Doc(ORIGINAL);
    d.agent(14, 20, 'LINE 3');
    const r = d.regions.list()[0];
    d.user(r.end, r.end, '!');
    d.user(r.start, r.start, '>');
    assert.deepEqual(d.reject(), []);
    assert.equal(d.text, ORIGINAL.replace('line 3', '>line 3!'));
  });

  test('a region the user edited inside is left as it is and reported', () => {
    const d = new Doc(ORIGINAL);
    d.agent(0, 6, 'LINE ONE');
    d.agent(28, 34, 'LINE FIVE');
    d.user(1, 2, 'i'); // inside "LINE ONE"
    const skipped = d.reject();
    assert.equal(skipped.length, 1);
    assert.equal(skipped[0].original, 'line 1');
    assert.equal(d.text, ORIGINAL.replace('line 1', 'LiNE ONE'));
  });
});
