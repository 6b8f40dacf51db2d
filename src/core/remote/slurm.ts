// Slurm, as plain text in and out: the batch script and sbatch command line a run is submitted with (every value
// quoted with shellQuote), and the parsing of what sbatch, scontrol, sacct and sinfo print. No I/O here; the
// Slurm launcher (launchers/slurm.ts) sends these scripts through an Executor.
//
// Layout on the cluster's shared filesystem (the same as for ssh targets, plus the job's files):
//   <remoteDir>/runs/<runId>/train_gpt2.py, job.sh (the batch script), env.sh (its env, mode 600),
//                            console.log (the job's --output),
//                            exit_code (written by job.sh when torchrun returns)
//   <remoteDir>/arrays/<name>/<i> -> ../../runs/<runId>   (a job array: element i runs in that run dir)
import { TAKE_ENV } from './commands';
import { shellJoin, shellQuote } from './shell';
import type { SlurmTarget } from './targets';

/** Job states as Slurm names them (squeue %T, scontrol JobState, sacct State). */
export const SLURM_ACTIVE = ['PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING', 'SUSPENDED', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'RESIZING', 'SIGNALING', 'STAGE_OUT', 'STOPPED', 'RESV_DEL_HOLD'];
/** Not started yet: the run waits in Slurm's queue. */
export const SLURM_WAITING = ['PENDING', 'REQUEUED', 'REQUEUE_HOLD', 'REQUEUE_FED', 'SUSPENDED', 'RESV_DEL_HOLD', 'STOPPED'];

export interface SlurmJob {
  /** `123`, or `123_4` for an element of a job array. */
  jobId: string;
  /** PENDING, RUNNING, COMPLETED, FAILED, CANCELLED, TIMEOUT, NODE_FAIL, PREEMPTED, OUT_OF_MEMORY, ... */
  state: string;
  /** Slurm's reason, e.g. Resources, Priority, QOSMaxJobsPerUserLimit; undefined for "None". */
  reason?: string;
  /** The batch script's exit code and the signal that ended it (ExitCode=code:signal). */
  exitCode?: number;
  signal?: number;
}

export interface JobOptions {
  target: SlurmTarget;
  /** --job-name. */
  name: string;
  /** The job's --time in minutes (the target's timeLimitMinutes wins). */
  timeLimitMinutes: number;
  /** Directory the job starts in (--chdir) and writes `output` relative to. */
  chdir: string;
  /** --output, relative to chdir (may hold %A / %a for arrays). */
  output: string;
  /** A job array of `count` elements, at most `parallel` running at once. */
  array?: { count: number; parallel?: number };
}

