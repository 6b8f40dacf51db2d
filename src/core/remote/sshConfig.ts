// Resolve a host the way OpenSSH would: `ssh -G` when an OpenSSH client is installed (it knows every
// config rule: Match, Include, defaults), else the `ssh-config` package over ~/.ssh/config.
// `ssh -G` behaves exactly as `ssh` does, so it runs the `Match exec` commands of the user's own ssh config (as
// every `ssh box` from their terminal does); README and Configure Targets say so. A task folder can't supply that
// config, and host and user names are checked first, so no target can smuggle shell code into a `%h` or `%r` of
// such a command (OpenSSH before 9.6 expands them unchecked).
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import SSHConfig from 'ssh-config';

export interface ResolvedHost {
  /** What the user typed (alias or hostname). */
  alias: string;
  hostname: string;
  port: number;
  user: string;
  /** Candidate private keys in order (absolute; may not exist, as with OpenSSH's defaults). */
  identityFiles: string[];
  identitiesOnly: boolean;
  /** ssh-agent socket, or null when IdentityAgent none / no SSH_AUTH_SOCK. */
  agentSocket: string | null;
  knownHostsFiles: string[];
  /** Name to look up in known_hosts instead of the hostname (HostKeyAlias). */
  hostKeyAlias?: string;
  /** Jump hosts in order, each resolved the same way. */
  jumps: ResolvedHost[];
  via: 'ssh -G' | 'ssh-config';
}

export interface ResolveOptions {
  /** Config file instead of ~/.ssh/config (ssh -F). */
  configFile?: string;
  /** OpenSSH client to ask; null forces the built-in parser. Default: `ssh` on PATH. */
  sshBinary?: string | null;
  /** Environment for HOME, USER, SSH_AUTH_SOCK. Default: process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface HostOverrides {
  user?: string;
  port?: number;
  identityFile?: string;
}

const DEFAULT_IDENTITIES = ['id_rsa', 'id_ecdsa', 'id_ecdsa_sk', 'id_ed25519', 'id_ed25519_sk', 'id_xmss', 'id_dsa'];

function home(env: NodeJS.ProcessEnv): string {
  return env.HOME || os.homedir();
}
function localUser(env: NodeJS.ProcessEnv): string {
  return env.USER || env.LOGNAME || os.userInfo().username;
}

/** Expand `~` and the %-tokens OpenSSH allows in IdentityFile and friends. */
export function expandPath(p: string, ctx: { home: string; localUser: string; host: string; user: string; port: number }): string {
  let s = p.replace(/%([%dhrpul])/g, (_, t: string) => {
    switch (t) {
      case '%': return '%';
      case 'd': return ctx.home;
      case 'h': return ctx.host;
      case 'r': return ctx.user;
      case 'p': return String(ctx.port);
      case 'u': return ctx.localUser;
      default: return os.hostname(); // %l
    }
  });
  if (s === '~') s = ctx.home;
  else if (s.startsWith('~/')) s = path.join(ctx.home, s.slice(2));
  return s;
}

/** `[user@]host[:port]` or `ssh://[user@]host[:port]`, one ProxyJump hop. */
export function parseJump(spec: string): { host: string; user?: string; port?: number } {
  let s = spec.trim().replace(/^ssh:\/\//, '');
  let user: string | undefined;
  const at = s.lastIndexOf('@');
  if (at >= 0) {
    user = s.slice(0, at);
    s = s.slice(at + 1);
  }
  let port: number | undefined;
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(s) ?? /^([^:]+)(?::(\d+))?$/.exec(s);
  if (m) {
    s = m[1];
    if (m[2]) port = Number(m[2]);
  }
  return { host: s, user, port };
}

function run(bin: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, { env, timeout: 10_000, maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${bin} ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else resolve(stdout);
    });
  });
}

type Raw = Map<string, string[]>;

async function viaSshG(bin: string, host: string, o: HostOverrides, opts: ResolveOptions, env: NodeJS.ProcessEnv): Promise<Raw> {
  const args = ['-G'];
  if (opts.configFile) args.push('-F', opts.configFile);
  if (o.user) args.push('-l', o.user);
  if (o.port) args.push('-p', String(o.port));
  // `--` keeps a host starting with '-' from being read as an option.
  args.push('--', host);
  const out = await run(bin, args, env);
  const raw: Raw = new Map();
  for (const line of out.split('\n')) {
    const m = /^(\S+)\s+(.*)$/.exec(line.trim());
    if (!m) continue;
    const k = m[1].toLowerCase();
    raw.set(k, [...(raw.get(k) ?? []), m[2]]);
  }
  return raw;
}

