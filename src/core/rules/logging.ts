// Rule logging: every print0 call that prints the step, losses or training time stays as it was, so the log can be scored.
import { type Doc, oneLine, requireStatement } from './doc';
import { type Statement, findCalls, normalize, rangeOf, reindent, statementAt, stringContent } from './scanner';
import type { Violation } from './types';

export const id = 'logging' as const;
export const text =
  'Keep every print0 call that prints the step, validation loss or training time, with the same arguments, so the log can be scored.';

const SCORED_OUTPUT = /\bstep\b|val_loss|val loss|train_time|train_loss|train loss/;

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

export function check(doc: Doc, base?: Doc): Violation[] {
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
