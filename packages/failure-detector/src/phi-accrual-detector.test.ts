import { type Clock, VirtualClock } from '@faultline/clock';
import { manualClock } from '@faultline/test-support/browser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { phi } from './phi.js';
import { PhiAccrualDetector } from './phi-accrual-detector.js';
import type { PhiAccrualDetectorOptions } from './phi-accrual-detector-options.js';

/** Moves a VirtualClock to the absolute time `t`. */
async function at(clock: VirtualClock, t: number): Promise<void> {
  await clock.advance(t - clock.now());
}

/** A heartbeat at each absolute time of `times`. */
async function heartbeatsAt(
  clock: VirtualClock,
  detector: PhiAccrualDetector,
  times: readonly number[],
): Promise<void> {
  for (const t of times) {
    await at(clock, t);
    detector.heartbeat();
  }
}

// Akka's AccrualFailureDetectorSpec builds its detectors with acceptable pause 0.
function akkaDetector(clock: Clock, options: PhiAccrualDetectorOptions = {}): PhiAccrualDetector {
  return new PhiAccrualDetector({ acceptableHeartbeatPause: 0, clock, ...options });
}

describe('PhiAccrualDetector: defaults and bootstrap', () => {
  it("has Akka's cluster defaults", () => {
    const detector = new PhiAccrualDetector();
    expect(detector.threshold).toBe(8);
    expect(detector.maxSampleSize).toBe(1000);
    expect(detector.minStdDeviation).toBe(100);
    expect(detector.acceptableHeartbeatPause).toBe(3000);
    expect(detector.firstHeartbeatEstimate).toBe(1000);
  });

  it('is healthy and not monitoring before the first heartbeat', () => {
    const clock = new VirtualClock();
    const detector = new PhiAccrualDetector({ clock });
    expect(detector.isMonitoring).toBe(false);
    expect(detector.phi()).toBe(0);
    expect(detector.isAvailable()).toBe(true);
    expect(detector.timeUntilUnavailable()).toBe(Number.POSITIVE_INFINITY);
    expect(detector.history.size).toBe(0);
  });

  it('seeds the history with est ± ⌊est/4⌋ on the first heartbeat (integer division as in Akka)', () => {
    const cases: Array<[number, number[]]> = [
      [1000, [750, 1250]],
      [1001, [751, 1251]],
      [10, [8, 12]],
      [3, [3, 3]],
      [1000.5, [750.5, 1250.5]],
    ];
    for (const [estimate, seeded] of cases) {
      const detector = new PhiAccrualDetector({
        firstHeartbeatEstimate: estimate,
        clock: new VirtualClock(),
      });
      detector.heartbeat();
      expect(detector.isMonitoring).toBe(true);
      expect(detector.history.values()).toEqual(seeded);
    }
  });

  it('returns phi based on the guess when only one heartbeat (Akka)', async () => {
    const clock = new VirtualClock();
    const detector = akkaDetector(clock, { firstHeartbeatEstimate: 1000 });
    detector.heartbeat();
    await at(clock, 1000);
    expect(Math.abs(detector.phi() - 0.3)).toBeLessThanOrEqual(0.2);
    await at(clock, 2000);
    expect(Math.abs(detector.phi() - 4.5)).toBeLessThanOrEqual(0.3);
    await at(clock, 3000);
    expect(detector.phi()).toBeGreaterThan(15);
  });

  it('returns phi using the first interval after the second heartbeat (Akka)', async () => {
    const clock = new VirtualClock();
    const detector = akkaDetector(clock);
    detector.heartbeat();
    await at(clock, 100);
    expect(detector.phi()).toBeGreaterThan(0);
    await at(clock, 200);
    detector.heartbeat();
    await at(clock, 300);
    expect(detector.phi()).toBeGreaterThan(0);
  });

  it('marks the node as monitored after a series of successful heartbeats (Akka)', async () => {
    const clock = new VirtualClock();
    const detector = akkaDetector(clock);
    expect(detector.isMonitoring).toBe(false);
    await heartbeatsAt(clock, detector, [0, 1000, 1100]);
    await at(clock, 1200);
    expect(detector.isMonitoring).toBe(true);
    expect(detector.isAvailable()).toBe(true);
  });
});

