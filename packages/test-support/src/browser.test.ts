import { describe, expect, it } from 'vitest';
import { deferred, telemetryRecorder } from './browser.js';

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

describe('telemetryRecorder', () => {
  // A stream that counts its listeners, to see the recorder end its subscriptions.
  const listeners = new Set<(record: string) => void>();
  const stream = {
    subscribe(listener: (record: string) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
  const publish = (record: string) => {
    for (const listener of listeners) listener(record);
  };
  const record = telemetryRecorder(stream);

  it('records what is published after record(), each array on its own', () => {
    publish('before');
    const first = record();
    publish('a');
    const second = record();
    publish('b');
    expect(first).toEqual(['a', 'b']);
    expect(second).toEqual(['b']);
    expect(listeners.size).toBe(2);
  });

  it("ends every subscription after the test that took it (the previous test's two)", () => {
    expect(listeners.size).toBe(0);
  });
});
