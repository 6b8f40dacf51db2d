// Targets: where runs go. One zod schema validates the `speedrun.targets` setting (mirrored in package.json) and
// the CLI's targets file, and fills in the defaults.
import { z } from 'zod';
import { isEnvName } from './shell';

export const DEFAULT_REMOTE_DIR = '~/speedrun';
export const DEFAULT_VAL_TOKENS = 10485760;

/** A string setting where blank means "not set". */
const optStr = (key: string) =>
  z
    .string({ error: `${key} must be a string` })
    .optional()
    .transform((s) => (s?.trim() ? s : undefined));
const posInt = (key: string) => z.number({ error: `${key} must be a positive integer` }).int({ error: `${key} must be a positive integer` }).min(1, { error: `${key} must be a positive integer` });
const needStr = (msg: string) => z.string({ error: msg }).refine((s) => s.trim() !== '', { error: msg });

const common = {
  name: needStr('needs a name'),
  /** Working directory on the box; runs go to <remoteDir>/runs/<runId>/. */
  remoteDir: optStr('remoteDir').transform((s) => s ?? DEFAULT_REMOTE_DIR),
  /** Shell code that prepares the environment (e.g. `source ~/venv/bin/activate`); the user's own command. */
  setup: optStr('setup'),
  torchrun: optStr('torchrun').transform((s) => s ?? 'torchrun'),
  gpus: posInt('gpus').default(8),
  trainFiles: optStr('trainFiles'),
  valFiles: optStr('valFiles'),
  valTokens: posInt('valTokens').default(DEFAULT_VAL_TOKENS),
  env: z
    .record(
      z.string().refine(isEnvName, { error: (i) => `env name ${JSON.stringify(i.input)} is not a valid variable name` }),
      z.string({ error: (i) => `env ${String(i.path?.[0] ?? '')} must be a string` }),
      { error: 'env must be an object of strings' },
    )
    .default({}),
};

/** How to reach a machine over SSH: an ~/.ssh/config alias or a hostname, with optional overrides. */
const sshFields = {
  user: optStr('user'),
  port: z.number({ error: 'port must be 1-65535' }).int({ error: 'port must be 1-65535' }).min(1, { error: 'port must be 1-65535' }).max(65535, { error: 'port must be 1-65535' }).optional(),
  identityFile: optStr('identityFile'),
};

const SshTargetSchema = z.object({ ...common, kind: z.literal('ssh'), host: needStr('an ssh target needs a host'), ...sshFields });
const LocalTargetSchema = z.object({ ...common, kind: z.literal('local') });
/** A Slurm cluster: `sbatch` on its login node (`host`, over SSH) or on this machine (no host). */
const SlurmTargetSchema = z.object({
  ...common,
  kind: z.literal('slurm'),
  host: optStr('host'),
  ...sshFields,
  partition: optStr('partition'),
  account: optStr('account'),
  qos: optStr('qos'),
  /** GPU type in `--gres=gpu:<type>:N` (e.g. h100). */
  gpuType: optStr('gpuType').refine((s) => s === undefined || /^[\w.-]+$/.test(s), { error: 'gpuType must be a plain word such as h100' }),
  cpusPerTask: posInt('cpusPerTask').optional(),
  /** The job's `--time`; without it, the time limit of the run (speedrun.timeLimitMinutes / --time-limit). */
  timeLimitMinutes: posInt('timeLimitMinutes').optional(),
  /** Extra sbatch options, one argument each (e.g. `--constraint=h100`). */
  sbatchArgs: z.array(z.string({ error: 'sbatchArgs must be a list of strings' }), { error: 'sbatchArgs must be a list of strings' }).default([]),
});

export const TargetSchema = z.discriminatedUnion('kind', [SshTargetSchema, LocalTargetSchema, SlurmTargetSchema], {
  error: (i) =>
    i.input && typeof i.input === 'object' && !Array.isArray(i.input)
      ? `kind must be "ssh", "local" or "slurm" (got ${JSON.stringify((i.input as { kind?: unknown }).kind)})`
      : 'must be an object',
});

export type SshTarget = z.output<typeof SshTargetSchema>;
export type LocalTarget = z.output<typeof LocalTargetSchema>;
export type SlurmTarget = z.output<typeof SlurmTargetSchema>;
export type Target = z.output<typeof TargetSchema>;

export interface TargetsParse {
  targets: Target[];
  /** One message per problem, naming the target; invalid targets are left out. */
  errors: string[];
}

function problem(i: z.core.$ZodIssue): string {
  if (i.code === 'invalid_key') return i.issues[0]?.message ?? i.message;
  if (i.code === 'invalid_type' && i.path.length === 2 && i.path[0] === 'env') return `env ${String(i.path[1])} must be a string`;
  return i.message;
}

/** Validate the raw setting value. Never throws. */
export function parseTargets(raw: unknown): TargetsParse {
  const targets: Target[] = [];
  const errors: string[] = [];
  if (raw === undefined || raw === null) return { targets, errors };
  if (!Array.isArray(raw)) return { targets, errors: ['targets must be a list'] };
  const seen = new Set<string>();
  raw.forEach((t, i) => {
    const name = t && typeof t === 'object' && typeof t.name === 'string' && t.name.trim() ? (t.name as string) : undefined;
    const where = `target ${i + 1}${name ? ` '${name}'` : ''}`;
    const r = TargetSchema.safeParse(t);
    const problems = r.success ? [] : [...new Set(r.error.issues.map(problem))];
    if (name && seen.has(name)) problems.unshift('name is used twice');
    if (problems.length) {
      errors.push(`${where}: ${problems.join('; ')}`);
      return;
    }
    seen.add(name!);
    targets.push(r.data!);
  });
  return { targets, errors };
}

/** Where a target's runs happen, for pickers and messages. */
export function describeTarget(t: Target): string {
  const at = (host: string) => `${t.kind !== 'local' && t.user ? `${t.user}@` : ''}${host}${t.kind !== 'local' && t.port ? `:${t.port}` : ''}`;
  if (t.kind === 'ssh') return at(t.host);
  if (t.kind === 'slurm') return `Slurm${t.partition ? ` partition ${t.partition}` : ''} via ${t.host ? at(t.host) : 'this machine'}`;
  return 'this machine';
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
  {
    name: 'cluster',
    kind: 'slurm',
    host: 'login.my-cluster',
    partition: 'gpu',
    gpus: 8,
    gpuType: 'h100',
    timeLimitMinutes: 60,
    sbatchArgs: ['--exclusive'],
    remoteDir: '~/speedrun',
    setup: 'module load cuda; source ~/venvs/speedrun/bin/activate',
    trainFiles: '/shared/fineweb10B/fineweb_train_*.bin',
    valFiles: '/shared/fineweb10B/fineweb_val_*.bin',
  },
  { name: 'this-machine', kind: 'local', remoteDir: '~/speedrun', gpus: 1, trainFiles: '~/data/fineweb10B/fineweb_train_*.bin', valFiles: '~/data/fineweb10B/fineweb_val_*.bin' },
];
