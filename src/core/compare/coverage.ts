// Reproduction coverage: how much of the reference change (record i -> record i+1) an attempt also made.
// Lines are compared whitespace-insensitively (all whitespace dropped, blank lines ignored, as `git diff -w`
// plus blank lines), and matched by content, so reordered hunks and CRLF files still count.
import { diffArrays } from 'diff';

export type LineOp = '+' | '-';

export interface HunkLine {
  op: LineOp;
  /** The line as written (line ending removed). */
  text: string;
  /** True when the other side made the same change (same op, same whitespace-free content). */
  matched: boolean;
}

/** 1-based first line and line count in one file; a pure insertion has count 0 and start = the line before. */
export interface LineRange {
  start: number;
  count: number;
}

export interface CompareHunk {
  /** 'reference': a hunk of record i -> i+1; 'attempt': a hunk of record i -> attempt with lines not in the reference. */
  side: 'reference' | 'attempt';
  /** reference: matched | partial | missed. attempt: extra (nothing in the reference) | partial. */
  status: 'matched' | 'partial' | 'missed' | 'extra';
  /** Unified-diff style header in original line numbers, e.g. `@@ -120,3 +120,5 @@`. */
  header: string;
  /** Lines of record i the hunk replaces. */
  baseline: LineRange;
  /** Lines of the reference (side 'reference') or the attempt (side 'attempt'). */
  changed: LineRange;
  /** The `def`/`class` of record i the hunk sits in, for a readable label. */
  scope?: string;
  matchedLines: number;
  totalLines: number;
  lines: HunkLine[];
}

export interface ChangeCounts {
  added: number;
  removed: number;
  /** Lines of this change the other side also made. */
  matched: number;
}

export interface CompareResult {
  /** Share of the reference change's lines the attempt also made; null when the reference changes nothing. */
  coverage: number | null;
  /** Share of the attempt's changed lines that are not in the reference change; 0 when the attempt changes nothing. */
  extraneous: number;
  reference: ChangeCounts;
  attempt: ChangeCounts;
  /** Every hunk of the reference change, in file order, with how much of it the attempt reproduced. */
  hunks: CompareHunk[];
  /** Hunks of the attempt that contain lines the reference change does not have, in file order. */
  extraHunks: CompareHunk[];
}

interface Token {
  key: string;
  /** 0-based line index in the original text. */
  line: number;
}

interface Edit {
  op: LineOp;
  key: string;
  text: string;
  /** Line index in the file the line comes from (baseline for '-', other file for '+'). */
  line: number;
  /** Position in the baseline's token sequence: the removed token's index, or the token index an insertion precedes. */
  anchor: number;
  matched: boolean;
}

interface RawHunk {
  edits: Edit[];
  /** Baseline token index where the hunk starts and the other file's token index there. */
  baseToken: number;
  otherToken: number;
}

interface Side {
  text: string[];
  tokens: Token[];
}

/** Splits on LF, CRLF or CR; a final line ending does not start an extra line. */
export function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split(/\r\n|\r|\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function side(text: string): Side {
  const lines = splitLines(text);
  const tokens: Token[] = [];
  lines.forEach((l, line) => {
    const key = l.replace(/\s+/g, '');
    if (key) tokens.push({ key, line });
  });
  return { text: lines, tokens };
}

interface Part {
  added: boolean;
  removed: boolean;
  count: number;
}

/** Longest chain of pairs increasing in both coordinates (pairs come sorted by the first). */
function increasingChain(pairs: [number, number][]): [number, number][] {
  const tails: number[] = [];
  const prev: number[] = [];
  pairs.forEach(([, v], p) => {
    let lo = 0;
    let hi = tails.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (pairs[tails[mid]][1] < v) lo = mid + 1;
      else hi = mid;
    }
    prev[p] = lo > 0 ? tails[lo - 1] : -1;
    tails[lo] = p;
  });
  const chain: [number, number][] = [];
  for (let p = tails.length ? tails[tails.length - 1] : -1; p >= 0; p = prev[p]) chain.push(pairs[p]);
  return chain.reverse();
}

/**
 * Line diff that first pins the lines occurring exactly once on each side, in the same order (patience
 * anchors), then runs jsdiff's Myers diff between them. On record-sized scripts this is several times faster
 * than one Myers pass, and hunks follow the code's distinctive lines.
 */
