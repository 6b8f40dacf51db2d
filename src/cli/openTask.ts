// `speedrun open-task N`: create a task workspace (record i's script, .speedrun/task.json, .speedrun/TASK.md).
import * as fs from 'node:fs';
import { BenchmarkLayoutError, OpenTaskError, SCRIPT_NAME, SPEEDRUN_DIR, formatDuration, openTask } from '../core/benchmark';
import { BENCHMARK, CliError, EXIT, JSON_OUT, defineCommand, err, out } from './common';
import { benchmarkArg } from './tasks';

/** The current folder as the default destination, but only when that can't scatter files among someone else's. */
function currentFolder(): string {
  const here = process.cwd();
  const other = fs.readdirSync(here).filter((n) => n !== SCRIPT_NAME && n !== SPEEDRUN_DIR);
  if (other.length) throw new CliError(`the current folder ${here} is not empty; pass --dest DIR (or run in an empty folder)`, EXIT.usage);
  return here;
}

export const command = defineCommand({
  name: 'open-task',
  summary: "Create a task workspace from record N's train_gpt2.py (refuses to overwrite a different script unless --force).",
  positionals: [{ name: 'N', description: 'the task number (record N -> N+1); `speedrun tasks` lists them' }],
  options: {
    benchmark: BENCHMARK,
    dest: { type: 'string', value: 'DIR', description: 'the folder to create the task in', defaultText: 'the current folder, when it is empty or already this task' },
    force: { type: 'boolean', description: 'overwrite a different train_gpt2.py or task.json in the folder' },
    json: JSON_OUT,
  },
  examples: ['speedrun open-task 12 --benchmark ~/llm-speedrunner --dest ~/speedrun-tasks/task-12'],
  async run({ values, positionals }) {
    if (!/^\d+$/.test(positionals[0])) throw new CliError(`the task number must be a whole number, got '${positionals[0]}'`, EXIT.usage);
    let res;
    try {
      res = openTask({ benchmarkPath: benchmarkArg(values.benchmark), taskId: Number(positionals[0]), dest: values.dest ?? currentFolder(), force: values.force });
    } catch (e) {
      if (e instanceof OpenTaskError) throw new CliError(e.message, e.problem === 'unknown-task' ? EXIT.usage : EXIT.badInput);
      if (e instanceof BenchmarkLayoutError) throw new CliError(e.message, EXIT.badInput);
      throw e;
    }
    for (const w of res.warnings) err(`warning: ${w}\n`);
    if (values.json) {
      const { taskDir, scriptPath, taskFilePath, briefPath, task, alreadyOpen, warnings } = res;
      out(JSON.stringify({ taskDir, scriptPath, taskFilePath, briefPath, alreadyOpen, warnings, task }, null, 2) + '\n');
    } else {
      const t = res.task;
      out(
        `Task ${t.taskId} (record ${t.fromRecord} -> ${t.toRecord}) ${res.alreadyOpen ? 'already in' : 'opened in'} ${res.taskDir}\n` +
          `  script: ${res.scriptPath} (sha256 ${t.baselineSha256.slice(0, 12)}…)\n` +
          `  brief:  ${res.briefPath}\n` +
          `  reach val loss <= 3.28 faster than ${formatDuration(t.target.trainTimeMs)} (baseline ${formatDuration(t.baseline.trainTimeMs)})\n`,
      );
    }
    return EXIT.ok;
  },
});
