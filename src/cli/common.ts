// The CLI's small framework: a command is one `defineCommand({...})` in its own file under src/cli/ plus one entry
// in the table in src/cli.ts. This file parses its options (with defaults), renders its --help, turns errors into
// one sentence and an exit code, and writes output so a slow reader on a pipe gets all of it.
import { parseArgs } from 'node:util';
import { fsReason } from '../core/files';

/** Exit codes a script can rely on. */
export const EXIT = { ok: 0, failed: 1, usage: 2, badInput: 3 } as const;

export class CliError extends Error {
  constructor(message: string, readonly exitCode: number = EXIT.badInput) {
    super(message);
  }
}

export interface OptionSpec {
  type: 'string' | 'boolean';
  /** What the value is, shown in help: `--task-dir DIR`. */
  value?: string;
  description: string;
  /** Applied when the option is left out, and shown in help. */
  default?: string;
  /** Help text for a default that isn't a literal (e.g. "the current folder"). */
  defaultText?: string;
  short?: string;
}

export type OptionSpecs = Record<string, OptionSpec>;

type Values<O extends OptionSpecs> = {
  [K in keyof O]: O[K]['type'] extends 'boolean' ? boolean : O[K] extends { default: string } ? string : string | undefined;
};

export interface Invocation<O extends OptionSpecs> {
  values: Values<O>;
  positionals: string[];
}

export interface CommandSpec<O extends OptionSpecs = OptionSpecs> {
  name: string;
  summary: string;
  /** Positional arguments as shown in usage, e.g. ['N'] or ['FILE']; `optional` ones may be left out. */
  positionals?: { name: string; description: string; optional?: boolean; /** takes every remaining argument (last only) */ variadic?: boolean }[];
  options: O;
  /** One or more example command lines. */
  examples: string[];
  /** Extra paragraphs for --help: exit codes, where things come from. */
  notes?: string[];
  run(inv: Invocation<O>): Promise<number>;
}

export type Command = CommandSpec<OptionSpecs>;

/** Typed at the definition, stored untyped in the table. */
export function defineCommand<O extends OptionSpecs>(spec: CommandSpec<O>): Command {
  return spec as unknown as Command;
}

// ---- options shared by several commands (one convention for defaults) -----------------------------------------

export const TASK_DIR = { type: 'string', value: 'DIR', description: 'the task folder', default: '.', defaultText: 'the current folder' } as const satisfies OptionSpec;
export const JSON_OUT = { type: 'boolean', description: 'print JSON instead of text' } as const satisfies OptionSpec;
export const BENCHMARK = {
  type: 'string',
  value: 'DIR',
  description: 'your llm-speedrunner clone',
  defaultText: '$SPEEDRUN_BENCHMARK',
} as const satisfies OptionSpec;

// ---- parsing ----------------------------------------------------------------------------------------------------

const flag = (name: string, o: OptionSpec) => `--${name}${o.type === 'string' ? ` ${o.value ?? 'VALUE'}` : ''}`;

/** Parses argv for `cmd`; every problem is one sentence naming the option (exit 2). */
export function parseCommandArgs<O extends OptionSpecs>(cmd: CommandSpec<O>, args: string[]): Invocation<O> {
  const see = `see 'speedrun ${cmd.name} --help'`;
  const config: Record<string, { type: 'string' | 'boolean'; short?: string }> = {};
  for (const [k, o] of Object.entries(cmd.options)) config[k] = { type: o.type, ...(o.short ? { short: o.short } : {}) };
  // Non-strict with tokens: we check each token ourselves and word the errors (node's own have odd quoting).
  const { tokens } = parseArgs({ args, options: config, allowPositionals: true, strict: false, tokens: true });
  const values: Record<string, string | boolean | undefined> = {};
  const positionals: string[] = [];
  for (const t of tokens) {
    if (t.kind === 'positional') positionals.push(t.value);
    if (t.kind !== 'option') continue;
    const o = cmd.options[t.name];
    if (!o) throw new CliError(`unknown option ${t.rawName} (${see})`, EXIT.usage);
    // `--run --json` is a forgotten value, not a run named --json (write --run=--json for that); `--time-limit -1`
    // is a value, which the command then refuses with its own sentence.
    const swallowed = !t.inlineValue && t.value !== undefined && t.value.length > 1 && t.value.startsWith('-') && !/^-[\d.]/.test(t.value);
    if (o.type === 'string' && (t.value === undefined || swallowed)) throw new CliError(`option ${t.rawName} needs a value: ${flag(t.name, o)}`, EXIT.usage);
    if (o.type === 'boolean' && t.inlineValue) throw new CliError(`option ${t.rawName} takes no value`, EXIT.usage);
    values[t.name] = o.type === 'boolean' ? true : t.value;
  }
  for (const [k, o] of Object.entries(cmd.options)) {
    if (values[k] === undefined) values[k] = o.type === 'boolean' ? false : o.default;
  }
  const specs = cmd.positionals ?? [];
  const required = specs.filter((p) => !p.optional).length;
  const most = specs.at(-1)?.variadic ? Infinity : specs.length;
  if (positionals.length < required || positionals.length > most) {
    const want = specs.length === 0 ? 'no arguments' : specs.map(positionalUsage).join(' ');
    const got = positionals.length ? `got ${positionals.map((p) => `'${p}'`).join(' ')}` : 'got none';
    throw new CliError(`expected ${want}, ${got} (${see})`, EXIT.usage);
  }
  return { values: values as Values<O>, positionals };
}

