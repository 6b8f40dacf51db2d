// A small lexical scanner for Python source: enough to tell code from strings and comments, find calls and
// statements, and compare code while ignoring formatting. Not a parser; the syntax check uses python3 itself.

/** Per UTF-16 code unit: what the character belongs to. */
export const enum Kind {
  Code = 0,
  String = 1,
  Comment = 2,
}

export interface Scan {
  src: string;
  kind: Uint8Array;
  /** Offset of the first character of each physical line. */
  lineStarts: number[];
  /** Set when a string runs to the end of the file. */
  unterminatedString?: { offset: number; triple: boolean };
}

export interface Pos {
  line: number;
  character: number;
}
export interface Range {
  start: Pos;
  end: Pos;
}

const STRING_PREFIX = /^(?:[rRbBuUfF]|[rR][bBfF]|[bBfF][rR])$/;

export function scan(src: string): Scan {
  const kind = new Uint8Array(src.length);
  const lineStarts = [0];
  for (let i = 0; i < src.length; i++) if (src.charCodeAt(i) === 10) lineStarts.push(i + 1);
  let unterminated: Scan['unterminatedString'];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === '#') {
      while (i < src.length && src[i] !== '\n') kind[i++] = Kind.Comment;
      continue;
    }
    if (c === '"' || c === "'") {
      // Include a string prefix (f, rb, ...) that directly precedes the quote.
      let p = i;
      while (p > 0 && /[A-Za-z]/.test(src[p - 1])) p--;
      const prefix = src.slice(p, i);
      const start = prefix && STRING_PREFIX.test(prefix) && (p === 0 || !/[\w]/.test(src[p - 1])) ? p : i;
      const triple = src.startsWith(c.repeat(3), i);
      const quote = triple ? c.repeat(3) : c;
      let j = i + quote.length;
      let closed = false;
      while (j < src.length) {
        if (src[j] === '\\') {
          j += 2;
          continue;
        }
        if (!triple && src[j] === '\n') break; // a one-line string cannot span lines
        if (src.startsWith(quote, j)) {
          j += quote.length;
          closed = true;
          break;
        }
        j++;
      }
      j = Math.min(j, src.length);
      if (!closed) unterminated ??= { offset: i, triple };
      for (let k = start; k < j; k++) kind[k] = Kind.String;
      i = j;
      continue;
    }
    i++;
  }
  return { src, kind, lineStarts, unterminatedString: unterminated };
}

export function positionAt(s: Scan, offset: number): Pos {
  let lo = 0;
  let hi = s.lineStarts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (s.lineStarts[mid] <= offset) lo = mid;
    else hi = mid - 1;
  }
  return { line: lo, character: offset - s.lineStarts[lo] };
}

export function rangeOf(s: Scan, start: number, end: number): Range {
  return { start: positionAt(s, start), end: positionAt(s, end) };
}

export function lineEnd(s: Scan, line: number): number {
  const next = s.lineStarts[line + 1];
  if (next === undefined) return s.src.length;
  return s.src[next - 2] === '\r' ? next - 2 : next - 1;
}

const OPEN = '([{';
const CLOSE = ')]}';

/** Offset of the bracket closing the one at `open` (code only), or -1. */
export function matchBracket(s: Scan, open: number): number {
  let depth = 0;
  for (let i = open; i < s.src.length; i++) {
    if (s.kind[i] !== Kind.Code) continue;
    const c = s.src[i];
    if (OPEN.includes(c)) depth++;
    else if (CLOSE.includes(c) && --depth === 0) return i;
  }
  return -1;
}

/** A logical line (statement): physical lines joined by open brackets or a trailing backslash. */
export interface Statement {
  start: number; // first character of its first physical line (indentation included)
  end: number; // end of its last physical line (before the newline)
  firstLine: number;
  lastLine: number;
  indent: string;
}

