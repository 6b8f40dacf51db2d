// Reads the output of preflightScript (core/remote/commands.ts) and decides, with a specific message for each
// problem, whether the box can run this record now.
import type { RecordFacts } from '../benchmark/types';
import type { PreflightReport } from './types';

export interface PreflightExpectations {
  gpus: number;
  record?: Pick<RecordFacts, 'record' | 'minTrainShards' | 'torch'>;
  trainGlob?: string;
  valGlob?: string;
  minFreeDiskMiB: number;
  /** For messages: the target's name and where it is. */
  where: string;
}

export interface PreflightOutcome {
  report: PreflightReport;
  /** Each one is enough to stop the run. */
  errors: string[];
}

/** Split `@@name` blocks; each block's last `rc=N` line (if any) is its exit code. */
export function parseSections(out: string): Map<string, { lines: string[]; rc: number | null }> {
  const m = new Map<string, { lines: string[]; rc: number | null }>();
  let cur: { lines: string[]; rc: number | null } | undefined;
  for (const line of out.split('\n')) {
    const h = /^@@(\w+)$/.exec(line.trim());
    if (h) {
      cur = { lines: [], rc: null };
      m.set(h[1], cur);
      continue;
    }
    if (!cur) continue;
    const rc = /^rc=(\d+)$/.exec(line.trim());
    if (rc) cur.rc = Number(rc[1]);
    else if (line.trim()) cur.lines.push(line.trim());
  }
  return m;
}

/** Warn when the box's torch doesn't match what the record was made with (docs/benchmark.md section 4). */
export function torchAdvice(record: Pick<RecordFacts, 'record' | 'torch'>, torch: string): string | null {
  const nightly = /dev|nightly|git/i.test(torch);
  const [maj, min] = torch.split(/[.+]/).map(Number);
  if (record.torch === 'nightly' && !nightly) {
    return `Record ${record.record} was made with a 2025 PyTorch nightly (the benchmark's records 19-21 environment); torch ${torch} is a release build and may fail (record 21 crashes at its first step on torch 2.11).`;
  }
  if (record.torch === 'stable' && maj === 2 && min < 5 && record.record >= 7) {
    return `Record ${record.record} needs PyTorch 2.5 or newer; the box has torch ${torch}.`;
  }
  return null;
}

export function evaluatePreflight(out: string, x: PreflightExpectations): PreflightOutcome {
  const s = parseSections(out);
  const errors: string[] = [];
  const warnings: string[] = [];
  const report: PreflightReport = { gpus: null, python: null, torch: null, trainShards: null, freeDiskMiB: null, warnings };
  if (!s.has('end')) errors.push(`Preflight on ${x.where} did not complete: ${out.trim().split('\n').slice(-3).join(' / ') || 'no output'}`);

  const setup = s.get('setup');
  if (setup && setup.rc) errors.push(`The target's setup command failed on ${x.where} (exit ${setup.rc}): ${setup.lines.join(' / ') || 'no output'}`);

  const gpus = s.get('gpus');
  if (gpus) {
    if (gpus.rc === 127) errors.push(`nvidia-smi was not found on ${x.where}: is this a GPU box with the NVIDIA driver installed?`);
    else if (gpus.rc) errors.push(`nvidia-smi failed on ${x.where} (exit ${gpus.rc}): ${gpus.lines.join(' / ')}`);
    else {
      report.gpus = gpus.lines.filter((l) => /^\d+\s*,/.test(l)).length;
      if (report.gpus !== x.gpus) {
        errors.push(`Expected ${x.gpus} GPUs on ${x.where} (the target's gpus setting) but nvidia-smi shows ${report.gpus}.`);
      }
    }
  }
  const apps = s.get('apps');
  if (apps && !apps.rc) {
    const held = apps.lines.map((l) => l.split(',').map((v) => v.trim())).filter((f) => /^\d+$/.test(f[0]));
    if (held.length) {
      errors.push(
        `Other processes hold GPU memory on ${x.where}: ${held.map(([pid, mib]) => `pid ${pid} (${mib} MiB)`).join(', ')}. ` +
          'A speedrun needs the GPUs to itself; stop them or wait.',
      );
    }
  }
  const py = s.get('python');
  if (py) {
    if (py.rc) {
      const last = py.lines[py.lines.length - 1] ?? '';
      errors.push(
        /No module named .?torch/.test(last)
          ? `PyTorch is not importable on ${x.where} (${last}). Set the target's setup command to activate the environment that has torch.`
          : `Python check failed on ${x.where}: ${last || 'no output'}`,
      );
    } else {
      report.python = py.lines[0] ?? null;
      report.torch = py.lines[1] ?? null;
      if (x.record && report.torch) {
        const w = torchAdvice(x.record, report.torch);
        if (w) warnings.push(w);
      }
    }
  }
  const tr = s.get('torchrun');
  if (tr && tr.rc) errors.push(`The torchrun command was not found on ${x.where} (after the setup command). Check the target's torchrun setting.`);

  const train = s.get('train');
  if (train) {
    if (!x.trainGlob) errors.push(`The target has no trainFiles (NANOGPT_TRAIN_FILES), so the script cannot find its data.`);
    else {
      const n = Number(train.lines[0]);
      report.trainShards = Number.isFinite(n) ? n : null;
      const need = x.record?.minTrainShards ?? 1;
      if (!n) errors.push(`No training shards match NANOGPT_TRAIN_FILES=${x.trainGlob} on ${x.where}.`);
      else if (n < need) {
        errors.push(
          `Only ${n} training shard${n === 1 ? '' : 's'} match NANOGPT_TRAIN_FILES=${x.trainGlob} on ${x.where}; record ${x.record?.record} reads at least ${need} ` +
            `(fetch more with modded-nanogpt's data/cached_fineweb10B.py ${need}).`,
        );
      }
    }
  }
  const val = s.get('val');
  if (val) {
    if (!x.valGlob) errors.push(`The target has no valFiles (NANOGPT_VAL_FILES), so the script cannot validate.`);
    else if (!Number(val.lines[0])) errors.push(`The validation file NANOGPT_VAL_FILES=${x.valGlob} does not exist on ${x.where}.`);
  }
  const disk = s.get('disk');
  if (disk) {
    const kib = Number(disk.lines[0]);
    if (Number.isFinite(kib)) {
      report.freeDiskMiB = Math.floor(kib / 1024);
      if (report.freeDiskMiB < x.minFreeDiskMiB) errors.push(`Only ${report.freeDiskMiB} MiB free in the target's remoteDir on ${x.where}; at least ${x.minFreeDiskMiB} MiB are needed.`);
    }
  }
  return { report, errors };
}
