// A real OpenSSH sshd on 127.0.0.1 for tests: a free port, its own host key and client key, a non-root user
// (`speedrun-test`), and the simulated GPU box (test/sim) first on that user's PATH. Needs root (sshd
// switches to the user) and openssh-server. See docs/testing.md.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';

export const TEST_USER = 'speedrun-test';
/** The repository root, found upwards from here (works from out/ and from esbuild bundles in dist/). */
export const REPO_ROOT = (() => {
  for (let d = __dirname; ; d = path.dirname(d)) {
    if (fs.existsSync(path.join(d, 'test/sim/torchrun'))) return d;
    if (path.dirname(d) === d) throw new Error(`no test/sim above ${__dirname}`);
  }
})();
const SIM_SRC = path.join(REPO_ROOT, 'test/sim');

export interface SshdOptions {
  /** Remote user (created if missing). Default speedrun-test. */
  user?: string;
  /** Extra `SetEnv` variables for every session (e.g. SIM_GPUS). */
  env?: Record<string, string>;
  /** Put the simulated GPU box on the user's PATH (default true). */
  sim?: boolean;
  /** sshd LogLevel (default VERBOSE; DEBUG1 also logs forwarded connections). */
  logLevel?: string;
}

export interface Sshd {
  host: '127.0.0.1';
  port: number;
  user: string;
  /** Private key authorized for `user` (no passphrase). */
  identityFile: string;
  /** A known_hosts file holding this server's key as `[127.0.0.1]:port`. */
  knownHostsFile: string;
  /** This server's host public key line (`ssh-ed25519 AAAA...`). */
  hostKeyPub: string;
  /** Scratch directory of this instance (config, keys, logs); `dir/box` is owned by the user. */
  dir: string;
  /** A directory owned by `user`, for remoteDir. */
  boxDir: string;
  /** sshd's own log (LogLevel VERBOSE). */
  logFile: string;
  /** Start again on the same port with the same keys (after kill()). */
  start(): Promise<void>;
  /** SIGKILL the daemon and every connection it serves: clients see the connection drop. */
  kill(): void;
  /** kill(), then end the user's processes started from this instance and remove its files. */
  stop(): Promise<void>;
  /** Plain data for cleanupSshd() from another process. */
  info(): SshdInfo;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

/** Generate an ed25519 key pair at `file` (+ `.pub`). */
export function generateKey(file: string, passphrase = ''): string {
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', passphrase, '-C', 'speedrun-test', '-f', file]);
  return fs.readFileSync(file + '.pub', 'utf8').trim();
}

export function ensureUser(user: string): { uid: number; gid: number; home: string } {
  const lookup = () => {
    const line = fs.readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.startsWith(user + ':'));
    if (!line) return undefined;
    const f = line.split(':');
    return { uid: Number(f[2]), gid: Number(f[3]), home: f[5] };
  };
  let u = lookup();
  if (!u) {
    try {
      execFileSync('useradd', ['-m', '-s', '/bin/bash', user], { stdio: 'pipe' });
    } catch (e) {
      // Another test process may have created it meanwhile.
      if (!lookup()) throw e;
    }
    // '*' (not '!'): no password login, yet not "locked", which sshd would refuse even for keys.
    execFileSync('usermod', ['-p', '*', user]);
    u = lookup()!;
  }
  return u;
}

function children(): Map<number, number[]> {
  const kids = new Map<number, number[]>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      kids.set(ppid, [...(kids.get(ppid) ?? []), Number(d)]);
    } catch {
      /* gone */
    }
  }
  return kids;
}

