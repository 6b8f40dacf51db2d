// Runs on disk: <taskDir>/.speedrun/runs/<runId>/ with the script snapshot, console.log, meta.json and
// results.json. meta/results are replaced atomically (temp file + fsync + rename), so a crash mid-write
// leaves the previous version intact; console.log is append-only and its size is the stream offset.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { BenchmarkResults, RunMeta } from './types';
import { writeAtomic } from '../files';

export { sha256, writeAtomic } from '../files';

export const RUNS_DIR = path.join('.speedrun', 'runs');
export const SCRIPT = 'train_gpt2.py';
export const CONSOLE = 'console.log';

/** Sortable, readable and safe in any shell or path: `20261126-170512-a3f9`. */
export function newRunId(now = new Date()): string {
  const p = (n: number) => String(n).padStart(2, '0');
  const stamp = `${now.getUTCFullYear()}${p(now.getUTCMonth() + 1)}${p(now.getUTCDate())}-${p(now.getUTCHours())}${p(now.getUTCMinutes())}${p(now.getUTCSeconds())}`;
  return `${stamp}-${randomBytes(2).toString('hex')}`;
}

export const isRunId = (s: string) => /^\d{8}-\d{6}-[0-9a-f]{4}$/.test(s);


export class RunStore {
  readonly root: string;

  constructor(readonly taskDir: string) {
    this.root = path.join(taskDir, RUNS_DIR);
  }

  dir(runId: string): string {
    if (!isRunId(runId)) throw new Error(`not a run id: ${JSON.stringify(runId)}`);
    return path.join(this.root, runId);
  }

  file(runId: string, name: string): string {
    return path.join(this.dir(runId), name);
  }

  /** Create a run record: snapshot the script now, so later edits don't change what runs. */
  create(meta: RunMeta, script: Buffer): void {
    const d = this.dir(meta.runId);
    try {
      fs.mkdirSync(d, { recursive: true });
      writeAtomic(path.join(d, SCRIPT), script);
      fs.writeFileSync(path.join(d, CONSOLE), '');
      this.writeMeta(meta);
    } catch (e) {
      // No half-made run record left behind (when the folder could not even be made there is nothing to remove).
      if (fs.existsSync(d)) fs.rmSync(d, { recursive: true, force: true });
      throw e;
    }
  }

  writeMeta(meta: RunMeta): void {
    writeAtomic(this.file(meta.runId, 'meta.json'), JSON.stringify(meta, null, 2) + '\n');
  }

  writeResults(runId: string, results: BenchmarkResults): void {
    writeAtomic(this.file(runId, 'results.json'), JSON.stringify(results, null, 2) + '\n');
  }

  /** Store a file fetched from the box under the run dir (relative path, no escaping the dir). */
  writeExtra(runId: string, rel: string, data: Buffer): void {
    const d = this.dir(runId);
    const target = path.resolve(d, rel);
    if (!target.startsWith(d + path.sep)) throw new Error(`refusing to write outside the run dir: ${rel}`);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    writeAtomic(target, data);
  }

  read(runId: string): RunMeta | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.file(runId, 'meta.json'), 'utf8')) as RunMeta;
    } catch {
      return undefined;
    }
  }

  readResults(runId: string): BenchmarkResults | undefined {
    try {
      return JSON.parse(fs.readFileSync(this.file(runId, 'results.json'), 'utf8')) as BenchmarkResults;
    } catch {
      return undefined;
    }
  }

  /** All runs with a readable meta.json, oldest first. */
  list(): RunMeta[] {
    let names: string[];
    try {
      names = fs.readdirSync(this.root);
    } catch {
      return [];
    }
    return names
      .filter(isRunId)
      .map((n) => this.read(n))
      .filter((m): m is RunMeta => !!m)
      .sort((a, b) => a.createdAt.localeCompare(b.createdAt) || a.runId.localeCompare(b.runId));
  }

  appendConsole(runId: string, data: Buffer): void {
    fs.appendFileSync(this.file(runId, CONSOLE), data);
  }

  consoleSize(runId: string): number {
    try {
      return fs.statSync(this.file(runId, CONSOLE)).size;
    } catch {
      return 0;
    }
  }

  readConsole(runId: string): Buffer {
    try {
      return fs.readFileSync(this.file(runId, CONSOLE));
    } catch {
      return Buffer.alloc(0);
    }
  }

  /** console.log from byte `offset` to its current end. */
  readConsoleFrom(runId: string, offset: number): Buffer {
    let fd: number | undefined;
    try {
      fd = fs.openSync(this.file(runId, CONSOLE), 'r');
      const n = Math.max(0, fs.fstatSync(fd).size - offset);
      const b = Buffer.alloc(n);
      return b.subarray(0, n ? fs.readSync(fd, b, 0, n, offset) : 0);
    } catch {
      return Buffer.alloc(0);
    } finally {
      if (fd !== undefined) fs.closeSync(fd);
    }
  }

  script(runId: string): Buffer {
    return fs.readFileSync(this.file(runId, SCRIPT));
  }

  remove(runId: string): void {
    fs.rmSync(this.dir(runId), { recursive: true, force: true });
  }
}
