// The command table of `speedrun`. Adding a command: write src/cli/<name>.ts exporting
// `command = defineCommand({ name, summary, options, examples, run })` (see common.ts) and list it here.
import type { Command } from './common';
import { command as tasks } from './tasks';
import { command as openTask } from './openTask';
import { command as parseLog } from './parseLog';
import { runCommand, cancelCommand } from './run';
import { command as compare } from './compare';
import { command as attach } from './attach';
import { command as agent } from './agent';
import { command as search } from './search';
import { command as sweep } from './sweep';
import { command as significance } from './significance';
import { command as calibrate } from './calibrate';

export const COMMANDS: readonly Command[] = [tasks, openTask, parseLog, runCommand, cancelCommand, attach, compare, agent, search, sweep, significance, calibrate];
