// The task catalog: the bundled manifest (facts only) plus paths into the user's llm-speedrunner clone.
import * as fs from 'node:fs';
import * as path from 'node:path';
import bundled from '../../../tasks/manifest.json';
import type { HintLevel, Manifest, Metrics, RecordFacts, TaskFacts } from './types';

export class ManifestError extends Error {}

/** Checks the parts of a manifest the code relies on; throws ManifestError naming the first bad field. */
export function validateManifest(x: unknown, source = 'manifest'): Manifest {
  const fail = (what: string): never => {
    throw new ManifestError(`${source}: ${what}`);
  };
  const m = x as Manifest;
  if (!m || typeof m !== 'object' || m.schema !== 1) fail('not a schema 1 task manifest');
  if (!m.layout || typeof m.layout.recordDir !== 'string' || typeof m.layout.hintsDir !== 'string') fail('layout missing');
  if (!Array.isArray(m.records) || !Array.isArray(m.tasks)) fail('records/tasks missing');
  m.records.forEach((r, i) => {
    if (r.record !== i + 1) fail(`records[${i}] should be record ${i + 1}`);
    if (!isMetrics(r)) fail(`record ${r.record}: steps/valLoss/trainTimeMs must be numbers`);
  });
  for (const t of m.tasks) {
    if (t.toRecord !== t.fromRecord + 1 || t.id !== t.fromRecord) fail(`task ${t.id}: must go from record i to i+1`);
    if (!m.records[t.toRecord - 1]) fail(`task ${t.id}: record ${t.toRecord} not listed`);
    if (!t.hints || !Array.isArray(t.hints['1'])) fail(`task ${t.id}: hints missing`);
  }
  return m;
}

function isMetrics(x: Partial<Metrics>): boolean {
  return [x.steps, x.valLoss, x.trainTimeMs].every((v) => typeof v === 'number' && Number.isFinite(v));
}

let cached: Manifest | undefined;

/** The manifest shipped with the extension (tasks/manifest.json), or one read from `file`. */
export function loadManifest(file?: string): Manifest {
  if (file) return validateManifest(JSON.parse(fs.readFileSync(file, 'utf8')), file);
  return (cached ??= validateManifest(bundled as unknown, 'tasks/manifest.json'));
}

export function getTask(id: number, m: Manifest = loadManifest()): TaskFacts | undefined {
  return m.tasks.find((t) => t.id === id);
}

export function getRecord(record: number, m: Manifest = loadManifest()): RecordFacts | undefined {
  return m.records.find((r) => r.record === record);
}

export function referenceMetrics(record: number, m: Manifest = loadManifest()): Metrics {
  const r = getRecord(record, m);
  if (!r) throw new ManifestError(`record ${record} is not in the manifest`);
  return { steps: r.steps, valLoss: r.valLoss, trainTimeMs: r.trainTimeMs };
}

const fill = (pattern: string, record: number) => pattern.replace('{record}', String(record));

export function recordDir(benchmark: string, record: number, m: Manifest = loadManifest()): string {
  return path.join(benchmark, fill(m.layout.recordDir, record));
}
export function scriptPath(benchmark: string, record: number, m: Manifest = loadManifest()): string {
  return path.join(recordDir(benchmark, record, m), m.layout.script);
}
export function resultsPath(benchmark: string, record: number, m: Manifest = loadManifest()): string {
  return path.join(recordDir(benchmark, record, m), m.layout.results);
}
export function hintsDir(benchmark: string, record: number, m: Manifest = loadManifest()): string {
  return path.join(benchmark, fill(m.layout.hintsDir, record));
}

// ---- results.json ----

export type FileProblem = 'missing' | 'unreadable' | 'invalid-json' | 'bad-shape';

/** A benchmark file that is missing or unusable; `message` names the file. */
export class BenchmarkFileError extends Error {
  constructor(message: string, readonly file: string, readonly problem: FileProblem) {
    super(message);
  }
}

/** Reads a file as UTF-8, turning fs errors into BenchmarkFileError with a message that names the file. */
export function readBenchmarkFile(file: string): string {
  return readBenchmarkBytes(file).toString('utf8');
}

