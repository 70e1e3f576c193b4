import { describe, expect, it } from 'vitest';
import { aimd } from './aimd.js';
import { concurrencyLimit } from './concurrency-limit.js';
import {
  CONCURRENCY_LIMIT_DEFAULTS,
  resolveConcurrencyLimitOptions,
} from './concurrency-limit-options.js';
import { fixed } from './fixed.js';
import { gradient2 } from './gradient2.js';
import { vegas } from './vegas.js';

describe('concurrencyLimit options', () => {
  it('applies the documented defaults', () => {
    const resolved = resolveConcurrencyLimitOptions({ limit: fixed(1) });
    expect(resolved.queue).toEqual({ size: 0, timeout: Infinity });
    expect(resolved.shouldHandle).toBe(CONCURRENCY_LIMIT_DEFAULTS.shouldHandle);
    expect(concurrencyLimit({ limit: fixed(1) }).name).toBe('concurrency-limit');
    expect(Object.isFrozen(CONCURRENCY_LIMIT_DEFAULTS)).toBe(true);
    expect(resolveConcurrencyLimitOptions({ limit: fixed(1), queue: { size: 3 } }).queue).toEqual({
      size: 3,
      timeout: Infinity,
    });
  });

  const cases: Array<[string, () => unknown, ErrorConstructor, string]> = [
    [
      'options',
      () => concurrencyLimit(undefined as never),
      TypeError,
      'concurrencyLimit: options must be an object with a "limit" (aimd, vegas, gradient2 or fixed), received undefined',
    ],
    [
      'limit',
      () => concurrencyLimit({ limit: 10 as never }),
      TypeError,
      'concurrencyLimit: option "limit" must be a limit algorithm (aimd(), vegas(), gradient2() or fixed(n)), received 10',
    ],
    [
      'queue type',
      () => concurrencyLimit({ limit: fixed(1), queue: 5 as never }),
      TypeError,
      'concurrencyLimit: option "queue": options must be an object, received 5',
    ],
    [
      'queue.size type',
      () => concurrencyLimit({ limit: fixed(1), queue: { size: '5' as never } }),
      TypeError,
      'concurrencyLimit: option "queue.size" must be an integer in [0, Infinity], received "5"',
    ],
    [
      'queue.size range',
      () => concurrencyLimit({ limit: fixed(1), queue: { size: -1 } }),
      RangeError,
      'concurrencyLimit: option "queue.size" must be an integer in [0, Infinity], received -1',
    ],
    [
      'queue.timeout type',
      () => concurrencyLimit({ limit: fixed(1), queue: { size: 1, timeout: '1s' as never } }),
      TypeError,
      'concurrencyLimit: option "queue.timeout" must be a number in (0, Infinity], received "1s"',
    ],
    [
      'queue.timeout range',
      () => concurrencyLimit({ limit: fixed(1), queue: { size: 1, timeout: 0 } }),
      RangeError,
      'concurrencyLimit: option "queue.timeout" must be a number in (0, Infinity], received 0',
    ],
    [
      'shouldHandle type',
      () => concurrencyLimit({ limit: fixed(1), shouldHandle: true as never }),
      TypeError,
      'concurrencyLimit: option "shouldHandle" must be a function, received true',
    ],
    [
      'clock type',
      () => concurrencyLimit({ limit: fixed(1), clock: {} as never }),
      TypeError,
      'concurrencyLimit: option "clock" must be a Clock (an object with now(), sleep() and setTimer()), received {}',
    ],
    [
      'name type',
      () => concurrencyLimit({ limit: fixed(1), name: 1 as never }),
      TypeError,
      'concurrencyLimit: option "name" must be a string, received 1',
    ],
    [
      'name range',
      () => concurrencyLimit({ limit: fixed(1), name: '' }),
      RangeError,
      'concurrencyLimit: option "name" must be a non-empty string, received ""',
    ],
    [
      'fixed type',
      () => fixed('3' as never),
      TypeError,
      'fixed: argument "n" must be an integer in [1, Infinity), received "3"',
    ],
    [
      'fixed range',
      () => fixed(0),
      RangeError,
      'fixed: argument "n" must be an integer in [1, Infinity), received 0',
    ],
    [
      'aimd options',
      () => aimd(7 as never),
      TypeError,
      'aimd: options must be an object, received 7',
    ],
    [
      'aimd initial type',
      () => aimd({ initial: '1' as never }),
      TypeError,
      'aimd: option "initial" must be an integer in [1, Infinity), received "1"',
    ],
    [
      'aimd initial range',
      () => aimd({ initial: 0 }),
      RangeError,
      'aimd: option "initial" must be an integer in [1, Infinity), received 0',
    ],
    [
      'aimd min type',
      () => aimd({ min: null as never }),
      TypeError,
      'aimd: option "min" must be an integer in [1, Infinity), received null',
    ],
    [
      'aimd min range',
      () => aimd({ min: 1.5 }),
      RangeError,
      'aimd: option "min" must be an integer in [1, Infinity), received 1.5',
    ],
    [
      'aimd max type',
      () => aimd({ max: '9' as never }),
      TypeError,
      'aimd: option "max" must be an integer in [20, Infinity), received "9"',
    ],
    [
      'aimd max range',
      () => aimd({ max: 10 }),
      RangeError,
      'aimd: option "max" must be an integer in [20, Infinity), received 10',
    ],
    [
      'aimd backoffRatio type',
      () => aimd({ backoffRatio: '0.9' as never }),
      TypeError,
      'aimd: option "backoffRatio" must be a number in [0.5, 1), received "0.9"',
    ],
    [
      'aimd backoffRatio range',
      () => aimd({ backoffRatio: 1 }),
      RangeError,
      'aimd: option "backoffRatio" must be a number in [0.5, 1), received 1',
    ],
    [
      'aimd timeout type',
      () => aimd({ timeout: '5s' as never }),
      TypeError,
      'aimd: option "timeout" must be a number in (0, Infinity], received "5s"',
    ],
    [
      'aimd timeout range',
      () => aimd({ timeout: 0 }),
      RangeError,
      'aimd: option "timeout" must be a number in (0, Infinity], received 0',
    ],
    [
      'vegas initial type',
      () => vegas({ initial: [] as never }),
      TypeError,
      'vegas: option "initial" must be an integer in [1, Infinity), received []',
    ],
    [
      'vegas initial range',
      () => vegas({ initial: -3 }),
      RangeError,
      'vegas: option "initial" must be an integer in [1, Infinity), received -3',
    ],
    [
      'vegas max type',
      () => vegas({ max: '1' as never }),
      TypeError,
      'vegas: option "max" must be an integer in [1, Infinity), received "1"',
    ],
    [
      'vegas max range',
      () => vegas({ max: 0 }),
      RangeError,
      'vegas: option "max" must be an integer in [1, Infinity), received 0',
    ],
    [
      'vegas smoothing type',
      () => vegas({ smoothing: '1' as never }),
      TypeError,
      'vegas: option "smoothing" must be a number in (0, 1], received "1"',
    ],
    [
      'vegas smoothing range',
      () => vegas({ smoothing: 0 }),
      RangeError,
      'vegas: option "smoothing" must be a number in (0, 1], received 0',
    ],
    [
      'vegas probeMultiplier type',
      () => vegas({ probeMultiplier: true as never }),
      TypeError,
      'vegas: option "probeMultiplier" must be an integer in [1, Infinity), received true',
    ],
    [
      'vegas probeMultiplier range',
      () => vegas({ probeMultiplier: 0 }),
      RangeError,
      'vegas: option "probeMultiplier" must be an integer in [1, Infinity), received 0',
    ],
    [
      'vegas alpha type',
      () => vegas({ alpha: '3' as never }),
      TypeError,
      'vegas: option "alpha" must be an integer in [0, Infinity), received "3"',
    ],
    [
      'vegas alpha range',
      () => vegas({ alpha: -1 }),
      RangeError,
      'vegas: option "alpha" must be an integer in [0, Infinity), received -1',
    ],
    [
      'vegas beta type',
      () => vegas({ beta: '6' as never }),
      TypeError,
      'vegas: option "beta" must be an integer in [0, Infinity), received "6"',
    ],
    [
      'vegas beta range',
      () => vegas({ alpha: 4, beta: 3 }),
      RangeError,
      'vegas: option "beta" must be an integer in [4, Infinity), received 3',
    ],
    [
      'vegas random type',
      () => vegas({ random: 0.5 as never }),
      TypeError,
      'vegas: option "random" must be a function, received 0.5',
    ],
    [
      'gradient2 initial type',
      () => gradient2({ initial: '20' as never }),
      TypeError,
      'gradient2: option "initial" must be an integer in [1, Infinity), received "20"',
    ],
    [
      'gradient2 initial range',
      () => gradient2({ initial: 0 }),
      RangeError,
      'gradient2: option "initial" must be an integer in [1, Infinity), received 0',
    ],
    [
      'gradient2 min type',
      () => gradient2({ min: '1' as never }),
      TypeError,
      'gradient2: option "min" must be an integer in [1, Infinity), received "1"',
    ],
    [
      'gradient2 min range',
      () => gradient2({ min: 0 }),
      RangeError,
      'gradient2: option "min" must be an integer in [1, Infinity), received 0',
    ],
    [
      'gradient2 max type',
      () => gradient2({ max: '1' as never }),
      TypeError,
      'gradient2: option "max" must be an integer in [20, Infinity), received "1"',
    ],
    [
      'gradient2 max range',
      () => gradient2({ min: 5, max: 4 }),
      RangeError,
      'gradient2: option "max" must be an integer in [5, Infinity), received 4',
    ],
    [
      'gradient2 smoothing type',
      () => gradient2({ smoothing: '0.2' as never }),
      TypeError,
      'gradient2: option "smoothing" must be a number in (0, 1], received "0.2"',
    ],
    [
      'gradient2 smoothing range',
      () => gradient2({ smoothing: 1.5 }),
      RangeError,
      'gradient2: option "smoothing" must be a number in (0, 1], received 1.5',
    ],
    [
      'gradient2 queueSize type',
      () => gradient2({ queueSize: '4' as never }),
      TypeError,
      'gradient2: option "queueSize" must be a number in [0, Infinity), received "4"',
    ],
    [
      'gradient2 queueSize range',
      () => gradient2({ queueSize: -1 }),
      RangeError,
      'gradient2: option "queueSize" must be a number in [0, Infinity), received -1',
    ],
    [
      'gradient2 longWindow type',
      () => gradient2({ longWindow: '600' as never }),
      TypeError,
      'gradient2: option "longWindow" must be an integer in [1, Infinity), received "600"',
    ],
    [
      'gradient2 longWindow range',
      () => gradient2({ longWindow: 0 }),
      RangeError,
      'gradient2: option "longWindow" must be an integer in [1, Infinity), received 0',
    ],
    [
      'gradient2 rttTolerance type',
      () => gradient2({ rttTolerance: '1.5' as never }),
      TypeError,
      'gradient2: option "rttTolerance" must be a number in [1, Infinity), received "1.5"',
    ],
    [
      'gradient2 rttTolerance range',
      () => gradient2({ rttTolerance: 0.9 }),
      RangeError,
      'gradient2: option "rttTolerance" must be a number in [1, Infinity), received 0.9',
    ],
  ];
  for (const [label, build, Kind, message] of cases) {
    it(`rejects a bad ${label}`, () => {
      expect(build).toThrow(new Kind(message));
    });
  }
});
