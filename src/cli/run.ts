// `speedrun run` and `speedrun cancel`: the run engine on the command line.
// Targets: the user's list from --targets-file, $SPEEDRUN_TARGETS_FILE or ~/.config/speedrun/targets.json; a task
// folder's own .speedrun/targets.json only with --allow-task-targets (src/core/remote/targetFiles.ts). Exit code:
// 0 when the run finished (check results.json `is_valid` for the 3.28 gate), 1 when it failed, was cancelled or
// timed out, 2 usage, 3 bad input (no task, no target, a folder that can't be written).
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as readline from 'node:readline';
import { connectTarget } from '../core/remote/connect';
import type { HostKeyPrompt } from '../core/remote/ssh';
import { chooseTarget, loadTargetFiles, TargetFileError, type LoadedTargets } from '../core/remote/targetFiles';
import type { Target } from '../core/remote/targets';
import { preRunCheck } from '../core/rules/preRun';
import { RunError, RunManager } from '../core/runs/manager';
import { isRunId, RunStore } from '../core/runs/store';
import { TERMINAL_STATES, type RunMeta } from '../core/runs/types';
import { CliError, EXIT, TASK_DIR, defineCommand, err, exitAfterFlush, out, type OptionSpec } from './common';
import { runRepeated } from './repeat';
import { readTaskFile } from '../core/benchmark/openTask';
import { fsrBoth } from '../core/stats/calibration';

/** The targets for a task folder, with what to tell the user about where they came from. */
export function loadTargets(taskDir: string, file: string | undefined, allowTaskTargets: boolean): LoadedTargets {
  try {
    const l = loadTargetFiles({ taskDir, file, allowTaskTargets });
    for (const w of l.warnings) err(`speedrun: ${w}\n`);
    return l;
  } catch (e) {
    if (e instanceof TargetFileError) throw new CliError(e.message);
    throw e;
  }
}

export function pickTarget(l: LoadedTargets, name: string | undefined): Target {
  let t: Target;
  try {
    t = chooseTarget(l, name);
  } catch (e) {
    if (e instanceof TargetFileError) throw new CliError(e.message);
    throw e;
  }
  if (l.origin.get(t.name) === l.taskFile) err(`[speedrun] using target ${t.name} from ${l.taskFile}\n`);
  return t;
}

export function ask(question: string, hidden = false): Promise<string | undefined> {
  if (!process.stdin.isTTY) return Promise.resolve(undefined);
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    if (hidden) (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
    rl.question(question, (a) => {
      rl.close();
      if (hidden) err('\n');
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
            err(`${what}\nAccepted (--accept-new-host-key); added to ${p.knownHostsFile}.\n`);
            return true;
          }
          const a = await ask(`${what}\nTrust it and add it to ${p.knownHostsFile} (yes/no)? `);
          if (a === undefined) err(`${what}\nNot a terminal, so not trusting it; rerun with --accept-new-host-key to trust it.\n`);
          return /^y(es)?$/i.test(a?.trim() ?? '');
        },
        askPassphrase: (file, retry) => ask(`${retry ? 'Wrong passphrase. ' : ''}Passphrase for ${file}: `, true),
        resolve: o.sshConfig ? { configFile: o.sshConfig } : undefined,
      }),
    timeLimitMs: () => (o.timeLimitMinutes ?? 60) * 60_000,
    cancelGraceMs: () => 10_000,
  });
}

/** FSR against the paper's times and, once the target is calibrated, its own; labelled when the box is simulated. */
function fsrLine(m: RunMeta, taskDir: string, trainTimeMs: number): string[] {
  let task;
  try {
    task = readTaskFile(taskDir);
  } catch {
    return [];
  }
  const f = fsrBoth(task, m.target, trainTimeMs);
  if (!Number.isFinite(f.paper)) return [];
  const box = f.box !== null ? `; ${f.box.toFixed(2)} against ${m.target}'s own times (calibrated)` : '';
  return [`  FSR ${f.paper.toFixed(2)} against the paper's times${box}${m.simulated ? ' (SIMULATED box: a demo figure, not a measurement)' : ''}`];
}

export function describeEnd(m: RunMeta, store: RunStore): string {
  const f = m.final;
  const lines = [`run ${m.runId} ${m.state}${m.exitCode !== undefined && m.exitCode !== null ? ` (exit code ${m.exitCode})` : ''}`];
  if (f) lines.push(`  val_loss ${f.val_loss} after ${f.n_steps} steps, train_time ${(f.train_time / 1000).toFixed(1)} s: ${f.is_valid ? 'valid' : 'NOT valid (val_loss > 3.28)'}`);
  if (f) lines.push(...fsrLine(m, store.taskDir, f.train_time));
  if (m.failure) lines.push(`  ${m.failure.stage}: ${m.failure.message}`);
  if (m.error) lines.push(`  ${m.error.kind}: ${m.error.message}${m.error.line ? ` (${m.error.file}:${m.error.line})` : ''}`);
  lines.push(`  stored in ${store.dir(m.runId)}`);
  return lines.join('\n') + '\n';
}

