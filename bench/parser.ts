// Parser throughput against a plain line split of the same text (target: at least a quarter of its speed).
// Run: npx tsc -p tsconfig.test.json && node out/bench/parser.js [MB]
import { createLogParser } from '../src/core/logs/parser';

const targetMB = Number(process.argv[2] ?? 32);

/** A synthetic log in the shapes of the records (our own lines): source echo, old and new train/val lines, noise. */
function makeLog(bytes: number): string {
  const parts: string[] = [];
  for (let i = 0; i < 300; i++) parts.push(`    print0(f"step:{step}/{args.num_iterations} train_time:{t:.0f}ms step_avg:{t/(step+1):.2f}ms")  # line ${i}`);
  parts.push('='.repeat(100));
  let size = parts.reduce((n, l) => n + l.length + 1, 0);
  let step = 0;
  let t = 0;
  while (size < bytes) {
    step++;
    t += 95 + (step % 7);
    let line: string;
    if (step % 250 === 0) line = `step:${step}/1000000 val_loss:${(3 + 1 / step).toFixed(4)} train_time:${t}ms step_avg:${(t / step).toFixed(2)}ms`;
    else if (step % 3 === 0) line = `step:${step}/1000000 train_loss:${(3 + 2 / step).toFixed(4)} train_time:${t}ms step_avg:${(t / step).toFixed(2)}ms`;
    else if (step % 101 === 0) line = `step ${String(step).padStart(4)}/1000000 | train loss ${(3.1).toFixed(6)} | norm 0.3012 | lr 1.80e-03 | (71.38 ms | 459094 tok/s)`;
    else if (step % 997 === 0) line = '[rank0]:[W1126 14:00:00.000000000 ProcessGroupNCCL.cpp:1496] Warning: a harmless warning line from a worker';
    else line = `step:${step}/1000000 train_time:${t}ms step_avg:${(t / step).toFixed(2)}ms`;
    parts.push(line);
    size += line.length + 1;
  }
  return parts.join('\n') + '\n';
}

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[s.length >> 1];
}

function time(fn: () => unknown, reps: number): number {
  fn(); // warm up
  const ms: number[] = [];
  for (let i = 0; i < reps; i++) {
    const t0 = process.hrtime.bigint();
    fn();
    ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return median(ms);
}

const text = makeLog(targetMB * 1024 * 1024);
const bytes = Buffer.from(text, 'utf8');
const mb = bytes.length / (1024 * 1024);
const CHUNK = 64 * 1024;
let sink = 0;

const split = time(() => (sink += text.split('\n').length), 7);
const whole = time(() => {
  const p = createLogParser();
  sink += p.push(text).length + p.end().length;
}, 5);
const chunked = time(() => {
  const p = createLogParser();
  for (let i = 0; i < bytes.length; i += CHUNK) sink += p.push(bytes.subarray(i, i + CHUNK)).length;
  sink += p.end().length;
}, 5);

const rate = (ms: number) => mb / (ms / 1000);
const row = (name: string, ms: number) =>
  `${name.padEnd(44)} ${ms.toFixed(1).padStart(8)} ms ${rate(ms).toFixed(0).padStart(7)} MB/s   ${(split / ms).toFixed(2)}x of split`;
console.log(`log: ${mb.toFixed(1)} MB, ${text.split('\n').length} lines (median of repeated runs, node ${process.version})`);
console.log(row("text.split('\\n')", split));
console.log(row('parser.push(whole string)', whole));
console.log(row(`parser.push(${CHUNK / 1024} KiB Buffer chunks, UTF-8 decode)`, chunked));
console.log(`target: parser >= 0.25x of split -> ${split / whole >= 0.25 && split / chunked >= 0.25 ? 'met' : 'NOT met'}`);
if (sink < 0) console.log(sink);
