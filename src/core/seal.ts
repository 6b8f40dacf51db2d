// Secrets between two processes whose messages may be traced (the language client and server: with
// `speedrun.trace.server: verbose` every message lands in an output channel). The parent hands the child a
// random key in its environment at spawn; secrets then travel sealed with AES-256-GCM, so a trace shows only
// ciphertext. The key never travels in a message.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

export const SEAL_KEY_ENV = 'SPEEDRUN_SEAL_KEY';

export function newSealKey(): string {
  return randomBytes(32).toString('hex');
}

export function seal(secret: string, keyHex: string): string {
  const iv = randomBytes(12);
  const c = createCipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), iv);
  const body = Buffer.concat([c.update(secret, 'utf8'), c.final()]);
  return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64');
}

/** The secret, or an Error when `sealed` was not made with this key (or was altered). */
export function unseal(sealed: string, keyHex: string): string {
  const raw = Buffer.from(sealed, 'base64');
  if (raw.length < 28) throw new Error('the sealed secret is malformed');
  const d = createDecipheriv('aes-256-gcm', Buffer.from(keyHex, 'hex'), raw.subarray(0, 12));
  d.setAuthTag(raw.subarray(12, 28));
  try {
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
  } catch {
    throw new Error('the sealed secret does not open with this session key');
  }
}

/** Reads the key from the environment once and removes it, so processes this one starts do not inherit it. */
export function takeSealKey(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const key = env[SEAL_KEY_ENV];
  delete env[SEAL_KEY_ENV];
  return key && /^[0-9a-f]{64}$/.test(key) ? key : undefined;
}