export const commonOptions = {
  'task-dir': TASK_DIR,
  'targets-file': { type: 'string', value: 'FILE', description: 'your targets (a list shaped like the speedrun.targets setting)', defaultText: '$SPEEDRUN_TARGETS_FILE, else ~/.config/speedrun/targets.json' },
  'allow-task-targets': { type: 'boolean', description: "also use targets from the task folder's .speedrun/targets.json (they run their own setup commands on your box; yours win on a name clash)" },
  'ssh-config': { type: 'string', value: 'FILE', description: 'ssh config to resolve hosts with (ssh -F); ssh -G reads it, so its Match exec commands run as with ssh', defaultText: '~/.ssh/config' },
  'accept-new-host-key': { type: 'boolean', description: "trust a host key seen for the first time (without it, you're asked on a terminal, refused otherwise)" },
} as const satisfies Record<string, OptionSpec>;

/** --task-dir as an absolute path, once it is an existing folder (else one sentence saying what it is). */
export function existingFolder(v: string): string {
  const dir = path.resolve(v);
  if (!fs.existsSync(dir)) throw new CliError(`the task folder ${dir} does not exist`);
  if (!fs.statSync(dir).isDirectory()) throw new CliError(`${dir} is a file, not a task folder`);
  return dir;
}

export function taskDirOf(v: string): string {
  const dir = existingFolder(v);
  const script = path.join(dir, 'train_gpt2.py');
  if (!fs.existsSync(script)) throw new CliError(`no train_gpt2.py in ${dir}: run in a task folder or pass --task-dir`);
  if (!fs.statSync(script).isFile()) throw new CliError(`${script} is a folder; the task's script must be a file`);
  return dir;
}

/** The stored record of a run in a task folder, or a one-sentence error. */
export function storedRun(taskDir: string, runId: string): { store: RunStore; stored: RunMeta } {
  const store = new RunStore(taskDir);
  let stored: RunMeta | undefined;
  try {
    stored = store.read(runId);
  } catch {
    /* not a run id */
  }
  const meta = isRunId(runId) ? store.file(runId, 'meta.json') : undefined;
  if (!stored && meta && fs.existsSync(meta)) throw new CliError(`the record of run ${runId} (${meta}) cannot be read as JSON; the run's files are in ${store.dir(runId)}`);
  if (!stored) throw new CliError(`no run ${runId} in ${taskDir}`);
  if (typeof stored.state !== 'string' || typeof stored.target !== 'string') {
    throw new CliError(`the record of run ${runId} (${meta}) has no state or target; the run's files are in ${store.dir(runId)}`);
  }
  const owner = store.file(runId, 'owner.pid');
  if (fs.existsSync(owner) && !fs.statSync(owner).isFile()) {
    throw new CliError(`${owner} should be a file holding the pid of the process that follows the run, but is a folder; remove it and try again`);
  }
  return { store, stored };
}

