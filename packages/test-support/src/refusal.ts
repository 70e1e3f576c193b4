import { expect } from 'vitest';

/**
 * Hands `call` (a policy's `execute`, a fence's `write`, …) a task it must refuse before running:
 * asserts that the task never ran and that the call rejected, and returns the rejection for the
 * test to check.
 */
export async function refusal(call: (task: () => void) => PromiseLike<unknown>): Promise<unknown> {
  let ran = false;
  const outcome = await Promise.resolve(
    call(() => {
      ran = true;
    }),
  ).then(
    () => ({ rejected: false, error: undefined as unknown }),
    (error: unknown) => ({ rejected: true, error }),
  );
  expect(ran).toBe(false);
  expect(outcome.rejected).toBe(true);
  return outcome.error;
}
