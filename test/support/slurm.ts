// A real single-node Slurm cluster on this machine for tests and benchmarks (docs/testing.md):
// munged, slurmctld and slurmd as root, the node named after `hostname -s`, 8 fake GPUs (character devices, as
// Slurm's gres plugin insists on devices) of type h100, no accounting database (finished jobs are read with
// `scontrol show job` while Slurm remembers them). Needs root and Debian's slurm-wlm + munge
// (scripts/ensure-deps.sh installs them). Idempotent: a cluster that already answers is reused, and stop()
// only stops daemons this process started.
//
// slurmdbd + MariaDB (for `sacct`) are left out: they would add a database server, its setup and about ten
// seconds to every fresh machine, while `scontrol show job` gives the same end states for the tests' short
// jobs (MinJobAge keeps them for 5 minutes). The launcher uses `sacct` when a cluster has accounting.
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from './sshd';

const CONF_DIR = '/etc/slurm';
const CONF = path.join(CONF_DIR, 'slurm.conf');
const MARK = '# Written by Speedrun Workbench tests (test/support/slurm.ts); a real cluster config is never overwritten.';
const GPU_DIR = '/var/lib/speedrun-test-gpus';
const SIM_DIR = '/var/lib/speedrun-test-sim';
const PIDS = { munged: '/run/munge/munged.pid', slurmctld: '/run/slurmctld.pid', slurmd: '/run/slurmd.pid' };

export const SLURM_PARTITION = 'debug';
export const SLURM_GPUS = 8;
export const SLURM_GPU_TYPE = 'h100';

export interface SlurmCluster {
  node: string;
  partition: string;
  gpus: number;
  gpuType: string;
  /**
   * A target `setup` that puts the SIMULATED GPU box (test/sim: torchrun, nvidia-smi, torch/version.py) first
   * on the job's PATH. The copy lives in a directory every user can read.
   */
  simSetup: string;
  simDir: string;
  /** Started by this process (stop() then stops it). */
  ownedByUs: boolean;
  stop(): void;
}

function pidAlive(file: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(file, 'utf8').trim());
    if (!(pid > 0)) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

function run(cmd: string, args: string[], opts: { user?: string } = {}) {
  const [c, a] = opts.user ? ['runuser', ['-u', opts.user, '--', cmd, ...args]] : [cmd, args];
  const r = spawnSync(c, a, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr || r.stdout).trim()}`);
  return r.stdout;
}

function nodeState(): string {
  const r = spawnSync('sinfo', ['-h', '-N', '-o', '%T'], { encoding: 'utf8', timeout: 5000 });
  return r.status === 0 ? r.stdout.trim() : '';
}

function writeConfig(node: string) {
  if (fs.existsSync(CONF) && !fs.readFileSync(CONF, 'utf8').includes(MARK)) {
    throw new Error(`${CONF} exists and was not written by the tests; refusing to replace a real Slurm configuration.`);
  }
  fs.mkdirSync(CONF_DIR, { recursive: true });
  fs.mkdirSync(GPU_DIR, { recursive: true });
  for (let i = 0; i < SLURM_GPUS; i++) {
    const dev = path.join(GPU_DIR, `fakegpu${i}`);
    // Character devices (1,3 = /dev/null's numbers): gres refuses regular files.
    if (!fs.existsSync(dev)) execFileSync('mknod', [dev, 'c', '1', '3']);
  }
  const conf = [
    MARK,
    'ClusterName=speedrun',
    `SlurmctldHost=${node}(127.0.0.1)`,
    'SlurmctldPort=6817',
    'SlurmdPort=6818',
    'SlurmUser=root',
    'SlurmdUser=root',
    'AuthType=auth/munge',
    'StateSaveLocation=/var/spool/slurmctld',
    'SlurmdSpoolDir=/var/spool/slurmd',
    `SlurmctldPidFile=${PIDS.slurmctld}`,
    `SlurmdPidFile=${PIDS.slurmd}`,
    'SlurmctldLogFile=/var/log/slurm/slurmctld.log',
    'SlurmdLogFile=/var/log/slurm/slurmd.log',
    // No cgroups in a container: track processes by parentage.
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core',
    'ReturnToService=2',
    'MinJobAge=300',
    // Seconds between SIGTERM and SIGKILL on cancel or time limit (default 30): short tests.
    'KillWait=5',
    'SchedulerParameters=sched_interval=5',
    // Lets a 2-core machine declare 16 CPUs.
    'SlurmdParameters=config_overrides',
    'GresTypes=gpu',
    'AccountingStorageType=accounting_storage/none',
    'JobCompType=jobcomp/none',
    `NodeName=${node} NodeAddr=127.0.0.1 CPUs=16 CoresPerSocket=16 ThreadsPerCore=1 RealMemory=8000 Gres=gpu:${SLURM_GPU_TYPE}:${SLURM_GPUS}`,
    `PartitionName=${SLURM_PARTITION} Nodes=${node} Default=YES MaxTime=INFINITE State=UP`,
    '',
  ].join('\n');
  fs.writeFileSync(CONF, conf);
  fs.writeFileSync(path.join(CONF_DIR, 'gres.conf'), `AutoDetect=off\nNodeName=${node} Name=gpu Type=${SLURM_GPU_TYPE} File=${GPU_DIR}/fakegpu[0-${SLURM_GPUS - 1}]\n`);
}

function copySim(): string {
  fs.rmSync(SIM_DIR, { recursive: true, force: true });
  fs.cpSync(path.join(REPO_ROOT, 'test/sim'), SIM_DIR, { recursive: true });
  fs.chmodSync(SIM_DIR, 0o755);
  return SIM_DIR;
}

async function waitFor(what: string, ok: () => boolean, timeoutMs = 20_000) {
  const t0 = Date.now();
  while (!ok()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`Slurm test cluster: ${what} did not come up in ${timeoutMs / 1000} s (see /var/log/slurm/)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const READY = /^(idle|mixed|allocated|completing)/;

