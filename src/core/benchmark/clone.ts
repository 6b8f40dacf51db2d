// Validates a user's llm-speedrunner clone against the manifest: layout, per-task completeness, metric drift.
import { fsReason, sha256 } from '../files';
import * as fs from 'node:fs';
import * as path from 'node:path';
import {
  BenchmarkFileError,
  listHints,
  loadManifest,
  readBenchmarkBytes,
  readResults,
  recordDir,
  resultsPath,
  scriptPath,
  type HintFile,
} from './catalog';
import type { Manifest, Metrics } from './types';

/** The folder is not a usable clone. `suggestion` is a folder that looks like the right one, if any. */
export class BenchmarkLayoutError extends Error {
  constructor(message: string, readonly suggestion?: string) {
    super(message);
  }
}

export interface ScriptInfo {
  path: string;
  sha256: string;
  bytes: number;
  /** Byte-identical to the released record script (sha256 in the manifest). */
  matchesRelease: boolean;
}

export interface RecordReport {
  record: number;
  dir: string;
  script?: ScriptInfo;
  /** Metrics from the clone's results.json, when readable. */
  results?: Metrics;
  status?: string;
  /** Why the record cannot be used (missing or unreadable files). */
  problems: string[];
  /** Usable but suspicious (metrics differ from the manifest). */
  warnings: string[];
}

export interface TaskReport {
  id: number;
  fromRecord: number;
  toRecord: number;
  /** Record i's metrics as read from the clone. */
  baseline?: Metrics;
  /** Record i+1's metrics as read from the clone. */
  target?: Metrics;
  /** The manifest's reference values, for comparison. */
  reference: { baseline: Metrics; target: Metrics };
  /** Gap from the clone's values when both are readable, else from the manifest. */
  gapMs: number;
  /** Hints found, never level 0. */
  hints: HintFile[];
  hintLevels: number[];
  hasGroundTruth: boolean;
  complete: boolean;
  missing: string[];
  warnings: string[];
}

export interface CloneReport {
  root: string;
  /** The manifest's source commit the clone is compared with. */
  manifestCommit: string;
  records: RecordReport[];
  tasks: TaskReport[];
  completeTasks: number;
  /** Clone-wide warnings (e.g. no hints folder), plus every record warning once. */
  warnings: string[];
}

const TEMPLATES = path.join('workspace_templates', 'nanogpt_speedrun');

/** Throws BenchmarkLayoutError with an actionable message unless `root` looks like an llm-speedrunner clone. */
export function checkLayout(root: string): string {
  const abs = path.resolve(root);
  let st: fs.Stats;
  try {
    st = fs.statSync(abs);
  } catch {
    throw new BenchmarkLayoutError(
      `Benchmark folder not found: ${abs}. Clone https://github.com/facebookresearch/llm-speedrunner and point to its folder.`,
    );
  }
  if (!st.isDirectory()) throw new BenchmarkLayoutError(`${abs} is a file; expected the folder of an llm-speedrunner clone.`);
  try {
    fs.readdirSync(abs);
  } catch (e) {
    throw new BenchmarkLayoutError(`Cannot list ${abs} (${fsReason(e) ?? (e as NodeJS.ErrnoException).code}); check its permissions.`);
  }
  if (isDir(path.join(abs, TEMPLATES))) return abs;

  // Pointed inside a clone (e.g. at workspace_templates/nanogpt_speedrun or a record folder)?
  for (let dir = path.dirname(abs), i = 0; i < 5 && dir !== path.dirname(dir); dir = path.dirname(dir), i++) {
    if (isDir(path.join(dir, TEMPLATES))) {
      throw new BenchmarkLayoutError(
        `${abs} is inside an llm-speedrunner clone; use the clone's top folder ${dir} instead.`,
        dir,
      );
    }
  }
  if (isDir(path.join(abs, 'records')) && fs.existsSync(path.join(abs, 'train_gpt2.py'))) {
    throw new BenchmarkLayoutError(
      `${abs} looks like a modded-nanogpt clone. Speedrun Workbench needs facebookresearch/llm-speedrunner ` +
        `(modded-nanogpt can be set as speedrun.recordsPath for reference logs).`,
    );
  }
  throw new BenchmarkLayoutError(
    `${abs} is not an llm-speedrunner clone: ${path.join(TEMPLATES, 'record_<i>', 'train_gpt2.py')} not found. ` +
      `Point to the top folder of a clone of https://github.com/facebookresearch/llm-speedrunner.`,
  );
}

