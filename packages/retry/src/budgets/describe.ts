import type { RetryBudget } from './budget.js';
import { ConcurrencyBudget } from './concurrency.js';
import { QuotaBudget } from './quota.js';
import { RatioBudget } from './ratio.js';
import { TokenBucketBudget } from './token-bucket.js';

/**
 * A budget as a policy's `describe()` shows it: the class name of one faultline ships, from a
 * constant (never `constructor.name`, which minifiers rename), otherwise `'custom'`.
 */
export function describeBudget(budget: RetryBudget): string {
  if (budget instanceof TokenBucketBudget) return 'TokenBucketBudget';
  if (budget instanceof RatioBudget) return 'RatioBudget';
  if (budget instanceof QuotaBudget) return 'QuotaBudget';
  if (budget instanceof ConcurrencyBudget) return 'ConcurrencyBudget';
  return 'custom';
}
