// The detached launcher, for `ssh` and `local` targets: one run at a time per target through a lock file on
// the box, and the run in its own session and process group (setsid), so it outlives the connection. Layout:
//   <remoteDir>/lock                      `<runId> <machine> <pid> <start ms>`: the run holding this target
//                                         and the process (editor or CLI) that took it
//   <remoteDir>/runs/<runId>/train_gpt2.py, console.log (stdout+stderr), pgid, exit_code,
//                            timed_out / cancelled (markers)
// Every script is built with shellQuote only; the target's `setup` and `torchrun` are the user's own shell code
// (machine-scoped settings) and run through `eval` of a quoted string.
import * as path from 'node:path';
import { dataGlobs, RunFailed, runEnv, type Launched, type LauncherStatus, type LaunchSpec, type Placement, type RunLauncher } from '../../runs/launcher';
import { evaluatePreflight, type PreflightOutcome } from '../../runs/preflight';
import { machineWord, ownerGone, thisProcess, type ProcessOwner } from '../../processOwner';
import { SCRIPT } from '../../runs/store';
import type { RunMeta } from '../../runs/types';
import { APPLY_ENV, cdRun, envInput, preflightScript, readFromScript, setupLines, TAKE_ENV } from '../commands';
import type { Executor } from '../executor';
import { quotePath, shellJoin, shellQuote } from '../shell';

/** True while a non-zombie process of the run's process group exists ($pg). Zombies are ignored: an init
 * that does not reap (containers) would otherwise keep a finished run "alive" forever. */
const ALIVE_FN = `alive() { [ -n "$pg" ] && ps -A -o pgid=,stat= | awk -v g="$pg" '$1==g && $2 !~ /^Z/ {n++} END {exit n?0:1}'; }`;

/** Who holds a lock: the run and the process that took it. */
export interface LockOwner extends ProcessOwner {
  runId: string;
}

export function formatLockOwner(o: LockOwner): string {
  return [o.runId, machineWord(o.machine ?? '-'), o.pid ?? '-', o.startMs ?? '-'].join(' ');
}

/** Reads a lock file's line; an older lock holds only the run id. */
export function parseLockOwner(line: string): LockOwner {
  const [runId = '', machine, pid, start] = line.trim().split(/\s+/);
  const num = (v?: string) => (v && /^\d+$/.test(v) ? Number(v) : undefined);
  return { runId, machine: machine && machine !== '-' ? machine : undefined, pid: num(pid), startMs: num(start) };
}

/**
 * Take the target's lock for `owner.runId` and create the run dir. Prints `HOME=`, `DIR=` (absolute remoteDir)
 * and `LOCK OK`, or `LOCK BUSY <lock line>` (+ `HOLDER LAUNCHED` when the holder's run has started). A lock is
 * stale when its run has ended, its processes are gone, or it never launched within 15 minutes.
 */
export function lockScript(remoteDir: string, owner: LockOwner): string {
  const id = shellQuote(owner.runId);
  return [
    'set -u',
    `mkdir -p ${quotePath(remoteDir)}/runs/${id} && cd ${quotePath(remoteDir)} || exit 10`,
    'echo "HOME=$HOME"',
    'echo "DIR=$(pwd -P)"',
    ALIVE_FN,
    'o=',
    'stale() {',
    '  read -r o _ < lock 2>/dev/null || return 0',
    `  [ "$o" = ${id} ] && return 0`,
    '  case "$o" in *[!0-9a-f-]*|"") return 0;; esac',
    '  [ -e "runs/$o/exit_code" ] && return 0',
    '  if [ -s "runs/$o/pgid" ]; then pg=$(cat "runs/$o/pgid"); alive && return 1; return 0; fi',
    '  [ -n "$(find lock -mmin +15 2>/dev/null)" ]',
    '}',
    'for i in 1 2 3; do',
    `  if ( set -C; echo ${shellQuote(formatLockOwner(owner))} > lock ) 2>/dev/null; then echo "LOCK OK"; exit 0; fi`,
    '  if stale; then rm -f lock; else break; fi',
    'done',
    'echo "LOCK BUSY $(cat lock 2>/dev/null)"',
    '[ -s "runs/$o/pgid" ] && echo "HOLDER LAUNCHED"',
    'true',
  ].join('\n');
}

