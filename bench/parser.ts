// Parser throughput against a plain line split of the same text (target: at least a quarter of its speed).
// Run: npx tsc -p tsconfig.test.json && node out/bench/parser.js [MB, default 32] [rounds, default 9]
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

function ms(fn: () => unknown): number {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

const text = makeLog(targetMB * 1024 * 1024);
const bytes = Buffer.from(text, 'utf8');
const mb = bytes.length / (1024 * 1024);
const CHUNK = 64 * 1024;
let sink = 0;

const reps = Number(process.argv[3] ?? 9);
const splitOnce = () => (sink += text.split('\n').length);
// Live path: 64 KiB Buffer chunks as a tail delivers them; each chunk's events are used and dropped.
const chunkedOnce = () => {
  const p = createLogParser();
  for (let i = 0; i < bytes.length; i += CHUNK) sink += p.push(bytes.subarray(i, i + CHUNK)).length;
  sink += p.end().length;
};
// Whole file at once: every event of the file is held in one array.
const wholeOnce = () => {
  const p = createLogParser();
  sink += p.push(text).length + p.end().length;
};

// The machine is shared, so each round times the split and the parser back to back and the ratio is taken per
// round (both see about the same load); the median over rounds is the figure. Best times give MB/s.
function rounds(parse: () => void) {
  splitOnce();
  parse();
  const split: number[] = [];
  const parser: number[] = [];
  const ratio: number[] = [];
  for (let r = 0; r < reps; r++) {
    split.push(ms(splitOnce));
    parser.push(ms(parse));
    ratio.push(split[r] / parser[r]);
  }
  return { split, parser, ratio };
}
const chunked = rounds(chunkedOnce);
const whole = rounds(wholeOnce);
// What parse-log adds at the end: the summary's arrays (one object per step), timed last.
const parsed = createLogParser();
parsed.push(text);
parsed.end();
const summary: number[] = [];
for (let r = 0; r < reps; r++) summary.push(ms(() => (sink += parsed.summary().train.length)));

const best = (xs: number[]) => Math.min(...xs);
const row = (name: string, xs: number[], rs?: number[]) =>
  `${name.padEnd(52)} best ${best(xs).toFixed(1).padStart(7)} ms ${(mb / (best(xs) / 1000)).toFixed(0).padStart(6)} MB/s` +
  (rs ? `   median ratio ${median(rs).toFixed(2)}x of split` : '');
console.log(`log: ${mb.toFixed(1)} MB, ${text.split('\n').length} lines; ${reps} rounds (node ${process.version})`);
console.log(row("text.split('\\n')", [...chunked.split, ...whole.split]));
console.log(row(`parser, ${CHUNK / 1024} KiB Buffer chunks + UTF-8 decode`, chunked.parser, chunked.ratio));
console.log(row('parser, whole string, all events kept', whole.parser, whole.ratio));
console.log(`summary() of ${parsed.summary().train.length} train steps (parse-log's extra step): best ${best(summary).toFixed(1)} ms`);
console.log(`target (streaming parser >= 0.25x of split): ${median(chunked.ratio) >= 0.25 ? 'met' : 'NOT met'}`);
if (sink < 0) console.log(sink);
