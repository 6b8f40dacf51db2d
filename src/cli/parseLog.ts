// `speedrun parse-log FILE|-`: what the dashboard would show for a torchrun log, on the command line.
// Exit code 0 means the log was read and parsed, even when the log reports a crash: the crash is data (see
// `error` and `phase`), and scripts can test it there. With --check, 1 when the log shows a failed, cancelled or
// invalid run (or none finished). 3 = the file can't be read, 2 = usage.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { CliError, EXIT, JSON_OUT, defineCommand, out } from './common';
import { createLogParser } from '../core/logs/parser';
import type { ParsedLog } from '../core/logs/types';

export const command = defineCommand({
  name: 'parse-log',
  summary: "Parse a torchrun log (console output or the script's log file): steps, val loss, final result, root cause of a failure.",
  positionals: [{ name: 'FILE', description: "the log; '-' reads standard input" }],
  options: {
    json: JSON_OUT,
    check: { type: 'boolean', description: 'exit 1 unless the log shows a finished run with a valid result (val loss <= 3.28)' },
  },
  notes: [
    'Exit codes: 0 the log was parsed (a crash in the log is data, not an error, unless --check), 1 with --check: ' +
      'the run failed, was cancelled, did not finish, or its val loss is above 3.28; 2 usage; 3 the file cannot be read.',
    'The train series is thinned evenly to at most 8192 points for long logs (every val point is kept).',
  ],
  examples: ['speedrun parse-log run.log --json | jq .final', 'ssh box cat run.log | speedrun parse-log - --check'],
  run: async ({ values, positionals }) => {
    const file = positionals[0];
    const log = file === '-' ? await parseStream(process.stdin, 'standard input') : await parseFile(file);
    out(values.json ? `${JSON.stringify(toJson(log), null, 2)}\n` : human(file === '-' ? '(standard input)' : file, log));
    if (values.check && !(log.phase === 'finished' && log.final?.is_valid)) return EXIT.failed;
    return EXIT.ok;
  },
});

async function parseFile(file: string): Promise<ParsedLog> {
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new Error('not a regular file');
  } catch (e) {
    throw new CliError(`cannot read ${file}: ${reason(e)}`, EXIT.badInput);
  }
  return parseStream(createReadStream(file), file);
}

async function parseStream(input: NodeJS.ReadableStream, name: string): Promise<ParsedLog> {
  const parser = createLogParser();
  try {
    // Streamed in chunks, as a live run is; the parser keeps every val point and a thinned train series.
    for await (const chunk of input) parser.push(chunk as Buffer);
  } catch (e) {
    throw new CliError(`cannot read ${name}: ${reason(e)}`, EXIT.badInput);
  }
  parser.end();
  return parser.summary();
}

function reason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err?.code === 'ENOENT') return 'no such file';
  if (err?.code === 'EACCES') return 'permission denied';
  if (err?.code === 'EISDIR') return 'is a directory';
  return err?.message ?? String(e);
}

/** The documented JSON shape. nan/inf printed by the script become null (JSON has no NaN). */
function toJson(log: ParsedLog) {
  const n = (x: number) => (Number.isFinite(x) ? x : null);
  return {
    val: log.val.map((p) => ({
      step: p.step,
      totalSteps: p.totalSteps,
      valLoss: n(p.valLoss),
      trainTimeMs: n(p.trainTimeMs),
      ...(p.stepAvgMs !== undefined ? { stepAvgMs: n(p.stepAvgMs) } : {}),
    })),
    train: log.train.map((t) => ({
      step: t.step,
      totalSteps: t.totalSteps,
      trainTimeMs: n(t.trainTimeMs),
      stepAvgMs: n(t.stepAvgMs),
      ...(t.trainLoss !== undefined ? { trainLoss: n(t.trainLoss) } : {}),
    })),
    final: log.final && { ...log.final, val_loss: n(log.final.val_loss) },
    peakMemoryMiB: log.peakMemoryMiB,
    error: log.error,
    phase: log.phase,
  };
}

function duration(ms: number): string {
  const s = ms / 1000;
  return s >= 60 ? `${Math.floor(s / 60)}m ${(s % 60).toFixed(1)}s` : `${s.toFixed(1)}s`;
}

function human(file: string, log: ParsedLog): string {
  const lines = [`${file}`, `  phase:        ${log.phase}`];
  const lastTrain = log.train[log.train.length - 1];
  const lastVal = log.val[log.val.length - 1];
  const total = lastTrain?.totalSteps ?? lastVal?.totalSteps;
  if (lastTrain) lines.push(`  last step:    ${lastTrain.step}/${total} (step_avg ${Number.isFinite(lastTrain.stepAvgMs) ? `${lastTrain.stepAvgMs.toFixed(2)} ms` : 'n/a'})`);
  lines.push(`  lines:        ${log.train.length} train, ${log.val.length} val`);
  if (log.final) {
    const f = log.final;
    lines.push(`  result:       val_loss ${f.val_loss} at step ${f.n_steps}, train_time ${f.train_time} ms (${duration(f.train_time)}): ${f.is_valid ? 'valid (<= 3.28)' : 'NOT valid (> 3.28)'}`);
  } else {
    lines.push('  result:       none (no validation line)');
  }
  if (log.peakMemoryMiB !== null) lines.push(`  peak memory:  ${log.peakMemoryMiB} MiB`);
  if (log.error) {
    const e = log.error;
    lines.push(`  error:        [${e.kind}] ${e.message}`);
    if (e.file) lines.push(`                at ${e.file}${e.line !== null ? `:${e.line}` : ''}`);
  }
  return `${lines.join('\n')}\n`;
}
