// Python syntax check before a run is sent: python3's own compiler in a child process (source on stdin,
// nothing written to disk), or a best-effort bracket/string/indent check when python3 cannot be started.
import { spawn } from 'node:child_process';
import { Kind, lineEnd, scan } from './scanner';

export type SyntaxResult =
  | { ok: true; method: string }
  | {
      ok: false;
      method: string;
      message: string;
      /** 1-based, as Python reports them. */
      line: number;
      column: number;
      endLine?: number;
      endColumn?: number;
    };

// Reads the script from stdin and prints one JSON line. compile() (not ast.parse) also catches errors the
// compiler raises, such as `return` outside a function.
const CHECKER = `
import sys, json
src = sys.stdin.buffer.read()
v = "python3 " + sys.version.split()[0]
try:
    compile(src, "train_gpt2.py", "exec", dont_inherit=True)
    print(json.dumps({"ok": True, "method": v}))
except SyntaxError as e:
    print(json.dumps({"ok": False, "method": v, "message": e.msg, "line": e.lineno or 1, "column": e.offset or 1,
                      "endLine": getattr(e, "end_lineno", None), "endColumn": getattr(e, "end_offset", None)}))
except (ValueError, TypeError) as e:
    print(json.dumps({"ok": False, "method": v, "message": str(e), "line": 1, "column": 1}))
`;

const cache = new Map<string, Promise<SyntaxResult>>();

/**
 * Checks `src`. `python`: the interpreter to use (default `python3`), or false to use the fallback check.
 * Results are cached by content, since the editor asks again for the same text often.
 */
export function checkSyntax(src: string, opts: { python?: string | false; signal?: AbortSignal } = {}): Promise<SyntaxResult> {
  if (opts.python === false) return Promise.resolve(fallbackCheck(src));
  const python = opts.python ?? 'python3';
  const key = `${python}\0${src}`;
  const hit = cache.get(key);
  if (hit) return hit;
  const p = runPython(python, src, opts.signal);
  cache.set(key, p);
  if (cache.size > 16) cache.delete(cache.keys().next().value!);
  p.catch(() => cache.delete(key));
  return p;
}

function runPython(python: string, src: string, signal?: AbortSignal): Promise<SyntaxResult> {
  return new Promise((resolve) => {
    let out = '';
    let settled = false;
    const done = (r: SyntaxResult) => {
      if (!settled) {
        settled = true;
        resolve(r);
      }
    };
    const child = spawn(python, ['-I', '-S', '-c', CHECKER], { stdio: ['pipe', 'pipe', 'ignore'], signal, timeout: 15000 });
    child.on('error', (e: NodeJS.ErrnoException) => {
      // Not installed (ENOENT) or not runnable: say so and fall back.
      const r = fallbackCheck(src);
      done({ ...r, method: `${r.method}; ${python} unavailable: ${e.code ?? e.message}` });
    });
    child.stdout.on('data', (d: Buffer) => (out += d.toString('utf8')));
    child.on('close', () => {
      try {
        const r = JSON.parse(out.trim().split('\n').pop() ?? '') as SyntaxResult & { endLine?: number | null; endColumn?: number | null };
        if (!r.ok) {
          if (r.endLine == null) delete r.endLine;
          if (r.endColumn == null) delete r.endColumn;
        }
        done(r);
      } catch {
        const r = fallbackCheck(src);
        done({ ...r, method: `${r.method}; ${python} gave no answer` });
      }
    });
    child.stdin.on('error', () => undefined); // the child may exit before reading everything
    child.stdin.end(src);
  });
}

const FALLBACK = 'bracket/indent check (python3 not used)';

/** Unbalanced brackets, unterminated strings, and blocks that open with ':' but have no indented body. */
export function fallbackCheck(src: string): SyntaxResult {
  const s = scan(src);
  const fail = (offset: number, message: string): SyntaxResult => {
    let line = 0;
    while (line + 1 < s.lineStarts.length && s.lineStarts[line + 1] <= offset) line++;
    return { ok: false, method: FALLBACK, message, line: line + 1, column: offset - s.lineStarts[line] + 1 };
  };
  const u = s.unterminatedString;
  if (u) return fail(u.offset, u.triple ? 'unterminated triple-quoted string' : 'unterminated string literal');
  const stack: { c: string; at: number }[] = [];
  const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
  for (let i = 0; i < src.length; i++) {
    if (s.kind[i] !== Kind.Code) continue;
    const c = src[i];
    if ('([{'.includes(c)) stack.push({ c, at: i });
    else if (c in pairs) {
      const top = stack.pop();
      if (!top) return fail(i, `unmatched '${c}'`);
      if (top.c !== pairs[c]) return fail(i, `closing parenthesis '${c}' does not match opening parenthesis '${top.c}'`);
    }
  }
  if (stack.length) return fail(stack[stack.length - 1].at, `'${stack[stack.length - 1].c}' was never closed`);
  // Indentation: a line ending in ':' opens a block whose next code line must be indented deeper.
  const indents = [0];
  let expectDeeper = false;
  let depth = 0;
  for (let line = 0; line < s.lineStarts.length; line++) {
    const a = s.lineStarts[line];
    const b = lineEnd(s, line);
    const text = src.slice(a, b);
    const continuation = depth > 0 || (a > 0 && s.kind[a] === Kind.String);
    let lastCode = '';
    for (let i = a; i < b; i++) {
      if (s.kind[i] !== Kind.Code) continue;
      if ('([{'.includes(src[i])) depth++;
      else if (')]}'.includes(src[i])) depth--;
      if (!/\s/.test(src[i])) lastCode = src[i];
    }
    const blank = !/\S/.test(text) || (s.kind[a + text.search(/\S/)] === Kind.Comment);
    if (continuation || blank) continue;
    const width = /^[ \t]*/.exec(text)![0].replace(/\t/g, '        ').length;
    if (expectDeeper) {
      if (width <= indents[indents.length - 1]) return fail(a, 'expected an indented block');
      indents.push(width);
      expectDeeper = false;
    } else if (width > indents[indents.length - 1]) {
      return fail(a, 'unexpected indent');
    } else {
      while (width < indents[indents.length - 1]) indents.pop();
      if (width !== indents[indents.length - 1]) return fail(a, 'unindent does not match any outer indentation level');
    }
    if (lastCode === ':' && depth === 0) expectDeeper = true;
  }
  if (expectDeeper) return fail(src.length, 'expected an indented block');
  return { ok: true, method: FALLBACK };
}
