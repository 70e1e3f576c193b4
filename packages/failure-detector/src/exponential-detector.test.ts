import { type Clock, VirtualClock } from '@faultline/clock';
import { describe, expect, it } from 'vitest';
import { ExponentialDetector } from './exponential-detector.js';
import type { ExponentialDetectorOptions } from './exponential-detector-options.js';

async function at(clock: VirtualClock, t: number): Promise<void> {
  await clock.advance(t - clock.now());
}

describe('ExponentialDetector', () => {
  it('has the documented defaults', () => {
    const detector = new ExponentialDetector();
    expect(detector.threshold).toBe(8);
    expect(detector.maxSampleSize).toBe(1000);
    expect(detector.initialInterval).toBe(1000);
    expect(detector.maxInterval).toBe(10_000);
    expect(new ExponentialDetector({ initialInterval: 2000 }).maxInterval).toBe(20_000);
  });

  it("matches Cassandra's ArrivalWindowTest (window of 4; arrivals every 111 ms)", async () => {
    // Cassandra: ArrivalWindow(4), add(111 ms) … add(555 ms); phi(666 ms) = 1.0 and
    // phi(3000 ms) = 22.03 in units of the mean (ArrivalWindow.phi = t / mean); the detector then
    // multiplies by PHI_FACTOR = 1 / ln 10 (older Cassandra tests: 0.4342 and 9.566).
    const clock = new VirtualClock();
    const detector = new ExponentialDetector({ clock, maxSampleSize: 4, initialInterval: 2000 });
    for (const t of [111, 222, 333, 444, 555]) {
      await at(clock, t);
      detector.heartbeat();
    }
    expect(detector.history.values()).toEqual([111, 111, 111, 111]); // the 2 s seed has left
    await at(clock, 666);
    expect(detector.phi() * Math.LN10).toBeCloseTo(1.0, 2);
    // biome-ignore lint/suspicious/noApproximativeNumericConstant: Cassandra's test value.
    expect(detector.phi()).toBeCloseTo(0.4342, 3);
    await at(clock, 3000);
    expect(detector.phi() * Math.LN10).toBeCloseTo(22.03, 2);
    expect(detector.phi()).toBeCloseTo(9.566, 3);
  });

  it('is 0 before the first heartbeat, then Δ / (mean · ln 10) with the seeded interval', async () => {
    const clock = new VirtualClock();
    const detector = new ExponentialDetector({ clock, initialInterval: 500 });
    expect(detector.phi()).toBe(0);
    expect(detector.isAvailable()).toBe(true);
    expect(detector.isMonitoring).toBe(false);
    expect(detector.timeUntilUnavailable()).toBe(Number.POSITIVE_INFINITY);
    detector.heartbeat();
    expect(detector.isMonitoring).toBe(true);
    expect(detector.history.values()).toEqual([500]);
    await clock.advance(1000);
    expect(detector.phi()).toBeCloseTo(1000 / (500 * Math.LN10), 12);
  });

  it('does not learn intervals longer than maxInterval, but moves the timestamp', async () => {
    const clock = new VirtualClock();
    const detector = new ExponentialDetector({ clock, initialInterval: 100, maxInterval: 1000 });
    detector.heartbeat();
    await clock.advance(200);
    detector.heartbeat();
    await clock.advance(1000);
    detector.heartbeat(); // exactly maxInterval: learned
    await clock.advance(20_000); // phi = 20000 / (433 · ln 10) ≈ 20
    expect(detector.isAvailable()).toBe(false);
    detector.heartbeat(); // too long: ignored
    expect(detector.history.values()).toEqual([100, 200, 1000]);
    expect(detector.phi()).toBe(0);
    expect(detector.isAvailable()).toBe(true);
  });

  it('keeps the last maxSampleSize intervals', async () => {
    const clock = new VirtualClock();
    const detector = new ExponentialDetector({ clock, maxSampleSize: 2 });
    detector.heartbeat();
    for (const interval of [900, 1100, 1200]) {
      await clock.advance(interval);
      detector.heartbeat();
    }
    expect(detector.history.values()).toEqual([1100, 1200]);
  });

  it('timeUntilUnavailable = threshold · mean · ln 10 - Δ, agreeing with phi to 1 ms', async () => {
    const clock = new VirtualClock();
    const detector = new ExponentialDetector({ clock, threshold: 2 });
    detector.heartbeat();
    await clock.advance(1000);
    expect(detector.timeUntilUnavailable()).toBeCloseTo(2 * 1000 * Math.LN10 - 1000, 9);
    const left = detector.timeUntilUnavailable();
    await clock.advance(left - 1);
    expect(detector.isAvailable()).toBe(true);
    await clock.advance(1);
    expect(detector.isAvailable()).toBe(false);
    expect(detector.timeUntilUnavailable()).toBe(0);
  });

  it('a window of zero-length intervals suspects only a silence', async () => {
    const clock = new VirtualClock();
    const detector = new ExponentialDetector({ clock, maxSampleSize: 1 });
    detector.heartbeat();
    detector.heartbeat(); // interval 0
    expect(detector.phi()).toBe(0);
    await clock.advance(1);
    expect(detector.phi()).toBe(Number.POSITIVE_INFINITY);
  });

  describe('option validation', () => {
    const bad: Array<[keyof ExponentialDetectorOptions, unknown, unknown]> = [
      ['threshold', '8', 0],
      ['maxSampleSize', true, 0],
      ['initialInterval', '1s', 0],
      ['maxInterval', [], -5],
    ];
    for (const [option, wrongType, outOfRange] of bad) {
      it(`${option}: TypeError for a wrong type, RangeError out of range`, () => {
        expect(() => new ExponentialDetector({ [option]: wrongType })).toThrow(TypeError);
        expect(() => new ExponentialDetector({ [option]: outOfRange })).toThrow(RangeError);
        expect(() => new ExponentialDetector({ [option]: outOfRange })).toThrow(
          new RegExp(`ExponentialDetector: option "${option}" must be .* received ${outOfRange}`),
        );
        expect(() => new ExponentialDetector({ [option]: Number.POSITIVE_INFINITY })).toThrow(
          RangeError,
        );
      });
    }
    it('maxSampleSize must be an integer; clock must be a Clock; options an object', () => {
      expect(() => new ExponentialDetector({ maxSampleSize: 1.5 })).toThrow(RangeError);
      expect(() => new ExponentialDetector({ maxSampleSize: 10_001 })).toThrow(
        /ExponentialDetector: option "maxSampleSize" must be an integer in \[1, 10000\]/,
      );
      expect(() => new ExponentialDetector({ clock: 'now' as unknown as Clock })).toThrow(
        TypeError,
      );
      expect(() => new ExponentialDetector([] as unknown as ExponentialDetectorOptions)).toThrow(
        TypeError,
      );
    });
  });
});
