// Small shared pieces of the CLI: argument parsing and errors that carry an exit code.
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface Command {
  usage: string;
  summary: string;
  run(args: string[]): Promise<number>;
}

/** Exit codes a script can rely on. */
export const EXIT = { ok: 0, failed: 1, usage: 2, badInput: 3 } as const;

export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.badInput) {
    super(message);
  }
}

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: T, allowPositionals = false) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (e) {
    throw new CliError((e as Error).message, EXIT.usage);
  }
}