export function readBenchmarkBytes(file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'ENOENT') throw new BenchmarkFileError(`${file} is missing`, file, 'missing');
    throw new BenchmarkFileError(`${file} cannot be read (${err.code ?? err.message})`, file, 'unreadable');
  }
}

export interface ResultsFile {
  metrics: Metrics;
  /** `job_status` in template files, `status` in the files a benchmark run writes. */
  status?: string;
}

/** Parses a benchmark results.json: `{job_status|status, metrics: {n_steps, val_loss, train_time}}`. */
export function readResults(file: string): ResultsFile {
  const text = readBenchmarkFile(file);
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new BenchmarkFileError(`${file} is not valid JSON (${(e as Error).message})`, file, 'invalid-json');
  }
  const d = data as { metrics?: Record<string, unknown>; job_status?: unknown; status?: unknown };
  const mt = d?.metrics;
  const steps = Number(mt?.n_steps);
  const valLoss = Number(mt?.val_loss);
  const trainTimeMs = Number(mt?.train_time);
  if (!mt || typeof mt !== 'object' || ![steps, valLoss, trainTimeMs].every(Number.isFinite)) {
    throw new BenchmarkFileError(
      `${file} has no numeric metrics.n_steps / metrics.val_loss / metrics.train_time`,
      file,
      'bad-shape',
    );
  }
  const status = typeof d.job_status === 'string' ? d.job_status : typeof d.status === 'string' ? d.status : undefined;
  return { metrics: { steps, valLoss, trainTimeMs }, status };
}

// ---- hints ----

export interface HintFile {
  level: HintLevel;
  /** File name, e.g. level_1_pseudo.txt. */
  name: string;
  path: string;
  bytes: number;
}

// Exact shape of a hint file name; the level is one digit so "level_0_*" can only ever mean level 0.
const HINT_NAME = /^level_(\d)_([A-Za-z0-9_-]+)\.txt$/;
const VISIBLE_LEVELS: readonly HintLevel[] = [1, 2, 3, 9];

/**
 * Hint files of a record's folder (they describe the change record -> record+1), sorted by level.
 * Level 0 (the ground-truth diff) is returned only with `includeGroundTruth: true`.
 */
export function listHints(
  benchmark: string,
  record: number,
  opts: { includeGroundTruth?: boolean; manifest?: Manifest } = {},
): HintFile[] {
  const dir = hintsDir(benchmark, record, opts.manifest);
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return [];
  }
  const out: HintFile[] = [];
  for (const name of names) {
    const m = HINT_NAME.exec(name);
    if (!m) continue;
    const level = Number(m[1]) as HintLevel;
    const allowed = VISIBLE_LEVELS.includes(level) || (level === 0 && opts.includeGroundTruth === true);
    if (!allowed) continue;
    const file = path.join(dir, name);
    try {
      const st = fs.statSync(file);
      if (st.isFile()) out.push({ level, name, path: file, bytes: st.size });
    } catch {
      // A dangling link is not a hint.
    }
  }
  return out.sort((a, b) => a.level - b.level || a.name.localeCompare(b.name));
}

/** The ground-truth diff of record -> record+1 (level 0), if present. Callers must have asked the user first. */
export function groundTruthHint(benchmark: string, record: number, m: Manifest = loadManifest()): HintFile | undefined {
  return listHints(benchmark, record, { includeGroundTruth: true, manifest: m }).find((h) => h.level === 0);
}

/** A short label for a hint: "Level 1 · pseudocode", "Extra · muon". */
export function hintLabel(h: Pick<HintFile, 'level' | 'name'>): string {
  const topic = HINT_NAME.exec(h.name)?.[2]?.replace(/_/g, ' ') ?? h.name;
  const names: Record<number, string> = { 0: 'ground-truth diff', 1: 'pseudocode', 2: 'description', 3: 'mini-paper' };
  return h.level === 9 ? `Extra · ${topic}` : `Level ${h.level} · ${names[h.level] ?? topic}`;
}