function isDir(p: string): boolean {
  try {
    return fs.statSync(p).isDirectory();
  } catch {
    return false;
  }
}



function checkRecord(root: string, record: number, m: Manifest): RecordReport {
  const facts = m.records[record - 1];
  const rep: RecordReport = { record, dir: recordDir(root, record, m), problems: [], warnings: [] };
  if (!isDir(rep.dir)) {
    rep.problems.push(`record ${record}: folder ${rep.dir} is missing`);
    return rep;
  }
  const sp = scriptPath(root, record, m);
  try {
    const buf = readBenchmarkBytes(sp);
    if (buf.length === 0) rep.problems.push(`${sp} is empty`);
    else {
      const sha = sha256(buf);
      rep.script = { path: sp, sha256: sha, bytes: buf.length, matchesRelease: sha === facts.scriptSha256 };
    }
  } catch (e) {
    rep.problems.push(e instanceof BenchmarkFileError ? e.message : String(e));
  }
  const rp = resultsPath(root, record, m);
  try {
    const r = readResults(rp);
    rep.results = r.metrics;
    rep.status = r.status;
    const diffs: string[] = [];
    if (r.metrics.steps !== facts.steps) diffs.push(`n_steps ${r.metrics.steps} (manifest ${facts.steps})`);
    if (Math.abs(r.metrics.valLoss - facts.valLoss) > 5e-5) diffs.push(`val_loss ${r.metrics.valLoss} (manifest ${facts.valLoss})`);
    if (r.metrics.trainTimeMs !== facts.trainTimeMs) diffs.push(`train_time ${r.metrics.trainTimeMs} ms (manifest ${facts.trainTimeMs} ms)`);
    if (diffs.length) rep.warnings.push(`${rp}: ${diffs.join(', ')}; the clone's values are used`);
  } catch (e) {
    rep.problems.push(e instanceof BenchmarkFileError ? e.message : String(e));
  }
  return rep;
}

/**
 * Validates a clone. Throws BenchmarkLayoutError when the folder is not a clone at all; otherwise reports,
 * per task, what is complete or missing, and warns (never throws) about metrics that differ from the manifest.
 */
export function validateClone(root: string, m: Manifest = loadManifest()): CloneReport {
  const abs = checkLayout(root);
  const records = m.records.map((r) => checkRecord(abs, r.record, m));
  const warnings: string[] = [];
  const hintsRoot = path.dirname(path.join(abs, m.layout.hintsDir.replace('{record}', '1')));
  if (!isDir(hintsRoot)) warnings.push(`No hints folder ${hintsRoot}; tasks will have no hints.`);
  for (const r of records) warnings.push(...r.warnings);

  const tasks = m.tasks.map((t): TaskReport => {
    const from = records[t.fromRecord - 1];
    const to = records[t.toRecord - 1];
    const missing = [...from.problems, ...to.problems.filter((p) => !from.problems.includes(p))];
    const all = listHints(abs, t.fromRecord, { includeGroundTruth: true, manifest: m });
    const have = new Set(all.map((h) => h.name));
    for (const level of ['0', '1', '2', '3', '9'] as const) {
      for (const name of t.hints[level]) {
        if (!have.has(name)) missing.push(`hint level ${level}: ${path.join(m.layout.hintsDir.replace('{record}', String(t.fromRecord)), name)}`);
      }
    }
    const hints = all.filter((h) => h.level !== 0);
    const reference = {
      baseline: { steps: m.records[t.fromRecord - 1].steps, valLoss: m.records[t.fromRecord - 1].valLoss, trainTimeMs: m.records[t.fromRecord - 1].trainTimeMs },
      target: { steps: m.records[t.toRecord - 1].steps, valLoss: m.records[t.toRecord - 1].valLoss, trainTimeMs: m.records[t.toRecord - 1].trainTimeMs },
    };
    const gapMs = from.results && to.results ? from.results.trainTimeMs - to.results.trainTimeMs : t.gapMs;
    return {
      id: t.id,
      fromRecord: t.fromRecord,
      toRecord: t.toRecord,
      baseline: from.results,
      target: to.results,
      reference,
      gapMs,
      hints,
      hintLevels: [...new Set(hints.map((h) => h.level as number))],
      hasGroundTruth: all.some((h) => h.level === 0),
      complete: missing.length === 0,
      missing,
      warnings: [...from.warnings, ...to.warnings],
    };
  });
  return {
    root: abs,
    manifestCommit: m.source.commit,
    records,
    tasks,
    completeTasks: tasks.filter((t) => t.complete).length,
    warnings,
  };
}

export { sha256 };
