/**
 * Bad input: every option of every factory, a wrong type (TypeError) and, where a range exists,
 * an out-of-range value (RangeError). Each message names the factory and the option.
 */
import { VirtualClock } from '@faultline/clock';
import { thrownBy } from '@faultline/test-support/browser';
import { describe, expect, it } from 'vitest';
import { adaptiveThrottle } from './adaptive-throttle.js';
import { circuitBreaker } from './circuit-breaker.js';
import { consecutiveFailures } from './consecutive-failures.js';
import { failureRate } from './failure-rate.js';
import { openSnapshot } from './snapshot.cases.js';

type Case = [
  label: string,
  make: () => unknown,
  kind: typeof TypeError | typeof RangeError,
  message: RegExp,
];

const trip = consecutiveFailures(1);
const cb = (options: Record<string, unknown>) => () =>
  circuitBreaker({ trip, ...options } as unknown as Parameters<typeof circuitBreaker>[0]);
const fr = (options: unknown) => () => failureRate(options as Parameters<typeof failureRate>[0]);
const at = (options: unknown) => () =>
  adaptiveThrottle(options as Parameters<typeof adaptiveThrottle>[0]);
const withState = (patch: Record<string, unknown>) =>
  cb({ initialState: { ...openSnapshot, ...patch }, clock: new VirtualClock() });