export function statements(s: Scan): Statement[] {
  const out: Statement[] = [];
  let line = 0;
  const n = s.lineStarts.length;
  while (line < n) {
    const first = line;
    let depth = 0;
    for (;;) {
      const a = s.lineStarts[line];
      const b = lineEnd(s, line);
      for (let i = a; i < b; i++) {
        if (s.kind[i] !== Kind.Code) continue;
        const c = s.src[i];
        if (OPEN.includes(c)) depth++;
        else if (CLOSE.includes(c)) depth = Math.max(0, depth - 1);
      }
      // A triple-quoted string that continues on the next line also joins lines.
      const inString = b < s.src.length && s.kind[b] === Kind.String;
      const backslash = s.src[b - 1] === '\\' && s.kind[b - 1] === Kind.Code;
      if ((depth > 0 || inString || backslash) && line + 1 < n) line++;
      else break;
    }
    const start = s.lineStarts[first];
    const indent = /^[ \t]*/.exec(s.src.slice(start, lineEnd(s, first)))![0];
    out.push({ start, end: lineEnd(s, line), firstLine: first, lastLine: line, indent });
    line++;
  }
  return out;
}

/** True when the statement holds code (not only blank space and comments). */
export function hasCode(s: Scan, st: Statement): boolean {
  for (let i = st.start; i < st.end; i++) {
    if (s.kind[i] === Kind.String || (s.kind[i] === Kind.Code && !/\s/.test(s.src[i]))) return true;
  }
  return false;
}

/**
 * Canonical text of a span of code: comments dropped, whitespace outside strings removed, simple string
 * literals written with double quotes. Two spans that differ only in formatting get the same text.
 */
export function normalize(s: Scan, start: number, end: number): string {
  let out = '';
  let i = start;
  while (i < end) {
    const k = s.kind[i];
    if (k === Kind.Comment) {
      i++;
      continue;
    }
    if (k === Kind.String) {
      let j = i;
      while (j < end && s.kind[j] === Kind.String) j++;
      out += canonicalStrings(s.src.slice(i, j));
      i = j;
      continue;
    }
    const c = s.src[i];
    if (!/\s/.test(c) && !(c === '\\' && /\r?\n/.test(s.src.slice(i + 1, i + 3)))) out += c;
    i++;
  }
  return out;
}

// Adjacent literals ('a' "b") may sit in one String run; canonicalise each single-quoted one.
function canonicalStrings(run: string): string {
  return run.replace(/([rRbBuUfF]{0,2})'((?:[^'"\\\n]|\\[^\n])*)'/g, (_m, p: string, body: string) => `${p}"${body}"`);
}

export interface Call {
  name: string;
  /** Offset of the callee name. */
  start: number;
  /** Offset just past the closing parenthesis. */
  end: number;
}

/** Calls of `name(...)` in code (also `obj.name(...)`); `def name(` is not a call. */
export function findCalls(s: Scan, name: string): Call[] {
  const out: Call[] = [];
  const re = new RegExp(`\\b${name}\\s*\\(`, 'g');
  for (let m = re.exec(s.src); m; m = re.exec(s.src)) {
    if (s.kind[m.index] !== Kind.Code) continue;
    if (m.index > 0 && /\w/.test(s.src[m.index - 1])) continue;
    if (/\bdef\s+$/.test(s.src.slice(Math.max(0, m.index - 12), m.index))) continue; // a definition, not a call
    const open = m.index + m[0].length - 1;
    const close = matchBracket(s, open);
    if (close < 0) continue;
    out.push({ name, start: m.index, end: close + 1 });
  }
  return out;
}

/** The statement that contains `offset`. */
export function statementAt(sts: Statement[], offset: number): Statement | undefined {
  let lo = 0;
  let hi = sts.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (sts[mid].end < offset) lo = mid + 1;
    else if (sts[mid].start > offset) hi = mid - 1;
    else return sts[mid];
  }
  return undefined;
}

/** Text of the string literals inside a span (their contents joined), for matching on what a call prints. */
export function stringContent(s: Scan, start: number, end: number): string {
  let out = '';
  for (let i = start; i < end; i++) if (s.kind[i] === Kind.String) out += s.src[i];
  return out;
}

/** Re-indents a block of text so its first line starts with `indent` and the others keep their relative depth. */
export function reindent(text: string, fromIndent: string, toIndent: string): string {
  return text
    .split('\n')
    .map((l, i) => (i === 0 ? toIndent + l.replace(/^[ \t]*/, '') : l.startsWith(fromIndent) ? toIndent + l.slice(fromIndent.length) : l))
    .join('\n');
}
