// How a run is placed on a target and followed there. The engine (engine.ts) owns the connection, the local
// record and the events; a launcher owns what happens on the box: take the target (a lock, or a scheduler's
// queue), preflight, launch, stream console.log from a byte offset, report status, cancel, and pick a stored
// run up again. Implementations live in core/remote/launchers/ (detached process group for ssh and local
// targets; a batch scheduler such as Slurm fits the same methods).
import * as path from 'node:path';
import type { RecordFacts } from '../benchmark/types';
import type { Executor } from '../remote/executor';
import type { Target } from '../remote/targets';
import type { PreflightOutcome } from './preflight';
import type { RunMeta, RunStage } from './types';

/** Stops a run's flow: a failure with a stage and a message for the user. Launchers throw it too. */
export class RunFailed extends Error {
  constructor(readonly stage: RunStage, message: string) {
    super(message);
  }
}

/** What a launcher knows about the run it places, fixed when the run is created. */
export interface LaunchSpec {
  target: Target;
  timeLimitMs: number;
  cancelGraceMs: number;
  /** Facts of the task's starting record (min shards, torch), when the task is known. */
  record?: RecordFacts;
  minFreeDiskMiB: number;
}

export type Placement =
  /** The run has its place: `runDir` is its absolute directory on the box (the script is uploaded there).
   * `note` says what it took, for the user (e.g. a stale lock freed). */
  | { placed: true; runDir: string; note?: string }
  /** Someone else holds the target; the engine retries later. `howToFree` tells a user how to free it by hand. */
  | { placed: false; holder: string; howToFree?: string };

export interface Launched {
  /** Shown with the `compiling` state, e.g. "started (process group 123)". */
  detail: string;
  /** Stored in meta.json, so a later session can find the run again (e.g. a scheduler's job id). */
  meta?: Partial<RunMeta>;
}

export interface LauncherStatus {
  /** Launched: there is a process (or job) to follow or stop. */
  launched: boolean;
  /** Something of the run is still alive (or, with a scheduler, still queued or running). */
  alive: boolean;
  /** The run's exit code once it has one. The run has ended when this is set or nothing is alive. */
  exit: number | null;
  timedOut: boolean;
  cancelled: boolean;
  /** Bytes in console.log on the box. */
  consoleSize: number;
  /** The script's own log files, relative to the run dir. */
  logs: string[];
  /** Not started yet (waiting in a scheduler's queue): the engine polls status instead of following. */
  waiting?: boolean;
  /** The scheduler's own word on the run, shown as is ("PENDING (Resources)", "NODE_FAIL"). */
  schedulerState?: string;
  /** Why a run ended without an exit code, when the launcher knows better than "killed from outside". */
  endReason?: string;
}

export interface RunLauncher {
  /** The target's own scheduler queues runs (Slurm): no lane or lock of ours, every run starts at once. */
  readonly queuesItself?: boolean;
  /** Take the target for the run (or find it busy) and create the run dir. May throw RunFailed('lock'). */
  place(x: Executor, meta: RunMeta): Promise<Placement>;
  /** Give the target back once the run has ended or failed (the engine logs a failure and goes on). */
  release(x: Executor, meta: RunMeta): Promise<void>;
  /** Check the box can run this record now; each error alone stops the run. */
  preflight(x: Executor, meta: RunMeta): Promise<PreflightOutcome>;
  /** Start the uploaded script (meta.remoteDir/train_gpt2.py, sha256 meta.scriptSha256) so it outlives the connection. */
  launch(x: Executor, meta: RunMeta): Promise<Launched>;
  /**
   * Launch several placed and uploaded runs at once (a job array), at most `parallel` running at a time.
   * Optional; the result is in the order of `metas`.
   */
  launchBatch?(x: Executor, metas: RunMeta[], parallel?: number): Promise<Launched[]>;
  /** Stream console.log from byte `offset` until the run ends or the connection drops. */
  follow(x: Executor, meta: RunMeta, offset: number, onBytes: (b: Buffer) => void): Promise<void>;
  status(x: Executor, meta: RunMeta): Promise<LauncherStatus>;
  /** Bytes of a file in the run dir from `offset` (the final catch-up, the script's own log). */
  read(x: Executor, meta: RunMeta, rel: string, offset: number): Promise<Buffer>;
  /** Stop the run; `ended` when it had already ended by itself (its real results stand), `problem` for the
   * user when something of it survived. */
  cancel(x: Executor, meta: RunMeta): Promise<{ ended?: boolean; problem?: string }>;
  /** Re-attach: take up a run an earlier session placed, from what it stored in meta.json. */
  resume(meta: RunMeta): void;
}

/** `~/x` -> home/x; relative -> under remoteDir; absolute stays. */
export function resolveRemoteGlob(glob: string, home: string, remoteDirAbs: string): string {
  if (glob === '~' || glob.startsWith('~/')) return path.posix.join(home, glob.slice(1));
  return glob.startsWith('/') ? glob : path.posix.join(remoteDirAbs, glob);
}

/** The data globs of a target, resolved on the box. */
export function dataGlobs(t: Target, home: string, remoteDirAbs: string): { train?: string; val?: string } {
  return {
    train: t.trainFiles ? resolveRemoteGlob(t.trainFiles, home, remoteDirAbs) : undefined,
    val: t.valFiles ? resolveRemoteGlob(t.valFiles, home, remoteDirAbs) : undefined,
  };
}

/** The environment a run's script gets: the data the record scripts read, then the target's own `env`. */
export function runEnv(t: Target, home: string, remoteDirAbs: string): Record<string, string> {
  const g = dataGlobs(t, home, remoteDirAbs);
  return {
    ...(g.train ? { NANOGPT_TRAIN_FILES: g.train } : {}),
    ...(g.val ? { NANOGPT_VAL_FILES: g.val } : {}),
    NANOGPT_VAL_TOKENS: String(t.valTokens),
    ...t.env,
  };
}
