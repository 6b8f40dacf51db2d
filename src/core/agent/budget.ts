// An agent session's budget, validated by one schema wherever it comes from (the editor's request, CLI flags).
import { z } from 'zod';

const count = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

export const BudgetSchema = z.object({
  /** Turns: one proposal, its review and at most one run each. */
  iterations: count,
  runs: count,
  /** Prompt + completion tokens over the whole session. */
  tokens: count,
});

export type Budget = z.infer<typeof BudgetSchema>;

export class BudgetError extends Error {}

/** The budget in `x`, or a BudgetError naming the first bad field in one sentence. */
export function parseBudget(x: unknown): Budget {
  const r = BudgetSchema.safeParse(x);
  if (r.success) return r.data;
  const issue = r.error.issues[0];
  const field = issue.path.length ? `budget.${issue.path.join('.')}` : 'the budget';
  throw new BudgetError(`${field} must be a positive integer${issue.path.length ? '' : ' object'} (${issue.message.toLowerCase()}).`);
}
