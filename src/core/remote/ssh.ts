// SSH connections with ssh2: ProxyJump chains (forwardOut), agent + identity files + passphrases, and host
// keys checked against known_hosts before anything else happens.
import * as fs from 'node:fs';
import { Client, utils, type ClientChannel, type ConnectConfig, type AnyAuthMethod, type AuthenticationType, type ServerHostKeyAlgorithm } from 'ssh2';
import { ConnectionLostError, type ExecOptions, type ExecResult, type Executor } from './executor';
import {
  appendKnownHost, checkHostKey, explainRefusal, fingerprintSha256, keyTypeOf, knownHostName, knownKeyTypes, readKnownHosts,
} from './knownHosts';
import { shellQuote } from './shell';
import { describeHost, knownHostsFileForWrite, type ResolvedHost } from './sshConfig';

export interface HostKeyPrompt {
  /** `host` or `[host]:port`, as known_hosts names it. */
  name: string;
  keyType: string;
  fingerprint: string;
  /** Key types already known for this host (the new key is of another type). */
  otherTypesKnown: string[];
  /** Where an accepted key is appended. */
  knownHostsFile: string;
}

export interface ConnectCallbacks {
  /** An unknown host key: resolve true to trust it (it is then appended to known_hosts). */
  confirmHostKey(p: HostKeyPrompt): Promise<boolean>;
  /** An encrypted key: resolve its passphrase, or undefined to skip the key. `retry` is set after a wrong one. */
  askPassphrase?(keyFile: string, retry: boolean): Promise<string | undefined>;
  /** A passphrase that worked, so the caller may offer to remember it. */
  passphraseAccepted?(keyFile: string, passphrase: string): void;
  log?(msg: string): void;
}

export type SshErrorKind = 'auth' | 'hostkey' | 'network' | 'config';

export class SshError extends Error {
  constructor(message: string, readonly kind: SshErrorKind) {
    super(message);
  }
  get retryable() {
    return this.kind === 'network';
  }
}

export interface ConnectOptions {
  readyTimeoutMs?: number;
  keepaliveIntervalMs?: number;
}

interface Hop {
  client: Client;
  host: ResolvedHost;
}

/** An open connection (through its jump hosts) that runs bash scripts and uploads over SFTP. */
export class SshExecutor implements Executor {
  readonly label: string;
  private isClosed = false;
  private dropError: Error | undefined;

  constructor(private readonly hops: Hop[]) {
    this.label = describeHost(hops[hops.length - 1].host);
    // Any hop going away ends the chain; later calls fail with the reason.
    for (const h of hops) {
      h.client.once('close', () => {
        this.dropError ??= new ConnectionLostError(`connection to ${describeHost(h.host)} closed`);
        this.closeAll();
      });
      h.client.on('error', (e) => (this.dropError ??= new ConnectionLostError(`connection to ${describeHost(h.host)} lost: ${e.message}`)));
    }
  }

  private get client() {
    return this.hops[this.hops.length - 1].client;
  }

  exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return new Promise((resolve, reject) => {
      if (this.isClosed || this.dropError) return reject(this.dropError ?? new ConnectionLostError('connection closed'));
      // bash explicitly: the login shell may be zsh or fish, and our scripts are bash.
      const command = `exec bash -c ${shellQuote(script)}`;
      // Raw terminal: no \n -> \r\n translation (OPOST), no echo, so the bytes are the file's bytes.
      const ptyOpts: import('ssh2').ExecOptions = opts.lowLatency ? { pty: { term: 'dumb', cols: 512, modes: { OPOST: 0, ECHO: 0, ICANON: 0, ISIG: 0, IEXTEN: 0 } } } : {};
      this.client.exec(command, ptyOpts, (err, stream: ClientChannel) => {
        if (err) return reject(this.dropError ?? new ConnectionLostError(`${this.label}: ${err.message}`));
        const out: Buffer[] = [];
        const errs: Buffer[] = [];
        let exit: { code: number | null; signal: string | null } | undefined;
        stream.on('data', (b: Buffer) => (opts.onStdout ? opts.onStdout(b) : out.push(b)));
        stream.stderr.on('data', (b: Buffer) => errs.push(b));
        if (opts.stdin !== undefined) stream.end(opts.stdin);
        stream.on('exit', (code: number | null, signal?: string) => (exit = { code: code ?? null, signal: signal ?? null }));
        stream.on('close', () => {
          if (!exit) return reject(this.dropError ?? new ConnectionLostError(`${this.label}: channel closed before the command ended`));
          resolve({ ...exit, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(errs).toString('utf8') });
        });
      });
    });
  }

  upload(localFile: string, remotePath: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.client.sftp((err, sftp) => {
        if (err) return reject(this.dropError ?? new ConnectionLostError(`${this.label}: SFTP unavailable: ${err.message}`));
        sftp.fastPut(localFile, remotePath, (e) => {
          sftp.end();
          if (e) reject(this.dropError ?? new Error(`upload to ${this.label}:${remotePath} failed: ${e.message}`));
          else resolve();
        });
      });
    });
  }

  close(): void {
    this.isClosed = true;
    this.closeAll();
  }

  private closeAll() {
    for (const h of [...this.hops].reverse()) h.client.end();
  }
}

/** A private key candidate, parsed lazily (a passphrase may be needed). */
function loadKey(file: string): { data: Buffer } | null {
  try {
    return { data: fs.readFileSync(file) };
  } catch {
    return null;
  }
}

const needsPassphrase = (e: Error) => /passphrase|encrypted/i.test(e.message);

/**
 * Authentication in OpenSSH's order: the agent (unless IdentitiesOnly), then each identity file.
 * Encrypted keys ask for a passphrase through the callback.
 */
function authHandler(h: ResolvedHost, cb: ConnectCallbacks, tried: string[]) {
  const steps: Array<() => Promise<AnyAuthMethod | null>> = [];
  if (h.agentSocket && !h.identitiesOnly && fs.existsSync(h.agentSocket)) {
    steps.push(async () => {
      tried.push('ssh-agent');
      return { type: 'agent', username: h.user, agent: h.agentSocket! };
    });
  }
  for (const file of h.identityFiles) {
    steps.push(async () => {
      const k = loadKey(file);
      if (!k) return null;
      let parsed = utils.parseKey(k.data);
      let passphrase: string | undefined;
      for (let attempt = 0; parsed instanceof Error && needsPassphrase(parsed) && cb.askPassphrase && attempt < 3; attempt++) {
        passphrase = await cb.askPassphrase(file, attempt > 0);
        if (passphrase === undefined) return null;
        parsed = utils.parseKey(k.data, passphrase);
      }
      if (parsed instanceof Error) {
        cb.log?.(`skipping key ${file}: ${parsed.message}`);
        return null;
      }
      if (passphrase !== undefined) cb.passphraseAccepted?.(file, passphrase);
      tried.push(file);
      return { type: 'publickey', username: h.user, key: Array.isArray(parsed) ? parsed[0] : parsed };
    });
  }
  return (methodsLeft: AuthenticationType[] | null, _partial: boolean | null, next: (m: AnyAuthMethod | false) => void) => {
    const advance = async (): Promise<void> => {
      if (methodsLeft && !methodsLeft.includes('publickey')) return next(false);
      const step = steps.shift();
      if (!step) return next(false);
      const m = await step().catch(() => null);
      if (m) next(m);
      else await advance();
    };
    void advance();
  };
}

