// `speedrun open-task N`: create a task workspace (record i's script, .speedrun/task.json, .speedrun/TASK.md).
import { BenchmarkLayoutError, OpenTaskError, formatDuration, openTask } from '../core/benchmark';
import { CliError, EXIT, parse, type Command } from './common';
import { benchmarkArg } from './tasks';

export const command: Command = {
  usage: 'N --benchmark DIR --dest DIR [--force] [--json]',
  summary: "Create a task workspace in DIR from record N's train_gpt2.py (refuses to overwrite a different script unless --force).",
  async run(args) {
    const { values, positionals } = parse(
      args,
      { benchmark: { type: 'string' }, dest: { type: 'string' }, force: { type: 'boolean' }, json: { type: 'boolean' } },
      true,
    );
    if (positionals.length !== 1 || !/^\d+$/.test(positionals[0])) throw new CliError('expected one task number N', EXIT.usage);
    if (!values.dest) throw new CliError('--dest DIR is required', EXIT.usage);
    const taskId = Number(positionals[0]);
    let res;
    try {
      res = openTask({ benchmarkPath: benchmarkArg(values.benchmark), taskId, dest: values.dest, force: values.force });
    } catch (e) {
      if (e instanceof OpenTaskError) throw new CliError(e.message, e.problem === 'unknown-task' ? EXIT.usage : EXIT.badInput);
      if (e instanceof BenchmarkLayoutError) throw new CliError(e.message, EXIT.badInput);
      throw e;
    }
    for (const w of res.warnings) process.stderr.write(`warning: ${w}\n`);
    if (values.json) {
      const { taskDir, scriptPath, taskFilePath, briefPath, task, alreadyOpen, warnings } = res;
      process.stdout.write(JSON.stringify({ taskDir, scriptPath, taskFilePath, briefPath, alreadyOpen, warnings, task }, null, 2) + '\n');
    } else {
      const t = res.task;
      process.stdout.write(
        `Task ${t.taskId} (record ${t.fromRecord} -> ${t.toRecord}) ${res.alreadyOpen ? 'already in' : 'opened in'} ${res.taskDir}\n` +
          `  script: ${res.scriptPath} (sha256 ${t.baselineSha256.slice(0, 12)}…)\n` +
          `  brief:  ${res.briefPath}\n` +
          `  reach val loss <= 3.28 faster than ${formatDuration(t.target.trainTimeMs)} (baseline ${formatDuration(t.baseline.trainTimeMs)})\n`,
      );
    }
    return EXIT.ok;
  },
};