export const runCommand = defineCommand({
  name: 'run',
  summary: "Run the task's train_gpt2.py on a target, streaming its output; Ctrl-C detaches (the run goes on). Exit 0 when it finished.",
  options: {
    target: { type: 'string', value: 'NAME', description: 'the target to run on', defaultText: 'the only target, when exactly one is configured' },
    ...commonOptions,
    'time-limit': { type: 'string', value: 'MINUTES', description: 'stop the run after this long', default: '60' },
    repeat: { type: 'string', value: 'K', description: 'run it K times (no console output; a summary with mean ± sd and the t-test at the end)' },
    'interleave-baseline': { type: 'boolean', description: "with --repeat: also run record i's script K times, alternating with yours on the same target" },
    json: { type: 'boolean', description: 'with --repeat: print the summary as JSON' },
    'ignore-rules': { type: 'boolean', description: 'run even when the script breaks a benchmark rule (the run will not count)' },
  },
  notes: [
    'Exit codes: 0 the run finished (its results.json says whether val loss <= 3.28), 1 it failed, was cancelled or timed out, 2 usage, 3 bad input (a script that breaks a benchmark rule, unless --ignore-rules). With --repeat: 0 only when every run finished and the t-test passed (mean val loss below 3.28, p < 0.01), else 1.',
    "The run's console output goes to stdout, progress to stderr; everything is stored in <task>/.speedrun/runs/<RUNID>/.",
  ],
  examples: ['speedrun run --target h100 --task-dir ~/speedrun-tasks/task-12 > run.log', 'speedrun run --target h100 --repeat 5 --interleave-baseline'],
  run: async ({ values }) => {
    const timeLimit = Number(values['time-limit']);
    if (!(timeLimit > 0)) throw new CliError(`--time-limit must be a positive number of minutes, got '${values['time-limit']}'`, EXIT.usage);
    const taskDir = taskDirOf(values['task-dir']);
    // The benchmark rules, as the editor checks them before a run (core/rules/preRun.ts).
    const check = await preRunCheck(taskDir, { python: process.env.SPEEDRUN_PYTHON });
    if (check.errors.length) {
      err(`${check.details}\n`);
      if (!values['ignore-rules']) throw new CliError(`${check.summary} Fix it, or pass --ignore-rules to run it anyway.`);
      err(`[speedrun] ${check.summary} Running it anyway (--ignore-rules).\n`);
    }
    const loaded = loadTargets(taskDir, values['targets-file'], values['allow-task-targets']);
    const target = pickTarget(loaded, values.target);
    const repeats = values.repeat === undefined ? undefined : Number(values.repeat);
    if (repeats !== undefined && !(Number.isInteger(repeats) && repeats >= 1)) throw new CliError(`--repeat must be a whole number of at least 1, got '${values.repeat}'`, EXIT.usage);
    if (repeats === undefined && (values['interleave-baseline'] || values.json)) throw new CliError('--interleave-baseline and --json go with --repeat K', EXIT.usage);
    const m = manager({ taskDir, sshConfig: values['ssh-config'], acceptNewHostKey: values['accept-new-host-key'], timeLimitMinutes: timeLimit }, loaded.targets);
    if (repeats !== undefined) {
      const detach = () => {
        err('\n[speedrun] detached; the current run goes on, no further repeats start. Cancel it with speedrun cancel RUNID.\n');
        m.dispose();
        void exitAfterFlush(EXIT.failed);
      };
      process.once('SIGINT', detach);
      try {
        return await runRepeated(m, { taskDir, target: target.name, repeats, interleaveBaseline: values['interleave-baseline'], json: values.json });
      } finally {
        process.off('SIGINT', detach);
        m.dispose();
      }
    }
    m.onEvent((e) => {
      if (e.type === 'output') out(e.text);
      else if (e.type === 'state') err(`[speedrun] ${e.state}${e.detail ? `: ${e.detail}` : ''}\n`);
    });
    let meta: RunMeta;
    try {
      meta = m.enqueue({ taskDir, target: target.name, origin: 'cli' });
    } catch (e) {
      m.dispose();
      if (e instanceof RunError) throw new CliError(e.message);
      throw e;
    }
    err(`[speedrun] run ${meta.runId} on ${target.name}\n`);
    const detach = () => {
      err(`\n[speedrun] detached; run ${meta.runId} goes on. Follow it again with: speedrun attach ${meta.runId} --task-dir ${JSON.stringify(taskDir)} (or cancel it with: speedrun cancel ...)\n`);
      m.dispose();
      void exitAfterFlush(EXIT.failed);
    };
    process.once('SIGINT', detach);
    const end = await m.waitForEnd(meta.runId);
    process.off('SIGINT', detach);
    m.dispose();
    err(describeEnd(end, new RunStore(taskDir)));
    return end.state === 'finished' ? EXIT.ok : EXIT.failed;
  },
});

export const cancelCommand = defineCommand({
  name: 'cancel',
  summary: 'Cancel a run (SIGTERM to its process group on the box, SIGKILL after 10 s; scancel on Slurm) and store what it left.',
  positionals: [{ name: 'RUNID', description: "the run's id, as `run` printed it (a folder name under .speedrun/runs/)" }],
  options: commonOptions,
  notes: [
    'A run that already ended on the box keeps its real results (it is not marked cancelled).',
    'Exit codes: 0 cancelled (or already ended), 1 the cancel failed, 2 usage, 3 no such run or target.',
  ],
  examples: ['speedrun cancel 20260101-120000-ab12 --task-dir ~/speedrun-tasks/task-12'],
  run: async ({ values, positionals }) => {
    const runId = positionals[0];
    const taskDir = taskDirOf(values['task-dir']);
    const { store, stored } = storedRun(taskDir, runId);
    if (TERMINAL_STATES.includes(stored.state)) {
      err(`run ${runId} already ${stored.state}\n`);
      return EXIT.ok;
    }
    const loaded = loadTargets(taskDir, values['targets-file'], values['allow-task-targets']);
    const target = pickTarget(loaded, stored.target);
    const m = manager({ taskDir, sshConfig: values['ssh-config'], acceptNewHostKey: values['accept-new-host-key'] }, loaded.targets);
    m.onEvent((e) => {
      if (e.type === 'state' && e.detail) err(`[speedrun] ${e.state}: ${e.detail}\n`);
    });
    if (!m.attach(taskDir, runId, false)) throw new CliError(`run ${runId} is on target '${target.name}', which is not configured`);
    await m.cancel(runId);
    const end = await m.waitForEnd(runId);
    m.dispose();
    err(describeEnd(end, store));
    // A run that ended by itself before the cancel reached it (it has an exit code) is not a failed cancel.
    const endedByItself = end.state !== 'cancelled' && end.exitCode !== undefined && end.exitCode !== null && end.failure?.stage !== 'cancel';
    return end.state === 'cancelled' || endedByItself ? EXIT.ok : EXIT.failed;
  },
});
