// `speedrun run` and `speedrun cancel`: the run engine on the command line.
// Targets come from, in order: --targets-file FILE, $SPEEDRUN_TARGETS_FILE, <task>/.speedrun/targets.json,
// ~/.config/speedrun/targets.json. A file holds the same list as the `speedrun.targets` setting (or
// `{ "targets": [...] }`). Exit code: 0 when the run finished (check results.json `is_valid` for the 3.28 gate),
// 1 when it failed, was cancelled or timed out, 2 usage, 3 bad input (no task, no target).
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { connectTarget } from '../core/remote/connect';
import type { HostKeyPrompt } from '../core/remote/ssh';
import { parseTargets, type Target } from '../core/remote/targets';
import { RunManager } from '../core/runs/manager';
import { RunStore } from '../core/runs/store';
import { TERMINAL_STATES, type RunMeta } from '../core/runs/types';
import { CliError, EXIT, parse, type Command } from './common';

const TARGET_FILES = (taskDir: string) => [
  process.env.SPEEDRUN_TARGETS_FILE,
  path.join(taskDir, '.speedrun', 'targets.json'),
  path.join(os.homedir(), '.config', 'speedrun', 'targets.json'),
];

export function loadTargets(taskDir: string, file?: string): { targets: Target[]; source: string } {
  const candidates = file ? [file] : TARGET_FILES(taskDir).filter((f): f is string => !!f);
  const found = candidates.find((f) => fs.existsSync(f));
  if (!found) throw new CliError(`no targets: pass --targets-file, set SPEEDRUN_TARGETS_FILE, or write ${candidates.slice(-2).join(' or ')}`);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(found, 'utf8'));
  } catch (e) {
    throw new CliError(`cannot read targets from ${found}: ${(e as Error).message}`);
  }
  const list = Array.isArray(raw) ? raw : (raw as { targets?: unknown })?.targets;
  const { targets, errors } = parseTargets(list);
  for (const e of errors) process.stderr.write(`speedrun: ${found}: ${e}\n`);
  return { targets, source: found };
}

function ask(question: string, hidden = false): Promise<string | undefined> {
  if (!process.stdin.isTTY) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    if (hidden) (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
    rl.question(question, (a) => {
      rl.close();
      if (hidden) process.stderr.write('\n');
      resolve(a);
    });
  });
}

export interface CommonOpts {
  taskDir: string;
  targetsFile?: string;
  sshConfig?: string;
  acceptNewHostKey?: boolean;
  timeLimitMinutes?: number;
}

export function manager(o: CommonOpts, targets: Target[]): RunManager {
  return new RunManager({
    targets: () => targets,
    connect: (t) =>
      connectTarget(t, {
        confirmHostKey: async (p: HostKeyPrompt) => {
          const what = `The authenticity of host '${p.name}' can't be established.\n${p.keyType} key fingerprint is ${p.fingerprint}.` +
            (p.otherTypesKnown.length ? `\n(Keys of other types are known for this host: ${p.otherTypesKnown.join(', ')}.)` : '');
          if (o.acceptNewHostKey) {
            process.stderr.write(`${what}\nAccepted (--accept-new-host-key); added to ${p.knownHostsFile}.\n`);
            return true;
          }
          const a = await ask(`${what}\nTrust it and add it to ${p.knownHostsFile} (yes/no)? `);
          if (a === undefined) process.stderr.write(`${what}\nNot a terminal, so not trusting it; rerun with --accept-new-host-key to trust it.\n`);
          return /^y(es)?$/i.test(a?.trim() ?? '');
        },
        askPassphrase: (file, retry) => ask(`${retry ? 'Wrong passphrase. ' : ''}Passphrase for ${file}: `, true),
        resolve: o.sshConfig ? { configFile: o.sshConfig } : undefined,
      }),
    timeLimitMs: () => (o.timeLimitMinutes ?? 60) * 60_000,
    cancelGraceMs: () => 10_000,
  });
}

function describeEnd(m: RunMeta, store: RunStore): string {
  const f = m.final;
  const lines = [`run ${m.runId} ${m.state}${m.exitCode !== undefined && m.exitCode !== null ? ` (exit code ${m.exitCode})` : ''}`];
  if (f) lines.push(`  val_loss ${f.val_loss} after ${f.n_steps} steps, train_time ${(f.train_time / 1000).toFixed(1)} s: ${f.is_valid ? 'valid' : 'NOT valid (val_loss > 3.28)'}`);
  if (m.failure) lines.push(`  ${m.failure.stage}: ${m.failure.message}`);
  if (m.error) lines.push(`  ${m.error.kind}: ${m.error.message}${m.error.line ? ` (${m.error.file}:${m.error.line})` : ''}`);
  lines.push(`  stored in ${store.dir(m.runId)}`);
  return lines.join('\n') + '\n';
}

