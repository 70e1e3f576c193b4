import { describe, expect, it } from 'vitest';
import { deferred } from './browser.js';

describe('deferred', () => {
  it('settles its promise when the test says: resolve', async () => {
    const gate = deferred<string>();
    gate.resolve('open');
    await expect(gate.promise).resolves.toBe('open');
  });

  it('settles its promise when the test says: reject', async () => {
    const gate = deferred();
    const error = new Error('closed');
    gate.reject(error);
    await expect(gate.promise).rejects.toBe(error);
  });
});
