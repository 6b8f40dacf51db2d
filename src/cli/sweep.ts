// `speedrun sweep`: the benchmark's grid (tasks x hint levels x scaffolds x seeds), one search after another, with
// results.csv, results.json and report.html in --out rewritten after each. Run it again with the same flags to
// resume: finished searches are kept, an interrupted one is resumed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runSweep, parseHintLevels, parseScaffolds, parseTasks, hintLevelsOf, SweepError, type SweepPlan } from '../core/search/sweep';
import { CliError, EXIT, parse, type Command } from './common';
import { checkBackend, runSearchCli, scaffoldOf, searchOptions, targetNames } from './search';

export const command: Command = {
  usage:
    '--benchmark DIR --tasks 1-20 --hint-levels none,1,2,3 --scaffolds aide,multi-aide --seeds K --backend openai|replay --target NAME[,NAME...] ' +
    '--out DIR [--model M] [--targets-file JSON] [--max-nodes N] [--early-stop] [--json]',
  summary: "Run the benchmark's grid of searches; writes results.csv, results.json (rows and the paper's aggregates) and report.html. Resumable.",
  run: async (args) => {
    const { values } = parse(args, {
      ...searchOptions,
      benchmark: { type: 'string' },
      tasks: { type: 'string' },
      'hint-levels': { type: 'string' },
      scaffolds: { type: 'string' },
      seeds: { type: 'string' },
      out: { type: 'string' },
    });
    for (const k of ['benchmark', 'tasks', 'hint-levels', 'scaffolds', 'out'] as const) {
      if (!values[k]) throw new CliError(`--${k} is required`, EXIT.usage);
    }
    const benchmark = path.resolve(values.benchmark!);
    if (!fs.existsSync(path.join(benchmark, 'workspace_templates'))) throw new CliError(`${benchmark} is not an llm-speedrunner clone (no workspace_templates/)`);
    const seeds = Number(values.seeds ?? 1);
    if (!Number.isInteger(seeds) || seeds < 1) throw new CliError(`--seeds must be a whole number of at least 1 (got '${values.seeds}')`, EXIT.usage);
    let plan: SweepPlan;
    try {
      plan = {
        benchmark,
        tasks: parseTasks(values.tasks!),
        hintLevels: parseHintLevels(values['hint-levels']!),
        scaffolds: parseScaffolds(values.scaffolds!),
        seeds,
        out: path.resolve(values.out!),
      };
    } catch (e) {
      if (e instanceof SweepError) throw new CliError(e.message, EXIT.usage);
      throw e;
    }
    targetNames(values);
    checkBackend(values);
    const res = await runSweep(plan, {
      log: (l) => process.stderr.write(`[sweep] ${l}\n`),
      runSearch: async (c, task, rngSeed, resumeId) => {
        // The targets file may sit in --out (shared by every search) or be given explicitly.
        const shared = path.join(plan.out, 'targets.json');
        const v = { ...values, scaffold: c.scaffold, 'targets-file': values['targets-file'] ?? (fs.existsSync(shared) ? shared : undefined) };
        scaffoldOf(v);
        const out = await runSearchCli({ taskDir: c.taskDir, task, values: v, hintLevels: hintLevelsOf(c.hintLevel), resumeId, seed: rngSeed });
        return { searchId: out.searchId, state: out.state };
      },
    });
    process.stderr.write(`[sweep] ${res.rows.length} searches; results in ${plan.out} (results.csv, results.json, report.html)\n`);
    if (values.json) process.stdout.write(JSON.stringify({ out: plan.out, rows: res.rows, aggregates: res.aggregates }, null, 2) + '\n');
    return EXIT.ok;
  },
};