describe('PhiAccrualDetector: availability (Akka scenarios on VirtualClock)', () => {
  it('marks the node as dead if heartbeats are missed', async () => {
    const clock = new VirtualClock();
    const detector = akkaDetector(clock, { threshold: 3 });
    await heartbeatsAt(clock, detector, [0, 1000, 1100]);
    await at(clock, 1200);
    expect(detector.isAvailable()).toBe(true);
    await at(clock, 8200);
    expect(detector.isAvailable()).toBe(false);
  });

  it('marks the node available again when heartbeats resume after it was marked dead', async () => {
    const clock = new VirtualClock();
    const detector = akkaDetector(clock, { threshold: 8, acceptableHeartbeatPause: 3000 });
    for (let i = 0; i < 1000; i++) {
      await at(clock, i * 1000);
      detector.heartbeat();
    }
    const steps: Array<[number, 'heartbeat' | boolean]> = [
      [5 * 60 * 1000, false], // after the long pause
      [100, 'heartbeat'],
      [900, true],
      [100, 'heartbeat'],
      [7000, false], // after the 7 s pause
      [100, 'heartbeat'],
      [900, true],
      [100, 'heartbeat'],
      [900, true],
    ];
    for (const [delay, action] of steps) {
      await clock.advance(delay);
      if (action === 'heartbeat') detector.heartbeat();
      else expect(detector.isAvailable()).toBe(action);
    }
  });

  it('accepts some configured missing heartbeats', async () => {
    const clock = new VirtualClock();
    const detector = akkaDetector(clock, { acceptableHeartbeatPause: 3000 });
    await heartbeatsAt(clock, detector, [0, 1000, 2000, 3000]);
    await at(clock, 7000);
    expect(detector.isAvailable()).toBe(true);
    await at(clock, 8000);
    detector.heartbeat();
    await at(clock, 9000);
    expect(detector.isAvailable()).toBe(true);
  });

  it('fails after the configured acceptable missing heartbeats', async () => {
    const clock = new VirtualClock();
    const detector = akkaDetector(clock, { acceptableHeartbeatPause: 3000 });
    await heartbeatsAt(clock, detector, [0, 1000, 2000, 3000, 4000, 5000]);
    await at(clock, 5500);
    expect(detector.isAvailable()).toBe(true);
    await at(clock, 6000);
    detector.heartbeat();
    await at(clock, 11000);
    expect(detector.isAvailable()).toBe(false);
  });

  it('uses maxSampleSize heartbeats (Akka): phi becomes the same once old intervals are dropped', async () => {
    const clock = new VirtualClock();
    const detector = akkaDetector(clock, { maxSampleSize: 3 });
    await heartbeatsAt(clock, detector, [0, 100, 200, 300]);
    await at(clock, 400);
    const phi1 = detector.phi();
    await heartbeatsAt(clock, detector, [1000, 1500, 2000, 2500]);
    await at(clock, 3000);
    const phi2 = detector.phi();
    expect(Math.abs(phi2 - phi1)).toBeLessThanOrEqual(0.001);
  });
});

