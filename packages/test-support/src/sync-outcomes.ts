import { expect } from 'vitest';

/** Anything with a policy's `execute`. */
export interface Executes {
  execute<T>(fn: () => T | PromiseLike<T>): Promise<T>;
}

/**
 * Asserts that `policy` treats a synchronous task like an async one: a value it returns resolves
 * the call, an error it throws rejects the call with that very error.
 */
export async function expectSyncOutcomes(policy: Executes): Promise<void> {
  await expect(policy.execute(() => 'sync')).resolves.toBe('sync');
  const error = new Error('sync throw');
  await expect(
    policy.execute(() => {
      throw error;
    }),
  ).rejects.toBe(error);
}
