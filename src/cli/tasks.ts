// `speedrun tasks`: the 19 tasks with reference metrics read from the user's clone, and what each is missing.
import { BenchmarkLayoutError, formatDuration, getRecord, getTask, validateClone, type Metrics, type TaskReport } from '../core/benchmark';
import { BENCHMARK, CliError, EXIT, JSON_OUT, defineCommand, out } from './common';

export function benchmarkArg(value: string | undefined): string {
  const dir = value ?? process.env.SPEEDRUN_BENCHMARK;
  if (!dir) throw new CliError('--benchmark DIR is required (or set SPEEDRUN_BENCHMARK)', EXIT.usage);
  return dir;
}

export function taskJson(t: TaskReport, scriptMatchesRelease: boolean | undefined) {
  const facts = getTask(t.id)!;
  const from = getRecord(t.fromRecord)!;
  return {
    id: t.id,
    fromRecord: t.fromRecord,
    toRecord: t.toRecord,
    baseline: t.baseline ?? null,
    target: t.target ?? null,
    reference: t.reference,
    gapMs: t.gapMs,
    summary: facts.summary,
    hintLevels: t.hintLevels,
    hints: t.hints.map((h) => ({ level: h.level, name: h.name, path: h.path })),
    hasGroundTruth: t.hasGroundTruth,
    torch: from.torch,
    minTrainShards: from.minTrainShards,
    scriptMatchesRelease: scriptMatchesRelease ?? null,
    complete: t.complete,
    missing: t.missing,
    warnings: t.warnings,
  };
}

const ms = (m: Metrics | undefined) => (m ? String(m.trainTimeMs) : '?');

export const command = defineCommand({
  name: 'tasks',
  summary: 'List the 19 tasks with reference metrics from your llm-speedrunner clone (exit 1 if any task is incomplete).',
  options: { benchmark: BENCHMARK, json: JSON_OUT },
  examples: ['speedrun tasks --benchmark ~/llm-speedrunner --json'],
  async run({ values }) {
    let report;
    try {
      report = validateClone(benchmarkArg(values.benchmark));
    } catch (e) {
      if (e instanceof BenchmarkLayoutError) throw new CliError(e.message, EXIT.badInput);
      throw e;
    }
    const code = report.completeTasks === report.tasks.length ? EXIT.ok : EXIT.failed;
    const matches = (rec: number) => report.records[rec - 1].script?.matchesRelease;
    if (values.json) {
      out(JSON.stringify(report.tasks.map((t) => taskJson(t, matches(t.fromRecord))), null, 2) + '\n');
      for (const w of report.warnings) process.stderr.write(`warning: ${w}\n`);
      return code;
    }
    const rows = [['task', 'records', 'baseline ms', 'target ms', 'gap', 'steps', 'hints', 'status']];
    for (const t of report.tasks) {
      rows.push([
        String(t.id),
        `${t.fromRecord} -> ${t.toRecord}`,
        ms(t.baseline),
        ms(t.target),
        `${formatDuration(t.gapMs)}`,
        `${t.baseline?.steps ?? '?'} -> ${t.target?.steps ?? '?'}`,
        t.hintLevels.join(',') || '-',
        t.complete ? (t.warnings.length ? 'ok (warnings)' : 'ok') : `incomplete (${t.missing.length} missing)`,
      ]);
    }
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    const table = rows.map((r) => r.map((c, i) => (i >= 2 && i <= 3 ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd());
    table.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
    out(`Benchmark: ${report.root}\n${table.join('\n')}\n`);
    out(`${report.completeTasks}/${report.tasks.length} tasks complete.\n`);
    const missing = [...new Set(report.tasks.flatMap((t) => t.missing))];
    for (const m of missing) out(`missing: ${m}\n`);
    for (const w of report.warnings) out(`warning: ${w}\n`);
    return code;
  },
});
