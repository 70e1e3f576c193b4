import { VirtualClock } from '@faultline/clock';
import { handleAll } from '@faultline/core';
import { describe, expect, it } from 'vitest';
import { CircuitBreaker, CircuitBreakerPolicy, circuitBreaker } from './circuit-breaker.js';
import {
  CIRCUIT_BREAKER_DEFAULTS,
  resolveCircuitBreakerOptions,
} from './circuit-breaker-options.js';
import { consecutiveFailures } from './consecutive-failures.js';
import { openSnapshot } from './snapshot.cases.js';

const trip = consecutiveFailures(1);

describe('circuitBreaker: options', () => {
  // A wrong type and, where the option has a range, a value out of it, for every option.
  const cases: Array<[string, unknown, typeof TypeError | typeof RangeError]> = [
    ['trip', undefined, TypeError],
    ['trip', 5, TypeError],
    ['trip', { create: () => ({}) }, TypeError], // a strategy also describes itself
    ['breakDuration', '5s', TypeError],
    ['breakDuration', Number.NaN, TypeError],
    ['breakDuration', -1, RangeError],
    ['breakDuration', Number.POSITIVE_INFINITY, RangeError],
    ['halfOpen', 3, TypeError],
    ['halfOpen', [], TypeError],
    ['halfOpen.probes', { probes: '3' }, TypeError],
    ['halfOpen.probes', { probes: 0 }, RangeError],
    ['halfOpen.probes', { probes: 1.5 }, RangeError],
    ['halfOpen.probes', { probes: 10_001 }, RangeError],
    ['shouldHandle', true, TypeError],
    ['clock', Date, TypeError],
    ['clock', { sleep: () => Promise.resolve() }, TypeError], // `now` is the one it needs
    ['random', 0.5, TypeError],
    ['wallClock', 123, TypeError],
    ['initialState', 'open', TypeError],
    ['initialState.version', { ...openSnapshot, version: 2 }, RangeError],
    ['initialState.remainingBreak', { ...openSnapshot, remainingBreak: 2_000 }, RangeError],
    ['onSnapshot', {}, TypeError],
    ['name', 5, TypeError],
    ['name', '', RangeError],
  ];
  it.each(cases)('option %s = %o throws a %o naming it', (option, value, Kind) => {
    const [key] = option.split('.');
    const options = { trip, clock: new VirtualClock(), [key!]: value };
    expect(() => circuitBreaker(options as never)).toThrow(Kind);
    expect(() => circuitBreaker(options as never)).toThrow(
      new RegExp(`circuitBreaker: option "${option.replace('.', '\\.')}"`),
    );
    // One rule for the factory and `new`: the constructor validates.
    expect(() => new CircuitBreakerPolicy(options as never)).toThrow(Kind);
  });

  it('a random source out of [0, 1] is a RangeError naming the option, at the draw', async () => {
    const breaker = circuitBreaker({
      trip,
      breakDuration: { delays: (random) => ({ next: () => ({ value: random!(), done: false }) }) },
      random: () => 2,
    });
    await expect(breaker.execute(() => Promise.reject(new Error('down')))).rejects.toThrow(
      RangeError,
    );
  });

  it('the options argument must be an object', () => {
    expect(() => circuitBreaker(undefined as never)).toThrow(/circuitBreaker: options/);
    expect(() => new CircuitBreakerPolicy(undefined as never)).toThrow(/circuitBreaker: options/);
    expect(() => circuitBreaker(null as never)).toThrow(
      /circuitBreaker: options must be an object/,
    );
    expect(() => circuitBreaker(4 as never)).toThrow(TypeError);
  });

  it('accepts the documented ranges', () => {
    expect(() => circuitBreaker({ trip, breakDuration: 0, halfOpen: {} })).not.toThrow();
    expect(() => circuitBreaker({ trip, halfOpen: { probes: 10_000 } })).not.toThrow();
    expect(() => circuitBreaker({ trip, breakDuration: (): number => 1 })).not.toThrow();
    expect(() => circuitBreaker({ trip, name: 'db' })).not.toThrow();
  });

  it('applies the frozen defaults', () => {
    expect(Object.isFrozen(CIRCUIT_BREAKER_DEFAULTS)).toBe(true);
    expect(Object.isFrozen(CIRCUIT_BREAKER_DEFAULTS.halfOpen)).toBe(true);
    const resolved = resolveCircuitBreakerOptions({ trip });
    expect(resolved).toMatchObject({
      trip,
      breakDuration: CIRCUIT_BREAKER_DEFAULTS.breakDuration,
      halfOpen: CIRCUIT_BREAKER_DEFAULTS.halfOpen,
      shouldHandle: handleAll,
      random: undefined,
      wallClock: Date.now,
      initialState: undefined,
      onSnapshot: undefined,
      name: 'circuit-breaker',
    });
    expect(new CircuitBreakerPolicy({ trip }).describe()).toEqual(
      circuitBreaker({ trip }).describe(),
    );
    expect(circuitBreaker({ trip }).name).toBe(CIRCUIT_BREAKER_DEFAULTS.name);
  });

  it('the class keeps its former name', () => {
    expect(CircuitBreaker).toBe(CircuitBreakerPolicy);
    expect(circuitBreaker({ trip })).toBeInstanceOf(CircuitBreaker);
  });

  it('describe() is plain data: shipped rules by name, user functions as custom', () => {
    const described = circuitBreaker({
      trip,
      breakDuration: () => 1_000,
      shouldHandle: (outcome) => !outcome.ok,
    }).describe();
    expect(described).toEqual({
      name: 'circuitBreaker',
      options: {
        trip: { name: 'consecutiveFailures', options: { n: 1 } },
        breakDuration: 'custom',
        halfOpen: { probes: 1 },
        shouldHandle: 'custom',
      },
    });
    expect(JSON.parse(JSON.stringify(described))).toEqual(described);
  });
});