const commonOptions = {
  'task-dir': { type: 'string' },
  'targets-file': { type: 'string' },
  'ssh-config': { type: 'string' },
  'accept-new-host-key': { type: 'boolean' },
} as const;

function taskDirOf(v: string | undefined): string {
  const dir = path.resolve(v ?? '.');
  if (!fs.existsSync(path.join(dir, 'train_gpt2.py'))) throw new CliError(`no train_gpt2.py in ${dir} (pass --task-dir)`);
  return dir;
}

export const command: Command = {
  usage: '--target NAME [--task-dir DIR] [--targets-file JSON] [--ssh-config FILE] [--time-limit MINUTES] [--accept-new-host-key]',
  summary: "Run the task's train_gpt2.py on a target, streaming its output; Ctrl-C detaches (the run goes on). Exit 0 when it finished.",
  run: async (args) => {
    const { values } = parse(args, { ...commonOptions, target: { type: 'string' }, 'time-limit': { type: 'string' } });
    if (!values.target) throw new CliError('--target NAME is required', EXIT.usage);
    const timeLimit = values['time-limit'] === undefined ? 60 : Number(values['time-limit']);
    if (!(timeLimit > 0)) throw new CliError('--time-limit must be a positive number of minutes', EXIT.usage);
    const taskDir = taskDirOf(values['task-dir']);
    const { targets, source } = loadTargets(taskDir, values['targets-file']);
    if (!targets.some((t) => t.name === values.target)) {
      throw new CliError(`no target '${values.target}' in ${source} (have: ${targets.map((t) => t.name).join(', ') || 'none'})`);
    }
    const m = manager({ taskDir, sshConfig: values['ssh-config'], acceptNewHostKey: values['accept-new-host-key'], timeLimitMinutes: timeLimit }, targets);
    m.onEvent((e) => {
      if (e.type === 'output') process.stdout.write(e.text);
      else if (e.type === 'state') process.stderr.write(`[speedrun] ${e.state}${e.detail ? `: ${e.detail}` : ''}\n`);
    });
    const meta = m.enqueue({ taskDir, target: values.target, origin: 'cli' });
    process.stderr.write(`[speedrun] run ${meta.runId} on ${values.target}\n`);
    const detach = () => {
      process.stderr.write(`\n[speedrun] detached; run ${meta.runId} goes on. Cancel it with: speedrun cancel ${meta.runId} --task-dir ${JSON.stringify(taskDir)}\n`);
      m.dispose();
      process.exit(EXIT.failed);
    };
    process.once('SIGINT', detach);
    const end = await m.waitForEnd(meta.runId);
    process.off('SIGINT', detach);
    m.dispose();
    process.stderr.write(describeEnd(end, new RunStore(taskDir)));
    return end.state === 'finished' ? EXIT.ok : EXIT.failed;
  },
};

export const cancelCommand: Command = {
  usage: 'RUNID [--task-dir DIR] [--targets-file JSON] [--ssh-config FILE]',
  summary: 'Cancel a run (SIGTERM to its process group on the box, SIGKILL after 10 s) and store what it left.',
  run: async (args) => {
    const { values, positionals } = parse(args, commonOptions, true);
    if (positionals.length !== 1) throw new CliError('expected exactly one RUNID', EXIT.usage);
    const runId = positionals[0];
    const taskDir = taskDirOf(values['task-dir']);
    const store = new RunStore(taskDir);
    let stored: RunMeta | undefined;
    try {
      stored = store.read(runId);
    } catch {
      /* not a run id */
    }
    if (!stored) throw new CliError(`no run ${runId} in ${taskDir}`);
    if (TERMINAL_STATES.includes(stored.state)) {
      process.stderr.write(`run ${runId} already ${stored.state}\n`);
      return EXIT.ok;
    }
    const { targets } = loadTargets(taskDir, values['targets-file']);
    const m = manager({ taskDir, sshConfig: values['ssh-config'], acceptNewHostKey: values['accept-new-host-key'] }, targets);
    m.onEvent((e) => {
      if (e.type === 'state' && e.detail) process.stderr.write(`[speedrun] ${e.state}: ${e.detail}\n`);
    });
    if (!m.attach(taskDir, runId, false)) throw new CliError(`run ${runId} is on target '${stored.target}', which is not configured`);
    await m.cancel(runId);
    const end = await m.waitForEnd(runId);
    m.dispose();
    process.stderr.write(describeEnd(end, store));
    return end.state === 'cancelled' ? EXIT.ok : EXIT.failed;
  },
};
