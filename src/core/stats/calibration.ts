// Calibration: the benchmark's times were measured on its authors' 8xH100 nodes, not on the user's box. We run
// records i and i+1 from the user's clone on a target, interleaved, K times each, and keep the measured train
// times (mean ± sd) per target and record, so FSR can be shown against the box's own times too.
// Layout under the calibration folder (default $XDG_DATA_HOME/speedrun-workbench/calibration, or
// $SPEEDRUN_CALIBRATION_DIR): calibration.json (the summary readers use) and runs/<target>/record_<r>/, a task
// folder per record whose stored runs are the measurements (so an interrupted calibration resumes from them).
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { getRecord, loadManifest, readBenchmarkBytes, referenceMetrics, scriptPath } from '../benchmark/catalog';
import { fsrForRun, type TaskTimes } from '../benchmark/fsr';
import { SCRIPT_NAME, SPEEDRUN_DIR, TASK_FILE } from '../benchmark/openTask';
import type { TaskFacts, TaskFile } from '../benchmark/types';
import { sha256, writeAtomic } from '../files';
import { RunStore } from '../runs/store';
import { TERMINAL_STATES, type RunMeta } from '../runs/types';
import { boxFailure, type RunDriver } from './repeat';
import { runValue } from './samples';
import { sample, StatsError } from './ttest';

export interface CalibratedRecord {
  /** Finished runs measured. */
  n: number;
  meanMs: number;
  /** Sample sd; null with one run. */
  stdMs: number | null;
  valLossMean: number;
  updatedAt: string;
}

export interface CalibrationData {
  version: 1;
  /** target name -> record number -> measured times */
  targets: Record<string, Record<string, CalibratedRecord>>;
}

export function defaultCalibrationDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SPEEDRUN_CALIBRATION_DIR) return path.resolve(env.SPEEDRUN_CALIBRATION_DIR);
  const data = env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(data, 'speedrun-workbench', 'calibration');
}

/** A folder name for any target name: readable when it can be, unique always. */
function targetFolder(name: string): string {
  const safe = name.replace(/[^A-Za-z0-9._-]/g, '_');
  return safe === name && !/^\.+$/.test(name) ? name : `${safe}-${createHash('sha256').update(name).digest('hex').slice(0, 8)}`;
}

export interface CalibrationDriver extends RunDriver {
  /** Follow a run an earlier session started (RunManager.attach); undefined when its target is gone. */
  attach(taskDir: string, runId: string, requeue: boolean): RunMeta | undefined;
}

export class CalibrationStore {
  readonly file: string;

  constructor(readonly root: string = defaultCalibrationDir()) {
    this.file = path.join(root, 'calibration.json');
  }

  read(): CalibrationData {
    try {
      const d = JSON.parse(fs.readFileSync(this.file, 'utf8')) as CalibrationData;
      if (d && d.version === 1 && d.targets && typeof d.targets === 'object') return d;
    } catch {
      /* none yet, or unreadable: start over (the runs are still on disk) */
    }
    return { version: 1, targets: {} };
  }

  record(target: string, record: number): CalibratedRecord | undefined {
    return this.read().targets[target]?.[String(record)];
  }

  /** Records i and i+1 both measured on `target`: the task's times on that box. */
  taskTimes(target: string, fromRecord: number): TaskTimes | undefined {
    const [a, b] = [this.record(target, fromRecord), this.record(target, fromRecord + 1)];
    return a && b ? { baselineMs: a.meanMs, targetMs: b.meanMs } : undefined;
  }

  recordDir(target: string, record: number): string {
    return path.join(this.root, 'runs', targetFolder(target), `record_${record}`);
  }

  /** Finished measurements of a record on a target, from its stored runs. */
  measurements(target: string, record: number): RunMeta[] {
    return new RunStore(this.recordDir(target, record)).list().filter((m) => m.target === target && runValue(m, 'trainTimeMs') !== undefined);
  }

  /** Recompute a record's summary from its runs and store it. */
  update(target: string, record: number): CalibratedRecord | undefined {
    const runs = this.measurements(target, record);
    const data = this.read();
    const byRecord = (data.targets[target] ??= {});
    if (!runs.length) {
      delete byRecord[String(record)];
    } else {
      const t = sample(runs.map((m) => runValue(m, 'trainTimeMs')!));
      const v = sample(runs.map((m) => runValue(m, 'valLoss')!).filter(Number.isFinite));
      byRecord[String(record)] = { n: t.n, meanMs: t.mean, stdMs: t.n > 1 ? t.std : null, valLossMean: v.mean, updatedAt: new Date().toISOString() };
    }
    fs.mkdirSync(this.root, { recursive: true });
    writeAtomic(this.file, JSON.stringify(data, null, 2) + '\n');
    return byRecord[String(record)];
  }

  /** The record's task folder with its script from the user's clone (rewritten each time, in case the clone moved on). */
  prepare(target: string, record: number, benchmarkPath: string): string {
    let script: Buffer;
    try {
      script = readBenchmarkBytes(scriptPath(benchmarkPath, record));
    } catch (e) {
      throw new StatsError(`record ${record}'s script: ${(e as Error).message}`);
    }
    const dir = this.recordDir(target, record);
    fs.mkdirSync(path.join(dir, SPEEDRUN_DIR), { recursive: true });
    writeAtomic(path.join(dir, SCRIPT_NAME), script);
    // A task file so the run engine knows the record (preflight: shards, torch); i+1 only for its shape.
    const next = getRecord(record + 1) ? referenceMetrics(record + 1) : referenceMetrics(record);
    const task: TaskFile = {
      version: 1, taskId: record, fromRecord: record, toRecord: record + 1, baselineSha256: sha256(script),
      benchmarkPath, baseline: referenceMetrics(record), target: next, createdAt: new Date().toISOString(),
    };
    writeAtomic(path.join(dir, TASK_FILE), JSON.stringify(task, null, 2) + '\n');
    return dir;
  }
}

