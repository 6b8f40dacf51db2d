// The rules a benchmark run must keep, checked on a script against the task's starting script (record i).
// Used by the language server (diagnostics + quick fixes), the run commands (preRun.ts) and the agent (a
// violation goes back to the model before any run). One module per rule; a new rule is a new module listed in
// RULES. No vscode imports.
import * as dataFiles from './dataFiles';
import { Doc } from './doc';
import * as logging from './logging';
import * as saveCheckpoint from './saveCheckpoint';
import { checkSyntax, type SyntaxResult } from './syntax';
import * as torchrun from './torchrun';
import type { RuleId, RuleReport, Violation } from './types';

export type { Fix, Range, RuleId, RuleReport, TextEditLike, Violation } from './types';

interface Rule {
  id: RuleId;
  text: string;
  check(doc: Doc, base?: Doc): Violation[];
}

const RULES: Rule[] = [dataFiles, saveCheckpoint, logging, torchrun];

/** One line per rule, in our own words; shown to users and models alike. */
export const RULE_TEXT: Record<RuleId, string> = {
  ...(Object.fromEntries(RULES.map((r) => [r.id, r.text])) as Record<Exclude<RuleId, 'syntax'>, string>),
  syntax: 'The script must be valid Python.',
};

/**
 * Checks the rules that need no python3. `baseline` is the task's starting script; without it the checks that
 * compare against it fall back to presence checks.
 */
export function checkRules(script: string, baseline?: string): Violation[] {
  const doc = new Doc(script);
  const base = baseline === undefined ? undefined : new Doc(baseline);
  return RULES.flatMap((r) => r.check(doc, base));
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
