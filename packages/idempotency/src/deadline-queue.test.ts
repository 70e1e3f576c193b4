import { systemClock, VirtualClock } from '@faultline/clock';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { Deadline, DeadlineQueue } from './deadline-queue.js';

class Entry extends Deadline {
  expiredAt: number | undefined;
  constructor(readonly clock: VirtualClock) {
    super();
  }
  expire(): void {
    this.expiredAt = this.clock.now();
  }
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('DeadlineQueue', () => {
  it('expires each entry exactly delay after it was added, with one timer', async () => {
    const clock = new VirtualClock();
    const queue = new DeadlineQueue<Entry>(clock, 100, false);
    const a = new Entry(clock);
    queue.add(a);
    await clock.advance(30);
    const b = new Entry(clock);
    queue.add(b);
    await tick();
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(70);
    expect(a.expiredAt).toBe(100);
    expect(b.expiredAt).toBeUndefined();
    await clock.advance(30);
    expect(b.expiredAt).toBe(130);
    expect(queue.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('arms no timer for an entry removed within the same task, and cancels it when empty', async () => {
    const clock = new VirtualClock();
    const queue = new DeadlineQueue<Entry>(clock, 100, false);
    const a = new Entry(clock);
    queue.add(a);
    await Promise.resolve();
    expect(queue.remove(a)).toBe(true);
    await tick();
    expect(clock.pendingTimers).toBe(0);
    queue.add(a);
    await tick();
    expect(clock.pendingTimers).toBe(1);
    queue.remove(a);
    expect(clock.pendingTimers).toBe(0);
    expect(queue.remove(a)).toBe(false);
    await clock.advance(1_000);
    expect(a.expiredAt).toBeUndefined();
  });

  it('on the platform clock, arms no timer for an entry removed before the task ends', async () => {
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    try {
      const queue = new DeadlineQueue<Entry>(systemClock, 60_000, false);
      const a = new Entry(new VirtualClock());
      queue.add(a);
      // More microtask hops than a framework takes from a claim to the end of its response.
      for (let i = 0; i < 20; i++) await Promise.resolve();
      expect(queue.remove(a)).toBe(true);
      await tick();
      expect(setTimeoutSpy).not.toHaveBeenCalled();
      queue.add(a);
      await tick();
      expect(setTimeoutSpy).toHaveBeenCalledTimes(1);
      queue.remove(a);
    } finally {
      setTimeoutSpy.mockRestore();
    }
  });

  it('property: every entry not removed expires at its due time, never one removed', async () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('add' as const) }),
      fc.record({ kind: fc.constant('remove' as const), index: fc.nat(20) }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 60 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        const clock = new VirtualClock();
        const queue = new DeadlineQueue<Entry>(clock, 50, false);
        const entries: { entry: Entry; addedAt: number; removed: boolean }[] = [];
        for (const s of steps) {
          if (s.kind === 'add') {
            const entry = new Entry(clock);
            entries.push({ entry, addedAt: clock.now(), removed: false });
            queue.add(entry);
          } else if (s.kind === 'remove') {
            const item = entries[s.index];
            if (item !== undefined && item.entry.expiredAt === undefined && !item.removed) {
              expect(queue.remove(item.entry)).toBe(true);
              item.removed = true;
            }
          } else {
            await tick();
            await clock.advance(s.ms);
          }
        }
        await tick();
        await clock.advance(100);
        for (const { entry, addedAt, removed } of entries) {
          expect(entry.expiredAt).toBe(removed ? undefined : addedAt + 50);
        }
        expect(clock.pendingTimers).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
