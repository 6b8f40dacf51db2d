// The rules a benchmark run must keep, checked on a script against the task's starting script (record i).
// Used by the language server (diagnostics + quick fixes), the run command (refuse a run unless overridden)
// and the agent loop (a violation goes back to the model before any run). No vscode imports.
import {
  type Range, type Scan, type Statement, Kind, findCalls, hasCode, normalize, rangeOf, reindent, scan,
  statementAt, statements, stringContent,
} from './pyScan';
import { checkSyntax, type SyntaxResult } from './pySyntax';

export type { Range } from './pyScan';

import type { RuleId } from './types';

export type { RuleId };

/** One line per rule, in our own words; shown to users and models alike. */
export const RULE_TEXT: Record<RuleId, string> = {
  'data-files':
    'Keep the training/validation data settings and val_tokens exactly as in the starting script, read from the environment (NANOGPT_TRAIN_FILES, NANOGPT_VAL_FILES, NANOGPT_VAL_TOKENS).',
  'save-checkpoint': 'Keep save_checkpoint set to False.',
  logging:
    'Keep every print0 call that prints the step, validation loss or training time, with the same arguments, so the log can be scored.',
  torchrun:
    'Keep the script runnable as plain `torchrun --nproc_per_node=8 train_gpt2.py`: no required command-line arguments, an entry point that runs, and the distributed setup (init_process_group, RANK/LOCAL_RANK/WORLD_SIZE from the environment).',
  syntax: 'The script must be valid Python.',
};

export interface TextEditLike {
  range: Range;
  newText: string;
}
export interface Fix {
  title: string;
  edits: TextEditLike[];
}
export interface Violation {
  rule: RuleId;
  severity: 'error' | 'warning';
  message: string;
  range: Range;
  fix?: Fix;
}

export interface RuleReport {
  violations: Violation[];
  /** How syntax was checked, e.g. "python3 3.11.7" or "bracket/indent check (no python3)". */
  syntaxMethod: string;
}

const DATA_ENV = ['NANOGPT_TRAIN_FILES', 'NANOGPT_VAL_FILES', 'NANOGPT_VAL_TOKENS'];
const DIST_ENV = ['RANK', 'LOCAL_RANK', 'WORLD_SIZE'];
const SCORED_OUTPUT = /\bstep\b|val_loss|val loss|train_time|train_loss|train loss/;

/** A scanned script with its statements and normalised statement texts. */
class Doc {
  readonly s: Scan;
  readonly sts: Statement[];
  readonly code: Statement[];
  readonly norms: Map<string, Statement[]> = new Map();
  constructor(readonly text: string) {
    this.s = scan(text);
    this.sts = statements(this.s);
    this.code = this.sts.filter((st) => hasCode(this.s, st));
    for (const st of this.code) {
      const n = this.norm(st);
      const list = this.norms.get(n);
      if (list) list.push(st);
      else this.norms.set(n, [st]);
    }
  }
  norm(st: Statement): string {
    return normalize(this.s, st.start, st.end);
  }
  /** Statement text without its leading indentation. */
  body(st: Statement): string {
    return this.text.slice(st.start + st.indent.length, st.end);
  }
  range(st: Statement) {
    return rangeOf(this.s, st.start + st.indent.length, st.end);
  }
  firstLineRange() {
    const end = this.text.indexOf('\n');
    return rangeOf(this.s, 0, end < 0 ? this.text.length : end);
  }
  /** Is `literal` (e.g. "RANK") present as a whole string literal in code? */
  hasStringLiteral(literal: string): boolean {
    const re = new RegExp(`["']${literal}["']`, 'g');
    for (let m = re.exec(this.text); m; m = re.exec(this.text)) if (this.s.kind[m.index] === Kind.String) return true;
    return false;
  }
  statementsWithLiteral(literal: string): Statement[] {
    const re = new RegExp(`["']${literal}["']`, 'g');
    const out: Statement[] = [];
    for (let m = re.exec(this.text); m; m = re.exec(this.text)) {
      if (this.s.kind[m.index] !== Kind.String) continue;
      const st = statementAt(this.sts, m.index);
      if (st && !out.includes(st)) out.push(st);
    }
    return out;
  }
}

/** `x`, `args.x`, `x: int` as the target of `=` (or an augmented assignment) in a normalised statement. */
function assignedName(norm: string): string | undefined {
  const m = /^(?:[\w.]*\.)?(\w+)(?::[^=]*)?(?:\/\/|\*\*|>>|<<|[-+*/%@&|^])?=(?!=)/.exec(norm);
  return m?.[1];
}

function assigns(norm: string, name: string): boolean {
  return assignedName(norm) === name;
}

