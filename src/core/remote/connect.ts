// One entry point from a Target to an Executor: local bash, or SSH (a box or a Slurm login node) resolved like
// OpenSSH would.
import { LocalExecutor, type Executor } from './executor';
import { connectSsh, SshError, type ConnectCallbacks, type ConnectOptions } from './ssh';
import { resolveHost, type ResolveOptions } from './sshConfig';
import type { Target } from './targets';

export interface ConnectDeps extends ConnectCallbacks {
  resolve?: ResolveOptions;
  connect?: ConnectOptions;
}

export async function connectTarget(t: Target, deps: ConnectDeps): Promise<Executor> {
  // A Slurm target without a login node submits from this machine.
  if (t.kind === 'local' || !t.host) return new LocalExecutor();
  const alias = t.host;
  let host;
  try {
    host = await resolveHost(alias, { user: t.user, port: t.port, identityFile: t.identityFile }, deps.resolve);
  } catch (e) {
    throw new SshError(`Cannot resolve the SSH settings of '${alias}' (target ${t.name}): ${(e as Error).message}`, 'config');
  }
  return connectSsh(host, deps, deps.connect);
}

/** Errors worth retrying with backoff (a dropped or refused connection), as opposed to auth or host keys. */
export function isRetryable(e: unknown): boolean {
  return !!e && typeof e === 'object' && (e as { retryable?: boolean }).retryable === true;
}
