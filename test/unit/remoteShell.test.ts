import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { exportEnv, isEnvName, quotePath, shellJoin, shellQuote } from '../../src/core/remote/shell';

// Strings that would do something if pasted into a shell unquoted.
const NASTY = [
  '',
  'plain',
  'with space',
  "it's",
  "''",
  '"double"',
  '$(touch PWNED)',
  '`touch PWNED`',
  '${HOME}',
  '$HOME',
  'a; touch PWNED',
  'a && touch PWNED',
  'a | cat',
  'a\nb\n',
  'back\\slash\\',
  '*',
  '~',
  '!event',
  '-n',
  '--flag=x y',
  "'$(x)'\"`y`\";",
  'tab\there',
  'ünïcødé ✓',
  '#comment',
  'a>b<c',
];

/** What a real shell makes of `printf '%s\0' <args>`. */
function roundTrip(shell: string, line: string, cwd: string): string[] {
  const out = execFileSync(shell, ['-c', `printf '%s\\0' ${line}`], { cwd, encoding: 'utf8' });
  return out.split('\0').slice(0, -1);
}

suite('remote: shell quoting', () => {
  let cwd: string;
  setup(() => {
    cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-quote-'));
  });
  teardown(() => fs.rmSync(cwd, { recursive: true, force: true }));

  for (const shell of ['bash', 'dash']) {
    test(`every argument survives ${shell} unchanged and nothing runs`, () => {
      // Each quoted string must come back as exactly one, identical argument.
      assert.deepEqual(roundTrip(shell, shellJoin(NASTY), cwd), NASTY);
      assert.deepEqual(fs.readdirSync(cwd), [], 'no command substitution ran');
    });
  }

  test('plain words stay readable, everything else is single-quoted', () => {
    assert.equal(shellQuote('train_gpt2.py'), 'train_gpt2.py');
    assert.equal(shellQuote('/a/b-c.d:e,f@g%h+i=j'), '/a/b-c.d:e,f@g%h+i=j');
    assert.equal(shellQuote(8), '8');
    assert.equal(shellQuote(''), "''");
    assert.equal(shellQuote('a b'), "'a b'");
    assert.equal(shellQuote("it's"), `'it'\\''s'`);
    assert.equal(shellQuote('$(x)'), "'$(x)'");
  });

  test('exportEnv quotes values and refuses invalid names', () => {
    const line = exportEnv({ A: '$(touch PWNED); x', B_2: "q'uote" });
    const out = execFileSync('bash', ['-c', `${line}; printf '%s|%s' "$A" "$B_2"`], { cwd, encoding: 'utf8' });
    assert.equal(out, "$(touch PWNED); x|q'uote");
    assert.deepEqual(fs.readdirSync(cwd), []);
    assert.throws(() => exportEnv({ 'A;touch x': '1' }), /invalid environment variable name/);
    assert.throws(() => exportEnv({ '1A': '1' }), /invalid/);
    assert.equal(isEnvName('NANOGPT_TRAIN_FILES'), true);
    assert.equal(isEnvName('A-B'), false);
  });

  test('quotePath expands a leading ~ to $HOME and quotes the rest', () => {
    const run = (p: string) => execFileSync('bash', ['-c', `printf %s ${quotePath(p)}`], { env: { HOME: '/home/x y' }, encoding: 'utf8' });
    assert.equal(run('~/my dir/$(x)'), '/home/x y/my dir/$(x)');
    assert.equal(run('~'), '/home/x y');
    assert.equal(run('/abs/~/p'), '/abs/~/p');
    assert.equal(run('~other/p'), '~other/p');
  });
});
