// A task workspace, data shards on the box and a RunManager wired to a test sshd: the pieces integration tests,
// benchmarks and the extension-host suites share.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { sha256 } from '../../src/core/files';
import { connectTarget, type ConnectDeps } from '../../src/core/remote/connect';
import { parseTargets, type Target } from '../../src/core/remote/targets';
import { RunManager, type ManagerOptions } from '../../src/core/runs/manager';
import type { RunEvent } from '../../src/core/runs/types';
import { REPO_ROOT, type Sshd } from './sshd';

const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/benchmark/workspace_templates/nanogpt_speedrun');

const temps: string[] = [];

/** A fresh temporary directory, removed by removeTemps(). */
export function tempDir(prefix = 'speedrun-task-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  temps.push(d);
  return d;
}

export function removeTemps(): void {
  for (const d of temps.splice(0)) fs.rmSync(d, { recursive: true, force: true });
}

/** A record's fixture script with fewer steps, so simulated runs are short. */
export function shortScript(record: number, steps: number, valEvery: number): string {
  return fs
    .readFileSync(path.join(FIXTURES, `record_${record}`, 'train_gpt2.py'), 'utf8')
    .replace(/num_iterations : int = \d+/, `num_iterations : int = ${steps}`)
    .replace(/val_loss_every : int = \d+/, `val_loss_every : int = ${valEvery}`);
}

/** A task workspace (train_gpt2.py + .speedrun/task.json) under `parent`. */
export function makeTask(opts: { record?: number; steps?: number; valEvery?: number; parent?: string; name?: string } = {}): string {
  const record = opts.record ?? 12;
  const parent = opts.parent ?? tempDir();
  const dir = path.join(parent, opts.name ?? 'task');
  fs.mkdirSync(path.join(dir, '.speedrun'), { recursive: true });
  const script = shortScript(record, opts.steps ?? 40, opts.valEvery ?? 10);
  fs.writeFileSync(path.join(dir, 'train_gpt2.py'), script);
  const m = { steps: 1, valLoss: 3.28, trainTimeMs: 1 };
  // A valid task.json (src/core/benchmark/taskFile.ts): the run manager reads the record from it.
  fs.writeFileSync(
    path.join(dir, '.speedrun', 'task.json'),
    JSON.stringify({ version: 1, taskId: record, fromRecord: record, toRecord: record + 1, baselineSha256: sha256(script), benchmarkPath: '', baseline: m, target: m, createdAt: new Date().toISOString() }),
  );
  return dir;
}

/** Fake fineweb shards (content doesn't matter to the simulated box) in a dir owned by the box user. */
export function makeShards(dir: string, train: number, uid?: number, gid?: number): { trainFiles: string; valFiles: string } {
  fs.mkdirSync(dir, { recursive: true });
  for (let i = 1; i <= train; i++) fs.writeFileSync(path.join(dir, `fineweb_train_${String(i).padStart(6, '0')}.bin`), 'x');
  fs.writeFileSync(path.join(dir, 'fineweb_val_000000.bin'), 'x');
  if (uid !== undefined) fs.chownSync(dir, uid, gid ?? uid);
  return { trainFiles: path.join(dir, 'fineweb_train_*.bin'), valFiles: path.join(dir, 'fineweb_val_*.bin') };
}

/** An ssh_config file with a `box` alias for `s` (and optionally a `jump` alias used as ProxyJump). */
export function writeSshConfig(s: Sshd, opts: { jump?: Sshd; identityFile?: string; user?: string } = {}): string {
  const file = path.join(s.dir, `ssh_config_${Math.random().toString(36).slice(2)}`);
  const known = [s.knownHostsFile, opts.jump?.knownHostsFile].filter(Boolean).join(' ');
  const lines = [
    'Host box',
    '  HostName 127.0.0.1',
    `  Port ${s.port}`,
    `  User ${opts.user ?? s.user}`,
    `  IdentityFile ${opts.identityFile ?? s.identityFile}`,
    '  IdentitiesOnly yes',
    `  UserKnownHostsFile ${known}`,
  ];
  if (opts.jump) {
    lines.push('  ProxyJump jump', 'Host jump', '  HostName 127.0.0.1', `  Port ${opts.jump.port}`, `  User ${opts.jump.user}`,
      `  IdentityFile ${opts.jump.identityFile}`, '  IdentitiesOnly yes', `  UserKnownHostsFile ${known}`);
  }
  fs.writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

export interface Harness {
  manager: RunManager;
  events: RunEvent[];
  target: Target;
  /** Everything streamed as `output` for a run, concatenated. */
  output(runId: string): string;
  /** Resolves when `pred` holds for an event of the run. */
  until(runId: string, pred: (e: RunEvent) => boolean, timeoutMs?: number): Promise<RunEvent>;
  hostKeyPrompts: number;
}

export function harness(
  s: Sshd,
  opts: {
    target?: Record<string, unknown>;
    sshConfig?: string;
    connect?: Partial<ConnectDeps>;
    manager?: Partial<ManagerOptions>;
  } = {},
): Harness {
  const sshConfig = opts.sshConfig ?? writeSshConfig(s);
  const parsed = parseTargets([{ name: 'box', kind: 'ssh', host: 'box', remoteDir: path.join(s.boxDir, 'work'), gpus: 8, ...opts.target }]);
  if (parsed.errors.length) throw new Error(parsed.errors.join('; '));
  const target = parsed.targets[0];
  const events: RunEvent[] = [];
  const waiters = new Set<() => void>();
  const h: Harness = {
    manager: undefined as unknown as RunManager,
    events,
    target,
    hostKeyPrompts: 0,
    output: (runId) => events.map((e) => (e.type === 'output' && e.runId === runId ? e.text : '')).join(''),
    until: (runId, pred, timeoutMs = 60_000) =>
      new Promise((resolve, reject) => {
        const check = () => {
          const hit = events.find((e) => e.runId === runId && pred(e));
          if (hit) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(hit);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for an event of ${runId}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
  };
  h.manager = new RunManager({
    targets: () => [target],
    connect: (t) =>
      connectTarget(t, {
        confirmHostKey: async () => {
          h.hostKeyPrompts++;
          return false;
        },
        resolve: { configFile: sshConfig },
        ...opts.connect,
      }),
    timeLimitMs: () => 120_000,
    cancelGraceMs: () => 2_000,
    backoff: { initialMs: 200, maxMs: 1_000 },
    lockRetryMs: 300,
    ...opts.manager,
  });
  h.manager.onEvent((e) => {
    events.push(e);
    for (const w of [...waiters]) w();
  });
  return h;
}

/** Live (non-zombie) processes in a process group, from the process table. */
export function liveInGroup(pgid: number): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // f[0] = state, f[2] = pgrp
      if (Number(f[2]) === pgid && f[0] !== 'Z') out.push(`${d} ${stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'))}`);
    } catch {
      /* gone */
    }
  }
  return out;
}

/** Live processes of a user whose working directory is under `dir`. */
export function liveUnder(dir: string, uid: number): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (fs.statSync(`/proc/${d}`).uid !== uid) continue;
      const stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2)[0] === 'Z') continue;
      if (fs.readlinkSync(`/proc/${d}/cwd`).startsWith(dir)) out.push(`${d} ${fs.readFileSync(`/proc/${d}/cmdline`, 'utf8').replace(/\0/g, ' ')}`);
    } catch {
      /* gone */
    }
  }
  return out;
}