/**
 * Checks the rules that need no python3. `baseline` is the task's starting script; without it the checks that
 * compare against it fall back to presence checks.
 */
export function checkRules(script: string, baseline?: string): Violation[] {
  const doc = new Doc(script);
  const base = baseline === undefined ? undefined : new Doc(baseline);
  return [
    ...dataFiles(doc, base),
    ...saveCheckpoint(doc, base),
    ...logging(doc, base),
    ...torchrun(doc, base),
  ];
}

/** All rules, the syntax check included (python3 when it can be started, else a bracket/indent check). */
export async function checkScript(
  script: string,
  baseline: string | undefined,
  opts: { python?: string | false; signal?: AbortSignal } = {},
): Promise<RuleReport> {
  const syntax = await checkSyntax(script, opts);
  const violations = checkRules(script, baseline);
  if (!syntax.ok) violations.unshift(syntaxViolation(syntax));
  return { violations, syntaxMethod: syntax.method };
}

function syntaxViolation(r: Extract<SyntaxResult, { ok: false }>): Violation {
  const line = Math.max(0, r.line - 1);
  const col = Math.max(0, r.column - 1);
  const endLine = r.endLine !== undefined ? Math.max(line, r.endLine - 1) : line;
  const endCol = r.endColumn !== undefined && r.endLine !== undefined ? Math.max(0, r.endColumn - 1) : col + 1;
  return {
    rule: 'syntax',
    severity: 'error',
    message: `Syntax error: ${r.message} (checked with ${r.method}).`,
    range: { start: { line, character: col }, end: { line: endLine, character: endLine === line ? Math.max(endCol, col + 1) : endCol } },
  };
}

// ---- shared helpers ----

interface Required {
  rule: RuleId;
  base: Doc;
  baseSt: Statement;
  /** Already satisfied in the script? Default: a statement with the same normalised text exists. */
  present?: (doc: Doc) => boolean;
  /**
   * The script's statement that is this one, changed (the diagnostic goes there and the fix replaces it).
   * Default: the statement assigning the same name. null: never look for one.
   */
  changed?: ((doc: Doc) => Statement | undefined) | null;
  what: string;
}

/** A statement of the baseline that must still be in the script: diagnostic + a fix that restores it. */
function requireStatement(doc: Doc, r: Required): Violation[] {
  const baseNorm = r.base.norm(r.baseSt);
  const present = r.present ? r.present(doc) : doc.norms.has(baseNorm);
  if (present) return [];
  const baseText = r.base.body(r.baseSt);
  const name = assignedName(baseNorm);
  const changed =
    r.changed === null
      ? undefined
      : r.changed
        ? r.changed(doc)
        : name
          ? doc.code.find((st) => assigns(doc.norm(st), name))
          : undefined;
  if (changed) {
    return [
      {
        rule: r.rule,
        severity: 'error',
        message: `${r.what} changed. The starting script has: ${oneLine(baseText)}`,
        range: doc.range(changed),
        fix: {
          title: 'Restore the line from the starting script',
          edits: [{ range: doc.range(changed), newText: reindent(baseText, r.baseSt.indent, changed.indent).slice(changed.indent.length) }],
        },
      },
    ];
  }
  // Missing altogether: point at the statement that preceded it in the baseline, and insert it after that.
  const idx = r.base.code.indexOf(r.baseSt);
  for (let i = idx - 1; i >= 0; i--) {
    const anchorBase = r.base.code[i];
    const anchor = doc.norms.get(r.base.norm(anchorBase))?.[0];
    if (!anchor) continue;
    const indent = r.baseSt.indent.startsWith(anchorBase.indent)
      ? anchor.indent + r.baseSt.indent.slice(anchorBase.indent.length)
      : r.baseSt.indent;
    const at = rangeOf(doc.s, anchor.end, anchor.end);
    return [
      {
        rule: r.rule,
        severity: 'error',
        message: `${r.what} was removed. The starting script has: ${oneLine(baseText)}`,
        range: doc.range(anchor),
        fix: { title: 'Restore the line from the starting script', edits: [{ range: at, newText: '\n' + reindent(baseText, r.baseSt.indent, indent) }] },
      },
    ];
  }
  return [
    {
      rule: r.rule,
      severity: 'error',
      message: `${r.what} was removed. The starting script has: ${oneLine(baseText)}`,
      range: doc.firstLineRange(),
    },
  ];
}

function oneLine(text: string): string {
  const t = text.replace(/\s*\n\s*/g, ' ').trim();
  return t.length > 160 ? `${t.slice(0, 157)}...` : t;
}

