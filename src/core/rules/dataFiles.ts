// Rule data-files: the data settings and val_tokens stay as the starting script reads them from the environment.
import { type Doc, assignedName, requireStatement, removeStatementFix } from './doc';
import type { Violation } from './types';

export const id = 'data-files' as const;
export const text =
  'Keep the training/validation data settings and val_tokens exactly as in the starting script, read from the environment (NANOGPT_TRAIN_FILES, NANOGPT_VAL_FILES, NANOGPT_VAL_TOKENS).';

const DATA_ENV = ['NANOGPT_TRAIN_FILES', 'NANOGPT_VAL_FILES', 'NANOGPT_VAL_TOKENS'];

export function check(doc: Doc, base?: Doc): Violation[] {
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
