import { VirtualClock } from '@faultline/clock';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
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