function diffKeys(a: string[], b: string[]): Part[] {
  const countA = new Map<string, number>();
  const countB = new Map<string, number>();
  const posB = new Map<string, number>();
  for (const k of a) countA.set(k, (countA.get(k) ?? 0) + 1);
  b.forEach((k, j) => {
    countB.set(k, (countB.get(k) ?? 0) + 1);
    posB.set(k, j);
  });
  const unique: [number, number][] = [];
  a.forEach((k, i) => {
    if (countA.get(k) === 1 && countB.get(k) === 1) unique.push([i, posB.get(k)!]);
  });
  const parts: Part[] = [];
  const push = (added: boolean, removed: boolean, count: number) => {
    if (!count) return;
    const last = parts[parts.length - 1];
    if (last && last.added === added && last.removed === removed) last.count += count;
    else parts.push({ added, removed, count });
  };
  let i = 0;
  let j = 0;
  for (const [ai, bj] of [...increasingChain(unique), [a.length, b.length] as [number, number]]) {
    for (const p of diffArrays(a.slice(i, ai), b.slice(j, bj))) push(!!p.added, !!p.removed, p.count);
    if (ai < a.length) push(false, false, 1);
    i = ai + 1;
    j = bj + 1;
  }
  return parts;
}

/** The change base -> other as hunks of whitespace-free, non-blank lines. */
function changeHunks(base: Side, other: Side): RawHunk[] {
  const parts = diffKeys(base.tokens.map((t) => t.key), other.tokens.map((t) => t.key));
  const hunks: RawHunk[] = [];
  let b = 0;
  let o = 0;
  let open: RawHunk | undefined;
  for (const part of parts) {
    if (!part.added && !part.removed) {
      b += part.count;
      o += part.count;
      open = undefined;
      continue;
    }
    if (!open) {
      open = { edits: [], baseToken: b, otherToken: o };
      hunks.push(open);
    }
    for (let k = 0; k < part.count; k++) {
      if (part.removed) {
        const t = base.tokens[b];
        open.edits.push({ op: '-', key: t.key, text: base.text[t.line], line: t.line, anchor: b, matched: false });
        b++;
      } else {
        const t = other.tokens[o];
        open.edits.push({ op: '+', key: t.key, text: other.text[t.line], line: t.line, anchor: b, matched: false });
        o++;
      }
    }
  }
  return hunks;
}

const MAX_PAIRS = 200_000;

/**
 * Pairs reference edits with attempt edits of the same op and content, nearest baseline position first, so a
 * line repeated in many places pairs with its own occurrence when it can and with any other when it moved.
 */
function matchEdits(ref: Edit[], att: Edit[]): void {
  const groups = new Map<string, { ref: Edit[]; att: Edit[] }>();
  const group = (e: Edit) => {
    const id = e.op + e.key;
    let g = groups.get(id);
    if (!g) groups.set(id, (g = { ref: [], att: [] }));
    return g;
  };
  for (const e of ref) group(e).ref.push(e);
  for (const e of att) group(e).att.push(e);
  for (const g of groups.values()) {
    if (!g.ref.length || !g.att.length) continue;
    if (g.ref.length * g.att.length > MAX_PAIRS) {
      // A line repeated hundreds of times on both sides: pair in file order instead.
      for (let i = 0; i < Math.min(g.ref.length, g.att.length); i++) g.ref[i].matched = g.att[i].matched = true;
      continue;
    }
    const pairs: [number, number, number][] = [];
    for (let i = 0; i < g.ref.length; i++) {
      for (let j = 0; j < g.att.length; j++) pairs.push([Math.abs(g.ref[i].anchor - g.att[j].anchor), i, j]);
    }
    pairs.sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2]);
    let left = Math.min(g.ref.length, g.att.length);
    for (const [, i, j] of pairs) {
      if (g.ref[i].matched || g.att[j].matched) continue;
      g.ref[i].matched = g.att[j].matched = true;
      if (--left === 0) break;
    }
  }
}

