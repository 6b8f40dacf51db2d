// Connections against REAL OpenSSH sshd instances: host keys, ProxyJump, authentication, agent, passphrases.
import * as assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { connectTarget } from '../../src/core/remote/connect';
import { connectSsh, SshError, type HostKeyPrompt } from '../../src/core/remote/ssh';
import { resolveHost } from '../../src/core/remote/sshConfig';
import { parseTargets } from '../../src/core/remote/targets';
import { generateKey, startSshd, type Sshd } from '../support/sshd';
import { writeSshConfig } from '../support/runFixture';

const never = async (): Promise<boolean> => {
  throw new Error('must not ask');
};

async function rejects(p: Promise<unknown>): Promise<SshError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof SshError, `expected an SshError, got ${e}`);
    return e;
  }
  throw new Error('expected the connection to fail');
}

suite('integration: ssh connections over real sshd', function () {
  this.timeout(30_000);
  let s: Sshd;
  let jump: Sshd;

  suiteSetup(async () => {
    [s, jump] = await Promise.all([startSshd(), startSshd({ sim: false, logLevel: 'DEBUG1' })]);
  });
  suiteTeardown(async () => {
    await Promise.all([s?.stop(), jump?.stop()]);
  });

  test('an unknown host key asks with its SHA256 fingerprint; accepting appends it to known_hosts', async () => {
    const cfg = writeSshConfig(s);
    const host = await resolveHost('box', {}, { configFile: cfg });
    const kh = path.join(s.dir, 'known_hosts_fresh');
    fs.writeFileSync(kh, '');
    host.knownHostsFiles = [kh];
    const prompts: HostKeyPrompt[] = [];
    const x = await connectSsh(host, { confirmHostKey: async (p) => (prompts.push(p), true) });
    x.close();
    const expected = execFileSync('ssh-keygen', ['-l', '-E', 'sha256', '-f', path.join(s.dir, 'host_ed25519.pub')], { encoding: 'utf8' }).split(' ')[1];
    assert.equal(prompts.length, 1);
    assert.equal(prompts[0].fingerprint, expected);
    assert.equal(prompts[0].name, `[127.0.0.1]:${s.port}`);
    assert.equal(prompts[0].keyType, 'ssh-ed25519');
    assert.equal(fs.readFileSync(kh, 'utf8').trim(), `[127.0.0.1]:${s.port} ${s.hostKeyPub}`);
    // Known now: no second question.
    const y = await connectSsh(host, { confirmHostKey: never });
    assert.equal((await y.exec('echo hi')).stdout, 'hi\n');
    y.close();
  });

  test('declining an unknown host key does not connect', async () => {
    const host = await resolveHost('box', {}, { configFile: writeSshConfig(s) });
    host.knownHostsFiles = [path.join(s.dir, 'no_such_known_hosts')];
    const e = await rejects(connectSsh(host, { confirmHostKey: async () => false }));
    assert.equal(e.kind, 'hostkey');
    assert.match(e.message, /was not trusted/);
    assert.equal(fs.existsSync(host.knownHostsFiles[0]), false);
  });

  test('a changed host key is refused with an explanation and never asked about, also from a hashed entry', async () => {
    const other = generateKey(path.join(s.dir, `other_${Date.now()}`)).split(' ').slice(0, 2).join(' ');
    for (const hashed of [false, true]) {
      const kh = path.join(s.dir, `known_hosts_changed_${hashed}`);
      fs.writeFileSync(kh, `[127.0.0.1]:${s.port} ${other}\n`);
      if (hashed) execFileSync('ssh-keygen', ['-H', '-f', kh], { stdio: 'ignore' });
      assert.equal(fs.readFileSync(kh, 'utf8').startsWith('|1|'), hashed);
      const host = await resolveHost('box', {}, { configFile: writeSshConfig(s) });
      host.knownHostsFiles = [kh];
      let ran = false;
      const e = await rejects(connectSsh(host, { confirmHostKey: never }).then((x) => ((ran = true), x.close())));
      assert.equal(ran, false);
      assert.equal(e.kind, 'hostkey');
      assert.match(e.message, /HOST KEY CHANGED for \[127\.0\.0\.1\]:\d+/);
      assert.match(e.message, /man-in-the-middle/);
      assert.match(e.message, /Not connecting/);
    }
  });

  test('a hashed known_hosts entry (ssh-keygen -H) is recognised', async () => {
    const kh = path.join(s.dir, 'known_hosts_hashed');
    fs.copyFileSync(s.knownHostsFile, kh);
    execFileSync('ssh-keygen', ['-H', '-f', kh], { stdio: 'ignore' });
    const host = await resolveHost('box', {}, { configFile: writeSshConfig(s) });
    host.knownHostsFiles = [kh];
    const x = await connectSsh(host, { confirmHostKey: never });
    assert.equal((await x.exec('whoami')).stdout.trim(), s.user);
    x.close();
  });

  test('a second sshd works as a ProxyJump host (forwardOut), with its own host key check', async () => {
    const cfg = writeSshConfig(s, { jump });
    const host = await resolveHost('box', {}, { configFile: cfg });
    assert.equal(host.jumps.length, 1);
    assert.equal(host.jumps[0].port, jump.port);
    const x = await connectSsh(host, { confirmHostKey: never });
    const r = await x.exec('echo "$USER on $SSH_CONNECTION"; command -v torchrun');
    assert.match(r.stdout, new RegExp(`^${s.user} on 127\\.0\\.0\\.1 \\d+ 127\\.0\\.0\\.1 ${s.port}\\n.*/torchrun\\n$`));
    // Upload through the chain, checked by sha256.
    const local = path.join(s.dir, 'payload.bin');
    fs.writeFileSync(local, Buffer.from(Array.from({ length: 300_000 }, (_, i) => i % 251)));
    const remote = path.join(s.boxDir, 'payload.bin');
    await x.upload(local, remote);
    const sum = (await x.exec(`sha256sum ${remote}`)).stdout.split(' ')[0];
    assert.equal(sum, createHash('sha256').update(fs.readFileSync(local)).digest('hex'));
    x.close();
    // The jump host really carried it.
    assert.match(fs.readFileSync(jump.logFile, 'utf8'), new RegExp(`target 127\\.0\\.0\\.1 port ${s.port}`));
  });

  test('the jump host key is checked too: an unknown jump key asks', async () => {
    const cfg = writeSshConfig(s, { jump });
    const host = await resolveHost('box', {}, { configFile: cfg });
    host.jumps[0].knownHostsFiles = [path.join(jump.dir, 'none')];
    const asked: string[] = [];
    const e = await rejects(connectSsh(host, { confirmHostKey: async (p) => (asked.push(p.name), false) }));
    assert.deepEqual(asked, [`[127.0.0.1]:${jump.port}`]);
    assert.equal(e.kind, 'hostkey');
  });

  test('a wrong key gives an authentication error naming host and user', async () => {
    const wrong = path.join(s.dir, `wrong_${Date.now()}`);
    generateKey(wrong);
    const t = parseTargets([{ name: 't', kind: 'ssh', host: 'box' }]).targets[0];
    const e = await rejects(connectTarget(t, { confirmHostKey: never, resolve: { configFile: writeSshConfig(s, { identityFile: wrong }) } }));
    assert.equal(e.kind, 'auth');
    assert.match(e.message, new RegExp(`Authentication failed for user '${s.user}' on 127\\.0\\.0\\.1:${s.port}`));
    assert.match(e.message, new RegExp(`tried ${wrong}`));
  });

  test('a wrong user gives an authentication error naming host and user', async () => {
    const t = parseTargets([{ name: 't', kind: 'ssh', host: 'box', user: 'nobody-here' }]).targets[0];
    const e = await rejects(connectTarget(t, { confirmHostKey: never, resolve: { configFile: writeSshConfig(s) } }));
    assert.equal(e.kind, 'auth');
    assert.match(e.message, new RegExp(`user 'nobody-here' on 127\\.0\\.0\\.1:${s.port}`));
  });

  test('a passphrase-protected key asks for its passphrase (again after a wrong one)', async () => {
    const key = path.join(s.dir, `locked_${Date.now()}`);
    fs.appendFileSync(path.join(s.dir, 'authorized_keys'), generateKey(key, 'open sesame') + '\n');
    const host = await resolveHost('box', {}, { configFile: writeSshConfig(s, { identityFile: key }) });
    const asked: boolean[] = [];
    const accepted: string[] = [];
    const x = await connectSsh(host, {
      confirmHostKey: never,
      askPassphrase: async (file, retry) => {
        assert.equal(file, key);
        asked.push(retry);
        return retry ? 'open sesame' : 'wrong';
      },
      passphraseAccepted: (_f, p) => accepted.push(p),
    });
    x.close();
    assert.deepEqual(asked, [false, true]);
    assert.deepEqual(accepted, ['open sesame']);
    // Declining to give it skips the key.
    const e = await rejects(connectSsh(host, { confirmHostKey: never, askPassphrase: async () => undefined }));
    assert.equal(e.kind, 'auth');
  });

  test('keys in the ssh-agent (SSH_AUTH_SOCK) are used', async () => {
    const sock = path.join(s.dir, 'agent.sock');
    const agent = spawn('ssh-agent', ['-D', '-a', sock], { stdio: 'ignore' });
    try {
      for (let i = 0; i < 50 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
      execFileSync('ssh-add', [s.identityFile], { env: { ...process.env, SSH_AUTH_SOCK: sock }, stdio: 'ignore' });
      const cfg = path.join(s.dir, 'ssh_config_agent');
      fs.writeFileSync(cfg, `Host box\n HostName 127.0.0.1\n Port ${s.port}\n User ${s.user}\n IdentityFile ${s.dir}/absent_key\n UserKnownHostsFile ${s.knownHostsFile}\n`);
      const host = await resolveHost('box', {}, { configFile: cfg, env: { ...process.env, SSH_AUTH_SOCK: sock } });
      assert.equal(host.agentSocket, sock);
      const x = await connectSsh(host, { confirmHostKey: never });
      assert.equal((await x.exec('whoami')).stdout.trim(), s.user);
      x.close();
    } finally {
      agent.kill();
    }
  });

  test('a refused connection is a network error (retryable), not an auth error', async () => {
    const host = await resolveHost('box', {}, { configFile: writeSshConfig(s) });
    host.port = 1; // nothing listens there
    const e = await rejects(connectSsh(host, { confirmHostKey: never }));
    assert.equal(e.kind, 'network');
    assert.equal(e.retryable, true);
    assert.match(e.message, /connection refused/);
  });
});
