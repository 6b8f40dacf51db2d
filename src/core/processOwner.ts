// Which process of which machine owns something (a target's lock, a job array being submitted), and whether it is
// provably gone. Only a process of this machine can be judged: an owner elsewhere is never taken for dead.
import * as fs from 'node:fs';
import * as os from 'node:os';
// ProcessOwner itself lives with RunMeta in runs/types.ts, which the webview's type-check reads without Node.
import type { ProcessOwner } from './runs/types';

export type { ProcessOwner };

/** A machine name as stored: one word. */
export const machineWord = (m: string) => m.replace(/[^\w.-]/g, '_') || '-';

export function thisProcess(): ProcessOwner {
  return { machine: machineWord(os.hostname()), pid: process.pid, startMs: processStartMs(process.pid) };
}

/** Start time of a local process from /proc (Linux); undefined elsewhere or when it is gone. */
export function processStartMs(pid: number): number | undefined {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    const btime = Number(/^btime (\d+)$/m.exec(fs.readFileSync('/proc/stat', 'utf8'))?.[1]);
    // USER_HZ is 100 on every Linux the kernel ABI allows user space to see.
    return Number.isFinite(ticks) && btime ? btime * 1000 + ticks * 10 : undefined;
  } catch {
    return undefined;
  }
}

/** True only when the owner is provably gone: a process of this machine that no longer runs (or whose pid
 * now belongs to a process started at another time). Owners on other machines are never judged from here. */
export function ownerGone(o: ProcessOwner, here = os.hostname()): boolean {
  if (!o.pid || o.machine !== machineWord(here)) return false;
  try {
    process.kill(o.pid, 0);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ESRCH') return true;
  }
  const start = processStartMs(o.pid);
  return o.startMs !== undefined && start !== undefined && Math.abs(start - o.startMs) > 2000;
}

/** True when the owner is a live process of this machine (the same pid, started at the same time). */
export function ownerAliveHere(o: ProcessOwner, here = os.hostname()): boolean {
  return !!o.pid && o.machine === machineWord(here) && !ownerGone(o, here);
}
