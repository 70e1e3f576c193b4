import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RttEstimator } from './rtt-estimator.js';

// A reference table computed by hand from RFC 6298 §2.2–2.3 (SRTT ← (1 − α)·SRTT + α·R',
// RTTVAR ← (1 − β)·RTTVAR + β·|SRTT − R'|, RTO = SRTT + max(G, K·RTTVAR)) with
// alpha = 1/8, beta = 1/4, K = 4, G = 1.
const SAMPLES = [100, 120, 80, 300, 90];
const TABLE = [
  { srtt: 100, rttvar: 50, rto: 300 },
  { srtt: 102.5, rttvar: 42.5, rto: 272.5 },
  { srtt: 99.6875, rttvar: 37.5, rto: 249.6875 },
  { srtt: 124.7265625, rttvar: 78.203125, rto: 437.5390625 },
  { srtt: 120.3857421875, rttvar: 67.333984375, rto: 389.7216796875 },
];

describe('RttEstimator (RFC 6298)', () => {
  it('matches the reference table with min 0', () => {
    const rtt = new RttEstimator({ min: 0 });
    expect(rtt.rto).toBe(1000); // RFC 6298 §2.1: 1 s before any sample
    expect(rtt.srtt).toBeNaN();
    SAMPLES.forEach((sample, i) => {
      rtt.observe(sample);
      expect({ srtt: rtt.srtt, rttvar: rtt.rttvar, rto: rtt.rto }).toEqual(TABLE[i]);
    });
  });

  it('matches the reference table with the RFC minimum of 1000 (only the RTO is clamped)', () => {
    const rtt = new RttEstimator();
    SAMPLES.forEach((sample, i) => {
      rtt.observe(sample);
      expect(rtt.srtt).toBe(TABLE[i]!.srtt);
      expect(rtt.rttvar).toBe(TABLE[i]!.rttvar);
      expect(rtt.rto).toBe(1000);
    });
  });

  it('backs off by doubling up to max (RFC 6298 §5.5)', () => {
    const rtt = new RttEstimator();
    const sequence = Array.from({ length: 8 }, () => rtt.backoff());
    expect(sequence).toEqual([2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });

  it('the next valid sample collapses the backoff', () => {
    const rtt = new RttEstimator({ min: 0 });
    rtt.observe(100);
    rtt.backoff();
    rtt.backoff();
    expect(rtt.rto).toBe(1200);
    rtt.observe(120);
    expect(rtt.rto).toBe(272.5);
  });

  it("Karn's rule: a timed-out attempt's sample is not observed and keeps the backed-off RTO", () => {
    const rtt = new RttEstimator({ min: 0 });
    rtt.observe(100);
    rtt.backoff(); // the attempt timed out at 300: RTO 600
    // Its (ambiguous) response arrives 700 ms after the first send: not a sample.
    expect(rtt.observeAttempt(700, true)).toBe(false);
    expect(rtt.samples).toBe(1);
    expect(rtt.srtt).toBe(100);
    expect(rtt.rto).toBe(600);
    // A later attempt that did not time out is a valid sample.
    expect(rtt.observeAttempt(120, false)).toBe(true);
    expect(rtt.rto).toBe(272.5);
  });

  it('uses the granularity G when K·RTTVAR is smaller', () => {
    const rtt = new RttEstimator({ min: 0, granularity: 10 });
    rtt.observe(100);
    for (let i = 0; i < 50; i++) rtt.observe(100); // RTTVAR decays towards 0
    expect(rtt.rto).toBeCloseTo(110, 6);
  });

  it('property: RTO stays within [min, max] and equals the formula', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.double({ min: 0, max: 1e6, noNaN: true }), fc.constant(-1)), {
          maxLength: 60,
        }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 0, max: 100_000 }),
        (events, min, extra) => {
          const max = min + extra;
          const rtt = new RttEstimator({ min, max, initial: min });
          for (const event of events) {
            if (event < 0) rtt.backoff();
            else rtt.observe(event);
            expect(rtt.rto).toBeGreaterThanOrEqual(min);
            expect(rtt.rto).toBeLessThanOrEqual(max);
            if (event >= 0) {
              const raw = rtt.srtt + Math.max(rtt.granularity, rtt.k * rtt.rttvar);
              expect(rtt.rto).toBe(Math.min(Math.max(raw, min), max));
            }
          }
        },
      ),
    );
  });

  it('validates every option: wrong type and out of range', () => {
    const cases: Array<[string, unknown, unknown]> = [
      ['alpha', 'x', 0],
      ['alpha', null, 1.5],
      ['beta', '1/4', -0.1],
      ['k', {}, -1],
      ['granularity', true, -1],
      ['min', '1s', -1],
      ['max', 'never', 500], // below the default min 1000
      ['initial', [], 100_000], // above the default max
    ];
    for (const [option, wrongType, outOfRange] of cases) {
      expect(() => new RttEstimator({ [option]: wrongType }), option).toThrow(TypeError);
      expect(() => new RttEstimator({ [option]: outOfRange }), option).toThrow(RangeError);
      expect(() => new RttEstimator({ [option]: outOfRange }), option).toThrow(
        new RegExp(`RttEstimator: option "${option}"`),
      );
    }
    expect(() => new RttEstimator('fast' as unknown as object)).toThrow(TypeError);
    const rtt = new RttEstimator();
    expect(() => rtt.observe(-5)).toThrow(RangeError);
    expect(() => rtt.observe(Number.NaN)).toThrow(TypeError);
  });
});