describe('PhiAccrualDetector: spec rules', () => {
  it('appends an interval only while the peer is available, but always updates the timestamp', async () => {
    const clock = new VirtualClock();
    const detector = new PhiAccrualDetector({ clock });
    for (let t = 0; t <= 5000; t += 1000) {
      await at(clock, t);
      detector.heartbeat();
    }
    const before = detector.history.values();
    expect(before).toEqual([750, 1250, 1000, 1000, 1000, 1000, 1000]);
    // A 60 s outage: the peer is unavailable when its next heartbeat arrives.
    await at(clock, 65_000);
    expect(detector.isAvailable()).toBe(false);
    detector.heartbeat();
    expect(detector.history.values()).toEqual(before); // the outage is not learned
    expect(detector.phi()).toBeCloseTo(phi(0, detector.history.mean + 3000, 250), 12); // Δ = 0
    expect(detector.isAvailable()).toBe(true);
    // The next regular heartbeat is learned again, measured from the un-learned one.
    await at(clock, 66_000);
    detector.heartbeat();
    expect(detector.history.values()).toEqual([...before, 1000]);
  });

  it('learns an interval that is late but still below the threshold', async () => {
    const clock = new VirtualClock();
    const detector = new PhiAccrualDetector({ clock });
    detector.heartbeat();
    await at(clock, 3900); // phi(3900, 1000 + 3000, 250) ≈ 0.2 < 8
    expect(detector.isAvailable()).toBe(true);
    detector.heartbeat();
    expect(detector.history.values()).toEqual([750, 1250, 3900]);
  });

  it('keeps the last maxSampleSize intervals', async () => {
    const clock = new VirtualClock();
    const detector = new PhiAccrualDetector({ clock, maxSampleSize: 3 });
    detector.heartbeat();
    expect(detector.history.values()).toEqual([750, 1250]);
    const intervals = [900, 1100, 950, 1050, 1000];
    for (const interval of intervals) {
      await clock.advance(interval);
      detector.heartbeat();
    }
    expect(detector.history.values()).toEqual([950, 1050, 1000]);
    expect(detector.history.mean).toBeCloseTo(1000, 12);
    expect(detector.history.variance).toBeCloseTo((50 * 50 + 50 * 50) / 3, 9);
  });

  it('uses σ = max(stdDeviation, minStdDeviation) and μ = mean + acceptableHeartbeatPause', async () => {
    const clock = new VirtualClock();
    const detector = new PhiAccrualDetector({
      clock,
      minStdDeviation: 50,
      acceptableHeartbeatPause: 200,
    });
    detector.heartbeat(); // [750, 1250]: σ = 250 > 50
    await clock.advance(1300);
    expect(detector.phi()).toBe(phi(1300, 1000 + 200, 250));
    const steady = new PhiAccrualDetector({ clock, minStdDeviation: 50, maxSampleSize: 2 });
    steady.heartbeat();
    for (let i = 0; i < 3; i++) {
      await clock.advance(1000);
      steady.heartbeat(); // the window becomes [1000, 1000]: σ = 0, floored to 50
    }
    await clock.advance(4100);
    expect(steady.phi()).toBe(phi(4100, 1000 + 3000, 50));
  });
});

