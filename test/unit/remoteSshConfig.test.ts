import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describeHost, expandPath, knownHostsFileForWrite, parseJump, resolveHost, type ResolvedHost } from '../../src/core/remote/sshConfig';

// ssh -G takes the home and user from the passwd entry, so the environment must agree with it.
const H = os.userInfo().homedir;
const U = os.userInfo().username;
const ENV = { HOME: H, USER: U, SSH_AUTH_SOCK: '/run/agent.sock' };

suite('remote: ssh config resolution', () => {
  let dir: string;
  let cfg: string;

  suiteSetup(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-sshcfg-'));
    cfg = path.join(dir, 'config');
    fs.writeFileSync(
      cfg,
      [
        'Host gpu',
        '  HostName 10.1.2.3',
        '  Port 2200',
        '  User trainer',
        '  IdentityFile ~/.ssh/id_gpu',
        '  IdentityFile %d/keys/%r@%h',
        '  ProxyJump bastion,ops@hop2:2201',
        '  UserKnownHostsFile ~/.ssh/kh_gpu',
        'Host bastion',
        '  HostName bastion.example.com',
        '  User jumper',
        '  IdentityAgent none',
        'Host noagent',
        '  IdentityAgent none',
        '  IdentitiesOnly yes',
        '',
      ].join('\n'),
    );
  });
  suiteTeardown(() => fs.rmSync(dir, { recursive: true, force: true }));

  const strip = (h: ResolvedHost): unknown => ({ ...h, via: undefined, jumps: h.jumps.map(strip) });

  for (const sshBinary of ['ssh', null] as const) {
    const via = sshBinary ? 'ssh -G' : 'the ssh-config package';
    test(`an alias resolves with User, Port, several IdentityFiles, tokens and a ProxyJump chain (${via})`, async () => {
      const h = await resolveHost('gpu', {}, { configFile: cfg, sshBinary, env: ENV });
      assert.equal(h.via, sshBinary ? 'ssh -G' : 'ssh-config');
      assert.equal(h.hostname, '10.1.2.3');
      assert.equal(h.port, 2200);
      assert.equal(h.user, 'trainer');
      assert.deepEqual(h.identityFiles, [`${H}/.ssh/id_gpu`, `${H}/keys/trainer@10.1.2.3`]);
      assert.deepEqual(h.knownHostsFiles, [`${H}/.ssh/kh_gpu`]);
      assert.equal(knownHostsFileForWrite(h), `${H}/.ssh/kh_gpu`);
      assert.equal(h.agentSocket, '/run/agent.sock');
      assert.deepEqual(
        h.jumps.map((j) => [j.hostname, j.port, j.user, j.agentSocket]),
        [
          ['bastion.example.com', 22, 'jumper', null],
          ['hop2', 2201, 'ops', '/run/agent.sock'],
        ],
      );
      assert.equal(describeHost(h), 'trainer@10.1.2.3:2200');
    });

    test(`explicit target settings win over the config; unknown hosts get OpenSSH's defaults (${via})`, async () => {
      const h = await resolveHost('gpu', { user: 'bob', port: 2022, identityFile: '~/k' }, { configFile: cfg, sshBinary, env: ENV });
      assert.equal(h.user, 'bob');
      assert.equal(h.port, 2022);
      assert.equal(h.identityFiles[0], `${H}/k`);
      const plain = await resolveHost('plain.example.org', {}, { configFile: cfg, sshBinary, env: ENV });
      assert.equal(plain.hostname, 'plain.example.org');
      assert.equal(plain.port, 22);
      assert.equal(plain.user, U);
      assert.ok(plain.identityFiles.includes(`${H}/.ssh/id_ed25519`));
      assert.ok(plain.identityFiles.includes(`${H}/.ssh/id_rsa`));
      assert.deepEqual(plain.jumps, []);
      const na = await resolveHost('noagent', {}, { configFile: cfg, sshBinary, env: ENV });
      assert.equal(na.agentSocket, null);
      assert.equal(na.identitiesOnly, true);
    });
  }

  test('both resolvers agree on the same config', async () => {
    for (const host of ['gpu', 'bastion', 'plain.example.org']) {
      const a = await resolveHost(host, {}, { configFile: cfg, sshBinary: 'ssh', env: ENV });
      const b = await resolveHost(host, {}, { configFile: cfg, sshBinary: null, env: ENV });
      assert.deepEqual(strip(a), strip(b), host);
    }
  });

  test('ProxyJump hop syntax', () => {
    assert.deepEqual(parseJump('host'), { host: 'host', user: undefined, port: undefined });
    assert.deepEqual(parseJump('u@h:2222'), { host: 'h', user: 'u', port: 2222 });
    assert.deepEqual(parseJump('ssh://u@[::1]:22'), { host: '::1', user: 'u', port: 22 });
    assert.deepEqual(parseJump('a@b@h'), { host: 'h', user: 'a@b', port: undefined });
  });

  test('path tokens', () => {
    const ctx = { home: '/h', localUser: 'me', host: 'gpu', user: 'rem', port: 22 };
    assert.equal(expandPath('~/.ssh/%r_%h_%p_%u_%%', ctx), '/h/.ssh/rem_gpu_22_me_%');
    assert.equal(expandPath('%d/x', ctx), '/h/x');
    assert.equal(expandPath('/abs', ctx), '/abs');
  });
  test('Match exec runs as with OpenSSH itself (ssh -G), never without it; a host or user with shell code is refused first', async () => {
    const mark = path.join(dir, 'match-exec-ran');
    const conf = path.join(dir, 'config-match-exec');
    fs.writeFileSync(conf, [`Match host vpn exec "touch ${mark}"`, '  HostName 10.8.0.1', 'Host vpn', '  User trainer', ''].join('\n'));
    const bare = await resolveHost('vpn', {}, { configFile: conf, sshBinary: null, env: ENV });
    assert.equal(fs.existsSync(mark), false, 'the built-in parser runs no config command');
    assert.equal(bare.hostname, 'vpn');
    const h = await resolveHost('vpn', {}, { configFile: conf, sshBinary: 'ssh', env: ENV });
    assert.equal(fs.existsSync(mark), true, 'ssh -G ran the Match exec command, as `ssh vpn` would (documented in the README)');
    assert.equal(h.hostname, '10.8.0.1');
    fs.rmSync(mark);
    for (const [host, user] of [['vpn;touch x', undefined], ['$(touch x)', undefined], ['-oProxyCommand=x', undefined], ['vpn', 'a`touch x`']] as const) {
      await assert.rejects(resolveHost(host, user ? { user } : {}, { configFile: conf, sshBinary: 'ssh', env: ENV }), /is not a (host name|valid user name)/);
    }
    assert.equal(fs.existsSync(mark), false);
    for (const ok of ['gpu-1.example.com', '10.0.0.7', '[fe80::1]', 'my_box']) assert.equal((await resolveHost(ok, {}, { configFile: conf, sshBinary: null, env: ENV })).alias, ok);
  });
});
