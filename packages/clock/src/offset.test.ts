import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { estimateOffset, type OffsetSample } from './offset.js';

describe('estimateOffset (RFC 5905 §8)', () => {
  it('a worked example of θ = ((t2 − t1) + (t3 − t4)) / 2, δ = (t4 − t1) − (t3 − t2): t1 1000, t2 1045, t3 1047, t4 1014 → offset 39, delay 12', () => {
    expect(estimateOffset({ t1: 1000, t2: 1045, t3: 1047, t4: 1014 })).toEqual({
      offset: 39,
      delay: 12,
    });
  });

  it('the true offset lies within offset ± delay/2 for any path asymmetry', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -100_000, max: 100_000 }), // true offset: server minus client
        fc.integer({ min: 0, max: 1_000_000 }), // client send time
        fc.integer({ min: 0, max: 5_000 }), // request one-way delay
        fc.integer({ min: 0, max: 5_000 }), // server processing
        fc.integer({ min: 0, max: 5_000 }), // response one-way delay
        (theta, t1, up, processing, down) => {
          const t2 = t1 + up + theta;
          const t3 = t2 + processing;
          const t4 = t3 - theta + down;
          const { offset, delay } = estimateOffset({ t1, t2, t3, t4 });
          expect(delay).toBe(up + down);
          expect(Math.abs(offset - theta)).toBeLessThanOrEqual(delay / 2);
          if (up === down) expect(offset).toBe(theta);
        },
      ),
    );
  });

  it('validates every field: wrong type and out of range, naming it', () => {
    const good: OffsetSample = { t1: 1000, t2: 1045, t3: 1047, t4: 1014 };
    for (const key of ['t1', 't2', 't3', 't4'] as const) {
      expect(() => estimateOffset({ ...good, [key]: '5' })).toThrow(TypeError);
      expect(() => estimateOffset({ ...good, [key]: '5' })).toThrow(
        `estimateOffset: option "${key}"`,
      );
      expect(() => estimateOffset({ ...good, [key]: Number.POSITIVE_INFINITY })).toThrow(
        RangeError,
      );
      expect(() => estimateOffset({ ...good, [key]: Number.POSITIVE_INFINITY })).toThrow(
        `option "${key}"`,
      );
    }
    expect(() => estimateOffset({ ...good, t4: 999 })).toThrow(RangeError);
    expect(() => estimateOffset({ ...good, t4: 999 })).toThrow(
      /option "t4" must be >= t1 \(1000\)/,
    );
    expect(() => estimateOffset({ ...good, t3: 1044 })).toThrow(
      /option "t3" must be >= t2 \(1045\)/,
    );
    expect(() => estimateOffset(undefined as unknown as OffsetSample)).toThrow(TypeError);
    expect(() => estimateOffset(7 as unknown as OffsetSample)).toThrow(
      /estimateOffset: options must be an object/,
    );
  });
});
