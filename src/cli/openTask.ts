// PLACEHOLDER: replaced by the helper that owns this area.
import { CliError, type Command } from './common';
export const command: Command = { usage: '', summary: 'not yet available', run: async () => { throw new CliError('not yet available', 1); } };