describe('PhiAccrualDetector.timeUntilUnavailable', () => {
  it('agrees with scanning phi() forward, to 1 ms (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 5000 }), { minLength: 0, maxLength: 30 }),
        fc.double({ min: 0.5, max: 20, noNaN: true }),
        fc.integer({ min: 1, max: 500 }),
        fc.integer({ min: 0, max: 5000 }),
        fc.integer({ min: 0, max: 3000 }),
        (intervals, threshold, minStdDeviation, acceptableHeartbeatPause, waited) => {
          const clock = manualClock();
          const detector = new PhiAccrualDetector({
            clock,
            threshold,
            minStdDeviation,
            acceptableHeartbeatPause,
          });
          detector.heartbeat();
          for (const interval of intervals) {
            clock.t += interval;
            detector.heartbeat();
          }
          clock.t += waited;
          const predicted = detector.timeUntilUnavailable();
          const start = clock.t;
          let k = 0;
          while (detector.isAvailable()) {
            k++;
            clock.t = start + k;
          }
          // k is the first whole ms at which phi() >= threshold: the crossing is in (k - 1, k].
          expect(predicted).toBeGreaterThan(k - 1 - 1e-6);
          expect(predicted).toBeLessThanOrEqual(k + 1e-6);
          if (k === 0) expect(predicted).toBe(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('on a VirtualClock: available 1 ms before the predicted time, unavailable at it', async () => {
    const clock = new VirtualClock();
    const detector = new PhiAccrualDetector({ clock });
    for (let i = 0; i < 20; i++) {
      detector.heartbeat();
      await clock.advance(1000 + (i % 3) * 40);
    }
    const left = detector.timeUntilUnavailable();
    // phi = 8 at μ + 5.226·σ with μ = mean + 3000 and σ = max(sd, 100).
    expect(left).toBeGreaterThan(3000);
    await clock.advance(left - 1);
    expect(detector.isAvailable()).toBe(true);
    expect(detector.timeUntilUnavailable()).toBeCloseTo(1, 6);
    await clock.advance(1);
    expect(detector.phi()).toBeCloseTo(8, 6);
    await clock.advance(0.001);
    expect(detector.isAvailable()).toBe(false);
    expect(detector.timeUntilUnavailable()).toBe(0);
  });
});

describe('PhiAccrualDetector: edge cases', () => {
  it('maxSampleSize 1 keeps only the newest interval, seed included (as Akka)', () => {
    const clock = manualClock();
    const detector = new PhiAccrualDetector({ clock, maxSampleSize: 1 });
    detector.heartbeat();
    expect(detector.history.values()).toEqual([1250]);
    clock.t = 900;
    detector.heartbeat();
    expect(detector.history.values()).toEqual([900]);
    expect(detector.history.stdDeviation).toBe(0);
  });

  it('a clock that does not advance learns a 0 ms interval; zero variance is floored', () => {
    const clock = manualClock();
    const detector = new PhiAccrualDetector({ clock, maxSampleSize: 2, minStdDeviation: 100 });
    detector.heartbeat();
    detector.heartbeat();
    detector.heartbeat();
    expect(detector.history.values()).toEqual([0, 0]);
    // μ = 0 + 3000, σ = max(0, 100): finite phi, and a finite principled timeout.
    expect(detector.phi()).toBe(phi(0, 3000, 100));
    expect(Number.isFinite(detector.timeUntilUnavailable())).toBe(true);
    expect(detector.isAvailable()).toBe(true);
  });

  it('a huge silence gives a finite phi, is unavailable with 0 time left, and is not learned', () => {
    const clock = manualClock();
    const detector = new PhiAccrualDetector({ clock });
    detector.heartbeat();
    clock.t = 1e12;
    expect(Number.isFinite(detector.phi())).toBe(true);
    expect(detector.phi()).toBeGreaterThan(1e20);
    expect(detector.isAvailable()).toBe(false);
    expect(detector.timeUntilUnavailable()).toBe(0);
    detector.heartbeat(); // the outage is not an interval
    expect(detector.history.values()).toEqual([750, 1250]);
    expect(detector.phi()).toBe(phi(0, 4000, 250));
    expect(detector.isAvailable()).toBe(true);
  });
});

describe('PhiAccrualDetector: option validation', () => {
  const bad: Array<[keyof PhiAccrualDetectorOptions, unknown, unknown]> = [
    // [option, wrong type, out of range]
    ['threshold', '8', 0],
    ['maxSampleSize', '1000', 0],
    ['minStdDeviation', null, 0],
    ['acceptableHeartbeatPause', '3s', -1],
    ['firstHeartbeatEstimate', {}, 0],
  ];
  for (const [option, wrongType, outOfRange] of bad) {
    it(`${option}: TypeError for ${String(wrongType)}, RangeError for ${String(outOfRange)}`, () => {
      expect(() => new PhiAccrualDetector({ [option]: wrongType })).toThrow(TypeError);
      expect(() => new PhiAccrualDetector({ [option]: Number.NaN })).toThrow(TypeError);
      expect(() => new PhiAccrualDetector({ [option]: outOfRange })).toThrow(RangeError);
      expect(() => new PhiAccrualDetector({ [option]: Number.POSITIVE_INFINITY })).toThrow(
        RangeError,
      );
      expect(() => new PhiAccrualDetector({ [option]: outOfRange })).toThrow(
        new RegExp(`PhiAccrualDetector: option "${option}" must be .* received ${outOfRange}`),
      );
    });
  }

  it('maxSampleSize must be an integer in [1, 10 000]', () => {
    expect(() => new PhiAccrualDetector({ maxSampleSize: 10.5 })).toThrow(RangeError);
    expect(() => new PhiAccrualDetector({ maxSampleSize: 10_001 })).toThrow(
      /PhiAccrualDetector: option "maxSampleSize" must be an integer in \[1, 10000\], received 10001/,
    );
    expect(new PhiAccrualDetector({ maxSampleSize: 10_000 }).maxSampleSize).toBe(10_000);
  });

  it('accepts the boundary values', () => {
    expect(
      () => new PhiAccrualDetector({ acceptableHeartbeatPause: 0, maxSampleSize: 1 }),
    ).not.toThrow();
  });

  it('clock must be a Clock; options must be an object', () => {
    expect(() => new PhiAccrualDetector({ clock: {} as Clock })).toThrow(TypeError);
    expect(() => new PhiAccrualDetector({ clock: Date.now as unknown as Clock })).toThrow(
      /PhiAccrualDetector: option "clock" must be a Clock/,
    );
    expect(() => new PhiAccrualDetector(42 as unknown as PhiAccrualDetectorOptions)).toThrow(
      TypeError,
    );
  });
});
