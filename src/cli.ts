#!/usr/bin/env node
// `speedrun`: the headless face of the same core. Each command is one file under src/cli/ and one entry in the
// table in src/cli/commands.ts; parsing, --help, errors and exit codes are src/cli/common.ts.
import { COMMANDS } from './cli/commands';
import { describeError, err, exitAfterFlush, isHelpRequest, out, parseCommandArgs, renderHelp, renderOverview, EXIT } from './cli/common';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name) {
    err(renderOverview(COMMANDS));
    return EXIT.usage;
  }
  if (name === '-h' || name === '--help' || name === 'help') {
    if (name === 'help' && rest[0]) {
      const cmd = COMMANDS.find((c) => c.name === rest[0]);
      if (!cmd) {
        err(`speedrun: unknown command '${rest[0]}' (commands: ${COMMANDS.map((c) => c.name).join(', ')})\n`);
        return EXIT.usage;
      }
      out(renderHelp(cmd));
      return EXIT.ok;
    }
    out(renderOverview(COMMANDS));
    return EXIT.ok;
  }
  if (name === '--version') {
    out(`${require('../package.json').version}\n`);
    return EXIT.ok;
  }
  const cmd = COMMANDS.find((c) => c.name === name);
  if (!cmd) {
    err(`speedrun: unknown command '${name}' (commands: ${COMMANDS.map((c) => c.name).join(', ')}; see 'speedrun help')\n`);
    return EXIT.usage;
  }
  if (isHelpRequest(rest)) {
    out(renderHelp(cmd));
    return EXIT.ok;
  }
  try {
    return await cmd.run(parseCommandArgs(cmd, rest));
  } catch (e) {
    const d = describeError(e);
    err(`speedrun ${name}: ${d.message}\n`);
    return d.exitCode;
  }
}

// `speedrun tasks | head` closes the pipe early: that is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => process.exit(e.code === 'EPIPE' ? (process.exitCode ?? 0) : EXIT.failed));

// Whatever escapes a command (a rejected promise nobody awaited) still ends as one sentence, not a stack trace.
const fatal = (e: unknown) => {
  const d = describeError(e);
  err(`speedrun: ${d.message}\n`);
  void exitAfterFlush(d.exitCode);
};
process.on('uncaughtException', fatal);
process.on('unhandledRejection', fatal);

void main(process.argv.slice(2)).then(exitAfterFlush);