function removeStatementFix(doc: Doc, st: Statement): Fix {
  const next = doc.s.lineStarts[st.lastLine + 1] ?? doc.text.length;
  return { title: 'Remove this line', edits: [{ range: rangeOf(doc.s, st.start, next), newText: '' }] };
}

// ---- data files and val_tokens ----

function dataFiles(doc: Doc, base?: Doc): Violation[] {
  if (!base) {
    return DATA_ENV.filter((v) => !doc.hasStringLiteral(v)).map((v) => ({
      rule: 'data-files' as const,
      severity: 'error' as const,
      message: `The script no longer reads ${v} from the environment.`,
      range: doc.firstLineRange(),
    }));
  }
  const out: Violation[] = [];
  const names = new Set<string>();
  for (const v of DATA_ENV) {
    for (const st of base.statementsWithLiteral(v)) {
      const name = assignedName(base.norm(st));
      if (name) names.add(name);
      out.push(
        ...requireStatement(doc, {
          rule: 'data-files',
          base,
          baseSt: st,
          what: name ? `The setting \`${name}\` (read from ${v})` : `The line reading ${v}`,
          changed: name ? undefined : (d) => d.statementsWithLiteral(v)[0],
        }),
      );
    }
  }
  // Any other assignment to those settings overrides what the environment says.
  for (const st of doc.code) {
    const n = doc.norm(st);
    const name = assignedName(n);
    if (!name || !names.has(name) || base.norms.has(n)) continue;
    if (out.some((v) => v.range.start.line === st.firstLine)) continue;
    out.push({
      rule: 'data-files',
      severity: 'error',
      message: `\`${name}\` must keep the value read from the environment; this line overrides it.`,
      range: doc.range(st),
      fix: removeStatementFix(doc, st),
    });
  }
  return out;
}

// ---- save_checkpoint ----

function saveCheckpoint(doc: Doc, base?: Doc): Violation[] {
  const out: Violation[] = [];
  const baseSt = base?.code.find((st) => assigns(base.norm(st), 'save_checkpoint'));
  let found = false;
  for (const st of doc.code) {
    const n = doc.norm(st);
    if (!assigns(n, 'save_checkpoint')) continue;
    found = true;
    if (/=False$/.test(n) && !/[-+*/%@&|^<>]=False$/.test(n)) continue;
    const body = doc.body(st);
    const eq = findAssignEquals(doc, st);
    const lhs = doc.text.slice(st.start + st.indent.length, eq).trimEnd();
    out.push({
      rule: 'save-checkpoint',
      severity: 'error',
      message: `save_checkpoint must stay False (found: ${oneLine(body)}).`,
      range: doc.range(st),
      fix: {
        title: 'Set save_checkpoint back to False',
        edits: [{ range: doc.range(st), newText: baseSt && base ? base.body(baseSt) : `${lhs} = False` }],
      },
    });
  }
  if (!found && base && baseSt) {
    out.push(...requireStatement(doc, { rule: 'save-checkpoint', base, baseSt, what: 'The save_checkpoint setting' }));
  }
  return out;
}

function findAssignEquals(doc: Doc, st: Statement): number {
  for (let i = st.start; i < st.end; i++) {
    if (doc.s.kind[i] !== Kind.Code || doc.text[i] !== '=') continue;
    if (doc.text[i + 1] === '=' || '=!<>'.includes(doc.text[i - 1])) continue;
    // Augmented assignment: keep the operator out of the name.
    let j = i;
    while (j > st.start && '+-*/%@&|^<>'.includes(doc.text[j - 1])) j--;
    return j;
  }
  return st.end;
}

// ---- logging ----

interface PrintCall {
  start: number;
  end: number;
  norm: string;
  st: Statement;
}

function printCalls(doc: Doc): PrintCall[] {
  return findCalls(doc.s, 'print0')
    .map((c) => ({ start: c.start, end: c.end, norm: normalize(doc.s, c.start, c.end), st: statementAt(doc.sts, c.start)! }))
    .filter((c) => c.st);
}