function comm(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

export async function startSshd(opts: SshdOptions = {}): Promise<Sshd> {
  const user = opts.user ?? TEST_USER;
  const u = ensureUser(user);
  fs.mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-sshd-'));
  fs.chmodSync(dir, 0o755);
  const hostKey = path.join(dir, 'host_ed25519');
  const identityFile = path.join(dir, 'client_ed25519');
  const hostKeyPub = generateKey(hostKey).split(' ').slice(0, 2).join(' ');
  const clientPub = generateKey(identityFile);
  fs.writeFileSync(path.join(dir, 'authorized_keys'), clientPub + '\n', { mode: 0o644 });
  const boxDir = path.join(dir, 'box');
  fs.mkdirSync(boxDir);
  fs.chownSync(boxDir, u.uid, u.gid);

  const pathDirs = ['/usr/local/bin', '/usr/bin', '/bin'];
  const setEnv: Record<string, string> = { ...opts.env };
  if (opts.sim !== false) {
    // A copy, so the user can read it wherever the repo lives.
    const sim = path.join(dir, 'sim');
    fs.cpSync(SIM_SRC, sim, { recursive: true });
    fs.chmodSync(dir, 0o755);
    pathDirs.unshift(sim);
    setEnv.PYTHONPATH = path.join(sim, 'pylib');
  }
  setEnv.PATH = pathDirs.join(':');

  const port = await freePort();
  const logFile = path.join(dir, 'sshd.log');
  const config = path.join(dir, 'sshd_config');
  const q = (v: string) => (/[\s"]/.test(v) ? `"${v.replace(/"/g, '')}"` : v);
  fs.writeFileSync(
    config,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      `HostKey ${hostKey}`,
      `PidFile ${path.join(dir, 'sshd.pid')}`,
      `AuthorizedKeysFile ${path.join(dir, 'authorized_keys')}`,
      'UsePAM no',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin no',
      'StrictModes no',
      'AllowTcpForwarding yes',
      'Subsystem sftp internal-sftp',
      'MaxStartups 50',
      `LogLevel ${opts.logLevel ?? 'VERBOSE'}`,
      `SetEnv ${Object.entries(setEnv).map(([k, v]) => q(`${k}=${v}`)).join(' ')}`,
      '',
    ].join('\n'),
  );
  execFileSync('/usr/sbin/sshd', ['-t', '-f', config]);
  const knownHostsFile = path.join(dir, 'known_hosts');
  fs.writeFileSync(knownHostsFile, `[127.0.0.1]:${port} ${hostKeyPub}\n`);

  let proc: ChildProcess | undefined;
  const waitListening = async () => {
    for (let i = 0; i < 100; i++) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = net.connect(port, '127.0.0.1');
        s.once('data', (b) => {
          s.destroy();
          resolve(b.toString().startsWith('SSH-'));
        });
        s.once('error', () => resolve(false));
      });
      if (ok) return;
      if (proc?.exitCode != null) throw new Error(`sshd exited (${proc.exitCode}); see ${logFile}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`sshd did not start on port ${port}; see ${logFile}`);
  };
  const start = async () => {
    // -D: stay in the foreground as our child, so we know its pid; -E: log to a file.
    // Own process group: it outlives whatever started it (an extension host that reloads, in the re-attach suite).
    proc = spawn('/usr/sbin/sshd', ['-D', '-f', config, '-E', logFile], { stdio: 'ignore', detached: true });
    proc.unref();
    proc.on('error', () => {});
    await waitListening();
  };
  const kill = () => {
    if (proc?.pid) killSshd(proc.pid);
    proc = undefined;
  };
  const stop = async () => {
    const pid = proc?.pid;
    proc = undefined;
    cleanupSshd({ pid, dir, uid: u.uid });
  };
  await start();
  return {
    host: '127.0.0.1', port, user, identityFile, knownHostsFile, hostKeyPub, dir, boxDir, logFile, start, kill, stop,
    info: () => ({ pid: proc?.pid, dir, uid: u.uid }),
  };
}

/** SIGKILL an sshd and every connection process it forked (its user sessions' commands survive). */
export function killSshd(pid: number): void {
  const kids = children();
  const victims: number[] = [];
  const walk = (p: number) => {
    for (const c of kids.get(p) ?? []) {
      if (comm(c) === 'sshd') {
        victims.push(c);
        walk(c);
      }
    }
  };
  walk(pid);
  for (const p of [pid, ...victims]) {
    try {
      process.kill(p, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}

/** What stop() needs, as plain data, so another process can clean up an sshd it did not start. */
export interface SshdInfo {
  pid?: number;
  dir: string;
  uid: number;
}

/** Kill the sshd, the user's processes started under its directory (runs, tails), and remove its files. */
export function cleanupSshd(info: SshdInfo): void {
  if (info.pid) killSshd(info.pid);
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.statSync(`/proc/${d}`).uid !== info.uid) continue;
      if (fs.readlinkSync(`/proc/${d}/cwd`).startsWith(info.dir)) process.kill(Number(d), 'SIGKILL');
    } catch {
      /* gone or not ours */
    }
  }
  fs.rmSync(info.dir, { recursive: true, force: true });
}
