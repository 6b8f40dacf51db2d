// Rule save-checkpoint: save_checkpoint stays False.
import { type Doc, assigns, oneLine, requireStatement } from './doc';
import { type Statement, Kind } from './scanner';
import type { Violation } from './types';

export const id = 'save-checkpoint' as const;
export const text =
  'Keep save_checkpoint set to False.';

export function check(doc: Doc, base?: Doc): Violation[] {
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
