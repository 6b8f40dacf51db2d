// The built `speedrun` CLI as a child process, the way a user or a script runs it.
import { spawn } from 'node:child_process';
import * as path from 'node:path';

const CLI = path.resolve(__dirname, '../../src/cli.js');

export interface Proc {
  code: Promise<number>;
  stdout: () => string;
  stderr: () => string;
  waitFor(re: RegExp): Promise<RegExpMatchArray>;
  /** Send a signal (SIGKILL: the CLI dies without cleaning up, as under `kill -9` or a closed terminal). */
  kill(signal: NodeJS.Signals): void;
}

export function cli(args: string[]): Proc {
  const p = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: (() => void)[] = [];
  p.stdout.on('data', (b) => ((out += b), waiters.forEach((w) => w())));
  p.stderr.on('data', (b) => ((err += b), waiters.forEach((w) => w())));
  return {
    code: new Promise((r) => p.on('exit', (c) => r(c ?? -1))),
    stdout: () => out,
    stderr: () => err,
    waitFor: (re) =>
      new Promise((resolve) => {
        const check = () => {
          const m = re.exec(err) ?? re.exec(out);
          if (m) resolve(m);
        };
        waiters.push(check);
        check();
      }),
    kill: (signal) => p.kill(signal),
  };
}
