import { systemClock, VirtualClock } from '@faultline/clock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type TimerEntry, TimerQueue } from './timer-queue.js';

class Entry implements TimerEntry {
  prev: this | undefined = undefined;
  next: this | undefined = undefined;
  due = 0;
  expiredAt: number | undefined;
  constructor(readonly onExpire?: (now: number) => void) {}
  expire(now: number): void {
    this.expiredAt = now;
    this.onExpire?.(now);
  }
}

describe('TimerQueue (VirtualClock)', () => {
  it('expires each entry at its due time, behind one timer', async () => {
    const clock = new VirtualClock();
    const queue = new TimerQueue<Entry>(clock);
    const a = new Entry();
    const b = new Entry();
    const c = new Entry();
    expect(queue.tryAdd(a, 100, 0)).toBe(true);
    await clock.advance(30);
    expect(queue.tryAdd(b, 130, 30)).toBe(true);
    expect(queue.tryAdd(c, 130, 30)).toBe(true);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(70);
    expect(a.expiredAt).toBe(100);
    expect(b.expiredAt).toBeUndefined();
    await clock.advance(30);
    expect([b.expiredAt, c.expiredAt]).toEqual([130, 130]);
    expect(queue.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('refuses an entry due before the last one (the caller times it on its own)', () => {
    const clock = new VirtualClock();
    const queue = new TimerQueue<Entry>(clock);
    expect(queue.tryAdd(new Entry(), 100, 0)).toBe(true);
    const early = new Entry();
    expect(queue.tryAdd(early, 99, 0)).toBe(false);
    expect(queue.size).toBe(1);
  });

  it('a removed entry never expires; the last one out cancels the timer of a VirtualClock', async () => {
    const clock = new VirtualClock();
    const queue = new TimerQueue<Entry>(clock);
    const a = new Entry();
    const b = new Entry();
    queue.tryAdd(a, 100, 0);
    queue.tryAdd(b, 200, 0);
    queue.remove(a);
    queue.remove(a); // idempotent
    await clock.advance(150);
    expect(a.expiredAt).toBeUndefined();
    expect(clock.pendingTimers).toBe(1); // re-armed for b
    queue.remove(b);
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(100);
    expect(b.expiredAt).toBeUndefined();
  });

  it('an entry added by an expiry (user code in an abort listener) is timed too', async () => {
    const clock = new VirtualClock();
    const queue = new TimerQueue<Entry>(clock);
    const later = new Entry();
    queue.tryAdd(new Entry((now) => queue.tryAdd(later, now + 50, now)), 10, 0);
    await clock.advance(10);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(50);
    expect(later.expiredAt).toBe(60);
    expect(clock.pendingTimers).toBe(0);
  });

  it('an expiry that throws does not stop the timer for the rest', async () => {
    const clock = new VirtualClock();
    const queue = new TimerQueue<Entry>(clock);
    const next = new Entry();
    queue.tryAdd(
      new Entry(() => {
        throw new Error('listener');
      }),
      10,
      0,
    );
    queue.tryAdd(next, 20, 0);
    await expect(clock.advance(10)).rejects.toThrow('listener');
    await clock.advance(10);
    expect(next.expiredAt).toBe(20);
  });

  it('property: every entry not removed expires exactly at its due time, in order', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            gap: fc.integer({ min: 0, max: 50 }),
            life: fc.integer({ min: 1, max: 200 }),
          }),
          { minLength: 1, maxLength: 30 },
        ),
        fc.array(fc.boolean(), { minLength: 30, maxLength: 30 }),
        async (steps, removed) => {
          const clock = new VirtualClock();
          const queue = new TimerQueue<Entry>(clock);
          const order: Entry[] = [];
          const entries: Array<{ entry: Entry; due: number; queued: boolean }> = [];
          for (const [i, step] of steps.entries()) {
            await clock.advance(step.gap);
            const now = clock.now();
            const due = now + step.life;
            const entry = new Entry(() => order.push(entry));
            const queued = queue.tryAdd(entry, due, now);
            entries.push({ entry, due, queued });
            if (removed[i] === true && queued) queue.remove(entry);
          }
          await clock.advance(1000);
          for (const [i, { entry, due, queued }] of entries.entries()) {
            const expected = queued && removed[i] !== true ? due : undefined;
            expect(entry.expiredAt).toBe(expected);
          }
          expect(order.map((e) => e.due)).toEqual(
            [...order.map((e) => e.due)].sort((x, y) => x - y),
          );
          expect(clock.pendingTimers).toBe(0);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('TimerQueue (systemClock)', () => {
  it('expires on a real timer, never before the due time', async () => {
    const queue = new TimerQueue<Entry>(systemClock);
    const now = systemClock.now();
    const done = new Promise<number>((resolve) => {
      queue.tryAdd(new Entry(resolve), now + 5, now);
    });
    expect(await done).toBeGreaterThanOrEqual(now + 5);
  });

  it('a background queue (unref) re-arms and expires like any other', async () => {
    const queue = new TimerQueue<Entry>(systemClock, { unref: true });
    const now = systemClock.now();
    const done = new Promise<number>((resolve) => {
      queue.tryAdd(new Entry(resolve), now + 2, now);
    });
    expect(await done).toBeGreaterThanOrEqual(now + 2);
  });
});
