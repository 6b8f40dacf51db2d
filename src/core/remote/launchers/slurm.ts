// The Slurm launcher, for `slurm` targets: Slurm queues the runs (no lock of ours), each run is one batch job
// (or one element of a job array) whose --output is the run's console.log on the cluster's shared filesystem.
// Scripts go through the Executor: over SSH to the login node (`host`), or local bash without one. The batch
// script and the parsing of Slurm's output are in ../slurm.ts.
import * as path from 'node:path';
import { dataGlobs, RunFailed, runEnv, type Launched, type LauncherStatus, type LaunchSpec, type Placement, type RunLauncher } from '../../runs/launcher';
import { parseSections, type PreflightOutcome } from '../../runs/preflight';
import { SCRIPT } from '../../runs/store';
import type { PreflightReport, RunMeta } from '../../runs/types';
import { cdRun, countGlob, envInput, readFromScript } from '../commands';
import type { Executor } from '../executor';
import { quotePath, shellQuote } from '../shell';
import {
  arrayLinksScript, checkSinfo, describeJob, endReason, jobScript, parseSacct, parseScontrol, parseSubmit, sbatchArgs, SLURM_ACTIVE, SLURM_WAITING,
  submitScript, type SlurmJob,
} from '../slurm';
import type { SlurmTarget } from '../targets';

/** Job states after which the job is gone for good (squeue prints nothing or one of these). */
const ENDED = 'COMPLETED|FAILED|CANCELLED|TIMEOUT|NODE_FAIL|PREEMPTED|OUT_OF_MEMORY|BOOT_FAIL|DEADLINE|SPECIAL_EXIT|REVOKED';

/** Print the job's line from scontrol, or sacct's when Slurm no longer holds it (and accounting exists). */
function jobInfo(jobId: string): string[] {
  const id = shellQuote(jobId);
  return [
    'echo "@@job"',
    `info=$(scontrol show job -o ${id} 2>/dev/null | grep '^JobId=')`,
    'if [ -n "$info" ]; then printf "%s\\n" "$info"; else',
    `  sacct -X -n -P -j ${id} --format=JobID,State,ExitCode,Reason 2>/dev/null; fi`,
  ];
}

/**
 * Stream console.log from byte `offset` while the job runs; returns at once while it is still pending (the
 * engine polls status then) and when it has ended.
 */
export function followScript(runDir: string, jobId: string, offset: number): string {
  return [
    cdRun(runDir),
    '[ -t 1 ] && stty raw -echo -opost 2>/dev/null',
    `st() { squeue -h -j ${shellQuote(jobId)} -o %T 2>/dev/null | head -n1; }`,
    's=$(st)',
    'case "$s" in RUNNING|COMPLETING|CONFIGURING|SIGNALING|STAGE_OUT) ;; *) exit 0;; esac',
    `tail -c +${Math.floor(offset) + 1} -F console.log 2>/dev/null & t=$!`,
    "trap 'kill $t 2>/dev/null' EXIT",
    // Slurm is asked once a second, not on every tick: the controller serves the whole cluster.
    // Also when Slurm requeues it (PENDING again): the engine shows that and follows on when it runs.
    'while [ ! -e exit_code ]; do sleep 1; case "$(st)" in RUNNING|COMPLETING|CONFIGURING|SIGNALING|STAGE_OUT) ;; *) break;; esac; done',
  ].join('\n');
}

export function statusScript(runDir: string, jobId: string): string {
  return [
    cdRun(runDir),
    'echo "EXIT $(cat exit_code 2>/dev/null || echo none)"',
    'echo "SIZE $(stat -c %s console.log 2>/dev/null || echo 0)"',
    'for f in logs/*.txt logs/*/log.txt pylog124m/*.log; do [ -f "$f" ] && echo "LOG $f"; done',
    ...jobInfo(jobId),
    'true',
  ].join('\n');
}

/** scancel, then wait until Slurm no longer shows the job as active; prints `GONE` or `ACTIVE <state>`. */
export function cancelScript(jobId: string, waitSec: number): string {
  const id = shellQuote(jobId);
  return [
    `scancel ${id} || exit $?`,
    `for ((i = 0; i < ${Math.max(1, Math.round(waitSec * 2))}; i++)); do`,
    `  s=$(squeue -h -j ${id} -o %T 2>/dev/null | head -n1)`,
    `  case "$s" in ""|${ENDED}) echo GONE; exit 0;; esac; sleep 0.5`,
    'done',
    'echo "ACTIVE $s"',
  ].join('\n');
}