/** Remove the lock if it still holds exactly `line` (freeing a provably stale lock, and nothing newer). */
export function breakLockScript(remoteDirAbs: string, line: string): string {
  return `cd ${shellQuote(remoteDirAbs)} 2>/dev/null && IFS= read -r l < lock && [ "$l" = ${shellQuote(line)} ] && rm -f lock; true`;
}

/** Release the lock if `runId` holds it. */
export function unlockScript(remoteDirAbs: string, runId: string): string {
  return `cd ${shellQuote(remoteDirAbs)} 2>/dev/null && read -r o _ < lock && [ "$o" = ${shellQuote(runId)} ] && rm -f lock; true`;
}

/** A launch script gets the env on stdin (envInput). */
export interface LaunchScriptSpec {
  setup?: string;
  runDir: string;
  sha256: string;
  torchrun: string;
  gpus: number;
  timeLimitSec: number;
  graceSec: number;
}

/**
 * Verify the upload, then start the run detached: its own session and process group (setsid), output to
 * console.log, pgid written first and the exit code last. A watchdog in the same group enforces the time
 * limit on the box itself, so it holds even with no editor attached. Prints `PGID <n>`.
 */
export function launchScript(s: LaunchScriptSpec): string {
  const inner = [
    'echo $$ > pgid',
    // Watchdog: TERM the group at the limit, KILL after the grace period. It stops quietly (killing its
    // sleep) when the run ends first.
    '( trap \'kill $s 2>/dev/null; exit 0\' TERM',
    `  sleep ${Math.max(1, Math.ceil(s.timeLimitSec))} & s=$!; wait $s`,
    "  trap '' TERM; echo 1 > timed_out; kill -TERM -- -$$ 2>/dev/null",
    `  sleep ${Math.max(1, Math.ceil(s.graceSec))}; kill -KILL -- -$$ 2>/dev/null ) >/dev/null 2>&1 &`,
    'wd=$!',
    ...setupLines(s.setup, 'echo "speedrun: the setup command failed (exit $?)"'),
    APPLY_ENV,
    'export PYTHONUNBUFFERED=1',
    // A trap (not an ignore) so the leader outlives a TERM to the group and records the exit code; children
    // get default signal handling back on exec.
    "trap ':' TERM",
    `${s.torchrun} --standalone --nproc_per_node=${Math.floor(s.gpus)} train_gpt2.py`,
    'rc=$?',
    'kill $wd 2>/dev/null',
    'echo $rc > exit_code.tmp && mv -f exit_code.tmp exit_code',
  ].join('\n');
  return [
    TAKE_ENV,
    cdRun(s.runDir),
    `read -r sum _ < <(sha256sum train_gpt2.py); [ "$sum" = ${shellQuote(s.sha256)} ] || { echo "SHA256 MISMATCH"; exit 11; }`,
    'rm -f pgid exit_code timed_out cancelled',
    // `;` (not `&&`) before the background job: with `&&` the whole list would be backgrounded in a subshell
    // holding the channel open until the run ends.
    // The env reaches the run through its environment (export), never its command line.
    'export SPEEDRUN_ENV',
    `setsid bash -c ${shellQuote(inner)} > console.log 2>&1 < /dev/null &`,
    'for ((i = 0; i < 500; i++)); do [ -s pgid ] && break; sleep 0.01; done',
    'echo "PGID $(cat pgid 2>/dev/null)"',
  ].join('\n');
}

/**
 * Stream console.log from byte `offset` until the run has ended (exit code written, or no live process
 * left in its group). tail -F follows through inotify, so lines arrive as they are written.
 */
export function followScript(runDir: string, offset: number): string {
  return [
    cdRun(runDir),
    // On a terminal (see ExecOptions.lowLatency): pass bytes through unchanged.
    '[ -t 1 ] && stty raw -echo -opost 2>/dev/null',
    'pg=$(cat pgid 2>/dev/null)',
    ALIVE_FN,
    `tail -c +${Math.floor(offset) + 1} -F console.log 2>/dev/null & t=$!`,
    "trap 'kill $t 2>/dev/null' EXIT",
    'while [ ! -e exit_code ] && alive; do sleep 0.2; done',
  ].join('\n');
}