function logging(doc: Doc, base?: Doc): Violation[] {
  if (!base) return [];
  const scored = printCalls(base).filter((c) => SCORED_OUTPUT.test(stringContent(base.s, c.start, c.end)));
  const mine = printCalls(doc);
  const matched = new Set<PrintCall>();
  const missing: PrintCall[] = [];
  for (const b of scored) {
    const m = mine.find((c) => c.norm === b.norm && !matched.has(c));
    if (m) matched.add(m);
    else missing.push(b);
  }
  const out: Violation[] = [];
  for (const b of missing) {
    const baseText = base.text.slice(b.start, b.end);
    const candidates = mine.filter((c) => !matched.has(c) && !scored.some((s) => s.norm === c.norm));
    const best = candidates
      .map((c) => ({ c, score: similarity(c.norm, b.norm) }))
      .sort((x, y) => y.score - x.score)[0];
    if (best && best.score >= 0.5) {
      matched.add(best.c);
      const range = rangeOf(doc.s, best.c.start, best.c.end);
      out.push({
        rule: 'logging',
        severity: 'error',
        message: `This logging call was changed; the log could no longer be scored. The starting script has: ${oneLine(baseText)}`,
        range,
        fix: {
          title: 'Restore the logging call from the starting script',
          edits: [{ range, newText: reindent(baseText, b.st.indent, best.c.st.indent).slice(best.c.st.indent.length) }],
        },
      });
      continue;
    }
    out.push(
      ...requireStatement(doc, {
        rule: 'logging',
        base,
        baseSt: b.st,
        what: 'A logging call that prints steps or validation loss',
        present: () => false,
        changed: null,
      }),
    );
  }
  return out;
}

/** Dice coefficient over the word tokens of two normalised texts. */
function similarity(a: string, b: string): number {
  const ta = a.split(/\W+/).filter(Boolean);
  const tb = b.split(/\W+/).filter(Boolean);
  if (!ta.length || !tb.length) return 0;
  const counts = new Map<string, number>();
  for (const t of ta) counts.set(t, (counts.get(t) ?? 0) + 1);
  let common = 0;
  for (const t of tb) {
    const n = counts.get(t) ?? 0;
    if (n > 0) {
      common++;
      counts.set(t, n - 1);
    }
  }
  return (2 * common) / (ta.length + tb.length);
}

// ---- plain torchrun ----

function torchrun(doc: Doc, base?: Doc): Violation[] {
  const out: Violation[] = [];
  const v = (message: string, st: Statement, fix?: Fix): Violation => ({ rule: 'torchrun', severity: 'error', message, range: doc.range(st), fix });
  for (const st of doc.code) {
    const n = doc.norm(st);
    if (base?.norms.has(n)) continue;
    if (/add_argument\(/.test(n) && (/required=True/.test(n) || /add_argument\([rRuU]?"(?!-)/.test(n))) {
      out.push(v('This command-line argument is required, but the benchmark runs the script with no arguments.', st, removeStatementFix(doc, st)));
    } else if (/\bsys\.argv\[(?!0\])/.test(n)) {
      out.push(v('The script reads a command-line argument, but the benchmark runs it with no arguments.', st));
    }
  }
  // An entry point that runs: a top-level main() must be called.
  const mainDef = doc.code.find((st) => st.indent === '' && /^(async)?defmain\(/.test(doc.norm(st)));
  if (mainDef) {
    const called = findCalls(doc.s, 'main').some((c) => c.start < mainDef.start || c.start > mainDef.end);
    if (!called) {
      const end = rangeOf(doc.s, doc.text.length, doc.text.length);
      out.push(
        v('main() is defined but never called, so torchrun would run nothing.', mainDef, {
          title: 'Call main() under if __name__ == "__main__"',
          edits: [{ range: end, newText: `${doc.text.endsWith('\n') ? '' : '\n'}\nif __name__ == "__main__":\n    main()\n` }],
        }),
      );
    }
  }
  if (!base) return out;
  const initBase = base.code.find((st) => findCalls(base.s, 'init_process_group').some((c) => c.start >= st.start && c.start < st.end));
  if (initBase) {
    out.push(
      ...requireStatement(doc, {
        rule: 'torchrun',
        base,
        baseSt: initBase,
        what: 'The distributed setup (init_process_group)',
        present: (d) => findCalls(d.s, 'init_process_group').length > 0,
        changed: null,
      }),
    );
  }
  for (const name of DIST_ENV) {
    const st = base.statementsWithLiteral(name)[0];
    if (!st) continue;
    out.push(
      ...requireStatement(doc, {
        rule: 'torchrun',
        base,
        baseSt: st,
        what: `Reading ${name} from the environment (set by torchrun)`,
        present: (d) => d.hasStringLiteral(name),
      }),
    );
  }
  return out;
}

// ---- for the agent ----

/** Violations as text for a model: where, what, and what the starting script has. */
export function describeViolations(violations: Violation[], script: string): string {
  const lines = script.split('\n');
  return violations
    .map((v) => {
      const at = v.range.start.line;
      const src = lines[at]?.trim();
      return `- [${v.rule}] line ${at + 1}: ${v.message}${src ? `\n  your line: ${src}` : ''}`;
    })
    .join('\n');
}
