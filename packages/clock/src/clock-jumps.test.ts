import { describe, expect, it } from 'vitest';
import type { Clock } from './clock.js';
import { type ClockJumpEvent, watchClockJumps } from './clock-jumps.js';
import { VirtualClock } from './virtual-clock.js';

describe('watchClockJumps', () => {
  function setup(options: { tolerance?: number; interval?: number } = {}) {
    const clock = new VirtualClock();
    let skew = 1_700_000_000_000;
    const jumps: ClockJumpEvent[] = [];
    const stop = watchClockJumps({
      clock,
      wallClock: () => clock.now() + skew,
      onJump: (event) => jumps.push(event),
      ...options,
    });
    return {
      clock,
      jumps,
      stop,
      shift(ms: number) {
        skew += ms;
      },
    };
  }

  it('reports a forward wall-clock jump with a positive offset', async () => {
    const { clock, jumps, stop, shift } = setup();
    await clock.advance(3_000);
    expect(jumps).toEqual([]);
    shift(5_000);
    await clock.advance(1_000);
    expect(jumps).toEqual([
      { offset: 5_000, at: 4_000, wallTime: 1_700_000_000_000 + 4_000 + 5_000 },
    ]);
    await clock.advance(5_000);
    expect(jumps).toHaveLength(1);
    stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('reports a backward jump with a negative offset', async () => {
    const { clock, jumps, stop, shift } = setup();
    await clock.advance(500);
    shift(-3_600_000);
    await clock.advance(500);
    expect(jumps.map((jump) => jump.offset)).toEqual([-3_600_000]);
    stop();
  });

  it('ignores differences up to the tolerance (a slewing clock), reports beyond it', async () => {
    const { clock, jumps, stop, shift } = setup({ tolerance: 100, interval: 500 });
    shift(100);
    await clock.advance(500);
    expect(jumps).toEqual([]);
    shift(-101);
    await clock.advance(500);
    expect(jumps.map((jump) => jump.offset)).toEqual([-101]);
    stop();
  });

  it('a process pause (both clocks move) is not a jump', async () => {
    const { clock, jumps, stop } = setup();
    await clock.jump(60_000);
    await clock.advance(2_000);
    expect(jumps).toEqual([]);
    stop();
  });

  it('validates every option: wrong type and out of range', () => {
    const onJump = (): void => {};
    const clock = new VirtualClock();
    expect(() => watchClockJumps(null as unknown as { onJump: () => void })).toThrow(
      /watchClockJumps: options must be an object/,
    );
    expect(() => watchClockJumps({ clock, onJump: 1 as unknown as () => void })).toThrow(
      /watchClockJumps: option "onJump" must be a function/,
    );
    expect(() => watchClockJumps({ clock: 'x' as unknown as Clock, onJump })).toThrow(
      /watchClockJumps: option "clock" must be a Clock/,
    );
    expect(() =>
      watchClockJumps({ clock, onJump, wallClock: 5 as unknown as () => number }),
    ).toThrow(/watchClockJumps: option "wallClock" must be a function/);
    expect(() => watchClockJumps({ clock, onJump, interval: '1' as unknown as number })).toThrow(
      TypeError,
    );
    expect(() => watchClockJumps({ clock, onJump, interval: 0 })).toThrow(RangeError);
    expect(() => watchClockJumps({ clock, onJump, interval: 0 })).toThrow(
      /option "interval".*received 0/,
    );
    expect(() => watchClockJumps({ clock, onJump, tolerance: '1' as unknown as number })).toThrow(
      TypeError,
    );
    expect(() => watchClockJumps({ clock, onJump, tolerance: -1 })).toThrow(RangeError);
    expect(() => watchClockJumps({ clock, onJump, tolerance: -1 })).toThrow(
      /option "tolerance" must be a number in \[0, Infinity\), received -1/,
    );
    expect(clock.pendingTimers).toBe(0);
  });
});
