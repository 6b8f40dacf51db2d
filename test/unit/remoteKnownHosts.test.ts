import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  appendKnownHost, checkHostKey, explainRefusal, fingerprintSha256, hostMatches, keyTypeOf, knownHostName, knownKeyTypes, parseKnownHosts,
} from '../../src/core/remote/knownHosts';

suite('remote: known_hosts', () => {
  let dir: string;
  let keyA: Buffer;
  let keyB: Buffer;
  let pubA: string;
  let rsa: Buffer;

  const keygen = (name: string, type = 'ed25519') => {
    execFileSync('ssh-keygen', ['-q', '-t', type, ...(type === 'rsa' ? ['-b', '1024'] : []), '-N', '', '-f', path.join(dir, name)]);
    return fs.readFileSync(path.join(dir, name + '.pub'), 'utf8').trim().split(' ');
  };

  suiteSetup(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-kh-'));
    const a = keygen('a');
    pubA = `${a[0]} ${a[1]}`;
    keyA = Buffer.from(a[1], 'base64');
    keyB = Buffer.from(keygen('b')[1], 'base64');
    rsa = Buffer.from(keygen('r', 'rsa')[1], 'base64');
  });
  suiteTeardown(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('host names: [host]:port off port 22', () => {
    assert.equal(knownHostName('box', 22), 'box');
    assert.equal(knownHostName('127.0.0.1', 2222), '[127.0.0.1]:2222');
  });

  test('fingerprint and key type agree with ssh-keygen', () => {
    const expected = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(dir, 'a.pub')], { encoding: 'utf8' }).split(' ')[1];
    assert.equal(fingerprintSha256(keyA), expected);
    assert.equal(keyTypeOf(keyA), 'ssh-ed25519');
    assert.equal(keyTypeOf(rsa), 'ssh-rsa');
  });

  test('parses plain, bracketed, wildcard, negated, marked and commented lines', () => {
    const text = [
      '# comment',
      '',
      `box,10.0.0.1 ${pubA} me@laptop`,
      `[127.0.0.1]:2222 ${pubA}`,
      `*.example.com,!bad.example.com ${pubA}`,
      `@revoked * ssh-ed25519 ${keyB.toString('base64')}`,
      `@unknown-marker box ${pubA}`,
      'garbage',
    ].join('\n');
    const e = parseKnownHosts(text, 'kh');
    assert.equal(e.length, 4);
    assert.deepEqual(e.map((x) => x.line), [3, 4, 5, 6]);
    assert.equal(e[3].marker, '@revoked');
    assert.ok(hostMatches(e[0].hosts, '10.0.0.1'));
    assert.ok(hostMatches(e[1].hosts, '[127.0.0.1]:2222'));
    assert.ok(!hostMatches(e[1].hosts, '127.0.0.1'), 'a bracketed entry is for that port only');
    assert.ok(hostMatches(e[2].hosts, 'gpu.example.com'));
    assert.ok(hostMatches(e[2].hosts, 'GPU.Example.com'), 'host names are case-insensitive');
    assert.ok(!hostMatches(e[2].hosts, 'bad.example.com'), 'negation wins');
    assert.ok(!hostMatches(e[2].hosts, 'example.com'));
  });

  test('hashed entries written by ssh-keygen -H match only their host', () => {
    const f = path.join(dir, 'hashed');
    fs.writeFileSync(f, `[127.0.0.1]:2222 ${pubA}\nbox ${pubA}\n`);
    execFileSync('ssh-keygen', ['-H', '-f', f], { stdio: 'ignore' });
    const e = parseKnownHosts(fs.readFileSync(f, 'utf8'));
    assert.equal(e.length, 2);
    assert.ok(e.every((x) => x.hosts.startsWith('|1|')));
    assert.ok(hostMatches(e[0].hosts, '[127.0.0.1]:2222'));
    assert.ok(!hostMatches(e[0].hosts, '[127.0.0.1]:2223'));
    assert.ok(hostMatches(e[1].hosts, 'box'));
    assert.ok(!hostMatches(e[1].hosts, 'box2'));
    assert.equal(checkHostKey(e, 'box', keyA).status, 'known');
  });

  test('verdicts: known, changed (same type, other key), unknown (only other types known), revoked', () => {
    const e = parseKnownHosts(`box ${pubA}\nrsabox ssh-rsa ${rsa.toString('base64')}\n@revoked * ssh-ed25519 ${keyB.toString('base64')}\n`, 'kh');
    assert.equal(checkHostKey(e, 'box', keyA).status, 'known');
    const other = parseKnownHosts(`box ${pubA}\n`, 'kh');
    const changed = checkHostKey(other, 'box', keyB);
    assert.equal(changed.status, 'changed');
    assert.equal(checkHostKey(other, 'elsewhere', keyB).status, 'unknown');
    const u = checkHostKey(e, 'rsabox', keyA);
    assert.deepEqual(u, { status: 'unknown', otherTypesKnown: ['ssh-rsa'] });
    assert.equal(checkHostKey(e, 'box', keyB).status, 'revoked');
    assert.deepEqual(knownKeyTypes(e, 'rsabox'), ['ssh-rsa']);
    const msg = explainRefusal(changed, 'box', keyB);
    assert.match(msg, /HOST KEY CHANGED for box/);
    assert.match(msg, new RegExp(fingerprintSha256(keyB).replace(/[+/]/g, '\\$&')));
    assert.match(msg, /kh:1/);
    assert.match(msg, /ssh-keygen -R 'box'/);
  });

  test('appended entries (plain and hashed) are found by OpenSSH itself', () => {
    for (const hashed of [false, true]) {
      const f = path.join(dir, `append_${hashed}`, 'known_hosts');
      appendKnownHost(f, '[127.0.0.1]:2222', keyA, hashed);
      appendKnownHost(f, 'other', keyB, hashed);
      const found = execFileSync('ssh-keygen', ['-F', '[127.0.0.1]:2222', '-f', f], { encoding: 'utf8' });
      assert.match(found, new RegExp(keyA.toString('base64').replace(/[+/]/g, '\\$&')));
      assert.equal(checkHostKey(parseKnownHosts(fs.readFileSync(f, 'utf8')), '[127.0.0.1]:2222', keyA).status, 'known');
      assert.equal(fs.readFileSync(f, 'utf8').startsWith('|1|'), hashed);
    }
  });

  test('appending to a file without a final newline keeps entries on separate lines', () => {
    const f = path.join(dir, 'nonl');
    fs.writeFileSync(f, `box ${pubA}`);
    appendKnownHost(f, 'two', keyB);
    assert.equal(parseKnownHosts(fs.readFileSync(f, 'utf8')).length, 2);
  });
});
