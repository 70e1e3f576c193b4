import { BrokenCircuitError } from '@faultline/breaker';
import { ExecutionRejectedError, identify } from '@faultline/core';
import { TimeoutError } from '@faultline/timeout';
import { describe, expect, it } from 'vitest';
import {
  attemptAttributes,
  errorType,
  eventAttributes,
  executionAttributes,
  OTHER_ERROR,
  SECONDS_BUCKETS,
  stateReadings,
} from './attributes.js';
import { EventTally } from './event-tally.js';

describe('errorType', () => {
  it('is the code of a faultline rejection and the name of any other error, never the message', () => {
    expect(errorType(new TimeoutError(100))).toBe('TIMEOUT');
    expect(errorType(new BrokenCircuitError(5))).toBe('BROKEN_CIRCUIT');
    expect(errorType(new TypeError('fetch failed for https://example.test/users/42'))).toBe(
      'TypeError',
    );
    expect(errorType(new DOMException('gone', 'AbortError'))).toBe('AbortError');
    expect(errorType(new ExecutionRejectedError('x', { code: 'MY_CODE' }))).toBe('MY_CODE');
  });

  it('bounds what it cannot trust', () => {
    expect(errorType('a string')).toBe(OTHER_ERROR);
    expect(errorType(undefined)).toBe(OTHER_ERROR);
    expect(errorType(null)).toBe(OTHER_ERROR);
    expect(errorType({ name: 'user 42 not found' })).toBe(OTHER_ERROR);
    expect(errorType({ name: 'x'.repeat(65) })).toBe(OTHER_ERROR);
    expect(errorType({ name: 42 })).toBe(OTHER_ERROR);
    expect(errorType(Object.assign(new Error('m'), { name: 'HttpError' }))).toBe('HttpError');
  });
});

describe('attribute sets', () => {
  const policy = identify('x', 'retry', 'github');
  it('events: the documented set (README), optional labels only when present, record attributes never', () => {
    expect(
      eventAttributes({
        type: 'event',
        event: 'give-up',
        severity: 'warning',
        policy,
        pipeline: undefined,
        operation: undefined,
        time: 0,
        attributes: { reason: 'attempts' },
      }),
    ).toEqual({
      'event.name': 'give-up',
      'event.severity': 'warning',
      'faultline.policy.kind': 'retry',
      'faultline.policy.name': 'github',
    });
    expect(
      eventAttributes({
        type: 'event',
        event: 'retry',
        severity: 'information',
        policy,
        pipeline: 'api',
        operation: 'GET /x',
        time: 0,
        error: new TypeError('boom'),
      }),
    ).toMatchObject({
      'faultline.pipeline.name': 'api',
      'faultline.operation': 'GET /x',
      'error.type': 'TypeError',
    });
  });

  it('attempts and executions', () => {
    expect(
      attemptAttributes({
        type: 'attempt',
        policy,
        pipeline: 'api',
        operation: 'op',
        attempt: 2,
        handled: true,
        duration: 3,
      }),
    ).toEqual({
      'faultline.policy.name': 'github',
      'faultline.pipeline.name': 'api',
      'faultline.attempt.number': 2,
      'faultline.attempt.handled': true,
    });
    expect(
      executionAttributes({
        type: 'execution',
        pipeline: undefined,
        operation: 'op',
        duration: 1,
        outcome: 'rejected',
        error: new TimeoutError(1),
      }),
    ).toEqual({
      'faultline.operation': 'op',
      'faultline.outcome': 'rejected',
      'error.type': 'TIMEOUT',
    });
  });

  it('buckets are seconds, ascending, 5 ms to 10 s', () => {
    expect(SECONDS_BUCKETS[0]).toBe(0.005);
    expect(SECONDS_BUCKETS.at(-1)).toBe(10);
    expect([...SECONDS_BUCKETS].sort((a, b) => a - b)).toEqual(SECONDS_BUCKETS);
    expect(Object.isFrozen(SECONDS_BUCKETS)).toBe(true);
  });

  it('state readings add up breakers that share a name', () => {
    const states = ['closed', 'open'];
    const readings = stateReadings([
      { policy: { name: 'a' }, states, state: 'open' },
      { policy: { name: 'b' }, states, state: 'closed' },
      { policy: { name: 'b' }, states, state: 'closed' },
    ]);
    expect(Object.fromEntries([...readings].map(([k, v]) => [k, Object.fromEntries(v)]))).toEqual({
      a: { closed: 0, open: 1 },
      b: { closed: 2, open: 0 },
    });
  });
});

describe('EventTally', () => {
  it('counts per policy, event, pipeline, operation and error type, building attributes once', () => {
    const tally = new EventTally();
    const policy = identify('x', 'retry', 'github');
    const other = identify('x', 'retry', 'gitlab');
    const base = {
      type: 'event',
      severity: 'information',
      pipeline: 'api',
      operation: 'op',
      time: 0,
    } as const;
    tally.add({ ...base, event: 'retry', policy, error: new TypeError('a') });
    tally.add({ ...base, event: 'retry', policy, error: new TypeError('b: another message') });
    tally.add({ ...base, event: 'retry', policy, error: new RangeError('c') });
    tally.add({ ...base, event: 'retry', policy: other });
    tally.add({ ...base, event: 'retry', policy, operation: undefined });
    const series = [...tally.series()].map((s) => [
      s.attributes['faultline.policy.name'],
      s.attributes['error.type'],
      s.attributes['faultline.operation'],
      s.count,
    ]);
    expect(series).toEqual([
      ['github', 'TypeError', 'op', 2],
      ['github', 'RangeError', 'op', 1],
      ['gitlab', undefined, 'op', 1],
      ['github', undefined, undefined, 1],
    ]);
  });

  it('policies that share a kind and name share their series (one observation per attribute set)', () => {
    const tally = new EventTally();
    const base = {
      type: 'event',
      severity: 'warning',
      pipeline: undefined,
      operation: undefined,
      time: 0,
    } as const;
    tally.add({
      ...base,
      event: 'circuit-rejected',
      policy: identify('x', 'circuit-breaker', undefined),
    });
    tally.add({
      ...base,
      event: 'circuit-rejected',
      policy: identify('x', 'circuit-breaker', undefined),
    });
    expect([...tally.series()].map((s) => s.count)).toEqual([2]);
  });
});
