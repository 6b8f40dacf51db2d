// `npm start`'s task workspace (scripts/demo-task.sh) against a copy of the fixture benchmark: opened once, left
// alone while the fixture's record 12 script is unchanged, refreshed when it changes, and a script the user
// edited is kept as train_gpt2.py.bak (then .bak.1) with a line saying so.
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { REPO, cleanupTemps, tempDir } from './benchmarkHelpers';

suite('npm start: the demo task workspace', function () {
  this.timeout(60_000);
  teardown(cleanupTemps);

  test('refreshes a stale train_gpt2.py and never drops the user\'s edits', () => {
    const root = tempDir('speedrun-demo-');
    const bench = path.join(root, 'bench');
    fs.cpSync(path.join(REPO, 'test/fixtures/benchmark'), bench, { recursive: true });
    const task = path.join(root, 'task-12');
    const fixture = path.join(bench, 'workspace_templates/nanogpt_speedrun/record_12/train_gpt2.py');
    const script = path.join(task, 'train_gpt2.py');
    const run = () => {
      const r = spawnSync('bash', [path.join(REPO, 'scripts/demo-task.sh'), task, bench], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    const read = (f: string) => fs.readFileSync(f, 'utf8');
    const files = () => fs.readdirSync(task).filter((f) => f.startsWith('train_gpt2')).sort();

    assert.equal(run(), '');
    assert.equal(read(script), read(fixture));
    assert.equal(run(), '', 'nothing to do while the fixture is unchanged');

    // The fixture changes; the user had not edited: the new script, no backup.
    fs.appendFileSync(fixture, '# fixture change A\n');
    assert.match(run(), /train_gpt2\.py refreshed: the fixture's record 12 script changed/);
    assert.equal(read(script), read(fixture));
    assert.deepEqual(files(), ['train_gpt2.py']);

    // The user edits; while the fixture stays the same, the edit is left alone.
    fs.appendFileSync(script, '# my edit\n');
    const edited = read(script);
    assert.equal(run(), '');
    assert.equal(read(script), edited);

    // The fixture changes again: the edit is kept as .bak, then as .bak.1, and said.
    fs.appendFileSync(fixture, '# fixture change B\n');
    assert.match(run(), new RegExp(`your edited train_gpt2\\.py is kept as ${script.replace(/[.]/g, '\\.')}\\.bak\n`));
    assert.equal(read(`${script}.bak`), edited);
    assert.equal(read(script), read(fixture));
    fs.appendFileSync(script, '# my second edit\n');
    const second = read(script);
    fs.appendFileSync(fixture, '# fixture change C\n');
    assert.match(run(), /kept as .*train_gpt2\.py\.bak\.1\n/);
    assert.deepEqual(files(), ['train_gpt2.py', 'train_gpt2.py.bak', 'train_gpt2.py.bak.1']);
    assert.equal(read(`${script}.bak`), edited, 'the first backup is not overwritten');
    assert.equal(read(`${script}.bak.1`), second);
  });
});