export interface Estimate {
  /** Runs still to do per record. */
  runs: { record: number; count: number; eachMs: number; calibrated: boolean }[];
  totalRuns: number;
  /** Training time of those runs: the box's measured mean where there is one, else the paper's time. */
  trainMs: number;
}

/** Records a set of tasks needs (i and i+1 of each), in order. */
export function recordsOf(tasks: readonly TaskFacts[]): number[] {
  return [...new Set(tasks.flatMap((t) => [t.fromRecord, t.toRecord]))].sort((a, b) => a - b);
}

/** What calibrating these tasks to K runs per record still costs on a target. */
export function estimate(store: CalibrationStore, target: string, tasks: readonly TaskFacts[], k: number): Estimate {
  const runs = recordsOf(tasks).map((record) => {
    const have = store.measurements(target, record).length;
    const cal = store.record(target, record);
    return { record, count: Math.max(0, k - have), eachMs: cal?.meanMs ?? referenceMetrics(record).trainTimeMs, calibrated: !!cal };
  });
  return { runs, totalRuns: runs.reduce((a, r) => a + r.count, 0), trainMs: runs.reduce((a, r) => a + r.count * r.eachMs, 0) };
}

export interface CalibrateOptions {
  store: CalibrationStore;
  benchmarkPath: string;
  task: TaskFacts;
  target: string;
  /** Runs per record. */
  runs: number;
  onRun?(e: { record: number; done: number; of: number; meta: RunMeta }): void;
  stopRequested?(): boolean;
}

export interface TaskCalibration {
  task: TaskFacts;
  target: string;
  baseline?: CalibratedRecord;
  next?: CalibratedRecord;
  /** Paper times of records i and i+1. */
  paper: TaskTimes;
  /** The box's own, when both are measured. */
  box?: TaskTimes;
  stopped?: string;
}

/**
 * Calibrate one task on one target: first follow runs an interrupted calibration left going, then run whatever
 * records i and i+1 still lack, interleaved (i, i+1, i, ...), until each has `runs` finished measurements.
 */
export async function calibrateTask(driver: CalibrationDriver, o: CalibrateOptions): Promise<TaskCalibration> {
  if (!Number.isInteger(o.runs) || o.runs < 1) throw new StatsError('the number of runs must be a whole number of at least 1');
  const records = [o.task.fromRecord, o.task.toRecord];
  const dirs = records.map((r) => o.store.prepare(o.target, r, o.benchmarkPath));
  let stopped: string | undefined;
  // Resume: runs still going (or waiting) from an earlier session.
  for (const [i, dir] of dirs.entries()) {
    for (const m of new RunStore(dir).list()) {
      if (m.target !== o.target || TERMINAL_STATES.includes(m.state)) continue;
      if (!driver.attach(dir, m.runId, true)) continue;
      const end = await driver.waitForEnd(m.runId);
      o.store.update(o.target, records[i]);
      o.onRun?.({ record: records[i], done: o.store.measurements(o.target, records[i]).length, of: o.runs, meta: end });
    }
  }
  const missing = () => records.map((r) => Math.max(0, o.runs - o.store.measurements(o.target, r).length));
  const failures = [0, 0];
  for (let turn = 0; ; turn = 1 - turn) {
    const left = missing();
    if (!left[0] && !left[1]) break;
    if (!left[turn]) continue;
    if (o.stopRequested?.()) {
      stopped = 'stopped on request';
      break;
    }
    const start = driver.enqueue({ taskDir: dirs[turn], target: o.target, origin: 'cli' });
    const end = await driver.waitForEnd(start.runId);
    o.store.update(o.target, records[turn]);
    o.onRun?.({ record: records[turn], done: o.store.measurements(o.target, records[turn]).length, of: o.runs, meta: end });
    stopped = boxFailure(end);
    if (stopped) break;
    // A record whose script keeps failing on this box would loop forever: give up after `runs` failures.
    if (end.state !== 'finished' && ++failures[turn] >= o.runs) {
      stopped = `record ${records[turn]} failed ${failures[turn]} times on ${o.target} (last: run ${end.runId} ${end.state})`;
      break;
    }
  }
  const [baseline, next] = records.map((r) => o.store.record(o.target, r));
  const m = loadManifest();
  return {
    task: o.task,
    target: o.target,
    baseline,
    next,
    paper: { baselineMs: referenceMetrics(o.task.fromRecord, m).trainTimeMs, targetMs: referenceMetrics(o.task.toRecord, m).trainTimeMs },
    box: o.store.taskTimes(o.target, o.task.fromRecord),
    stopped,
  };
}

export interface FsrBoth {
  /** Against the paper's times of records i and i+1 (from the task file). */
  paper: number;
  /** Against the same records measured on this target, when both are calibrated. */
  box: number | null;
}

/** A train time's FSR against the paper's times and, where the target is calibrated, against the box's own. */
export function fsrBoth(task: Pick<TaskFile, 'fromRecord' | 'baseline' | 'target'>, target: string, trainTimeMs: number, store = new CalibrationStore()): FsrBoth {
  const box = store.taskTimes(target, task.fromRecord);
  return {
    paper: fsrForRun(trainTimeMs, null, { baselineMs: task.baseline.trainTimeMs, targetMs: task.target.trainTimeMs }).fsr,
    box: box ? fsrForRun(trainTimeMs, null, box).fsr : null,
  };
}