/** The run's end state: `EXIT <code|none>`, markers, `ALIVE`, console size and the script's log files. */
export function statusScript(runDir: string): string {
  return [
    cdRun(runDir),
    'pg=$(cat pgid 2>/dev/null)',
    ALIVE_FN,
    'echo "EXIT $(cat exit_code 2>/dev/null || echo none)"',
    'echo "PGID ${pg:-none}"',
    '[ -e timed_out ] && echo TIMEDOUT',
    '[ -e cancelled ] && echo CANCELLED',
    'alive && echo ALIVE',
    'echo "SIZE $(stat -c %s console.log 2>/dev/null || echo 0)"',
    // Where record scripts write their own log: logs/<uuid>.txt (4-21), logs/<uuid>/log.txt (3), pylog124m/<uuid>.log (1-2).
    'for f in logs/*.txt logs/*/log.txt pylog124m/*.log; do [ -f "$f" ] && echo "LOG $f"; done',
    'true',
  ].join('\n');
}

/** SIGTERM the run's process group, SIGKILL after `graceSec`, then report `GONE` or `ALIVE` + leftovers.
 * A run that has already exited gets no cancelled mark (`ENDED <code>`): its results are real; only what it
 * left running is stopped. */
export function cancelScript(runDir: string, graceSec: number): string {
  const ticks = Math.max(1, Math.round(graceSec * 10));
  return [
    cdRun(runDir),
    'pg=$(cat pgid 2>/dev/null)',
    '[ -n "$pg" ] || { echo "NOT LAUNCHED"; exit 0; }',
    ALIVE_FN,
    'if [ -e exit_code ]; then echo "ENDED $(cat exit_code)"; else echo 1 > cancelled; fi',
    'kill -TERM -- -"$pg" 2>/dev/null',
    `for ((i = 0; i < ${ticks}; i++)); do alive || { echo GONE; exit 0; }; sleep 0.1; done`,
    'kill -KILL -- -"$pg" 2>/dev/null',
    'for ((i = 0; i < 50; i++)); do alive || { echo GONE; exit 0; }; sleep 0.1; done',
    'echo ALIVE',
    'ps -A -o pgid=,pid=,stat=,args= | awk -v g="$pg" \'$1==g && $3 !~ /^Z/\'',
  ].join('\n');
}

/** Reads statusScript's output. */
export function parseStatus(out: string): LauncherStatus {
  const st: LauncherStatus = { launched: false, exit: null, timedOut: false, cancelled: false, alive: false, consoleSize: 0, logs: [] };
  for (const line of out.split('\n')) {
    const [k, ...rest] = line.trim().split(' ');
    const v = rest.join(' ');
    if (k === 'EXIT' && /^\d+$/.test(v)) st.exit = Number(v);
    else if (k === 'PGID' && /^\d+$/.test(v)) st.launched = true;
    else if (k === 'TIMEDOUT') st.timedOut = true;
    else if (k === 'CANCELLED') st.cancelled = true;
    else if (k === 'ALIVE') st.alive = true;
    else if (k === 'SIZE') st.consoleSize = Number(v) || 0;
    // Only plain relative names from the known layouts; anything else is ignored.
    else if (k === 'LOG' && /^(logs|pylog124m)\/[\w.-]+(\/log\.txt)?$/.test(v)) st.logs.push(v);
  }
  return st;
}

export class DetachedLauncher implements RunLauncher {
  /** The target's remoteDir, absolute on the box, and the box user's home (for `~/` in data globs). */
  private remoteDirAbs?: string;
  private home = '/';

  constructor(private readonly s: LaunchSpec) {}

  async place(x: Executor, meta: RunMeta): Promise<Placement> {
    const t = this.s.target;
    const me: LockOwner = { runId: meta.runId, ...thisProcess() };
    let note: string | undefined;
    for (;;) {
      const r = await x.exec(lockScript(t.remoteDir, me));
      const home = /^HOME=(.*)$/m.exec(r.stdout)?.[1];
      const dir = /^DIR=(.*)$/m.exec(r.stdout)?.[1];
      if (r.code !== 0 || !dir) throw new RunFailed('lock', `Cannot create ${t.remoteDir} on ${x.label}: ${r.stderr.trim() || `exit ${r.code}`}`);
      this.remoteDirAbs = dir;
      this.home = home || '/';
      if (/^LOCK OK$/m.test(r.stdout)) return { placed: true, runDir: path.posix.join(dir, 'runs', meta.runId), note };
      const line = /^LOCK BUSY (.*)$/m.exec(r.stdout)?.[1] ?? '';
      const holder = parseLockOwner(line);
      const by = holder.pid ? ` (pid ${holder.pid} on ${holder.machine})` : '';
      // A run that never launched, taken by a process of this machine that is gone (a killed CLI): free it now.
      if (!note && !/^HOLDER LAUNCHED$/m.test(r.stdout) && ownerGone(holder)) {
        await x.exec(breakLockScript(dir, line));
        note = `freed the target lock of run ${holder.runId}: the process that took it${by} is gone and its run never started`;
        continue;
      }
      const lock = path.posix.join(dir, 'lock');
      const rm = shellJoin(['rm', '-f', lock]);
      const where = t.kind === 'ssh' ? shellJoin(['ssh', ...(t.port ? ['-p', t.port] : []), t.user ? `${t.user}@${t.host}` : t.host, rm]) : rm;
      return { placed: false, holder: `${holder.runId || 'another run'}${by}`, howToFree: `if that run is gone, free the target with: ${where}` };
    }
  }

