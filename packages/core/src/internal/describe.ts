import { handleHttpFailures } from '../http-status.js';
import { handleAll, handleNone } from '../outcome.js';

const CORE_RULES: Readonly<Record<string, unknown>> = { handleAll, handleNone, handleHttpFailures };

/**
 * A function option as `describe()` shows it: the name of a rule faultline ships (core's
 * `handleAll`, `handleNone`, `handleHttpFailures`, or one of `known`, say retry's
 * `handleTransient`), otherwise `'custom'`. Never the function itself (a description is plain
 * data) and never `fn.name` (minifiers rename functions, as they rename classes).
 */
export function describeFunction(
  value: unknown,
  known: Readonly<Record<string, unknown>> = CORE_RULES,
): string {
  for (const name in known) if (known[name] === value) return name;
  if (known !== CORE_RULES) {
    for (const name in CORE_RULES) if (CORE_RULES[name] === value) return name;
  }
  return 'custom';
}