function connectHop(h: ResolvedHost, cb: ConnectCallbacks, opts: ConnectOptions, sock?: NodeJS.ReadableStream): Promise<Client> {
  const entries = readKnownHosts(h.knownHostsFiles);
  const name = knownHostName(h.hostKeyAlias ?? h.hostname, h.port);
  const tried: string[] = [];
  let refusal: string | undefined;
  const client = new Client();
  // Prefer key types we already know for this host, so a known host is checked against its known key.
  const known = knownKeyTypes(entries, name).flatMap((t) => (t === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [t]));
  const config: ConnectConfig = {
    host: sock ? undefined : h.hostname,
    port: sock ? undefined : h.port,
    sock: sock as ConnectConfig['sock'],
    username: h.user,
    readyTimeout: opts.readyTimeoutMs ?? 20_000,
    keepaliveInterval: opts.keepaliveIntervalMs ?? 5_000,
    keepaliveCountMax: 3,
    algorithms: known.length ? { serverHostKey: { prepend: known as ServerHostKeyAlgorithm[], append: [], remove: [] } } : undefined,
    hostVerifier: (key: Buffer, verify: (ok: boolean) => void) => {
      const v = checkHostKey(entries, name, key);
      if (v.status === 'known') return verify(true);
      if (v.status !== 'unknown') {
        refusal = explainRefusal(v, name, key);
        return verify(false);
      }
      const file = knownHostsFileForWrite(h);
      cb.confirmHostKey({ name, keyType: keyTypeOf(key), fingerprint: fingerprintSha256(key), otherTypesKnown: v.otherTypesKnown, knownHostsFile: file }).then(
        (ok) => {
          if (ok) {
            try {
              appendKnownHost(file, name, key);
            } catch (e) {
              cb.log?.(`could not save the host key to ${file}: ${(e as Error).message}`);
            }
          } else refusal = `The host key of ${name} (${fingerprintSha256(key)}) was not trusted. Not connecting.`;
          verify(ok);
        },
        () => verify(false),
      );
    },
    authHandler: authHandler(h, cb, tried) as ConnectConfig['authHandler'],
  };
  return new Promise((resolve, reject) => {
    let settled = false;
    client.once('ready', () => {
      settled = true;
      // Requests are small; don't let Nagle hold one back waiting for the previous one's ACK.
      client.setNoDelay(true);
      resolve(client);
    });
    client.on('error', (e: Error & { level?: string; code?: string }) => {
      if (settled) return;
      settled = true;
      client.end();
      const who = describeHost(h);
      if (refusal) return reject(new SshError(refusal, 'hostkey'));
      if (e.level === 'client-authentication') {
        const what = tried.length ? `tried ${tried.join(', ')}` : 'no usable key: no ssh-agent and none of the identity files exist';
        return reject(new SshError(`Authentication failed for user '${h.user}' on ${h.hostname}:${h.port} (${what}). Check the user name and that the public key is in that user's authorized_keys.`, 'auth'));
      }
      if (e.level === 'client-timeout') return reject(new SshError(`Timed out connecting to ${who}`, 'network'));
      reject(new SshError(`Cannot connect to ${who}: ${e.code === 'ECONNREFUSED' ? 'connection refused' : e.message}`, 'network'));
    });
    client.once('close', () => {
      if (!settled) {
        settled = true;
        reject(refusal ? new SshError(refusal, 'hostkey') : new SshError(`Connection to ${describeHost(h)} closed during the handshake`, 'network'));
      }
    });
    client.connect(config);
  });
}

/** Connect through `host.jumps` (each with its own host key check and auth) to `host`. */
export async function connectSsh(host: ResolvedHost, cb: ConnectCallbacks, opts: ConnectOptions = {}): Promise<SshExecutor> {
  const chain = [...host.jumps, host];
  const hops: Hop[] = [];
  try {
    for (const h of chain) {
      let sock: NodeJS.ReadableStream | undefined;
      const prev = hops[hops.length - 1];
      if (prev) {
        sock = await new Promise<NodeJS.ReadableStream>((resolve, reject) =>
          prev.client.forwardOut('127.0.0.1', 0, h.hostname, h.port, (err, stream) =>
            err ? reject(new SshError(`Jump host ${describeHost(prev.host)} could not reach ${h.hostname}:${h.port}: ${err.message}`, 'network')) : resolve(stream),
          ),
        );
      }
      hops.push({ client: await connectHop(h, cb, opts, sock), host: h });
    }
  } catch (e) {
    for (const h of hops.reverse()) h.client.end();
    throw e;
  }
  return new SshExecutor(hops);
}
