import { describe, expect, it } from 'vitest';
import { timeout } from './timeout.js';

describe('timeout and a caller abort', () => {
  it('aborts a signal the function reads only after an await (a fetch started late)', async () => {
    const policy = timeout(10_000);
    const caller = new AbortController();
    let inner: AbortSignal | undefined;
    let entered!: () => void;
    const reading = new Promise<void>((resolve) => {
      entered = resolve;
    });
    const call = policy.execute(async (ctx) => {
      await Promise.resolve();
      inner = ctx.signal;
      entered();
      await new Promise<void>(() => {});
    }, caller.signal);
    await reading;
    caller.abort(new Error('caller gone'));
    await expect(call).rejects.toThrow('caller gone');
    expect(inner!.aborted).toBe(true);
    expect(inner!.reason).toEqual(new Error('caller gone'));
  });
});
