// The one seam between the run engine and a machine: run a shell script, stream its stdout, upload a file.
// `ssh` targets (ssh.ts) and `local` targets (below) share all run logic above this interface.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { withoutKeys } from '../secretEnv';

export interface ExecResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
}

export interface ExecOptions {
  /** Receive stdout as it arrives (it is then not collected into `stdout`). */
  onStdout?: (chunk: Buffer) => void;
  /**
   * For long-lived followers (tailing a log): over SSH the command gets a pseudo-terminal with output processing
   * off, so when the connection drops the box hangs it up (SIGHUP) instead of leaving an orphan `tail` loop per
   * reconnect; sshd also turns off Nagle's algorithm for terminal sessions. stderr is then merged into stdout.
   */
  lowLatency?: boolean;
  /** Sent to the script's stdin, then end of file. For secrets: a command line is visible to anyone in `ps`. */
  stdin?: string;
}

export interface Executor {
  /** `user@host:port` or `local`, for messages. */
  readonly label: string;
  /** Run a bash script on the machine. Rejects only when the connection fails, not on a non-zero exit. */
  exec(script: string, opts?: ExecOptions): Promise<ExecResult>;
  /** Copy a local file to an absolute path on the machine (the directory must exist). */
  upload(localFile: string, remotePath: string): Promise<void>;
  /** Ends the connection and every exec in flight. */
  close(): void;
}

/** Thrown when the connection drops or cannot be made; the engine retries these with backoff. */
export class ConnectionLostError extends Error {
  readonly retryable = true;
}

/** This machine: bash as a child process. */
export class LocalExecutor implements Executor {
  readonly label = 'local';
  private readonly children = new Set<ChildProcess>();
  private isClosed = false;

  exec(script: string, opts: ExecOptions = {}): Promise<ExecResult> {
    if (this.isClosed) return Promise.reject(new ConnectionLostError('local executor closed'));
    return new Promise((resolve, reject) => {
      // Own process group, so close() also ends what the script started (e.g. a background `tail`).
      // The run is a script an agent may have written: it gets no model key of ours (a target's `env` adds what it needs).
      const child = spawn('bash', ['-c', script], { stdio: [opts.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'], cwd: process.env.HOME || '/', detached: true, env: withoutKeys(process.env) });
      this.children.add(child);
      // A script that exits without reading all of it closes the pipe early: not an error.
      child.stdin?.on('error', () => {});
      child.stdin?.end(opts.stdin);
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      child.stdout!.on('data', (b: Buffer) => (opts.onStdout ? opts.onStdout(b) : out.push(b)));
      child.stderr!.on('data', (b: Buffer) => err.push(b));
      child.on('error', reject);
      child.on('close', (code, signal) => {
        this.children.delete(child);
        if (this.isClosed && signal) return reject(new ConnectionLostError('local executor closed'));
        resolve({ code, signal, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8') });
      });
    });
  }

  async upload(localFile: string, remotePath: string): Promise<void> {
    await fs.promises.mkdir(path.dirname(remotePath), { recursive: true });
    await fs.promises.copyFile(localFile, remotePath);
  }

  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    for (const c of this.children) {
      try {
        process.kill(-c.pid!, 'SIGTERM');
      } catch {
        /* already gone */
      }
    }
  }
}
