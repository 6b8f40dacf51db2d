// How long coverage and patch export take on record-sized scripts (real records are ~300-1,500 lines, their
// i -> i+1 diffs up to ~700 changed lines). Prints figures; asserts nothing. Run: node out/bench/compare.js
import { performance } from 'node:perf_hooks';
import { compareAttempt } from '../src/core/compare/coverage';
import { attemptPatch } from '../src/core/compare/patch';

/** A deterministic Python-like script: functions of a few lines with repeated idioms (`)`, `return x`). */
function script(lines: number, seed: number): string[] {
  const out: string[] = [];
  let s = seed;
  const rnd = () => ((s = (s * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  for (let f = 0; out.length < lines; f++) {
    out.push(`def block_${f}(x, y):`);
    const body = 3 + Math.floor(rnd() * 8);
    for (let k = 0; k < body; k++) out.push(`    x = x * ${Math.floor(rnd() * 100)} + torch.ops.f${k}(y)`);
    out.push('    return x', '');
  }
  return out.slice(0, lines);
}

/** Rewrites `hunks` evenly spaced blocks of `size` lines. */
function change(base: string[], hunks: number, size: number, tag: string): string[] {
  const out = [...base];
  const step = Math.floor(base.length / hunks);
  for (let h = hunks - 1; h >= 0; h--) {
    const at = h * step + 1;
    out.splice(at, size, ...Array.from({ length: size + 1 }, (_, k) => `    x = ${tag}_${h}_${k}(x)  # new`));
  }
  return out;
}

function time(label: string, runs: number, fn: () => unknown) {
  const ms: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  console.log(`${label.padEnd(58)} median ${ms[Math.floor(runs / 2)].toFixed(1)} ms   max ${ms[runs - 1].toFixed(1)} ms   (${runs} runs)`);
}

const cases: [string, number, number, number][] = [
  ['small record (300 lines, 6 hunks x 2 lines)', 300, 6, 2],
  ['large record (1500 lines, 40 hunks x 8 lines)', 1500, 40, 8],
  ['rewrite (1500 lines, 100 hunks x 12 lines)', 1500, 100, 12],
];
for (const [label, lines, hunks, size] of cases) {
  const base = script(lines, 7);
  const ref = change(base, hunks, size, 'ref');
  // Half the reference hunks, plus as many of its own.
  const att = change(change(base, hunks, size, 'ref').slice(0, Math.floor(lines / 2)).concat(base.slice(Math.floor(lines / 2))), hunks / 2, size, 'own');
  const input = { baseline: base.join('\n'), reference: ref.join('\n'), attempt: att.join('\n') };
  const r = compareAttempt(input);
  console.log(`${label}: coverage ${(100 * (r.coverage ?? 0)).toFixed(1)}%, extraneous ${(100 * r.extraneous).toFixed(1)}%, ${r.hunks.length} reference hunks`);
  time('  compareAttempt', 15, () => compareAttempt(input));
  time('  attemptPatch', 15, () => attemptPatch(input.baseline, input.attempt, { fromRecord: 1 }));
}
// Worst case for the diff: nothing in common.
const a = script(1500, 1).map((l) => `${l} # a`).join('\n');
const b = script(1500, 2).map((l) => `${l} # b`).join('\n');
time('disjoint 1500 vs 1500 lines (nothing in common)', 5, () => compareAttempt({ baseline: a, reference: b, attempt: a }));
