import { systemClock, VirtualClock } from '@faultline/clock';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { hedge } from './hedge.js';
import { HedgeTimers, type TimerEntry } from './hedge-timers.js';

function entry(log: Array<[string, number]>, name: string): TimerEntry {
  return {
    due: 0,
    seq: 0,
    index: -1,
    onDue(now) {
      log.push([name, now]);
    },
  };
}

describe('HedgeTimers', () => {
  it('fires entries at their due time in (due, insertion) order on one clock timer', async () => {
    const clock = new VirtualClock();
    const timers = new HedgeTimers(clock);
    const log: Array<[string, number]> = [];
    timers.add(entry(log, 'b'), 20);
    timers.add(entry(log, 'a'), 10);
    timers.add(entry(log, 'c'), 20);
    expect(clock.pendingTimers).toBe(1);
    await clock.runAll();
    expect(log).toEqual([
      ['a', 10],
      ['b', 20],
      ['c', 20],
    ]);
    expect(timers.size).toBe(0);
  });

  it('a removed entry never fires; the timer re-arms for what is left', async () => {
    const clock = new VirtualClock();
    const timers = new HedgeTimers(clock);
    const log: Array<[string, number]> = [];
    const a = entry(log, 'a');
    timers.add(a, 10);
    timers.add(entry(log, 'b'), 30);
    timers.remove(a);
    timers.remove(a);
    await clock.runAll();
    expect(log).toEqual([['b', 30]]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('matches a sorted list under random adds and removes (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ due: fc.integer({ min: 0, max: 100 }), keep: fc.boolean() }), {
          maxLength: 60,
        }),
        async (plan) => {
          const clock = new VirtualClock();
          const timers = new HedgeTimers(clock);
          const log: Array<[string, number]> = [];
          const entries = plan.map((_, i) => entry(log, String(i)));
          for (const [i, { due }] of plan.entries()) timers.add(entries[i]!, due);
          for (const [i, { keep }] of plan.entries()) if (!keep) timers.remove(entries[i]!);
          await clock.runAll();
          const expected = plan
            .map(({ due, keep }, i) => ({ due, keep, i }))
            .filter((item) => item.keep)
            .sort((x, y) => x.due - y.due || x.i - y.i)
            .map(({ due, i }): [string, number] => [String(i), due]);
          expect(log).toEqual(expected);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe('HedgeTimers on the system clock', () => {
  const turnEnd = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  // Polls rather than sleeping a fixed time: a loaded machine may fire timers late.
  const until = async (done: () => boolean): Promise<void> => {
    for (let i = 0; i < 500 && !done(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
  };

  it('an entry that leaves in the turn it came never arms a platform timer', async () => {
    const timers = new HedgeTimers(systemClock);
    const log: Array<[string, number]> = [];
    const setTimeoutSpy = vi.spyOn(globalThis, 'setTimeout');
    for (let i = 0; i < 1000; i++) {
      const e = entry(log, String(i));
      timers.add(e, systemClock.now() + 10);
      expect(timers.size).toBe(1);
      timers.remove(e);
      expect(timers.size).toBe(0);
    }
    await turnEnd();
    const armed = setTimeoutSpy.mock.calls.length;
    setTimeoutSpy.mockRestore();
    expect(armed).toBe(0);
    expect(log).toEqual([]);
  });

  it('an entry still queued at the end of its turn fires at its due time, in order', async () => {
    const timers = new HedgeTimers(systemClock);
    const log: Array<[string, number]> = [];
    const start = systemClock.now();
    const a = entry(log, 'a');
    const b = entry(log, 'b');
    const c = entry(log, 'c');
    timers.add(c, start + 30);
    timers.add(a, start + 10);
    timers.add(b, start + 10);
    // Left and came back in the same turn: queued once.
    timers.remove(a);
    timers.add(a, start + 10);
    expect(timers.size).toBe(3);
    await until(() => log.length === 3);
    expect(log.map(([name]) => name)).toEqual(['b', 'a', 'c']);
    for (const [name, now] of log)
      expect(now).toBeGreaterThanOrEqual(start + (name === 'c' ? 30 : 10));
    expect(timers.size).toBe(0);
  });

  it('entries leaving out of order within a long turn do not pile up', async () => {
    const timers = new HedgeTimers(systemClock);
    const log: Array<[string, number]> = [];
    const due = systemClock.now() + 20;
    const kept = entry(log, 'kept');
    timers.add(kept, due);
    // Each entry leaves after the next one came: never from the end of the deferred array.
    let previous: TimerEntry | undefined;
    for (let i = 0; i < 10_000; i++) {
      const next = entry(log, String(i));
      timers.add(next, due);
      if (previous !== undefined) timers.remove(previous);
      previous = next;
      expect(timers.size).toBe(2);
    }
    timers.add(entry(log, 'last'), due + 1);
    timers.remove(previous!);
    expect(timers.size).toBe(2);
    await until(() => log.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(log.map(([name]) => name)).toEqual(['kept', 'last']);
  });

  it('a call started late in a busy turn is hedged its delay after it started, never earlier', async () => {
    // The turn's time is read once per turn; a call that starts 60 ms into the turn must still
    // wait its whole 40 ms delay (Node's setTimeout counts from the call too).
    const policy = hedge({ delay: 40 });
    const starts: number[] = [];
    let issued = 0;
    await new Promise<void>((done) => {
      setTimeout(() => {
        void policy.execute(async () => {}); // the turn's first call reads the turn's time
        const busyUntil = performance.now() + 60;
        while (performance.now() < busyUntil) {
          // a turn busy with synchronous work
        }
        issued = performance.now();
        void policy
          .execute(() => {
            starts.push(performance.now());
            return new Promise<void>((resolve) => setTimeout(resolve, 150));
          })
          .then(() => done());
      }, 0);
    });
    expect(starts).toHaveLength(2);
    // 1 ms of slack for the clock's resolution.
    expect(starts[1]! - issued).toBeGreaterThanOrEqual(39);
  });
});
