// POSIX shell quoting and the remote command lines built from it. Every remote command goes through here:
// nothing user-controlled (paths, names, env values) is ever pasted into a shell line unquoted.

/** Quote one argument for a POSIX shell: wrap in single quotes, and spell each `'` as `'\''`. */
export function shellQuote(arg: string | number): string {
  const s = String(arg);
  if (s === '') return "''";
  // Plain words need no quotes; keeps logged commands readable.
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(s)) return s;
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Quote every argument and join them into one command line. */
export function shellJoin(args: readonly (string | number)[]): string {
  return args.map(shellQuote).join(' ');
}

/** A valid environment variable name (checked, since names are not quoted in `NAME=value`). */
export function isEnvName(name: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name);
}

/** `export NAME='value'; ...` for an environment map. Throws on an invalid name. */
export function exportEnv(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([k, v]) => {
      if (!isEnvName(k)) throw new Error(`invalid environment variable name: ${JSON.stringify(k)}`);
      return `export ${k}=${shellQuote(v)}`;
    })
    .join('; ');
}

/**
 * Expand a leading `~/` the way a shell would, but safely: `"$HOME"/rest` with the rest quoted.
 * Any other path is quoted as it is.
 */
export function quotePath(p: string): string {
  if (p === '~') return '"$HOME"';
  if (p.startsWith('~/')) return `"$HOME"/${shellQuote(p.slice(2))}`;
  return shellQuote(p);
}
