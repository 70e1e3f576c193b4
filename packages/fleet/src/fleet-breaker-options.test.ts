import { consecutiveFailures, failureRate } from '@faultline/breaker';
import { constant as constantBackoff } from '@faultline/retry';
import { describe, expect, it } from 'vitest';
import { fleetBreaker } from './fleet-breaker.js';
import { FLEET_BREAKER_DEFAULTS, resolveFleetBreakerOptions } from './fleet-breaker-options.js';
import { memoryFleetStore } from './memory-store.js';

const store = memoryFleetStore();
const base = { store, name: 'c', trip: consecutiveFailures(5) };

describe('fleetBreaker options', () => {
  it('defaults: breakDuration 5 000, quorum 1, sync 250, storeTimeout 100, a random instance', () => {
    const o = resolveFleetBreakerOptions(base);
    expect(o.breakDuration).toBe(FLEET_BREAKER_DEFAULTS.breakDuration);
    expect(o.quorum).toBe(1);
    expect(o.sync).toBe(250);
    expect(o.storeTimeout).toBe(100);
    expect(o.instance).toMatch(/^[0-9a-f-]{36}$/);
    expect(resolveFleetBreakerOptions(base).instance).not.toBe(o.instance);
    expect(o.rule).toEqual({ minCalls: 5, failureRatio: 1, slowRatio: 2 });
    const rate = resolveFleetBreakerOptions({
      ...base,
      trip: failureRate({
        threshold: 0.3,
        minimumThroughput: 50,
        slowCall: { duration: 100, threshold: 0.8 },
      }),
    });
    expect(rate.rule).toEqual({ minCalls: 50, failureRatio: 0.3, slowRatio: 0.8 });
  });

  it('rejects each option with a wrong type (TypeError) or out of range (RangeError)', () => {
    const bad: Array<[unknown, ErrorConstructor, RegExp]> = [
      [undefined, TypeError, /fleetBreaker: option "store"/],
      [[], TypeError, /fleetBreaker: options must be an object/],
      [{ ...base, store: null }, TypeError, /"store"/],
      [{ ...base, name: undefined }, TypeError, /"name"/],
      [{ ...base, name: 'x'.repeat(201) }, RangeError, /"name"/],
      [{ ...base, trip: undefined }, TypeError, /"trip"/],
      [
        { ...base, trip: { create() {}, describe: () => ({ name: 'mine', options: {} }) } },
        TypeError,
        /"trip"/,
      ],
      [{ ...base, breakDuration: '5s' }, TypeError, /"breakDuration"/],
      [{ ...base, breakDuration: 0 }, RangeError, /"breakDuration"/],
      [
        { ...base, breakDuration: { delays: () => [0][Symbol.iterator]() } },
        RangeError,
        /"breakDuration/,
      ],
      [{ ...base, breakDuration: { delays: 5 } }, TypeError, /"breakDuration"/],
      [{ ...base, breakDuration: constantBackoff(1000), random: 'x' }, TypeError, /"random"/],
      [{ ...base, quorum: '2' }, TypeError, /"quorum"/],
      [{ ...base, quorum: 0 }, RangeError, /"quorum"/],
      [{ ...base, quorum: 1.5 }, RangeError, /"quorum"/],
      [{ ...base, sync: {} }, TypeError, /"sync"/],
      [{ ...base, sync: 60_001 }, RangeError, /"sync"/],
      [{ ...base, storeTimeout: '1' }, TypeError, /"storeTimeout"/],
      [{ ...base, storeTimeout: -1 }, RangeError, /"storeTimeout"/],
      [{ ...base, shouldHandle: 'all' }, TypeError, /"shouldHandle"/],
      [{ ...base, clock: { now: () => 0 } }, TypeError, /"clock"/],
      [{ ...base, instance: 7 }, TypeError, /"instance"/],
      [{ ...base, instance: 'a b' }, RangeError, /"instance"/],
    ];
    for (const [options, Kind, message] of bad) {
      expect(() => fleetBreaker(options as never), String(message)).toThrow(Kind);
      expect(() => fleetBreaker(options as never)).toThrow(message);
    }
  });

  it('describe() is plain data', () => {
    const breaker = fleetBreaker({ ...base, quorum: 2 });
    expect(breaker.describe()).toEqual({
      name: 'fleet-circuit-breaker',
      options: {
        name: 'c',
        store: 'memory',
        trip: { name: 'consecutiveFailures', options: { n: 5 } },
        breakDuration: 5_000,
        quorum: 2,
        sync: 250,
        storeTimeout: 100,
        shouldHandle: 'handleAll',
      },
    });
    breaker.dispose();
  });
});
