// known_hosts checking as OpenSSH does it: plain and hashed (|1|salt|hash) host patterns, [host]:port for
// non-default ports, wildcards and negations, @revoked markers. A changed key is never accepted.
import { createHash, createHmac, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface KnownHostEntry {
  marker: '@revoked' | '@cert-authority' | null;
  /** Comma-separated patterns, or one hashed `|1|salt|hash` entry. */
  hosts: string;
  keyType: string;
  key: Buffer;
  file: string;
  line: number;
}

export type HostKeyVerdict =
  | { status: 'known'; entry: KnownHostEntry }
  | { status: 'unknown'; otherTypesKnown: string[] }
  | { status: 'changed'; entry: KnownHostEntry }
  | { status: 'revoked'; entry: KnownHostEntry };

/** The name known_hosts stores for a host: `host` on port 22, `[host]:port` otherwise. */
export function knownHostName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

/** `SHA256:<base64 without padding>`, the form `ssh-keygen -lf` and OpenSSH prompts print. */
export function fingerprintSha256(key: Buffer): string {
  return 'SHA256:' + createHash('sha256').update(key).digest('base64').replace(/=+$/, '');
}

/** The algorithm name at the start of an SSH wire-format public key blob. */
export function keyTypeOf(key: Buffer): string {
  if (key.length < 4) return '';
  const n = key.readUInt32BE(0);
  return key.subarray(4, 4 + n).toString('latin1');
}

export function parseKnownHosts(text: string, file = ''): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const parts = line.split(/\s+/);
    let marker: KnownHostEntry['marker'] = null;
    if (parts[0] === '@revoked' || parts[0] === '@cert-authority') marker = parts.shift() as KnownHostEntry['marker'];
    else if (parts[0].startsWith('@')) return; // unknown marker: ignored, as OpenSSH does
    if (parts.length < 3) return;
    const [hosts, keyType, b64] = parts;
    const key = Buffer.from(b64, 'base64');
    if (!key.length) return;
    out.push({ marker, hosts, keyType, key, file, line: i + 1 });
  });
  return out;
}

/** OpenSSH-style wildcard match (`*`, `?`), case-insensitive. */
function wildcard(pattern: string, name: string): boolean {
  const re = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${re}$`, 'i').test(name);
}

function hashedMatch(entry: string, name: string): boolean {
  const m = /^\|1\|([^|]+)\|([^|]+)$/.exec(entry);
  if (!m) return false;
  const mac = createHmac('sha1', Buffer.from(m[1], 'base64')).update(name).digest();
  return mac.equals(Buffer.from(m[2], 'base64'));
}

/** Does an entry's host field name this host? A matching negated pattern excludes it. */
export function hostMatches(hosts: string, name: string): boolean {
  if (hosts.startsWith('|')) return hashedMatch(hosts, name);
  let matched = false;
  for (const p of hosts.split(',')) {
    if (p.startsWith('!')) {
      if (wildcard(p.slice(1), name)) return false;
    } else if (wildcard(p, name)) matched = true;
  }
  return matched;
}

/** Decide what the presented key means for `name` (as made by knownHostName). */
export function checkHostKey(entries: KnownHostEntry[], name: string, key: Buffer): HostKeyVerdict {
  const mine = entries.filter((e) => e.marker !== '@cert-authority' && hostMatches(e.hosts, name));
  const revoked = entries.find((e) => e.marker === '@revoked' && e.key.equals(key));
  if (revoked) return { status: 'revoked', entry: revoked };
  const plain = mine.filter((e) => e.marker === null);
  const same = plain.find((e) => e.key.equals(key));
  if (same) return { status: 'known', entry: same };
  const type = keyTypeOf(key);
  const sameType = plain.find((e) => e.keyType === type);
  if (sameType) return { status: 'changed', entry: sameType };
  return { status: 'unknown', otherTypesKnown: [...new Set(plain.map((e) => e.keyType))] };
}

export function readKnownHosts(files: string[]): KnownHostEntry[] {
  const out: KnownHostEntry[] = [];
  for (const f of files) {
    let text: string;
    try {
      text = fs.readFileSync(f, 'utf8');
    } catch {
      continue;
    }
    out.push(...parseKnownHosts(text, f));
  }
  return out;
}

/** The key types known for a host, for preferring them in key exchange (as OpenSSH does). */
export function knownKeyTypes(entries: KnownHostEntry[], name: string): string[] {
  return [...new Set(entries.filter((e) => e.marker === null && hostMatches(e.hosts, name)).map((e) => e.keyType))];
}

/** Append an accepted key. `hashed` writes a `|1|salt|hash` entry, as HashKnownHosts does. */
export function appendKnownHost(file: string, name: string, key: Buffer, hashed = false): void {
  let hosts = name;
  if (hashed) {
    const salt = randomBytes(20);
    hosts = `|1|${salt.toString('base64')}|${createHmac('sha1', salt).update(name).digest('base64')}`;
  }
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  let prefix = '';
  try {
    const cur = fs.readFileSync(file, 'utf8');
    if (cur && !cur.endsWith('\n')) prefix = '\n';
  } catch {
    /* new file */
  }
  fs.appendFileSync(file, `${prefix}${hosts} ${keyTypeOf(key)} ${key.toString('base64')}\n`, { mode: 0o600 });
}

/** Words for a refused (changed or revoked) key; shown as is to the user. */
export function explainRefusal(verdict: HostKeyVerdict, name: string, key: Buffer): string {
  if (verdict.status === 'revoked') {
    return `The host key of ${name} (${fingerprintSha256(key)}) is marked @revoked in ${verdict.entry.file}:${verdict.entry.line}. Not connecting.`;
  }
  if (verdict.status === 'changed') {
    return (
      `HOST KEY CHANGED for ${name}: it now presents ${keyTypeOf(key)} ${fingerprintSha256(key)}, but ` +
      `${verdict.entry.file}:${verdict.entry.line} records a different ${verdict.entry.keyType} key ` +
      `(${fingerprintSha256(verdict.entry.key)}). Someone could be intercepting the connection (man-in-the-middle), ` +
      `or the box was reinstalled. Not connecting. If you know the key changed legitimately, remove the old entry ` +
      `(ssh-keygen -R '${name}'${verdict.entry.file ? ` -f '${verdict.entry.file}'` : ''}) and try again.`
    );
  }
  return `Host key for ${name} was not accepted.`;
}
