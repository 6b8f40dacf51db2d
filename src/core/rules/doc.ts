// A script scanned once for every rule: statements, normalised statement texts, and the shared helper that
// demands a statement of the starting script (a diagnostic plus a fix that puts it back).
import {
  type Scan, type Statement, Kind, hasCode, normalize, rangeOf, reindent, scan, statementAt, statements,
} from './scanner';
import type { Fix, RuleId, Violation } from './types';

/** A scanned script with its statements and normalised statement texts. */
export class Doc {
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
export function assignedName(norm: string): string | undefined {
  const m = /^(?:[\w.]*\.)?(\w+)(?::[^=]*)?(?:\/\/|\*\*|>>|<<|[-+*/%@&|^])?=(?!=)/.exec(norm);
  return m?.[1];
}

export function assigns(norm: string, name: string): boolean {
  return assignedName(norm) === name;
}

export interface Required {
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
export function requireStatement(doc: Doc, r: Required): Violation[] {
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

export function oneLine(text: string): string {
  const t = text.replace(/\s*\n\s*/g, ' ').trim();
  return t.length > 160 ? `${t.slice(0, 157)}...` : t;
}

export function removeStatementFix(doc: Doc, st: Statement): Fix {
  const next = doc.s.lineStarts[st.lastLine + 1] ?? doc.text.length;
  return { title: 'Remove this line', edits: [{ range: rangeOf(doc.s, st.start, next), newText: '' }] };
}