/** The login node's view: partitions and GPUs, sbatch on the PATH, the data globs, free disk. */
export function preflightScript(remoteDirAbs: string, train?: string, val?: string): string {
  return [
    `cd ${shellQuote(remoteDirAbs)} || exit 10`,
    'echo "@@sinfo"',
    "sinfo -h -N -o '%P|%G|%T' 2>&1; echo \"rc=$?\"",
    'echo "@@sbatch"',
    'command -v sbatch >/dev/null; echo "rc=$?"',
    'echo "@@train"',
    ...(train ? countGlob('G', train) : ['echo unset']),
    'echo "@@val"',
    ...(val ? countGlob('G', val) : ['echo unset']),
    'echo "@@disk"',
    '{ read -r _; read -r _ _ _ avail _; echo "$avail"; } < <(df -Pk .)',
    'echo "@@end"',
  ].join('\n');
}

/** Reads statusScript's output. */
export function parseStatus(out: string, jobId: string | undefined): LauncherStatus & { job?: SlurmJob } {
  const st: LauncherStatus & { job?: SlurmJob } = { launched: !!jobId, exit: null, timedOut: false, cancelled: false, alive: false, consoleSize: 0, logs: [] };
  const sections = out.split('@@job\n');
  for (const line of sections[0].split('\n')) {
    const [k, ...rest] = line.trim().split(' ');
    const v = rest.join(' ');
    if (k === 'EXIT' && /^\d+$/.test(v)) st.exit = Number(v);
    else if (k === 'SIZE') st.consoleSize = Number(v) || 0;
    else if (k === 'LOG' && /^(logs|pylog124m)\/[\w.-]+(\/log\.txt)?$/.test(v)) st.logs.push(v);
  }
  const info = sections[1] ?? '';
  const jobs = [...parseScontrol(info), ...parseSacct(info)];
  // A pending array element can show as its array's collapsed record (JobId=A ArrayTaskId=2-3%2).
  const job = jobs.find((j) => j.jobId === jobId) ?? jobs[0];
  if (!job) {
    st.schedulerState = 'no longer known to Slurm';
    st.endReason = `Slurm no longer knows job ${jobId} (it ended longer ago than the cluster's MinJobAge and sacct has no record of it), and the job left no exit code.`;
    return st;
  }
  st.job = job;
  st.alive = SLURM_ACTIVE.includes(job.state);
  st.waiting = SLURM_WAITING.includes(job.state);
  st.cancelled = job.state === 'CANCELLED';
  st.timedOut = job.state === 'TIMEOUT';
  st.schedulerState = describeJob(job);
  st.endReason = endReason(job);
  // Requeued (preempted, node lost): the exit code of the killed attempt is stale; the job runs again.
  if (st.waiting) st.exit = null;
  // The batch script never reached its end (killed, node lost): Slurm's exit code is all there is.
  if (st.exit === null && !st.alive && (job.state === 'COMPLETED' || job.state === 'FAILED') && job.exitCode !== undefined) st.exit = job.exitCode;
  return st;
}

const PREFLIGHT_TTL_MS = 30_000;
const recentPreflights = new Map<string, { at: number; outcome: Promise<PreflightOutcome> }>();

export class SlurmLauncher implements RunLauncher {
  readonly queuesItself = true;
  private remoteDirAbs?: string;
  private home = '/';
  private readonly t: SlurmTarget;

  constructor(private readonly s: LaunchSpec) {
    if (s.target.kind !== 'slurm') throw new Error(`not a slurm target: ${s.target.name}`);
    this.t = s.target;
  }

  /** No lock: create the run dir on the shared filesystem and go; Slurm queues the job. */
  async place(x: Executor, meta: RunMeta): Promise<Placement> {
    const r = await x.exec([`mkdir -p ${quotePath(this.t.remoteDir)}/runs/${shellQuote(meta.runId)} && cd ${quotePath(this.t.remoteDir)} || exit 10`, 'echo "HOME=$HOME"', 'echo "DIR=$(pwd -P)"'].join('\n'));
    const dir = /^DIR=(.*)$/m.exec(r.stdout)?.[1];
    if (r.code !== 0 || !dir) throw new RunFailed('lock', `Cannot create ${this.t.remoteDir} on ${x.label}: ${r.stderr.trim() || `exit ${r.code}`}`);
    this.remoteDirAbs = dir;
    this.home = /^HOME=(.*)$/m.exec(r.stdout)?.[1] || '/';
    return { placed: true, runDir: path.posix.join(dir, 'runs', meta.runId) };
  }