/** Start the cluster (or reuse a running one) and wait until its node takes jobs. */
export async function startSlurm(): Promise<SlurmCluster> {
  if (process.getuid?.() !== 0) throw new Error('The Slurm test cluster needs root (slurmd runs jobs as their users).');
  for (const bin of ['/usr/sbin/slurmctld', '/usr/sbin/slurmd', '/usr/sbin/munged']) {
    if (!fs.existsSync(bin)) throw new Error(`${bin} is missing: install slurm-wlm and munge (scripts/ensure-deps.sh does).`);
  }
  const node = os.hostname().split('.')[0];
  const simDir = copySim();
  let ownedByUs = false;
  if (!READY.test(nodeState())) {
    writeConfig(node);
    for (const d of ['/run/munge', '/var/spool/slurmctld', '/var/spool/slurmd', '/var/log/slurm']) fs.mkdirSync(d, { recursive: true });
    execFileSync('chown', ['munge:munge', '/run/munge']);
    if (!pidAlive(PIDS.munged)) run('/usr/sbin/munged', [], { user: 'munge' });
    await waitFor('munged', () => spawnSync('bash', ['-c', 'munge -n | unmunge'], { stdio: 'ignore' }).status === 0);
    // -c: forget jobs of an earlier test cluster (their state files may name a node that no longer exists).
    if (!pidAlive(PIDS.slurmctld)) run('/usr/sbin/slurmctld', ['-c']);
    if (!pidAlive(PIDS.slurmd)) run('/usr/sbin/slurmd', []);
    ownedByUs = true;
    await waitFor('the node', () => {
      const s = nodeState();
      if (/^(down|drain)/.test(s)) spawnSync('scontrol', ['update', `NodeName=${node}`, 'State=RESUME'], { stdio: 'ignore' });
      return READY.test(s);
    });
  }
  return {
    node,
    partition: SLURM_PARTITION,
    gpus: SLURM_GPUS,
    gpuType: SLURM_GPU_TYPE,
    simDir,
    simSetup: `export PATH=${simDir}:$PATH PYTHONPATH=${simDir}/pylib`,
    ownedByUs,
    stop: () => {
      if (ownedByUs) stopSlurm();
    },
  };
}

/** Cancel every job, then stop slurmd, slurmctld and munged by their pid files (never by name). */
export function stopSlurm(): void {
  // Every user's jobs (the ssh tests submit as their login user); slurmstepd still ends them after we stop.
  spawnSync('scancel', ['--full', `--partition=${SLURM_PARTITION}`], { stdio: 'ignore' });
  for (const f of [PIDS.slurmd, PIDS.slurmctld, PIDS.munged]) {
    const pid = pidAlive(f);
    if (pid) process.kill(pid, 'SIGTERM');
  }
}

/** The job's state and reason as `squeue` shows them (empty when Slurm no longer lists it). */
export function squeueState(jobId: string): { state: string; reason: string } {
  const out = spawnSync('squeue', ['-h', '-t', 'all', '-j', jobId, '-o', '%T|%r'], { encoding: 'utf8' }).stdout?.trim() ?? '';
  const [state = '', reason = ''] = out.split('\n')[0].split('|');
  return { state, reason };
}

/** Submit a plain job that holds `gpus` GPUs (a blocker); returns its id. */
export function holdGpus(gpus: number, seconds: number, user?: string): string {
  const args = ['--parsable', `--gres=gpu:${gpus}`, '--nodes=1', '-o', '/dev/null', `--wrap=sleep ${seconds}`];
  return run('sbatch', args, user ? { user } : {}).trim().split(';')[0];
}
