// The vocabulary of the benchmark rules: what a finding looks like and how it can be fixed.
import type { Range } from './scanner';

export type { Range } from './scanner';

export type RuleId = 'data-files' | 'save-checkpoint' | 'logging' | 'torchrun' | 'syntax';

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