  async release(x: Executor, meta: RunMeta): Promise<void> {
    if (!this.remoteDirAbs) return;
    await x.exec(unlockScript(this.remoteDirAbs, meta.runId));
  }

  private env() {
    return runEnv(this.s.target, this.home, this.remoteDirAbs!);
  }

  async preflight(x: Executor): Promise<PreflightOutcome> {
    const t = this.s.target;
    const g = dataGlobs(t, this.home, this.remoteDirAbs!);
    const r = await x.exec(preflightScript({ remoteDirAbs: this.remoteDirAbs!, setup: t.setup, torchrun: t.torchrun, trainGlob: g.train, valGlob: g.val }), { stdin: envInput(this.env()) });
    return evaluatePreflight(r.stdout, {
      gpus: t.gpus,
      record: this.s.record,
      trainGlob: g.train,
      valGlob: g.val,
      minFreeDiskMiB: this.s.minFreeDiskMiB,
      where: `${t.name} (${x.label})`,
    });
  }

  async launch(x: Executor, meta: RunMeta): Promise<Launched> {
    const t = this.s.target;
    const r = await x.exec(
      launchScript({ runDir: meta.remoteDir!, sha256: meta.scriptSha256, setup: t.setup, torchrun: t.torchrun, gpus: t.gpus, timeLimitSec: this.s.timeLimitMs / 1000, graceSec: this.s.cancelGraceMs / 1000 }),
      { stdin: envInput(this.env()) },
    );
    if (/SHA256 MISMATCH/.test(r.stdout)) throw new RunFailed('upload', `The uploaded ${SCRIPT} on ${x.label} does not match the local snapshot (sha256 differs).`);
    const pgid = /^PGID (\d+)$/m.exec(r.stdout)?.[1];
    if (r.code !== 0 || !pgid) throw new RunFailed('launch', `Launch on ${x.label} failed: ${(r.stderr || r.stdout).trim() || `exit ${r.code}`}`);
    return { detail: `started (process group ${pgid}); compiling` };
  }

  async follow(x: Executor, meta: RunMeta, offset: number, onBytes: (b: Buffer) => void): Promise<void> {
    await x.exec(followScript(meta.remoteDir!, offset), { onStdout: onBytes, lowLatency: true });
  }

  async status(x: Executor, meta: RunMeta): Promise<LauncherStatus> {
    const r = await x.exec(statusScript(meta.remoteDir!));
    if (r.code === 10) throw new RunFailed('stream', `The run directory ${meta.remoteDir} is gone from ${x.label}.`);
    return parseStatus(r.stdout);
  }

  async read(x: Executor, meta: RunMeta, rel: string, offset: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    const r = await x.exec(readFromScript(meta.remoteDir!, rel, offset), { onStdout: (b) => chunks.push(b) });
    if (r.code !== 0) throw new Error(`cannot read ${rel}: ${r.stderr.trim()}`);
    return Buffer.concat(chunks);
  }

  async cancel(x: Executor, meta: RunMeta): Promise<{ ended?: boolean; problem?: string }> {
    const r = await x.exec(cancelScript(meta.remoteDir!, this.s.cancelGraceMs / 1000));
    if (/^ENDED /m.test(r.stdout)) return { ended: true };
    if (!/^ALIVE$/m.test(r.stdout)) return {};
    const lines = r.stdout.split('\n');
    const left = lines.slice(lines.indexOf('ALIVE') + 1).filter(Boolean);
    return { problem: `Processes of the run survived SIGKILL on ${x.label}: ${left.join('; ')}` };
  }

  resume(meta: RunMeta): void {
    if (meta.remoteDir) this.remoteDirAbs = path.posix.dirname(path.posix.dirname(meta.remoteDir));
  }
}
