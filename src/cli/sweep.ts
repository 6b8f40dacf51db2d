// `speedrun sweep`: the benchmark's grid (tasks x hint levels x scaffolds x seeds), one search after another, with
// results.csv, results.json and report.html in --out rewritten after each. Run it again with the same flags to
// resume: finished searches are kept, an interrupted one is resumed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { runSweep, parseHintLevels, parseScaffolds, parseTasks, hintLevelsOf, SweepError, type SweepPlan } from '../core/search/sweep';
import { OpenTaskError } from '../core/benchmark/openTask';
import { BENCHMARK, CliError, EXIT, defineCommand, err, out } from './common';
import { checkBackendReady } from './backend';
import { checkBackend, runSearchCli, scaffoldOf, searchOptions, targetNames } from './search';

export const command = defineCommand({
  name: 'sweep',
  summary: "Run the benchmark's grid of searches (tasks x hint levels x scaffolds x seeds); writes results.csv, results.json and report.html. Resumable.",
  options: {
    benchmark: BENCHMARK,
    tasks: { type: 'string', value: 'RANGE', description: 'tasks by starting record, e.g. 1-20 or 3,12-14 (task 6 is never one)', default: '1-20' },
    'hint-levels': { type: 'string', value: 'LIST', description: 'hint conditions: none, 1, 2, 3, 1+2, 1+2+3', default: 'none,1,2,3' },
    scaffolds: { type: 'string', value: 'LIST', description: 'scaffolds to compare', default: 'aide,multi-aide' },
    seeds: { type: 'string', value: 'K', description: 'searches per task, hint level and scaffold', default: '1' },
    out: { type: 'string', value: 'DIR', description: 'where the searches and the results go' },
    ...searchOptions,
  },
  notes: [
    'Each search is a task folder in <out>/searches/; results.csv and results.json (rows and aggregates) and report.html are rewritten after each.',
    'Aggregates follow the released analysis: t\' is the best node of a search with the root included, nodes count with val loss < 3.29, FSR outside [0, 3] is 0, the top 3 seeds are averaged per task, then tasks.',
    'Run the same command again to resume: finished searches are kept, an interrupted one is resumed.',
  ],
  examples: [
    'speedrun sweep --benchmark ~/llm-speedrunner --seeds 3 --backend openai --target box --out ~/sweep',
    'speedrun sweep --tasks 12-14 --hint-levels none,1 --scaffolds flat --backend replay --out ~/s',
  ],
  run: async ({ values }) => {
    const bench = values.benchmark ?? process.env.SPEEDRUN_BENCHMARK;
    if (!bench) throw new CliError('--benchmark DIR is required (or set SPEEDRUN_BENCHMARK)', EXIT.usage);
    if (!values.out) throw new CliError('--out DIR is required', EXIT.usage);
    const benchmark = path.resolve(bench);
    if (!fs.existsSync(path.join(benchmark, 'workspace_templates'))) throw new CliError(`${benchmark} is not an llm-speedrunner clone (no workspace_templates/)`);
    const seeds = Number(values.seeds);
    if (!Number.isInteger(seeds) || seeds < 1) throw new CliError(`--seeds must be a whole number of at least 1 (got '${values.seeds}')`, EXIT.usage);
    let plan: SweepPlan;
    try {
      plan = {
        benchmark,
        tasks: parseTasks(values.tasks),
        hintLevels: parseHintLevels(values['hint-levels']),
        scaffolds: parseScaffolds(values.scaffolds),
        seeds,
        out: path.resolve(values.out),
      };
    } catch (e) {
      if (e instanceof SweepError) throw new CliError(e.message, EXIT.usage);
      throw e;
    }
    targetNames(values);
    // A missing agent or key would fail every search alike: said once, before --out is touched.
    checkBackendReady(checkBackend(values));
    // A task folder that can't be made under --out (a file in the way, no permission) is bad input, said by openTask.
    const res = await runSweep(plan, {
      log: (l) => err(`[sweep] ${l}\n`),
      runSearch: async (c, task, rngSeed, resumeId) => {
        const v = { ...values, scaffold: c.scaffold };
        scaffoldOf(v);
        const r = await runSearchCli({ taskDir: c.taskDir, task, values: v, hintLevels: hintLevelsOf(c.hintLevel), resumeId, seed: rngSeed });
        return { searchId: r.searchId, state: r.state };
      },
    }).catch((e: unknown) => {
      throw e instanceof OpenTaskError ? new CliError(e.message) : e;
    });
    err(`[sweep] ${res.rows.length} searches; results in ${plan.out} (results.csv, results.json, report.html)\n`);
    if (values.json) out(JSON.stringify({ out: plan.out, rows: res.rows, aggregates: res.aggregates }, null, 2) + '\n');
    return EXIT.ok;
  },
});