const cases: Case[] = [
  // consecutiveFailures(n)
  [
    'consecutiveFailures n type',
    () => consecutiveFailures('5' as unknown as number),
    TypeError,
    /consecutiveFailures: argument "n"/,
  ],
  [
    'consecutiveFailures n range',
    () => consecutiveFailures(0),
    RangeError,
    /consecutiveFailures: argument "n".*received 0/,
  ],
  ['consecutiveFailures n integer', () => consecutiveFailures(2.5), RangeError, /argument "n"/],
  // failureRate
  ['failureRate options type', fr(5), TypeError, /failureRate: options must be an object/],
  [
    'failureRate threshold type',
    fr({ threshold: '0.5' }),
    TypeError,
    /failureRate: option "threshold"/,
  ],
  [
    'failureRate threshold range',
    fr({ threshold: 1.5 }),
    RangeError,
    /failureRate: option "threshold".*\(0, 1\].*1\.5/,
  ],
  ['failureRate threshold zero', fr({ threshold: 0 }), RangeError, /option "threshold"/],
  [
    'failureRate minimumThroughput type',
    fr({ minimumThroughput: null }),
    TypeError,
    /option "minimumThroughput"/,
  ],
  [
    'failureRate minimumThroughput range',
    fr({ minimumThroughput: 0 }),
    RangeError,
    /option "minimumThroughput"/,
  ],
  [
    'failureRate minimumThroughput > window.calls',
    fr({ minimumThroughput: 20, window: { calls: 10 } }),
    RangeError,
    /option "minimumThroughput".*\[1, 10\]/,
  ],
  ['failureRate window type', fr({ window: '30s' }), TypeError, /failureRate: option "window"/],
  ['failureRate window range', fr({ window: -1 }), RangeError, /option "window".*-1/],
  [
    'failureRate window.calls type',
    fr({ window: { calls: '10' } }),
    TypeError,
    /option "window.calls"/,
  ],
  [
    'failureRate window.calls range',
    fr({ window: { calls: 0 } }),
    RangeError,
    /option "window.calls"/,
  ],
  ['failureRate buckets type', fr({ buckets: '10' }), TypeError, /option "buckets"/],
  ['failureRate buckets range', fr({ buckets: 0 }), RangeError, /option "buckets".*\[1, 1000\]/],
  ['failureRate slowCall type', fr({ slowCall: 100 }), TypeError, /option "slowCall"/],
  [
    'failureRate slowCall.duration type',
    fr({ slowCall: { threshold: 0.5 } }),
    TypeError,
    /option "slowCall.duration"/,
  ],
  [
    'failureRate slowCall.duration range',
    fr({ slowCall: { duration: 0, threshold: 0.5 } }),
    RangeError,
    /option "slowCall.duration"/,
  ],
  [
    'failureRate slowCall.threshold type',
    fr({ slowCall: { duration: 10, threshold: 'x' } }),
    TypeError,
    /option "slowCall.threshold"/,
  ],
  [
    'failureRate slowCall.threshold range',
    fr({ slowCall: { duration: 10, threshold: 2 } }),
    RangeError,
    /option "slowCall.threshold"/,
  ],
  // circuitBreaker
  [
    'circuitBreaker options missing',
    () => circuitBreaker(undefined as never),
    TypeError,
    /circuitBreaker: options/,
  ],
  [
    'circuitBreaker options type',
    () => circuitBreaker(7 as never),
    TypeError,
    /circuitBreaker: options must be an object/,
  ],
  [
    'circuitBreaker trip type',
    () => circuitBreaker({ trip: 5 } as never),
    TypeError,
    /circuitBreaker: option "trip"/,
  ],
  ['circuitBreaker trip missing', () => circuitBreaker({} as never), TypeError, /option "trip"/],
  [
    'circuitBreaker breakDuration type',
    cb({ breakDuration: '5s' }),
    TypeError,
    /circuitBreaker: option "breakDuration"/,
  ],
  [
    'circuitBreaker breakDuration NaN',
    cb({ breakDuration: Number.NaN }),
    TypeError,
    /option "breakDuration"/,
  ],
  [
    'circuitBreaker breakDuration range',
    cb({ breakDuration: -5 }),
    RangeError,
    /option "breakDuration".*-5/,
  ],
  [
    'circuitBreaker breakDuration infinite',
    cb({ breakDuration: Number.POSITIVE_INFINITY }),
    RangeError,
    /option "breakDuration"/,
  ],
  [
    'circuitBreaker halfOpen type',
    cb({ halfOpen: 3 }),
    TypeError,
    /circuitBreaker: option "halfOpen"/,
  ],
  [
    'circuitBreaker halfOpen.probes type',
    cb({ halfOpen: { probes: '3' } }),
    TypeError,
    /option "halfOpen.probes"/,
  ],
  [
    'circuitBreaker halfOpen.probes range',
    cb({ halfOpen: { probes: 0 } }),
    RangeError,
    /option "halfOpen.probes".*received 0/,
  ],
  [
    'circuitBreaker shouldHandle type',
    cb({ shouldHandle: true }),
    TypeError,
    /circuitBreaker: option "shouldHandle" must be a function/,
  ],
  ['circuitBreaker clock type', cb({ clock: Date }), TypeError, /circuitBreaker: option "clock"/],
  ['circuitBreaker random type', cb({ random: 0.5 }), TypeError, /circuitBreaker: option "random"/],
  [
    'circuitBreaker wallClock type',
    cb({ wallClock: 123 }),
    TypeError,
    /circuitBreaker: option "wallClock"/,
  ],
  [
    'circuitBreaker onSnapshot type',
    cb({ onSnapshot: {} }),
    TypeError,
    /circuitBreaker: option "onSnapshot"/,
  ],
  [
    'circuitBreaker initialState type',
    cb({ initialState: 'open' }),
    TypeError,
    /circuitBreaker: option "initialState"/,
  ],
  [
    'circuitBreaker initialState.version',
    withState({ version: 2 }),
    RangeError,
    /option "initialState.version"/,
  ],
  [
    'circuitBreaker initialState.state type',
    withState({ state: 1 }),
    TypeError,
    /option "initialState.state"/,
  ],
  [
    'circuitBreaker initialState.state range',
    withState({ state: 'ajar' }),
    RangeError,
    /option "initialState.state".*"ajar"/,
  ],
  [
    'circuitBreaker initialState.attempt type',
    withState({ attempt: '1' }),
    TypeError,
    /option "initialState.attempt"/,
  ],
  [
    'circuitBreaker initialState.attempt range',
    withState({ attempt: -1 }),
    RangeError,
    /option "initialState.attempt"/,
  ],
  [
    'circuitBreaker initialState.breakDuration type',
    withState({ breakDuration: null }),
    TypeError,
    /option "initialState.breakDuration"/,
  ],
  [
    'circuitBreaker initialState.breakDuration range',
    withState({ breakDuration: -1 }),
    RangeError,
    /option "initialState.breakDuration"/,
  ],
  [
    'circuitBreaker initialState.remainingBreak type',
    withState({ remainingBreak: '1' }),
    TypeError,
    /option "initialState.remainingBreak"/,
  ],
  [
    'circuitBreaker initialState.remainingBreak range',
    withState({ remainingBreak: 2_000 }),
    RangeError,
    /option "initialState.remainingBreak".*\[0, 1000\]/,
  ],
  [
    'circuitBreaker initialState.takenAt type',
    withState({ takenAt: '2026' }),
    TypeError,
    /option "initialState.takenAt"/,
  ],
  [
    'circuitBreaker initialState.takenAt range',
    withState({ takenAt: Number.POSITIVE_INFINITY }),
    RangeError,
    /option "initialState.takenAt"/,
  ],
  // adaptiveThrottle
  [
    'adaptiveThrottle options type',
    at('fast'),
    TypeError,
    /adaptiveThrottle: options must be an object/,
  ],
  ['adaptiveThrottle k type', at({ k: '2' }), TypeError, /adaptiveThrottle: option "k"/],
  ['adaptiveThrottle k range', at({ k: 0.5 }), RangeError, /option "k".*\[1, Infinity\).*0\.5/],
  ['adaptiveThrottle window type', at({ window: [] }), TypeError, /option "window"/],
  ['adaptiveThrottle window range', at({ window: 0 }), RangeError, /option "window"/],
  ['adaptiveThrottle buckets type', at({ buckets: '12' }), TypeError, /option "buckets"/],
  ['adaptiveThrottle buckets range', at({ buckets: 1001 }), RangeError, /option "buckets"/],
  [
    'adaptiveThrottle shouldHandle type',
    at({ shouldHandle: 'all' }),
    TypeError,
    /option "shouldHandle"/,
  ],
  [
    'adaptiveThrottle minimumRequests type',
    at({ minimumRequests: '0' }),
    TypeError,
    /option "minimumRequests"/,
  ],
  [
    'adaptiveThrottle minimumRequests range',
    at({ minimumRequests: -1 }),
    RangeError,
    /option "minimumRequests"/,
  ],
  [
    'adaptiveThrottle clock type',
    at({ clock: () => 0 }),
    TypeError,
    /adaptiveThrottle: option "clock"/,
  ],
  [
    'adaptiveThrottle random type',
    at({ random: 4 }),
    TypeError,
    /adaptiveThrottle: option "random"/,
  ],
];

describe('option validation', () => {
  it.each(cases)('%s', (_label, make, kind, message) => {
    const thrown = thrownBy(make);
    expect(thrown).toBeInstanceOf(kind);
    expect((thrown as Error).message).toMatch(message);
  });

  it('accepts the documented defaults and edge values', () => {
    expect(() => consecutiveFailures()).not.toThrow();
    expect(() => failureRate()).not.toThrow();
    expect(() =>
      failureRate({ threshold: 1, window: { calls: 1 }, minimumThroughput: 1 }),
    ).not.toThrow();
    // The default minimumThroughput (20) is capped by a smaller count window (resilience4j does
    // the same); only an explicit value above the window size is an error.
    expect(failureRate({ window: { calls: 10 } }).describe().options).toMatchObject({
      minimumThroughput: 10,
    });
    expect(() => circuitBreaker({ trip, breakDuration: 0, halfOpen: {} })).not.toThrow();
    expect(() => adaptiveThrottle()).not.toThrow();
    expect(() => adaptiveThrottle({ k: 1, minimumRequests: 0, buckets: 1 })).not.toThrow();
  });
});
