// Targets: where runs go. The shape mirrors the `speedrun.targets` setting in package.json.
import { isEnvName } from './shell';

interface TargetCommon {
  name: string;
  /** Working directory on the box; runs go to <remoteDir>/runs/<runId>/. */
  remoteDir: string;
  /** Shell code that prepares the environment (e.g. `source ~/venv/bin/activate`); the user's own command. */
  setup?: string;
  torchrun: string;
  gpus: number;
  trainFiles?: string;
  valFiles?: string;
  valTokens: number;
  env: Record<string, string>;
}

export interface SshTarget extends TargetCommon {
  kind: 'ssh';
  /** An ~/.ssh/config alias or a hostname. */
  host: string;
  user?: string;
  port?: number;
  identityFile?: string;
}

export interface LocalTarget extends TargetCommon {
  kind: 'local';
}

export type Target = SshTarget | LocalTarget;

export const DEFAULT_REMOTE_DIR = '~/speedrun';
export const DEFAULT_VAL_TOKENS = 10485760;

export interface TargetsParse {
  targets: Target[];
  /** One message per problem, naming the target; invalid targets are left out. */
  errors: string[];
}

const str = (v: unknown): v is string => typeof v === 'string' && v.trim() !== '';

/** Validate the raw setting value. Never throws. */
export function parseTargets(raw: unknown): TargetsParse {
  const targets: Target[] = [];
  const errors: string[] = [];
  if (raw === undefined || raw === null) return { targets, errors };
  if (!Array.isArray(raw)) return { targets, errors: ['targets must be a list'] };
  const seen = new Set<string>();
  raw.forEach((t, i) => {
    const where = `target ${i + 1}${t && typeof t === 'object' && str((t as any).name) ? ` '${(t as any).name}'` : ''}`;
    const problems: string[] = [];
    if (!t || typeof t !== 'object' || Array.isArray(t)) {
      errors.push(`${where}: must be an object`);
      return;
    }
    const o = t as Record<string, unknown>;
    if (!str(o.name)) problems.push('needs a name');
    else if (seen.has(o.name)) problems.push('name is used twice');
    if (o.kind !== 'ssh' && o.kind !== 'local') problems.push(`kind must be "ssh" or "local" (got ${JSON.stringify(o.kind)})`);
    if (o.kind === 'ssh' && !str(o.host)) problems.push('an ssh target needs a host');
    for (const k of ['host', 'user', 'identityFile', 'remoteDir', 'setup', 'torchrun', 'trainFiles', 'valFiles'] as const) {
      if (o[k] !== undefined && typeof o[k] !== 'string') problems.push(`${k} must be a string`);
    }
    if (o.port !== undefined && !(Number.isInteger(o.port) && (o.port as number) > 0 && (o.port as number) < 65536)) problems.push('port must be 1-65535');
    if (o.gpus !== undefined && !(Number.isInteger(o.gpus) && (o.gpus as number) >= 1)) problems.push('gpus must be a positive integer');
    if (o.valTokens !== undefined && !(Number.isInteger(o.valTokens) && (o.valTokens as number) > 0)) problems.push('valTokens must be a positive integer');
    const env: Record<string, string> = {};
    if (o.env !== undefined) {
      if (!o.env || typeof o.env !== 'object' || Array.isArray(o.env)) problems.push('env must be an object of strings');
      else
        for (const [k, v] of Object.entries(o.env)) {
          if (!isEnvName(k)) problems.push(`env name ${JSON.stringify(k)} is not a valid variable name`);
          else if (typeof v !== 'string') problems.push(`env ${k} must be a string`);
          else env[k] = v;
        }
    }
    if (problems.length) {
      errors.push(`${where}: ${problems.join('; ')}`);
      return;
    }
    seen.add(o.name as string);
    const common: TargetCommon = {
      name: o.name as string,
      remoteDir: str(o.remoteDir) ? o.remoteDir : DEFAULT_REMOTE_DIR,
      setup: str(o.setup) ? o.setup : undefined,
      torchrun: str(o.torchrun) ? o.torchrun : 'torchrun',
      gpus: (o.gpus as number | undefined) ?? 8,
      trainFiles: str(o.trainFiles) ? o.trainFiles : undefined,
      valFiles: str(o.valFiles) ? o.valFiles : undefined,
      valTokens: (o.valTokens as number | undefined) ?? DEFAULT_VAL_TOKENS,
      env,
    };
    targets.push(
      o.kind === 'ssh'
        ? { ...common, kind: 'ssh', host: o.host as string, user: o.user as string | undefined, port: o.port as number | undefined, identityFile: o.identityFile as string | undefined }
        : { ...common, kind: 'local' },
    );
  });
  return { targets, errors };
}

/** A worked example for `speedrun.targets` (shown by Configure Targets and the CLI docs). */
export const EXAMPLE_TARGETS = [
  {
    name: 'h100-box',
    kind: 'ssh',
    host: 'my-h100',
    remoteDir: '~/speedrun',
    setup: 'source ~/venvs/speedrun/bin/activate',
    gpus: 8,
    trainFiles: '/data/fineweb10B/fineweb_train_*.bin',
    valFiles: '/data/fineweb10B/fineweb_val_*.bin',
    valTokens: 10485760,
  },
  { name: 'this-machine', kind: 'local', remoteDir: '~/speedrun', gpus: 1, trainFiles: '~/data/fineweb10B/fineweb_train_*.bin', valFiles: '~/data/fineweb10B/fineweb_val_*.bin' },
];
