import { VirtualClock } from '@faultline/clock';
import { describe, expect, it } from 'vitest';
import { BulkheadPolicy, bulkhead } from './bulkhead.js';
import { BULKHEAD_DEFAULTS, resolveBulkheadOptions } from './bulkhead-options.js';

describe('bulkhead: options', () => {
  const cases: Array<[string, unknown, typeof TypeError | typeof RangeError]> = [
    ['limit', undefined, TypeError],
    ['limit', '2', TypeError],
    ['limit', 0, RangeError],
    ['limit', 1.5, RangeError],
    ['limit', Number.POSITIVE_INFINITY, RangeError],
    ['queue', '1', TypeError],
    ['queue', -1, RangeError],
    ['queue', 0.5, RangeError],
    ['queueTimeout', '100', TypeError],
    ['queueTimeout', 0, RangeError],
    ['queueTimeout', -5, RangeError],
    ['clock', { now: () => 0 }, TypeError],
    ['clock', 'system', TypeError],
    ['name', 5, TypeError],
    ['name', '', RangeError],
  ];
  it.each(cases)('option %s = %o throws a %o naming it', (option, value, Kind) => {
    const options = { limit: 1, [option]: value };
    expect(() => bulkhead(options as never)).toThrow(Kind);
    expect(() => bulkhead(options as never)).toThrow(new RegExp(`bulkhead: option "${option}"`));
    // One rule for the factory and `new`: the constructor validates.
    expect(() => new BulkheadPolicy(options as never)).toThrow(Kind);
  });

  it('the options argument must be an object', () => {
    expect(() => bulkhead(undefined as never)).toThrow(/option "limit"/);
    expect(() => bulkhead(4 as never)).toThrow(TypeError);
    expect(() => bulkhead(null as never)).toThrow(/bulkhead: options must be an object/);
    expect(() => new BulkheadPolicy(null as never)).toThrow(/bulkhead: options must be an object/);
  });

  it('accepts the documented ranges', () => {
    expect(() => bulkhead({ limit: 1, queue: 0 })).not.toThrow();
    expect(() => bulkhead({ limit: 1000, queue: Number.POSITIVE_INFINITY })).not.toThrow();
    expect(() => bulkhead({ limit: 1, queueTimeout: 0.5 })).not.toThrow();
    expect(() => bulkhead({ limit: 1, queueTimeout: Number.POSITIVE_INFINITY })).not.toThrow();
    expect(() => bulkhead({ limit: 1, clock: new VirtualClock() })).not.toThrow();
  });

  it('applies the frozen defaults', () => {
    expect(Object.isFrozen(BULKHEAD_DEFAULTS)).toBe(true);
    const resolved = resolveBulkheadOptions({ limit: 3 });
    expect(resolved).toMatchObject({
      limit: 3,
      queue: BULKHEAD_DEFAULTS.queue,
      queueTimeout: BULKHEAD_DEFAULTS.queueTimeout,
      name: 'bulkhead',
    });
    expect(new BulkheadPolicy({ limit: 3 }).describe()).toEqual(bulkhead({ limit: 3 }).describe());
  });
});