function positionalUsage(p: NonNullable<Command['positionals']>[number]): string {
  const name = p.variadic ? `${p.name}...` : p.name;
  return p.optional ? `[${name}]` : name;
}

export function isHelpRequest(args: string[]): boolean {
  const end = args.indexOf('--');
  return (end < 0 ? args : args.slice(0, end)).some((a) => a === '--help' || a === '-h');
}

// ---- help -------------------------------------------------------------------------------------------------------

export function usageLine(cmd: Command): string {
  const pos = (cmd.positionals ?? []).map(positionalUsage);
  return ['speedrun', cmd.name, ...pos, ...(Object.keys(cmd.options).length ? ['[options]'] : [])].join(' ');
}

const WIDTH = 100;

/** `text` wrapped at WIDTH columns; lines after the first are indented by `indent` spaces. */
function wrap(text: string, indent = 0): string {
  const lines: string[] = [];
  const lead = /^ */.exec(text)![0];
  let line = lead;
  for (const word of text.slice(lead.length).split(' ')) {
    if (line.trim() && line.length + 1 + word.length > WIDTH) {
      lines.push(line);
      line = ' '.repeat(indent) + word;
    } else {
      line = line.trim() ? `${line} ${word}` : line + word;
    }
  }
  return [...lines, line].join('\n');
}

export function renderHelp(cmd: Command): string {
  const out = [`Usage: ${usageLine(cmd)}`, '', wrap(cmd.summary)];
  if (cmd.positionals?.length) {
    out.push('', 'Arguments:');
    const w = Math.max(...cmd.positionals.map((p) => p.name.length));
    for (const p of cmd.positionals) out.push(wrap(`  ${p.name.padEnd(w)}  ${p.description}`, w + 4));
  }
  const opts = Object.entries(cmd.options);
  if (opts.length) {
    out.push('', 'Options:');
    const w = Math.max(...opts.map(([k, o]) => flag(k, o).length));
    for (const [k, o] of opts) {
      const def = o.defaultText ?? o.default;
      out.push(wrap(`  ${flag(k, o).padEnd(w)}  ${o.description}${def !== undefined ? ` (default: ${def})` : ''}`, w + 4));
    }
    out.push(`  ${'--help'.padEnd(w)}  show this help`);
  }
  for (const n of cmd.notes ?? []) out.push('', wrap(n));
  out.push('', cmd.examples.length > 1 ? 'Examples:' : 'Example:', ...cmd.examples.map((e) => `  ${e}`));
  return out.join('\n') + '\n';
}

export function renderOverview(commands: readonly Command[]): string {
  const w = Math.max(...commands.map((c) => c.name.length));
  return [
    'Speedrun Workbench CLI',
    '',
    'Usage: speedrun COMMAND [options]     (speedrun help COMMAND, or speedrun COMMAND --help, for one command)',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`),
    '',
    'Exit codes: 0 ok, 1 run or check failed, 2 usage error, 3 bad input (benchmark, file, task folder).',
    '',
  ].join('\n');
}

// ---- errors -------------------------------------------------------------------------------------------------------

/**
 * The sentence and exit code for anything a command threw. A file-system error (the user's folders: not writable,
 * a file where a folder should be) is bad input, 3; anything else is a bug, 1, still without a stack trace unless
 * SPEEDRUN_DEBUG is set.
 */
export function describeError(e: unknown): { message: string; exitCode: number } {
  if (e instanceof CliError) return { message: e.message, exitCode: e.exitCode };
  const err = e as NodeJS.ErrnoException;
  const reason = fsReason(e);
  if (reason) {
    const where = err.path ? ` ${err.path}` : '';
    const what = err.syscall === 'open' || err.syscall === 'read' ? 'cannot use' : err.syscall === 'mkdir' ? 'cannot create folder' : 'cannot write';
    return { message: `${what}${where}: ${reason}`, exitCode: EXIT.badInput };
  }
  const debug = process.env.SPEEDRUN_DEBUG ? `\n${err?.stack ?? ''}` : ' (set SPEEDRUN_DEBUG=1 for details)';
  return { message: `internal error: ${err?.message ?? String(e)}${debug}`, exitCode: EXIT.failed };
}

// ---- output -------------------------------------------------------------------------------------------------------

/** Writes to stdout. Node queues what a full pipe can't take; `flushOutput` waits for it before the process ends. */
export function out(text: string): void {
  process.stdout.write(text);
}

export function err(text: string): void {
  process.stderr.write(text);
}

/** Resolves once everything written to stdout and stderr so far has reached the pipe (or the pipe closed). */
export async function flushOutput(): Promise<void> {
  const flush = (s: NodeJS.WriteStream) =>
    new Promise<void>((resolve) => {
      if (s.destroyed || s.writableEnded) return resolve();
      // A write's callback runs once it and everything queued before it has been handed to the OS.
      s.write('', () => resolve());
    });
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
}

/** Ends the process with `code` after the output is flushed: never cuts JSON short for a slow reader. */
export async function exitAfterFlush(code: number): Promise<never> {
  process.exitCode = code;
  await flushOutput();
  process.exit(code);
}
