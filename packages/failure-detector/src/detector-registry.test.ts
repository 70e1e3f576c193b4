import { type Clock, VirtualClock } from '@faultline/clock';
import { manualClock } from '@faultline/test-support/browser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DetectorRegistry } from './detector-registry.js';
import type { WatchOptions } from './detector-registry-options.js';
import type { FailureDetector } from './failure-detector.js';
import { PhiAccrualDetector } from './phi-accrual-detector.js';
import { StubDetector } from './stub-detector.cases.js';

function recorder<K>(registry: DetectorRegistry<K>): Array<[string, K, number?]> {
  const events: Array<[string, K, number?]> = [];
  registry.onSuspect((key, phi) => events.push(['suspect', key, phi]));
  registry.onRecover((key) => events.push(['recover', key]));
  return events;
}

describe('DetectorRegistry', () => {
  it('creates one detector per key on its first heartbeat; unknown keys are available', () => {
    const created: string[] = [];
    const registry = new DetectorRegistry((key: string) => {
      created.push(key);
      return new StubDetector();
    });
    expect(registry.phi('a')).toBe(0);
    expect(registry.isAvailable('a')).toBe(true);
    expect(registry.isMonitoring('a')).toBe(false);
    registry.heartbeat('a');
    registry.heartbeat('a');
    registry.heartbeat('b');
    expect(created).toEqual(['a', 'b']);
    expect((registry.get('a') as StubDetector).heartbeats).toBe(2);
    expect(registry.isMonitoring('a')).toBe(true);
    expect(registry.keys()).toEqual(['a', 'b']);
    expect(registry.size).toBe(2);
  });

  it('reports phi, availability and suspects from the detectors', () => {
    const registry = new DetectorRegistry(() => new StubDetector());
    registry.heartbeat('a');
    registry.heartbeat('b');
    (registry.get('b') as StubDetector).level = 9;
    expect(registry.phi('b')).toBe(9);
    expect(registry.isAvailable('a')).toBe(true);
    expect(registry.isAvailable('b')).toBe(false);
    expect(registry.suspects()).toEqual(['b']);
  });

  it('remove() forgets a key, and its next heartbeat starts a fresh detector', async () => {
    const clock = new VirtualClock();
    const registry = new DetectorRegistry(() => new PhiAccrualDetector({ clock }));
    registry.heartbeat('a');
    await clock.advance(60_000);
    expect(registry.isAvailable('a')).toBe(false);
    expect(registry.remove('a')).toBe(true);
    expect(registry.remove('a')).toBe(false);
    expect(registry.isAvailable('a')).toBe(true);
    registry.heartbeat('a');
    expect(registry.phi('a')).toBeLessThan(1);
    registry.clear();
    expect(registry.size).toBe(0);
  });

  it('evaluate() emits suspect at phi >= threshold and recover below recoverRatio · threshold', () => {
    const clock = new VirtualClock();
    const registry = new DetectorRegistry(() => new StubDetector(), { clock });
    const events = recorder(registry);
    registry.heartbeat('a');
    const a = registry.get('a') as StubDetector;
    const sequence: Array<[number, Array<[string, string, number?]>]> = [
      [7.9, []],
      [8, [['suspect', 'a', 8]]],
      [12, []], // already a suspect
      [7, []], // below the threshold, but inside the hysteresis band [4, 8)
      [4, []],
      [3.99, [['recover', 'a']]],
      [7.99, []],
      [9, [['suspect', 'a', 9]]],
    ];
    for (const [level, expected] of sequence) {
      a.level = level;
      events.length = 0;
      registry.evaluate();
      expect(events).toEqual(expected);
    }
  });

  it('recoverRatio 1 disables the hysteresis', () => {
    const clock = new VirtualClock();
    const registry = new DetectorRegistry(() => new StubDetector(), { clock });
    const events = recorder(registry);
    const stop = registry.watch({ interval: 100, recoverRatio: 1 });
    registry.heartbeat('a');
    const a = registry.get('a') as StubDetector;
    a.level = 8;
    registry.evaluate();
    a.level = 7.99;
    registry.evaluate();
    expect(events).toEqual([
      ['suspect', 'a', 8],
      ['recover', 'a'],
    ]);
    stop();
  });

  it('watch() evaluates on a timer; a dead peer is suspected at the predicted time and recovers', async () => {
    const clock = new VirtualClock();
    const registry = new DetectorRegistry(() => new PhiAccrualDetector({ clock }), { clock });
    const events: Array<[string, string, number]> = [];
    registry.onSuspect((key) => events.push(['suspect', key, clock.now()]));
    registry.onRecover((key) => events.push(['recover', key, clock.now()]));
    const stop = registry.watch({ interval: 10 });
    for (let i = 0; i < 10; i++) {
      registry.heartbeat('a');
      registry.heartbeat('b');
      await clock.advance(1000);
    }
    registry.heartbeat('b');
    const diedAt = clock.now() - 1000; // a's last heartbeat
    const predicted = (registry.get('a') as PhiAccrualDetector).timeUntilUnavailable();
    await clock.advance(predicted + 20);
    expect(events).toHaveLength(1);
    const [kind, key, when] = events[0]!;
    expect([kind, key]).toEqual(['suspect', 'a']);
    // Detected at the first evaluation at or after the predicted crossing.
    expect(when - (clock.now() - 20)).toBeGreaterThanOrEqual(0);
    expect(when - (clock.now() - 20)).toBeLessThanOrEqual(10);
    expect(when - diedAt).toBeGreaterThan(1000);
    registry.heartbeat('a');
    await clock.advance(10);
    expect(events.at(-1)?.slice(0, 2)).toEqual(['recover', 'a']);
    stop();
    expect(clock.pendingTimers).toBe(0);
  });

  it('watch() uses a background (unref) timer, replaces a previous watch, and stop leaves no timer', async () => {
    const clock = new VirtualClock();
    const options: unknown[] = [];
    const spy: Clock = {
      now: () => clock.now(),
      sleep: (ms, signal) => clock.sleep(ms, signal),
      setTimer: (ms, callback, timerOptions) => {
        options.push(timerOptions);
        return clock.setTimer(ms, callback);
      },
    };
    const registry = new DetectorRegistry(() => new StubDetector(), { clock: spy });
    const stop1 = registry.watch({ interval: 50 });
    expect(registry.watching).toBe(true);
    expect(clock.pendingTimers).toBe(1);
    const stop2 = registry.watch({ interval: 20 });
    expect(clock.pendingTimers).toBe(1);
    stop1(); // stale: must not stop the second watch
    expect(registry.watching).toBe(true);
    await clock.advance(100);
    expect(clock.pendingTimers).toBe(1);
    expect(options.every((o) => (o as { unref?: boolean }).unref === true)).toBe(true);
    stop2();
    expect(registry.watching).toBe(false);
    expect(clock.pendingTimers).toBe(0);
    stop2();
    registry.unwatch();
    expect(clock.pendingTimers).toBe(0);
  });

  it('keeps watching when a detector throws', async () => {
    const clock = new VirtualClock();
    let calls = 0;
    const registry = new DetectorRegistry(
      () =>
        Object.assign(new StubDetector(), {
          phi: () => {
            calls++;
            throw new Error('broken');
          },
        }),
      { clock },
    );
    registry.heartbeat('x');
    registry.watch({ interval: 10 });
    const failures: unknown[] = [];
    // The timer callback throws into the VirtualClock driver (as a throwing timer does in Node);
    // the next evaluation is already armed.
    await clock.advance(10).catch((error: unknown) => failures.push(error));
    expect(failures).toHaveLength(1);
    expect(clock.pendingTimers).toBe(1);
    registry.unwatch();
    expect(calls).toBe(1);
  });

  it('state machine: events alternate per key and agree with phi after every evaluation (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.oneof(
            fc.record({
              kind: fc.constant('heartbeat' as const),
              key: fc.integer({ min: 0, max: 3 }),
            }),
            fc.record({
              kind: fc.constant('advance' as const),
              ms: fc.integer({ min: 0, max: 9000 }),
            }),
            fc.record({ kind: fc.constant('evaluate' as const) }),
            fc.record({
              kind: fc.constant('remove' as const),
              key: fc.integer({ min: 0, max: 3 }),
            }),
          ),
          { maxLength: 80 },
        ),
        fc.double({ min: 0.05, max: 1, noNaN: true }),
        (commands, recoverRatio) => {
          const clock = manualClock();
          const registry = new DetectorRegistry<number>(
            () => new PhiAccrualDetector({ clock, acceptableHeartbeatPause: 500 }),
            { clock: new VirtualClock() },
          );
          // The watch only sets recoverRatio here (its timer never fires): evaluation is by hand.
          registry.watch({ interval: 1e9, recoverRatio });
          const suspected = new Set<number>();
          registry.onSuspect((key, phi) => {
            expect(suspected.has(key)).toBe(false);
            expect(phi).toBeGreaterThanOrEqual(8);
            suspected.add(key);
          });
          registry.onRecover((key) => {
            expect(suspected.has(key)).toBe(true);
            suspected.delete(key);
          });
          for (const command of commands) {
            if (command.kind === 'heartbeat') registry.heartbeat(command.key);
            else if (command.kind === 'advance') clock.t += command.ms;
            else if (command.kind === 'remove') {
              registry.remove(command.key);
              suspected.delete(command.key);
            } else {
              registry.evaluate();
              for (const key of registry.keys()) {
                const level = registry.phi(key);
                if (level >= 8) expect(suspected.has(key)).toBe(true);
                if (level < recoverRatio * 8) expect(suspected.has(key)).toBe(false);
              }
            }
          }
          registry.unwatch();
        },
      ),
    );
  });

  describe('validation', () => {
    it('factory must be a function; options an object; clock a Clock', () => {
      expect(() => new DetectorRegistry(42 as unknown as () => FailureDetector)).toThrow(
        /DetectorRegistry: option "factory" must be a function, received 42/,
      );
      expect(() => new DetectorRegistry(() => new StubDetector(), 'x' as never)).toThrow(TypeError);
      expect(() => new DetectorRegistry(() => new StubDetector(), { clock: {} as Clock })).toThrow(
        TypeError,
      );
    });

    it('the factory must return a detector', () => {
      const registry = new DetectorRegistry(() => ({}) as FailureDetector);
      expect(() => registry.heartbeat('a')).toThrow(/must return a FailureDetector/);
      expect(registry.size).toBe(0);
    });

    it('watch: interval and recoverRatio (wrong type, out of range)', () => {
      const registry = new DetectorRegistry(() => new StubDetector(), {
        clock: new VirtualClock(),
      });
      const cases: Array<[Partial<WatchOptions>, ErrorConstructor, RegExp]> = [
        [
          {},
          TypeError,
          /DetectorRegistry.watch: option "interval" must be a number in \(0, Infinity\), received undefined/,
        ],
        [{ interval: '10' as unknown as number }, TypeError, /"interval"/],
        [{ interval: 0 }, RangeError, /"interval" must be a number in \(0, Infinity\), received 0/],
        [{ interval: Number.POSITIVE_INFINITY }, RangeError, /"interval"/],
        [{ interval: 10, recoverRatio: '0.5' as unknown as number }, TypeError, /"recoverRatio"/],
        [
          { interval: 10, recoverRatio: 0 },
          RangeError,
          /"recoverRatio" must be a number in \(0, 1\], received 0/,
        ],
        [{ interval: 10, recoverRatio: 1.5 }, RangeError, /"recoverRatio"/],
      ];
      for (const [options, kind, message] of cases) {
        expect(() => registry.watch(options as WatchOptions)).toThrow(kind);
        expect(() => registry.watch(options as WatchOptions)).toThrow(message);
      }
      expect(() => registry.watch(null as unknown as WatchOptions)).toThrow(TypeError);
      expect(registry.watching).toBe(false);
    });

    it('listeners must be functions', () => {
      const registry = new DetectorRegistry(() => new StubDetector());
      expect(() => registry.onSuspect(1 as never)).toThrow(TypeError);
      expect(() => registry.onRecover(undefined as never)).toThrow(TypeError);
    });
  });
});
