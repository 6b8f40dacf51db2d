// The agent's edit format: SEARCH/REPLACE blocks against the current file.
//
//   train_gpt2.py
//   <<<<<<< SEARCH
//   lines copied from the current file
//   =======
//   the lines that replace them
//   >>>>>>> REPLACE
//
// Matching tolerates whitespace drift (trailing spaces, a uniform indentation shift, changed spacing or blank
// lines); a block that matches nowhere, or in several places, gets an error that says where the closest text is
// and how it differs, so a model can correct it.
import { diffLines } from 'diff';

export interface Block {
  /** 1-based position of the block in the response. */
  index: number;
  search: string;
  replace: string;
  /** File name line before the block, if any. */
  file?: string;
}

export interface ParseResult {
  blocks: Block[];
  errors: string[];
}

const START = /^\s*<{5,9} ?SEARCH\s*$/;
const DIVIDER = /^\s*={5,9}\s*$/;
const END = /^\s*>{5,9} ?REPLACE\s*$/;
const FENCE = /^\s*```/;

export function parseBlocks(response: string): ParseResult {
  const lines = response.replace(/\r\n/g, '\n').split('\n');
  const blocks: Block[] = [];
  const errors: string[] = [];
  let i = 0;
  while (i < lines.length) {
    if (!START.test(lines[i])) {
      i++;
      continue;
    }
    const index = blocks.length + errors.length + 1;
    let f = i - 1;
    while (f >= 0 && (FENCE.test(lines[f]) || !lines[f].trim())) f--;
    const fileLine = f >= 0 ? lines[f].trim().replace(/^[#*`\s]+|[*`:\s]+$/g, '') : '';
    const file = /^[\w./-]+\.\w+$/.test(fileLine) ? fileLine : undefined;
    const search: string[] = [];
    const replace: string[] = [];
    let j = i + 1;
    while (j < lines.length && !DIVIDER.test(lines[j]) && !START.test(lines[j]) && !END.test(lines[j])) search.push(lines[j++]);
    if (j >= lines.length || !DIVIDER.test(lines[j])) {
      errors.push(`Block ${index}: "<<<<<<< SEARCH" on line ${i + 1} has no "=======" divider after it.`);
      i = j;
      continue;
    }
    j++;
    while (j < lines.length && !END.test(lines[j]) && !START.test(lines[j]) && !DIVIDER.test(lines[j])) replace.push(lines[j++]);
    if (j >= lines.length || !END.test(lines[j])) {
      errors.push(`Block ${index}: the block that starts on line ${i + 1} does not end with ">>>>>>> REPLACE".`);
      i = j;
      continue;
    }
    blocks.push({ index, search: search.join('\n'), replace: replace.join('\n'), file });
    i = j + 1;
  }
  return { blocks, errors };
}

export interface ApplyResult {
  text: string;
  applied: number[];
  failures: { block: number; message: string }[];
}

/**
 * Applies blocks one after another (each against the text the previous ones left). Blocks that fail are
 * skipped and reported; the others still apply. Line endings of `text` are kept.
 */
export function applyBlocks(text: string, blocks: Block[], fileName = 'train_gpt2.py'): ApplyResult {
  const crlf = text.includes('\r\n');
  let cur = crlf ? text.replace(/\r\n/g, '\n') : text;
  const applied: number[] = [];
  const failures: ApplyResult['failures'] = [];
  for (const b of blocks) {
    if (b.file && b.file.split('/').pop() !== fileName) {
      failures.push({ block: b.index, message: `Block ${b.index} names ${b.file}; only ${fileName} can be edited.` });
      continue;
    }
    const r = applyOne(cur, b);
    if (typeof r === 'string') {
      cur = r;
      applied.push(b.index);
    } else failures.push({ block: b.index, message: r.error });
  }
  return { text: crlf ? cur.replace(/\n/g, '\r\n') : cur, applied, failures };
}

interface Match {
  /** Line range [start, end) in the file. */
  start: number;
  end: number;
  /** Indentation to add to (or remove from) the REPLACE lines, when the match needed a shift. */
  shift?: { add: string } | { remove: string };
}

function applyOne(text: string, b: Block): string | { error: string } {
  const raw = b.search.split('\n');
  const search = trimBlankEdges(raw);
  if (!search.length) {
    return {
      error: `Block ${b.index}: the SEARCH part is empty. To add code, SEARCH for the lines next to where it goes and repeat them in REPLACE with the new lines.`,
    };
  }
  const lines = text.split('\n');
  const found = findMatches(lines, search);
  if (found.matches.length === 0) return { error: noMatchMessage(b.index, lines, search) };
  if (found.matches.length > 1) {
    const where = found.matches.slice(0, 5).map((m) => m.start + 1).join(', ');
    return {
      error: `Block ${b.index}: the SEARCH part matches ${found.matches.length} places (starting at lines ${where}). Include more of the surrounding lines so it matches exactly one.`,
    };
  }
  const m = found.matches[0];
  // Blank lines around SEARCH were not matched, so drop as many around REPLACE.
  const lead = raw.findIndex((l) => l.trim());
  let trail = 0;
  while (!raw[raw.length - 1 - trail].trim()) trail++;
  let replace = b.replace === '' ? [] : b.replace.split('\n');
  for (let n = 0; n < lead && replace.length && !replace[0].trim(); n++) replace.shift();
  for (let n = 0; n < trail && replace.length && !replace[replace.length - 1].trim(); n++) replace.pop();
  if (m.shift) {
    replace = replace.map((l) => {
      if (!l.trim()) return l;
      if ('add' in m.shift!) return m.shift!.add + l;
      return l.startsWith(m.shift!.remove) ? l.slice(m.shift!.remove.length) : l.trimStart();
    });
  }
  return [...lines.slice(0, m.start), ...replace, ...lines.slice(m.end)].join('\n');
}

function trimBlankEdges(lines: string[]): string[] {
  let a = 0;
  let b = lines.length;
  while (a < b && !lines[a].trim()) a++;
  while (b > a && !lines[b - 1].trim()) b--;
  return lines.slice(a, b);
}

/** Tries ever looser comparisons; the first that finds any match decides. */
function findMatches(lines: string[], search: string[]): { matches: Match[] } {
  const strict = scanWindows(lines, search, (a, b) => a === b);
  if (strict.length) return { matches: strict };
  const trailing = scanWindows(lines, search, (a, b) => a.trimEnd() === b.trimEnd());
  if (trailing.length) return { matches: trailing };
  const shifted = shiftedMatches(lines, search);
  if (shifted.length) return { matches: shifted };
  return { matches: looseMatches(lines, search) };
}

function scanWindows(lines: string[], search: string[], eq: (a: string, b: string) => boolean): Match[] {
  const out: Match[] = [];
  for (let s = 0; s + search.length <= lines.length; s++) {
    let ok = true;
    for (let k = 0; k < search.length && ok; k++) ok = eq(lines[s + k], search[k]);
    if (ok) out.push({ start: s, end: s + search.length });
  }
  return out;
}

const indentOf = (l: string) => /^[ \t]*/.exec(l)![0];

/** Every line differs by the same indentation prefix (the block was copied with more or less indentation). */
function shiftedMatches(lines: string[], search: string[]): Match[] {
  const firstCode = search.findIndex((l) => l.trim());
  const out: Match[] = [];
  for (let s = 0; s + search.length <= lines.length; s++) {
    const fi = indentOf(lines[s + firstCode]);
    const si = indentOf(search[firstCode]);
    let shift: Match['shift'];
    if (fi.length > si.length && fi.endsWith(si)) shift = { add: fi.slice(0, fi.length - si.length) };
    else if (si.length > fi.length && si.endsWith(fi)) shift = { remove: si.slice(0, si.length - fi.length) };
    else continue;
    let ok = true;
    for (let k = 0; k < search.length && ok; k++) {
      const f = lines[s + k].trimEnd();
      const q = search[k].trimEnd();
      if (!q.trim()) ok = !f.trim();
      else ok = 'add' in shift ? f === shift.add + q : q === shift.remove + f;
    }
    if (ok) out.push({ start: s, end: s + search.length, shift });
  }
  return out;
}

const squash = (l: string) => l.replace(/\s+/g, '');

/** Non-blank lines equal once all whitespace is removed; blank lines on either side do not count. */
function looseMatches(lines: string[], search: string[]): Match[] {
  const want = search.filter((l) => l.trim()).map(squash);
  if (!want.length) return [];
  const out: Match[] = [];
  for (let s = 0; s < lines.length; s++) {
    if (squash(lines[s]) !== want[0]) continue;
    let k = 1;
    let e = s + 1;
    while (k < want.length && e < lines.length) {
      if (!lines[e].trim()) {
        e++;
        continue;
      }
      if (squash(lines[e]) !== want[k]) break;
      k++;
      e++;
    }
    if (k === want.length) {
      const fi = indentOf(lines[s]);
      const si = indentOf(search.find((l) => l.trim())!);
      const shift: Match['shift'] =
        fi === si ? undefined : fi.endsWith(si) ? { add: fi.slice(0, fi.length - si.length) } : si.endsWith(fi) ? { remove: si.slice(0, si.length - fi.length) } : undefined;
      out.push({ start: s, end: e, shift });
    }
  }
  return out;
}

/** Where the closest text is and its first difference, so the model can fix its SEARCH part. */
function noMatchMessage(index: number, lines: string[], search: string[]): string {
  let best = { start: -1, score: 0 };
  for (let s = 0; s < lines.length; s++) {
    let score = 0;
    for (let k = 0; k < search.length && s + k < lines.length; k++) if (squash(lines[s + k]) === squash(search[k]) && search[k].trim()) score++;
    if (score > best.score) best = { start: s, score };
  }
  const head = `Block ${index}: the SEARCH part does not match the current train_gpt2.py.`;
  const tail = 'Copy the SEARCH lines exactly from the current file.';
  if (best.start < 0) return `${head} None of its lines appear in the file. ${tail}`;
  const k = search.findIndex((l, n) => squash(l) !== squash(lines[best.start + n] ?? '\u0000'));
  const lineNo = best.start + k + 1;
  const fileLine = lines[best.start + k];
  const show = (s: string | undefined) => (s === undefined ? '(end of file)' : JSON.stringify(s));
  return (
    `${head} The closest part of the file starts at line ${best.start + 1} (${best.score} of ${search.length} lines equal). ` +
    `First difference at line ${lineNo}: the file has ${show(fileLine)}, the SEARCH part has ${show(search[k])}. ${tail}`
  );
}

// ---- edits for the editor ----

export interface OffsetEdit {
  /** Offsets in the text before the edit. */
  start: number;
  end: number;
  newText: string;
}

/** Line-granular edits that turn `before` into `after`, non-overlapping and in order. */
export function lineEdits(before: string, after: string): OffsetEdit[] {
  const out: OffsetEdit[] = [];
  let offset = 0;
  let pending: OffsetEdit | undefined;
  for (const part of diffLines(before, after)) {
    if (part.added) {
      pending ??= { start: offset, end: offset, newText: '' };
      pending.newText += part.value;
    } else if (part.removed) {
      pending ??= { start: offset, end: offset, newText: '' };
      offset += part.value.length;
      pending.end = offset;
    } else {
      if (pending) out.push(pending);
      pending = undefined;
      offset += part.value.length;
    }
  }
  if (pending) out.push(pending);
  return out;
}

/** Lines added and removed between two texts (for the transcript). */
export function changeSize(before: string, after: string): { added: number; removed: number } {
  let added = 0;
  let removed = 0;
  for (const p of diffLines(before, after)) {
    if (p.added) added += p.count ?? 0;
    else if (p.removed) removed += p.count ?? 0;
  }
  return { added, removed };
}