/** Slurm's --time as days-hours:minutes:seconds, from whole minutes. */
export function slurmTime(minutes: number): string {
  const m = Math.max(1, Math.ceil(minutes));
  const d = Math.floor(m / 1440);
  const h = Math.floor((m % 1440) / 60);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d ? `${d}-` : ''}${p(h)}:${p(m % 60)}:00`;
}

/** The sbatch options of a run (or a job array of runs); the user's sbatchArgs come last, so they win. */
export function sbatchArgs(o: JobOptions): string[] {
  const t = o.target;
  const gres = `gpu:${t.gpuType ? `${t.gpuType}:` : ''}${Math.floor(t.gpus)}`;
  const args = [
    '--parsable',
    `--job-name=${o.name}`,
    '--nodes=1',
    '--ntasks=1',
    `--gres=${gres}`,
    `--time=${slurmTime(t.timeLimitMinutes ?? o.timeLimitMinutes)}`,
    `--chdir=${o.chdir}`,
    `--output=${o.output}`,
    // The batch script is the only task: its stdout and stderr go to one file.
    '--open-mode=append',
  ];
  if (t.cpusPerTask) args.push(`--cpus-per-task=${t.cpusPerTask}`);
  if (t.partition) args.push(`--partition=${t.partition}`);
  if (t.account) args.push(`--account=${t.account}`);
  if (t.qos) args.push(`--qos=${t.qos}`);
  if (o.array) {
    const n = Math.max(1, Math.floor(o.array.count));
    const k = o.array.parallel && o.array.parallel > 0 && o.array.parallel < n ? `%${Math.floor(o.array.parallel)}` : '';
    args.push(`--array=0-${n - 1}${k}`);
  }
  return [...args, ...t.sbatchArgs];
}

/** The job's environment file, written by submitScript from stdin (mode 600): values never sit in a command line. */
export const ENV_FILE = 'env.sh';

export interface JobScriptSpec {
  setup?: string;
  torchrun: string;
  gpus: number;
  /** NANOGPT_TRAIN_FILES as resolved on the cluster, checked on the node before training (0 matches = exit 2). */
  trainGlob?: string;
  /** A job array: each element changes into the run dir named by its index (a link under chdir). */
  array?: boolean;
}

/**
 * The batch script. The target's `setup` and `torchrun` are the user's own shell code (machine-scoped settings)
 * and run through `eval` of a quoted string or as typed; every other value is quoted. It writes exit_code when
 * torchrun returns (also after a SIGTERM from scancel or the time limit, thanks to the trap).
 */
export function jobScript(s: JobScriptSpec): string {
  const done = 'echo $rc > exit_code.tmp && mv -f exit_code.tmp exit_code; exit $rc';
  const lines = [
    '#!/bin/bash',
    '# Speedrun Workbench: one run of train_gpt2.py, generated for sbatch (options on the sbatch command line).',
  ];
  // Read in the directory the job starts in (an array's directory holds one for all its elements).
  lines.push(`E=$(cat ${ENV_FILE} 2>/dev/null)`);
  if (s.array) lines.push('cd -P -- "$SLURM_ARRAY_TASK_ID" || { echo "speedrun: no run directory for array element $SLURM_ARRAY_TASK_ID"; exit 10; }');
  lines.push('rm -f exit_code');
  if (s.setup) lines.push(`eval ${shellQuote(s.setup)} || { rc=$?; echo "speedrun: the setup command failed (exit $rc) on $(hostname)"; ${done}; }`);
  // After the setup, so the target's env wins over it.
  lines.push('eval "$E"; unset E');
  // The record scripts print through print0 without flushing.
  lines.push('export PYTHONUNBUFFERED=1');
  if (s.trainGlob) {
    lines.push(
      `G=${shellQuote(s.trainGlob)}; n=0; IFS=; for f in $G; do [ -e "$f" ] && n=$((n+1)); done; unset IFS`,
      `[ "$n" -gt 0 ] || { rc=2; echo "speedrun: no training shards match NANOGPT_TRAIN_FILES=$G on node $(hostname)"; ${done}; }`,
    );
  }
  lines.push(
    // A free rendezvous port on the node: several jobs may share it.
    'port=; for p in $(shuf -i 20000-60999 -n 50); do (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { port=$p; break; }; done',
    "trap ':' TERM",
    `${s.torchrun} --nnodes=1 --nproc_per_node=${Math.floor(s.gpus)} --rdzv_backend=c10d --rdzv_endpoint=127.0.0.1:\${port:-29500} train_gpt2.py`,
    'rc=$?',
    done,
  );
  return lines.join('\n') + '\n';
}

/**
 * Write the batch script into `dir` and submit it. Prints `JOB <id>` (sbatch --parsable's `id[;cluster]`) or
 * sbatch's error on stderr with its exit code. `sha256` (single runs) checks the uploaded script first.
 * The job's env comes on stdin (envInput) and goes to env.sh, readable by the user only.
 */
export function submitScript(dir: string, script: string, args: string[], sha256?: string): string {
  return [
    TAKE_ENV,
    `cd ${shellQuote(dir)} || exit 10`,
    // printf is a builtin: the values never appear in a process's command line.
    `(umask 077; printf '%s\n' "$SPEEDRUN_ENV" > ${ENV_FILE}) || exit 12`,
    ...(sha256 ? [`read -r sum _ < <(sha256sum train_gpt2.py); [ "$sum" = ${shellQuote(sha256)} ] || { echo "SHA256 MISMATCH"; exit 11; }`] : []),
    `printf '%s' ${shellQuote(script)} > job.sh`,
    'command -v sbatch >/dev/null || { echo "sbatch is not on the PATH of $(hostname)" >&2; exit 127; }',
    `out=$(sbatch ${shellJoin(args)} job.sh) || exit $?`,
    'echo "JOB ${out%%;*}"',
  ].join('\n');
}

/**
 * Link each array element's index to its run dir (`<arrayDir>/<i>`), so the array's `--output=%a/console.log`
 * lands in the run's own console.log and job.sh finds its run.
 */
export function arrayLinksScript(arrayDir: string, runDirs: string[]): string {
  return [
    `mkdir -p ${shellQuote(arrayDir)} && cd ${shellQuote(arrayDir)} || exit 10`,
    ...runDirs.map((d, i) => `ln -sfn ${shellQuote(d)} ${i} && rm -f ${shellQuote(`${d}/exit_code`)}`),
  ].join('\n');
}

/** The job id from submitScript's output. */
export function parseSubmit(out: string): string | undefined {
  return /^JOB (\d+)$/m.exec(out)?.[1];
}

/** `Key=Value` pairs of one `scontrol show job -o` line (values may hold spaces; keys never do). */
function keyValues(line: string): Map<string, string> {
  const m = new Map<string, string>();
  const re = /(?:^|\s)([A-Za-z][A-Za-z0-9_:/]*)=/g;
  const hits: { key: string; start: number; end: number }[] = [];
  for (let h; (h = re.exec(line)); ) hits.push({ key: h[1], start: h.index, end: re.lastIndex });
  hits.forEach((h, i) => m.set(h.key, line.slice(h.end, i + 1 < hits.length ? hits[i + 1].start : undefined).trim()));
  return m;
}

function exitOf(v: string | undefined): Pick<SlurmJob, 'exitCode' | 'signal'> {
  const m = /^(\d+):(\d+)$/.exec(v ?? '');
  return m ? { exitCode: Number(m[1]), signal: Number(m[2]) } : {};
}

const reasonOf = (r: string | undefined) => (r && r !== 'None' && r !== '(null)' ? r : undefined);

/** `scontrol show job -o ID`: one line per job (or array element). */
export function parseScontrol(out: string): SlurmJob[] {
  const jobs: SlurmJob[] = [];
  for (const line of out.split('\n')) {
    if (!/^JobId=/.test(line.trim())) continue;
    const kv = keyValues(line.trim());
    const array = kv.get('ArrayJobId');
    const task = kv.get('ArrayTaskId');
    jobs.push({
      jobId: array && task !== undefined && /^\d+$/.test(task) ? `${array}_${task}` : kv.get('JobId')!,
      state: (kv.get('JobState') ?? 'UNKNOWN').split(/\s/)[0],
      reason: reasonOf(kv.get('Reason')),
      ...exitOf(kv.get('ExitCode')),
    });
  }
  return jobs;
}

/** `sacct -X -n -P -j ID --format=JobID,State,ExitCode,Reason`. */
export function parseSacct(out: string): SlurmJob[] {
  const jobs: SlurmJob[] = [];
  for (const line of out.split('\n')) {
    const f = line.trim().split('|');
    if (f.length < 3 || !/^\d+(_\d+)?$/.test(f[0])) continue;
    // sacct writes "CANCELLED by 0".
    jobs.push({ jobId: f[0], state: f[1].split(' ')[0], reason: reasonOf(f[3]), ...exitOf(f[2]) });
  }
  return jobs;
}

/** What a user reads for a job: `PENDING (waiting: Resources)`, `RUNNING`, `FAILED (exit code 3)`. */
export function describeJob(j: SlurmJob): string {
  if (SLURM_WAITING.includes(j.state)) return `${j.state} (waiting: ${j.reason ?? 'in the queue'})`;
  if (j.state === 'FAILED' || j.state === 'OUT_OF_MEMORY' || j.state === 'NODE_FAIL') {
    const why = j.signal ? `signal ${j.signal}` : j.exitCode !== undefined ? `exit code ${j.exitCode}` : undefined;
    return `${j.state}${why ? ` (${why})` : ''}${j.reason && j.reason !== 'NonZeroExitCode' ? `: ${j.reason}` : ''}`;
  }
  return j.state;
}

/** Why a job ended without our exit code, in words, for states the log cannot explain. */
export function endReason(j: SlurmJob): string | undefined {
  const why: Record<string, string> = {
    NODE_FAIL: 'Slurm: the node failed (NODE_FAIL) while the job ran.',
    PREEMPTED: 'Slurm: the job was preempted by a higher-priority job (PREEMPTED).',
    OUT_OF_MEMORY: 'Slurm: the job ran out of host memory (OUT_OF_MEMORY).',
    BOOT_FAIL: 'Slurm: the node failed to boot (BOOT_FAIL).',
    DEADLINE: 'Slurm: the job missed its deadline (DEADLINE).',
    FAILED: `Slurm: the job failed (${describeJob(j)}) before it recorded an exit code.`,
  };
  return why[j.state];
}

export interface SinfoCheck {
  /** Each one stops the run. */
  errors: string[];
  /** The partition actually used (the default one when the target names none). */
  partition?: string;
}

/**
 * `sinfo -h -N -o '%P|%G|%T'` (partition, gres, node state): is there a partition with a node that has the
 * target's GPUs (of its type)?
 */
export function checkSinfo(out: string, t: { name: string; gpus: number; partition?: string; gpuType?: string }): SinfoCheck {
  const rows = out
    .split('\n')
    .map((l) => l.trim().split('|'))
    .filter((f) => f.length >= 3 && f[0]);
  if (!rows.length) return { errors: [`sinfo shows no partitions for target ${t.name}: is this a Slurm login node?`] };
  const isDefault = (p: string) => p.endsWith('*');
  const name = (p: string) => p.replace(/\*$/, '');
  const partition = t.partition ?? rows.map((r) => r[0]).filter(isDefault).map(name)[0];
  if (!partition) return { errors: [`Slurm has no default partition; set the target's partition (have: ${[...new Set(rows.map((r) => name(r[0])))].join(', ')}).`] };
  const nodes = rows.filter((r) => name(r[0]) === partition);
  if (!nodes.length) return { errors: [`Slurm has no partition '${partition}' (have: ${[...new Set(rows.map((r) => name(r[0])))].join(', ')}).`] };
  const gpusOf = (gres: string) =>
    gres
      .split(',')
      .map((g) => /^gpu(?::([\w.-]+))?:(\d+)/.exec(g))
      .filter((m): m is RegExpExecArray => !!m && (!t.gpuType || m[1] === t.gpuType))
      .reduce((n, m) => n + Number(m[2]), 0);
  const usable = nodes.filter((r) => !/^(down|drain|fail|inval)/.test(r[2]));
  const best = Math.max(0, ...usable.map((r) => gpusOf(r[1])));
  if (best < t.gpus) {
    const what = `${t.gpus} GPU${t.gpus === 1 ? '' : 's'}${t.gpuType ? ` of type ${t.gpuType}` : ''}`;
    const seen = [...new Set(nodes.map((r) => `${r[1]} (${r[2]})`))].join(', ');
    return { partition, errors: [`No node of partition '${partition}' has ${what} up (nodes: ${seen}); the job would wait forever.`] };
  }
  return { partition, errors: [] };
}