function viaPackage(host: string, o: HostOverrides, opts: ResolveOptions, env: NodeJS.ProcessEnv): Raw {
  const file = opts.configFile ?? path.join(home(env), '.ssh', 'config');
  let text = '';
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch {
    /* no config: defaults only */
  }
  // Match exec is not evaluated here (the package can't): without an OpenSSH client no config command runs.
  const c = SSHConfig.parse(text).compute(host, { ignoreCase: true, matchExec: false });
  const raw: Raw = new Map();
  for (const [k, v] of Object.entries(c)) raw.set(k.toLowerCase(), Array.isArray(v) ? v : [v]);
  if (!raw.has('hostname')) raw.set('hostname', [host]);
  if (o.user) raw.set('user', [o.user]);
  if (o.port) raw.set('port', [String(o.port)]);
  if (!raw.has('user')) raw.set('user', [localUser(env)]);
  if (!raw.has('port')) raw.set('port', ['22']);
  if (!raw.has('identityfile')) raw.set('identityfile', DEFAULT_IDENTITIES.map((n) => `~/.ssh/${n}`));
  if (!raw.has('userknownhostsfile')) raw.set('userknownhostsfile', ['~/.ssh/known_hosts ~/.ssh/known_hosts2']);
  return raw;
}

let sshOnPath: Promise<string | null> | undefined;
function findSsh(): Promise<string | null> {
  sshOnPath ??= new Promise((resolve) => {
    execFile('ssh', ['-V'], { timeout: 5000 }, (err) => resolve(err && (err as NodeJS.ErrnoException).code === 'ENOENT' ? null : 'ssh'));
  });
  return sshOnPath;
}

/** Resolve `host` (alias or name) with explicit overrides winning over the config, as on ssh's command line. */
// Hostnames, aliases, IPv4 and [IPv6]; user names as Unix allows them. No shell metacharacters, no leading '-'.
const SAFE_HOST = /^[A-Za-z0-9_[][A-Za-z0-9._:[\]-]*$/;
const SAFE_USER = /^[A-Za-z0-9_][A-Za-z0-9._@-]*\$?$/;

export async function resolveHost(host: string, overrides: HostOverrides = {}, opts: ResolveOptions = {}, depth = 0): Promise<ResolvedHost> {
  if (!SAFE_HOST.test(host)) throw new Error(`${JSON.stringify(host)} is not a host name or ssh config alias (letters, digits, '.', '-', '_', ':' only)`);
  if (overrides.user !== undefined && !SAFE_USER.test(overrides.user)) throw new Error(`${JSON.stringify(overrides.user)} is not a valid user name`);
  const env = opts.env ?? process.env;
  const bin = opts.sshBinary === undefined ? await findSsh() : opts.sshBinary;
  const raw = bin ? await viaSshG(bin, host, overrides, opts, env) : viaPackage(host, overrides, opts, env);
  const get = (k: string) => raw.get(k)?.[0];
  const hostname = get('hostname') ?? host;
  const port = Number(get('port') ?? 22);
  const user = get('user') ?? localUser(env);
  const ctx = { home: home(env), localUser: localUser(env), host: hostname, user, port };
  const ids = (raw.get('identityfile') ?? []).map((p) => expandPath(p, ctx));
  if (overrides.identityFile) ids.unshift(expandPath(overrides.identityFile, ctx));
  const agentSetting = get('identityagent');
  let agentSocket: string | null = env.SSH_AUTH_SOCK || null;
  if (agentSetting && agentSetting.toLowerCase() === 'none') agentSocket = null;
  else if (agentSetting && agentSetting !== 'SSH_AUTH_SOCK') agentSocket = agentSetting.startsWith('$') ? env[agentSetting.slice(1)] || null : expandPath(agentSetting, ctx);
  const knownHostsFiles = (raw.get('userknownhostsfile') ?? []).flatMap((v) => v.split(/\s+/)).filter(Boolean).map((p) => expandPath(p, ctx));
  const jumpSpec = get('proxyjump');
  const jumps: ResolvedHost[] = [];
  if (jumpSpec && jumpSpec.toLowerCase() !== 'none') {
    if (depth > 4) throw new Error(`ProxyJump chain for ${host} is too deep (a loop in the ssh config?)`);
    for (const hop of jumpSpec.split(',')) {
      const j = parseJump(hop);
      const r = await resolveHost(j.host, { user: j.user, port: j.port }, opts, depth + 1);
      // A jump host's own jumps come first in the chain, as with nested ProxyJump in OpenSSH.
      jumps.push(...r.jumps, { ...r, jumps: [] });
    }
  }
  return {
    alias: host,
    hostname,
    port,
    user,
    identityFiles: [...new Set(ids)],
    identitiesOnly: (get('identitiesonly') ?? 'no').toLowerCase() === 'yes',
    agentSocket,
    knownHostsFiles,
    hostKeyAlias: get('hostkeyalias'),
    jumps,
    via: bin ? 'ssh -G' : 'ssh-config',
  };
}

/** Where accepted keys are appended: the first UserKnownHostsFile, as OpenSSH does. */
export function knownHostsFileForWrite(h: ResolvedHost): string {
  return h.knownHostsFiles[0] ?? path.join(os.homedir(), '.ssh', 'known_hosts');
}

/** user@host:port, for messages. */
export function describeHost(h: Pick<ResolvedHost, 'user' | 'hostname' | 'port'>): string {
  return `${h.user}@${h.hostname}${h.port === 22 ? '' : `:${h.port}`}`;
}
