// Rule torchrun: the script runs as plain `torchrun --nproc_per_node=8 train_gpt2.py`.
import { type Doc, removeStatementFix, requireStatement } from './doc';
import { type Statement, findCalls, rangeOf } from './scanner';
import type { Fix, Violation } from './types';

export const id = 'torchrun' as const;
export const text =
  'Keep the script runnable as plain `torchrun --nproc_per_node=8 train_gpt2.py`: no required command-line arguments, an entry point that runs, and the distributed setup (init_process_group, RANK/LOCAL_RANK/WORLD_SIZE from the environment).';

const DIST_ENV = ['RANK', 'LOCAL_RANK', 'WORLD_SIZE'];

export function check(doc: Doc, base?: Doc): Violation[] {
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
