import { describe, expect, it } from 'vitest';
import { gcra } from './gcra.js';
import { rateLimiter } from './rate-limiter.js';
import { RATE_LIMITER_DEFAULTS, resolveRateLimiterOptions } from './rate-limiter-options.js';
import { slidingWindow } from './sliding-window.js';
import { tokenBucket } from './token-bucket.js';

const limit = gcra({ rate: 1 });

describe('rateLimiter options', () => {
  it('applies the documented defaults', () => {
    const resolved = resolveRateLimiterOptions({ limit });
    expect(resolved.maxWait).toBe(RATE_LIMITER_DEFAULTS.maxWait);
    expect(resolved.key).toBeUndefined();
    expect(resolved.store.kind).toBe('memory');
    expect(rateLimiter({ limit }).name).toBe(RATE_LIMITER_DEFAULTS.name);
    expect(Object.isFrozen(RATE_LIMITER_DEFAULTS)).toBe(true);
  });

  it('both the factory and new validate', () => {
    expect(() => rateLimiter(undefined as never)).toThrow(TypeError);
    expect(
      () => new (rateLimiter({ limit }).constructor as new (o: unknown) => unknown)({}),
    ).toThrow(TypeError);
  });

  const cases: Array<[string, unknown, ErrorConstructor, string]> = [
    ['options', 5, TypeError, 'rateLimiter: options must be an object, received 5'],
    [
      'limit',
      { limit: { rate: 1 } },
      TypeError,
      'rateLimiter: option "limit" must be a rate-limit algorithm (tokenBucket(), gcra() or slidingWindow()), received {"rate":1}',
    ],
    [
      'maxWait type',
      { limit, maxWait: '1s' },
      TypeError,
      'rateLimiter: option "maxWait" must be a number in [0, Infinity], received "1s"',
    ],
    [
      'maxWait range',
      { limit, maxWait: -1 },
      RangeError,
      'rateLimiter: option "maxWait" must be a number in [0, Infinity], received -1',
    ],
    [
      'key type',
      { limit, key: 'tenant' },
      TypeError,
      'rateLimiter: option "key" must be a function, received "tenant"',
    ],
    [
      'store type',
      { limit, store: {} },
      TypeError,
      'rateLimiter: option "store" must be a RateLimitStore (an object with consume()), received {}',
    ],
    [
      'clock type',
      { limit, clock: Date },
      TypeError,
      'rateLimiter: option "clock" must be a Clock (an object with now(), sleep() and setTimer()), received function Date',
    ],
    [
      'name type',
      { limit, name: 7 },
      TypeError,
      'rateLimiter: option "name" must be a string, received 7',
    ],
    [
      'name range',
      { limit, name: '' },
      RangeError,
      'rateLimiter: option "name" must be a non-empty string, received ""',
    ],
  ];
  for (const [label, options, Kind, message] of cases) {
    it(`rejects a bad ${label}`, () => {
      expect(() => rateLimiter(options as never)).toThrow(new Kind(message));
    });
  }
});

describe('algorithm options', () => {
  const cases: Array<[string, () => unknown, ErrorConstructor, string]> = [
    [
      'tokenBucket options',
      () => tokenBucket(null as never),
      TypeError,
      'tokenBucket: options must be an object, received null',
    ],
    [
      'tokenBucket rate type',
      () => tokenBucket({ rate: '10' as never }),
      TypeError,
      'tokenBucket: option "rate" must be a number in (0, Infinity), received "10"',
    ],
    [
      'tokenBucket rate range',
      () => tokenBucket({ rate: 0 }),
      RangeError,
      'tokenBucket: option "rate" must be a number in (0, Infinity), received 0',
    ],
    [
      'tokenBucket per type',
      () => tokenBucket({ rate: 1, per: '1s' as never }),
      TypeError,
      'tokenBucket: option "per" must be a number in (0, Infinity), received "1s"',
    ],
    [
      'tokenBucket per range',
      () => tokenBucket({ rate: 1, per: -5 }),
      RangeError,
      'tokenBucket: option "per" must be a number in (0, Infinity), received -5',
    ],
    [
      'tokenBucket burst type',
      () => tokenBucket({ rate: 1, burst: true as never }),
      TypeError,
      'tokenBucket: option "burst" must be an integer in [1, Infinity), received true',
    ],
    [
      'tokenBucket burst range',
      () => tokenBucket({ rate: 1, burst: 0.5 }),
      RangeError,
      'tokenBucket: option "burst" must be an integer in [1, Infinity), received 0.5',
    ],
    [
      'gcra rate type',
      () => gcra({ rate: null as never }),
      TypeError,
      'gcra: option "rate" must be a number in (0, Infinity), received null',
    ],
    [
      'gcra rate range',
      () => gcra({ rate: Infinity }),
      RangeError,
      'gcra: option "rate" must be a number in (0, Infinity), received Infinity',
    ],
    [
      'gcra per type',
      () => gcra({ rate: 1, per: [] as never }),
      TypeError,
      'gcra: option "per" must be a number in (0, Infinity), received []',
    ],
    [
      'gcra per range',
      () => gcra({ rate: 1, per: 0 }),
      RangeError,
      'gcra: option "per" must be a number in (0, Infinity), received 0',
    ],
    [
      'gcra burst type',
      () => gcra({ rate: 1, burst: '2' as never }),
      TypeError,
      'gcra: option "burst" must be an integer in [0, Infinity), received "2"',
    ],
    [
      'gcra burst range',
      () => gcra({ rate: 1, burst: -1 }),
      RangeError,
      'gcra: option "burst" must be an integer in [0, Infinity), received -1',
    ],
    [
      'slidingWindow limit type',
      () => slidingWindow({ limit: '5' as never, window: 1000 }),
      TypeError,
      'slidingWindow: option "limit" must be an integer in [1, Infinity), received "5"',
    ],
    [
      'slidingWindow limit range',
      () => slidingWindow({ limit: 0, window: 1000 }),
      RangeError,
      'slidingWindow: option "limit" must be an integer in [1, Infinity), received 0',
    ],
    [
      'slidingWindow window type',
      () => slidingWindow({ limit: 5 } as never),
      TypeError,
      'slidingWindow: option "window" must be a number in (0, Infinity), received undefined',
    ],
    [
      'slidingWindow window range',
      () => slidingWindow({ limit: 5, window: 0 }),
      RangeError,
      'slidingWindow: option "window" must be a number in (0, Infinity), received 0',
    ],
    [
      'slidingWindow segments type',
      () => slidingWindow({ limit: 5, window: 1000, segments: '4' as never }),
      TypeError,
      'slidingWindow: option "segments" must be an integer in [1, 1000], received "4"',
    ],
    [
      'slidingWindow segments range',
      () => slidingWindow({ limit: 5, window: 1000, segments: 1001 }),
      RangeError,
      'slidingWindow: option "segments" must be an integer in [1, 1000], received 1001',
    ],
  ];
  for (const [label, build, Kind, message] of cases) {
    it(`rejects a bad ${label}`, () => {
      expect(build).toThrow(new Kind(message));
    });
  }
});