  async release(): Promise<void> {}

  /**
   * Runs submitted together ask the same questions of the same login node: they share one answer for
   * PREFLIGHT_TTL_MS (one sinfo instead of fifty), unless it found a problem.
   */
  async preflight(x: Executor): Promise<PreflightOutcome> {
    const key = `${x.label}\0${JSON.stringify(this.t)}\0${this.s.record?.record ?? ''}`;
    const hit = recentPreflights.get(key);
    if (hit && Date.now() - hit.at < PREFLIGHT_TTL_MS) return hit.outcome;
    const outcome = this.checkLoginNode(x);
    recentPreflights.set(key, { at: Date.now(), outcome });
    outcome.then(
      (o) => o.errors.length && recentPreflights.delete(key),
      () => recentPreflights.delete(key),
    );
    return outcome;
  }

  private async checkLoginNode(x: Executor): Promise<PreflightOutcome> {
    const t = this.t;
    const g = dataGlobs(t, this.home, this.remoteDirAbs!);
    const r = await x.exec(preflightScript(this.remoteDirAbs!, g.train, g.val));
    const s = parseSections(r.stdout);
    const where = `${t.name} (${x.label})`;
    const errors: string[] = [];
    const warnings: string[] = [];
    const report: PreflightReport = { gpus: null, python: null, torch: null, trainShards: null, freeDiskMiB: null, warnings };
    if (!s.has('end')) errors.push(`Preflight on ${where} did not complete: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' / ') || 'no output'}`);
    if (s.get('sbatch')?.rc) errors.push(`sbatch is not on the PATH on ${where}: is this a Slurm login node?`);
    const sinfo = s.get('sinfo');
    if (sinfo?.rc) errors.push(`sinfo failed on ${where}: ${sinfo.lines.join(' / ') || `exit ${sinfo.rc}`}`);
    else if (sinfo) {
      const c = checkSinfo(sinfo.lines.join('\n'), t);
      errors.push(...c.errors);
      if (!c.errors.length) report.gpus = t.gpus;
    }
    // The data may live on node-local disks the login node cannot see: a miss here is only a warning, and the
    // job checks the training shards again on its node before torchrun starts.
    const data = (sec: string, glob: string | undefined, what: string) => {
      const n = Number(s.get(sec)?.lines[0]);
      if (!glob) errors.push(`The target has no ${what === 'NANOGPT_TRAIN_FILES' ? 'trainFiles' : 'valFiles'} (${what}), so the script cannot find its data.`);
      else if (!n) warnings.push(`${what}=${glob} matches nothing on the login node ${x.label}; it can only be checked inside the job, which stops at once if it is missing there too.`);
      return Number.isFinite(n) ? n : null;
    };
    report.trainShards = data('train', g.train, 'NANOGPT_TRAIN_FILES');
    data('val', g.val, 'NANOGPT_VAL_FILES');
    const need = this.s.record?.minTrainShards ?? 1;
    if (report.trainShards && report.trainShards < need) {
      errors.push(`Only ${report.trainShards} training shard${report.trainShards === 1 ? '' : 's'} match NANOGPT_TRAIN_FILES=${g.train} on ${where}; record ${this.s.record?.record} reads at least ${need}.`);
    }
    const kib = Number(s.get('disk')?.lines[0]);
    if (Number.isFinite(kib)) report.freeDiskMiB = Math.floor(kib / 1024);
    if (report.freeDiskMiB !== null && report.freeDiskMiB < this.s.minFreeDiskMiB) errors.push(`Only ${report.freeDiskMiB} MiB free in the target's remoteDir on ${where}.`);
    return { report, errors };
  }

  private job(o: { array?: { count: number; parallel?: number }; chdir: string; output: string; name: string }): { args: string[]; script: string } {
    const t = this.t;
    const g = dataGlobs(t, this.home, this.remoteDirAbs!);
    const args = sbatchArgs({ target: t, name: o.name, timeLimitMinutes: this.s.timeLimitMs / 60_000, chdir: o.chdir, output: o.output, array: o.array });
    const script = jobScript({ setup: t.setup, torchrun: t.torchrun, gpus: t.gpus, trainGlob: g.train, array: !!o.array });
    return { args, script };
  }