/** The `def`/`class` enclosing a baseline line (by indentation), e.g. "def forward"; undefined at module level. */
function scopeAt(base: Side, line: number): string | undefined {
  const indentOf = (s: string) => /^\s*/.exec(s)![0].replace(/\t/g, '    ').length;
  let i = Math.min(line, base.text.length - 1);
  while (i >= 0 && !base.text[i].trim()) i--;
  if (i < 0) return undefined;
  let indent = indentOf(base.text[i]);
  const own = /^\s*(?:async\s+)?(def|class)\s+(\w+)/.exec(base.text[i]);
  if (own) return `${own[1]} ${own[2]}`;
  for (i--; i >= 0 && indent > 0; i--) {
    const text = base.text[i];
    if (!text.trim() || indentOf(text) >= indent) continue;
    const m = /^\s*(?:async\s+)?(def|class)\s+(\w+)/.exec(text);
    if (m) return `${m[1]} ${m[2]}`;
    indent = indentOf(text);
  }
  return undefined;
}

/** Range of original lines covered by a hunk's edits on one side; an empty side sits after the preceding token. */
function range(edits: Edit[], sideTokens: Token[], tokenIndex: number): LineRange {
  if (edits.length) {
    const first = edits[0].line;
    const last = edits[edits.length - 1].line;
    return { start: first + 1, count: last - first + 1 };
  }
  // Pure insertion or deletion: point just after the last unchanged line before it.
  const before = tokenIndex > 0 ? sideTokens[tokenIndex - 1].line + 1 : 0;
  return { start: before, count: 0 };
}

function finishHunk(h: RawHunk, sideName: CompareHunk['side'], base: Side, other: Side): CompareHunk {
  const removed = h.edits.filter((e) => e.op === '-');
  const added = h.edits.filter((e) => e.op === '+');
  const baseline = range(removed, base.tokens, h.baseToken);
  const changed = range(added, other.tokens, h.otherToken);
  const matchedLines = h.edits.filter((e) => e.matched).length;
  const totalLines = h.edits.length;
  const status: CompareHunk['status'] =
    sideName === 'reference'
      ? matchedLines === totalLines ? 'matched' : matchedLines === 0 ? 'missed' : 'partial'
      : matchedLines === 0 ? 'extra' : 'partial';
  return {
    side: sideName,
    status,
    header: `@@ -${baseline.start},${baseline.count} +${changed.start},${changed.count} @@`,
    baseline,
    changed,
    scope: scopeAt(base, removed.length ? removed[0].line : Math.max(0, baseline.start - 1)),
    matchedLines,
    totalLines,
    lines: h.edits.map((e) => ({ op: e.op, text: e.text, matched: e.matched })),
  };
}

function counts(hunks: RawHunk[]): ChangeCounts {
  const c: ChangeCounts = { added: 0, removed: 0, matched: 0 };
  for (const h of hunks) {
    for (const e of h.edits) {
      if (e.op === '+') c.added++;
      else c.removed++;
      if (e.matched) c.matched++;
    }
  }
  return c;
}

/**
 * Compares an attempt with the reference record, both as changes of the same baseline (record i).
 * All three are file contents; any line endings.
 */
export function compareAttempt(input: { baseline: string; reference: string; attempt: string }): CompareResult {
  const base = side(input.baseline);
  const ref = side(input.reference);
  const att = side(input.attempt);
  const refHunks = changeHunks(base, ref);
  const attHunks = changeHunks(base, att);
  matchEdits(refHunks.flatMap((h) => h.edits), attHunks.flatMap((h) => h.edits));
  const reference = counts(refHunks);
  const attempt = counts(attHunks);
  const refTotal = reference.added + reference.removed;
  const attTotal = attempt.added + attempt.removed;
  return {
    coverage: refTotal ? reference.matched / refTotal : null,
    extraneous: attTotal ? (attTotal - attempt.matched) / attTotal : 0,
    reference,
    attempt,
    hunks: refHunks.map((h) => finishHunk(h, 'reference', base, ref)),
    extraHunks: attHunks
      .filter((h) => h.edits.some((e) => !e.matched))
      .map((h) => finishHunk(h, 'attempt', base, att)),
  };
}

/** The dashboard's coverage pair (src/shared/protocol.ts `Coverage`); null when the reference changes nothing. */
export function toCoverage(r: CompareResult): { reproduced: number; extra: number } | null {
  return r.coverage === null ? null : { reproduced: r.coverage, extra: r.extraneous };
}

/** Lines added and removed from `baseline` to `other`, counted as coverage counts them (whitespace ignored). */
export function lineChanges(baseline: string, other: string): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const h of changeHunks(side(baseline), side(other))) {
    for (const e of h.edits) {
      if (e.op === '+') added++;
      else removed++;
    }
  }
  return { added, removed };
}
