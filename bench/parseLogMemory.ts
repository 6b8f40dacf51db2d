// Peak memory (RSS) of `speedrun parse-log FILE --json` on a generated ~110 MB log, the size that reached 1 GB
// before the train series was bounded. Target: well under 200 MB, whatever the log's size.
// Run: node scripts/build.mjs && npx tsc -p tsconfig.test.json && node out/bench/parseLogMemory.js [MB, default 110]
// Set SPEEDRUN_CLI_BEFORE=/path/to/an/older/dist/cli.js to measure that build on the same log too.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.resolve(__dirname, '../..');
const MB = Number(process.argv[2] ?? 110);

/** Our own lines in the shape of records 15+: a train line per step, a val line every 125 steps. */
function writeLog(file: string, bytes: number): { trainLines: number; valLines: number } {
  const fd = fs.openSync(file, 'w');
  let size = 0;
  let step = 0;
  let t = 0;
  let valLines = 0;
  const total = 2_000_000;
  const batch: string[] = [];
  while (size < bytes) {
    step++;
    t += 41 + (step % 5);
    let line = `step:${step}/${total} train_time:${t}ms step_avg:${(t / step).toFixed(2)}ms`;
    if (step % 125 === 0) {
      line += `\nstep:${step}/${total} val_loss:${(3 + 100 / step).toFixed(4)} train_time:${t}ms step_avg:${(t / step).toFixed(2)}ms`;
      valLines++;
    }
    batch.push(line);
    size += line.length + 1;
    if (batch.length === 10_000) fs.writeSync(fd, batch.splice(0).join('\n') + '\n');
  }
  if (batch.length) fs.writeSync(fd, batch.join('\n') + '\n');
  fs.closeSync(fd);
  return { trainLines: step, valLines };
}

/** Runs the CLI with a preload that reports the process's peak RSS (getrusage ru_maxrss) on exit. */
function measure(cli: string, log: string, preload: string): Promise<{ peakMiB: number; code: number | null; jsonBytes: number; seconds: number }> {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const p = spawn(process.execPath, ['-r', preload, cli, 'parse-log', log, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let jsonBytes = 0;
    let err = '';
    p.stdout.on('data', (b: Buffer) => (jsonBytes += b.length));
    p.stderr.on('data', (b: Buffer) => (err += b));
    p.on('close', (code) => {
      const m = /PEAK_RSS_KB (\d+)/.exec(err);
      resolve({ peakMiB: m ? Number(m[1]) / 1024 : NaN, code, jsonBytes, seconds: (Date.now() - t0) / 1000 });
    });
  });
}

async function main() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'speedrun-bench-mem-'));
  try {
    const log = path.join(dir, 'big.log');
    const preload = path.join(dir, 'peak.js');
    fs.writeFileSync(preload, "process.on('exit', () => process.stderr.write(`PEAK_RSS_KB ${process.resourceUsage().maxRSS}\\n`));\n");
    const { trainLines, valLines } = writeLog(log, MB * 1024 * 1024);
    const size = fs.statSync(log).size / 1024 / 1024;
    console.log(`log: ${size.toFixed(1)} MiB, ${trainLines} train lines, ${valLines} val lines`);
    const builds: [string, string][] = [['this build', path.join(ROOT, 'dist/cli.js')]];
    if (process.env.SPEEDRUN_CLI_BEFORE) builds.unshift(['before', process.env.SPEEDRUN_CLI_BEFORE]);
    for (const [name, cli] of builds) {
      const r = await measure(cli, log, preload);
      console.log(
        `${name.padEnd(10)} peak RSS ${r.peakMiB.toFixed(0).padStart(5)} MiB   JSON ${(r.jsonBytes / 1024 / 1024).toFixed(1)} MiB   ${r.seconds.toFixed(1)} s   exit ${r.code}`,
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

void main();