  private envInput(): string {
    return envInput(runEnv(this.t, this.home, this.remoteDirAbs!));
  }

  async launch(x: Executor, meta: RunMeta): Promise<Launched> {
    const runDir = meta.remoteDir!;
    const { args, script } = this.job({ chdir: runDir, output: 'console.log', name: `speedrun-${meta.runId}` });
    const r = await x.exec(submitScript(runDir, script, args, meta.scriptSha256), { stdin: this.envInput() });
    if (/SHA256 MISMATCH/.test(r.stdout)) throw new RunFailed('upload', `The uploaded ${SCRIPT} on ${x.label} does not match the local snapshot (sha256 differs).`);
    const jobId = parseSubmit(r.stdout);
    if (r.code !== 0 || !jobId) throw new RunFailed('launch', `sbatch on ${x.label} failed: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`);
    return { detail: `submitted as Slurm job ${jobId}`, meta: { slurmJobId: jobId } };
  }

  /** One job array for runs placed and uploaded together: element i runs metas[i] (%parallel at once). */
  async launchBatch(x: Executor, metas: RunMeta[], parallel?: number): Promise<Launched[]> {
    const arrayDir = path.posix.join(this.remoteDirAbs!, 'arrays', metas[0].runId);
    const { args, script } = this.job({ chdir: arrayDir, output: '%a/console.log', name: `speedrun-${metas[0].runId}-x${metas.length}`, array: { count: metas.length, parallel } });
    const links = await x.exec(arrayLinksScript(arrayDir, metas.map((m) => m.remoteDir!)));
    if (links.code !== 0) throw new RunFailed('launch', `Cannot prepare the job array in ${arrayDir} on ${x.label}: ${links.stderr.trim() || `exit ${links.code}`}`);
    const r = await x.exec(submitScript(arrayDir, script, args), { stdin: this.envInput() });
    const jobId = parseSubmit(r.stdout);
    if (r.code !== 0 || !jobId) throw new RunFailed('launch', `sbatch on ${x.label} failed: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`);
    return metas.map((_, i) => ({ detail: `submitted as Slurm job ${jobId}_${i} (array of ${metas.length})`, meta: { slurmJobId: `${jobId}_${i}` } }));
  }

  private jobId(meta: RunMeta): string {
    if (!meta.slurmJobId) throw new RunFailed('stream', `Run ${meta.runId} has no Slurm job id in its meta.json.`);
    return meta.slurmJobId;
  }

  async follow(x: Executor, meta: RunMeta, offset: number, onBytes: (b: Buffer) => void): Promise<void> {
    await x.exec(followScript(meta.remoteDir!, this.jobId(meta), offset), { onStdout: onBytes, lowLatency: true });
  }

  async status(x: Executor, meta: RunMeta): Promise<LauncherStatus> {
    const r = await x.exec(statusScript(meta.remoteDir!, this.jobId(meta)));
    if (r.code === 10) throw new RunFailed('stream', `The run directory ${meta.remoteDir} is gone from ${x.label}.`);
    const { job: _, ...st } = parseStatus(r.stdout, meta.slurmJobId);
    return st;
  }

  async read(x: Executor, meta: RunMeta, rel: string, offset: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    const r = await x.exec(readFromScript(meta.remoteDir!, rel, offset), { onStdout: (b) => chunks.push(b) });
    if (r.code !== 0) throw new Error(`cannot read ${rel}: ${r.stderr.trim()}`);
    return Buffer.concat(chunks);
  }

  async cancel(x: Executor, meta: RunMeta): Promise<{ problem?: string }> {
    if (!meta.slurmJobId) return {};
    // Slurm sends SIGTERM, then SIGKILL after its KillWait; wait for that plus our grace period.
    const r = await x.exec(cancelScript(meta.slurmJobId, this.s.cancelGraceMs / 1000 + 60));
    if (r.code !== 0) return { problem: `scancel ${meta.slurmJobId} failed on ${x.label}: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}` };
    const active = /^ACTIVE (.*)$/m.exec(r.stdout)?.[1];
    return active ? { problem: `Slurm still shows job ${meta.slurmJobId} as ${active || 'active'} after scancel.` } : {};
  }

  resume(meta: RunMeta): void {
    if (meta.remoteDir) this.remoteDirAbs = path.posix.dirname(path.posix.dirname(meta.remoteDir));
  }
}
