// An agent session's budget, validated by one schema wherever it comes from (the editor's request, CLI flags).
import { z } from 'zod';
import type { Budget } from './types';

const count = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const BudgetSchema = z.object({ iterations: count, runs: count, tokens: count }) satisfies z.ZodType<Budget>;

export class BudgetError extends Error {}

/** The budget in `x`, or a BudgetError naming the first bad field in one sentence. */
export function parseBudget(x: unknown): Budget {
  const r = BudgetSchema.safeParse(x);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue.path.length ? `budget.${issue.path.join('.')}` : 'the budget';
  throw new BudgetError(`${field} must be a positive integer${issue.path.length ? '' : ' object'} (${issue.message.toLowerCase()}).`);
}
