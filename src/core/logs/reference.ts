// The reference record's validation curve for the dashboard. With the user's modded-nanogpt clone (setting
// `speedrun.recordsPath`) it is read from the record's real log; otherwise it is the single end point from the
// record's results.json metrics.
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { Metrics } from '../benchmark/types';
import { parseLogText } from './parser';
import type { ValPoint } from './types';

export interface ReferenceCurve {
  source: 'log' | 'endpoint';
  points: ValPoint[];
  /** The log file read (source 'log'). */
  file?: string;
  /**
   * The log has no times (records 1-2 are llm.c-format logs: `s:<step> tel:<loss>`), so train times were
   * spread linearly over the steps up to the end point's train time (NaN when no end point was given).
   */
  timesEstimated?: boolean;
}

/**
 * Where each record's log sits in modded-nanogpt (`records/track_1_short/<folder>/<file>`; older clones have no
 * track folder). Facts from the repository's README record table. Record 3 ("Introduced the Muon optimizer")
 * has no log there. Records 14-16 hold many runs; the file named is the run with the median train time among
 * those that reached 3.28.
 */
export const RECORD_LOGS: Readonly<Record<number, { folder: string; file: string } | null>> = {
  1: { folder: '2024-10-13_llmc', file: 'main.log' },
  2: { folder: '2024-06-06_AdamW', file: 'f66d43d7-e449-4029-8adf-e8537bab49ea.log' },
  3: null,
  4: { folder: '2024-10-10_Muon', file: 'eb5659d0-fb6a-49e5-a311-f1f89412f726.txt' },
  5: { folder: '2024-10-14_ModernArch', file: 'dabaaddd-237c-4ec9-939d-6608a9ed5e27.txt' },
  6: { folder: '2024-10-17_DistributedMuon', file: '22d24867-eb5a-4fcc-ae2c-263d0277dfd1.txt' },
  7: { folder: '2024-10-18_PyTorch25', file: 'd4bfb25f-688d-4da5-8743-33926fad4842.txt' },
  8: { folder: '2024-11-03_UntieEmbed', file: 'd6b50d71-f419-4d26-bb39-a60d55ae7a04.txt' },
  9: { folder: '2024-11-06_ShortcutsTweaks', file: 'dd7304a6-cc43-4d5e-adb8-c070111464a1.txt' },
  10: { folder: '2024-11-08_CastBf16', file: 'a833bed8-2fa8-4cfe-af05-58c1cc48bc30.txt' },
  11: { folder: '2024-11-10_UNetDoubleLr', file: 'c87bb826-797b-4f37-98c7-d3a5dad2de74.txt' },
  12: { folder: '2024-11-19_FlexAttention', file: '8384493d-dba9-4991-b16b-8696953f5e6d.txt' },
  13: { folder: '2024-11-24_WindowWarmup', file: 'cf9e4571-c5fc-4323-abf3-a98d862ec6c8.txt' },
  14: { folder: '2024-12-04_ValueEmbed', file: '6b244191-77a3-41ea-a314-82c6a9184b31.txt' },
  15: { folder: '2024-12-08_UNetValueEmbedsTweaks', file: 'f9a93608-ed4e-46ab-9c06-07f90f1328a6.txt' },
  16: { folder: '2024-12-10_MFUTweaks', file: 'ac154191-d2fb-478a-b6ea-55276b4f6655.txt' },
  17: { folder: '2024-12-17_SparsifyEmbeds', file: '165384d5-5a41-4fba-9b79-8ecc372616ea.txt' },
  18: { folder: '2025-01-04_SoftCap', file: '31d6c427-f1f7-4d8a-91be-a67b5dcd13fd.txt' },
  19: { folder: '2025-01-13_Fp8LmHead', file: 'c51969c2-d04c-40a7-bcea-c092c3c2d11a.txt' },
  20: { folder: '2025-01-16_Sub3Min', file: '1d3bd93b-a69e-4118-aeb8-8184239d7566.txt' },
  21: { folder: '2025-01-26_BatchSize', file: 'c44090cc-1b99-4c95-8624-38fb4b5834f9.txt' },
};

// llm.c's own log lines: `s:<step> tel:<val loss>` (validation) and `s:<step> trl:<loss> ...` (training).
const LLMC_VAL_RE = /^s:(\d+) tel:([-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?|nan|inf)\s*$/gm;

/** Candidate paths of a record's log: the setting may name the clone, its records/ folder or the track folder. */
function candidates(recordsPath: string, folder: string, file: string): string[] {
  const bases = [
    path.join(recordsPath, 'records', 'track_1_short'),
    path.join(recordsPath, 'records'),
    path.join(recordsPath, 'track_1_short'),
    recordsPath,
  ];
  return bases.map((b) => path.join(b, folder, file));
}

function endpointCurve(endpoint?: Metrics): ReferenceCurve {
  if (!endpoint) return { source: 'endpoint', points: [] };
  return {
    source: 'endpoint',
    points: [{ step: endpoint.steps, totalSteps: endpoint.steps, valLoss: endpoint.valLoss, trainTimeMs: endpoint.trainTimeMs }],
  };
}

/** Val points of a record log's text: the record scripts' own lines, or llm.c's `tel` lines. */
export function referencePointsFromText(text: string, endpoint?: Metrics): { points: ValPoint[]; timesEstimated: boolean } {
  const parsed = parseLogText(text).val;
  if (parsed.length > 0) return { points: parsed, timesEstimated: false };
  const raw: { step: number; loss: number }[] = [];
  for (const m of text.matchAll(LLMC_VAL_RE)) raw.push({ step: Number(m[1]), loss: Number(m[2]) });
  const lastStep = raw.length ? raw[raw.length - 1].step : 0;
  const points = raw.map(({ step, loss }) => ({
    step,
    totalSteps: lastStep,
    valLoss: loss,
    trainTimeMs: endpoint && lastStep > 0 ? Math.round((endpoint.trainTimeMs * step) / lastStep) : NaN,
  }));
  return { points, timesEstimated: true };
}

/**
 * The reference curve of record `record` (1..21): from its log in the modded-nanogpt clone at `recordsPath`
 * when there is one, else the end point (`endpoint`, the record's results.json metrics; no points without it).
 * Never throws for a missing or unreadable clone: it falls back.
 */
export async function loadReferenceCurve(opts: { record: number; recordsPath?: string | null; endpoint?: Metrics }): Promise<ReferenceCurve> {
  const entry = RECORD_LOGS[opts.record];
  if (!entry || !opts.recordsPath) return endpointCurve(opts.endpoint);
  for (const file of candidates(opts.recordsPath, entry.folder, entry.file)) {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      continue;
    }
    const { points, timesEstimated } = referencePointsFromText(text, opts.endpoint);
    if (points.length === 0) break;
    return { source: 'log', points, file, ...(timesEstimated ? { timesEstimated } : {}) };
  }
  return endpointCurve(opts.endpoint);
}
