#!/usr/bin/env node
// `speedrun`: the headless face of the same core. Each subcommand lives in src/cli/<name>.ts.
import { CliError, type Command } from './cli/common';
import * as tasks from './cli/tasks';
import * as openTask from './cli/openTask';
import * as parseLog from './cli/parseLog';
import * as run from './cli/run';
import * as compare from './cli/compare';
import * as search from './cli/search';
import * as sweep from './cli/sweep';

const commands: Record<string, Command> = {
  tasks: tasks.command,
  'open-task': openTask.command,
  'parse-log': parseLog.command,
  run: run.command,
  cancel: run.cancelCommand,
  compare: compare.command,
  search: search.command,
  sweep: sweep.command,
};

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  speedrun ${name} ${c.usage}\n      ${c.summary}`);
  return `Speedrun Workbench CLI\n\nUsage:\n${lines.join('\n')}\n\nExit codes: 0 ok, 1 run/check failed, 2 usage error, 3 bad input (benchmark, file, task dir).\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  if (name === '--version') {
    process.stdout.write(`${require('../package.json').version}\n`);
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`speedrun: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof CliError) {
      process.stderr.write(`speedrun ${name}: ${e.message}\n`);
      return e.exitCode;
    }
    process.stderr.write(`speedrun ${name}: ${(e as Error)?.stack ?? e}\n`);
    return 1;
  }
}

// `speedrun tasks | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => process.exit(e.code === 'EPIPE' ? 0 : 1));

main(process.argv.slice(2)).then((code) => process.exit(code));
