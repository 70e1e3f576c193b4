import { describe, expect, it } from 'vitest';
import { consecutiveFailures } from './consecutive-failures.js';
import { checkPermitDuration, checkTrip } from './internal.js';

describe('@faultline/breaker/internal', () => {
  it('checkTrip returns a trip strategy and names the owner when rejecting anything else', () => {
    const trip = consecutiveFailures(3);
    expect(checkTrip('fleetBreaker', trip)).toBe(trip);
    for (const value of [undefined, null, 3, { create() {} }]) {
      expect(() => checkTrip('fleetBreaker', value)).toThrow(TypeError);
      expect(() => checkTrip('fleetBreaker', value)).toThrow(
        /^fleetBreaker: option "trip" must be a trip strategy \(consecutiveFailures\(n\) or failureRate\(\{\.\.\.\}\)\), received /,
      );
    }
  });

  it('checkPermitDuration: [0, Infinity]; RangeError below, TypeError for NaN and non-numbers', () => {
    for (const ok of [0, 12.5, Number.POSITIVE_INFINITY]) {
      expect(() => checkPermitDuration('FleetCircuitPermit', ok)).not.toThrow();
    }
    expect(() => checkPermitDuration('FleetCircuitPermit', -1)).toThrow(
      new RangeError(
        'FleetCircuitPermit: durationMs must be a number in [0, Infinity], received -1',
      ),
    );
    expect(() => checkPermitDuration('FleetCircuitPermit', Number.NaN)).toThrow(TypeError);
    expect(() => checkPermitDuration('FleetCircuitPermit', '5')).toThrow(TypeError);
  });
});
