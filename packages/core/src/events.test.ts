import { afterEach, describe, expect, it, vi } from 'vitest';
import { bulkhead } from './bulkhead.js';
import { EventChannel } from './events.js';
import { fallback } from './fallback.js';

afterEach(() => {
  vi.unstubAllGlobals();
});

describe('EventChannel', () => {
  it('calls listeners in subscription order and stops after unsubscribe', () => {
    const channel = new EventChannel<number>();
    const seen: string[] = [];
    expect(channel.hasListeners).toBe(false);
    const offA = channel.subscribe((n) => seen.push(`a${n}`));
    channel.subscribe((n) => seen.push(`b${n}`));
    expect(channel.hasListeners).toBe(true);
    channel.emit(1);
    offA();
    offA(); // idempotent
    channel.emit(2);
    expect(seen).toEqual(['a1', 'b1', 'b2']);
  });

  it('a listener subscribed twice is called twice; each unsubscribe removes one', () => {
    const channel = new EventChannel<void>();
    const listener = vi.fn();
    const off1 = channel.subscribe(listener);
    channel.subscribe(listener);
    channel.emit();
    expect(listener).toHaveBeenCalledTimes(2);
    off1();
    channel.emit();
    expect(listener).toHaveBeenCalledTimes(3);
  });

  it('unsubscribing during an emit works like EventTarget', () => {
    const channel = new EventChannel<number>();
    const seen: string[] = [];
    let offB: () => void = () => {};
    const offA = channel.subscribe((n) => {
      seen.push(`a${n}`);
      offA(); // removes itself
      offB(); // removes a later listener: not called by this emit
    });
    offB = channel.subscribe((n) => seen.push(`b${n}`));
    channel.subscribe((n) => seen.push(`c${n}`));
    channel.emit(1);
    channel.emit(2);
    expect(seen).toEqual(['a1', 'c1', 'c2']);
    expect(channel.hasListeners).toBe(true);
  });

  it('a listener added during an emit is first called by the next emit', () => {
    const channel = new EventChannel<number>();
    const seen: string[] = [];
    let added = false;
    channel.subscribe((n) => {
      seen.push(`a${n}`);
      if (!added) {
        added = true;
        channel.subscribe((m) => seen.push(`late${m}`));
      }
    });
    channel.emit(1);
    channel.emit(2);
    expect(seen).toEqual(['a1', 'a2', 'late2']);
  });

  it('rejects a listener that is not a function', () => {
    const channel = new EventChannel<number>();
    expect(() => channel.subscribe(42 as never)).toThrow(TypeError);
  });

  it('a throwing listener is reported through reportError and later listeners still run', () => {
    const reportError = vi.fn();
    vi.stubGlobal('reportError', reportError);
    const channel = new EventChannel<number>();
    const error = new Error('listener bug');
    const after = vi.fn();
    channel.subscribe(() => {
      throw error;
    });
    channel.subscribe(after);
    channel.emit(7);
    expect(reportError).toHaveBeenCalledWith(error);
    expect(after).toHaveBeenCalledWith(7);
  });

  it('without reportError (Node), a throwing listener surfaces as an uncaught exception', async () => {
    expect((globalThis as { reportError?: unknown }).reportError).toBeUndefined();
    const error = new Error('listener bug');
    const caught: unknown[] = [];
    // Take over uncaughtException for one turn (the test runner's own handler would fail the run).
    const previous = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    const capture = (e: unknown): void => {
      caught.push(e);
    };
    process.on('uncaughtException', capture);
    try {
      const channel = new EventChannel<number>();
      channel.subscribe(() => {
        throw error;
      });
      expect(() => channel.emit(1)).not.toThrow();
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off('uncaughtException', capture);
      for (const listener of previous) process.on('uncaughtException', listener);
    }
    expect(caught).toEqual([error]);
  });
});

describe('policy events', () => {
  it("a throwing onFallback listener does not change the call's outcome", async () => {
    const reportError = vi.fn();
    vi.stubGlobal('reportError', reportError);
    const policy = fallback({ fallback: () => 'substitute' });
    const bug = new Error('listener bug');
    policy.onFallback(() => {
      throw bug;
    });
    await expect(policy.execute(() => Promise.reject(new Error('down')))).resolves.toBe(
      'substitute',
    );
    expect(reportError).toHaveBeenCalledWith(bug);
  });

  it("a throwing onReject listener does not change the call's outcome", async () => {
    const reportError = vi.fn();
    vi.stubGlobal('reportError', reportError);
    const policy = bulkhead({ limit: 1 });
    const bug = new Error('listener bug');
    policy.onReject(() => {
      throw bug;
    });
    let release: () => void = () => {};
    const running = policy.execute(() => new Promise<void>((resolve) => (release = resolve)));
    await expect(policy.execute(() => 'x')).rejects.toMatchObject({ code: 'BULKHEAD_FULL' });
    expect(reportError).toHaveBeenCalledWith(bug);
    release();
    await running;
  });
});
