import { systemClock, VirtualClock } from '@faultline/clock';
import { describe, expect, it } from 'vitest';
import { DetectorRegistry } from './detector-registry.js';
import {
  DETECTOR_REGISTRY_DEFAULTS,
  resolveDetectorRegistryOptions,
  resolveWatchOptions,
} from './detector-registry-options.js';
import { ExponentialDetector } from './exponential-detector.js';
import {
  EXPONENTIAL_DETECTOR_DEFAULTS,
  resolveExponentialDetectorOptions,
} from './exponential-detector-options.js';
import { HeartbeatMonitor } from './heartbeat-monitor.js';
import {
  HEARTBEAT_MONITOR_DEFAULTS,
  resolveHeartbeatMonitorOptions,
} from './heartbeat-monitor-options.js';
import { PhiAccrualDetector } from './phi-accrual-detector.js';
import {
  PHI_ACCRUAL_DETECTOR_DEFAULTS,
  resolvePhiAccrualDetectorOptions,
} from './phi-accrual-detector-options.js';

// Wrong-type and out-of-range cases for every option are in each class's own test file; these
// check the skeleton: frozen defaults, one resolve function the constructor calls.
describe('failure-detector: options', () => {
  it('PhiAccrualDetector: frozen defaults (Akka), resolved as the constructor sees them', () => {
    expect(Object.isFrozen(PHI_ACCRUAL_DETECTOR_DEFAULTS)).toBe(true);
    const { clock, ...rest } = resolvePhiAccrualDetectorOptions();
    expect(clock).toBe(systemClock);
    expect(rest).toEqual(PHI_ACCRUAL_DETECTOR_DEFAULTS);
    expect(new PhiAccrualDetector()).toMatchObject(PHI_ACCRUAL_DETECTOR_DEFAULTS);
  });

  it('ExponentialDetector: frozen defaults (Cassandra), maxInterval 10 × initialInterval', () => {
    expect(Object.isFrozen(EXPONENTIAL_DETECTOR_DEFAULTS)).toBe(true);
    expect(resolveExponentialDetectorOptions({ initialInterval: 500 })).toMatchObject({
      threshold: EXPONENTIAL_DETECTOR_DEFAULTS.threshold,
      maxSampleSize: EXPONENTIAL_DETECTOR_DEFAULTS.maxSampleSize,
      initialInterval: 500,
      maxInterval: 5000,
    });
    expect(new ExponentialDetector()).toMatchObject({ initialInterval: 1000, maxInterval: 10_000 });
  });

  it('DetectorRegistry: name and recoverRatio defaults; the watch options resolve alike', () => {
    expect(Object.isFrozen(DETECTOR_REGISTRY_DEFAULTS)).toBe(true);
    const factory = () => new PhiAccrualDetector();
    expect(resolveDetectorRegistryOptions(factory).name).toBe('failure-detector');
    expect(new DetectorRegistry(factory).name).toBe(DETECTOR_REGISTRY_DEFAULTS.name);
    expect(resolveWatchOptions({ interval: 10 })).toEqual({
      interval: 10,
      recoverRatio: DETECTOR_REGISTRY_DEFAULTS.recoverRatio,
    });
    expect(() => resolveDetectorRegistryOptions(factory, { name: 5 as never })).toThrow(TypeError);
    expect(() => resolveDetectorRegistryOptions(factory, { name: '' })).toThrow(RangeError);
    expect(() => resolveWatchOptions({ interval: 10, recoverRatio: '1' as never })).toThrow(
      TypeError,
    );
    expect(() => resolveWatchOptions({ interval: 10, recoverRatio: 0 })).toThrow(RangeError);
  });

  it('HeartbeatMonitor: interval, jitter, random defaults; timeout defaults to interval', () => {
    expect(Object.isFrozen(HEARTBEAT_MONITOR_DEFAULTS)).toBe(true);
    const clock = new VirtualClock();
    const registry = new DetectorRegistry(() => new PhiAccrualDetector({ clock }), { clock });
    const options = { targets: ['a'], probe: async () => {}, registry, clock };
    expect(resolveHeartbeatMonitorOptions(options)).toMatchObject({
      interval: HEARTBEAT_MONITOR_DEFAULTS.interval,
      timeout: HEARTBEAT_MONITOR_DEFAULTS.interval,
      jitter: HEARTBEAT_MONITOR_DEFAULTS.jitter,
      random: Math.random,
    });
    expect(new HeartbeatMonitor({ ...options, interval: 250 }).timeout).toBe(250);
    expect(() => resolveHeartbeatMonitorOptions({ ...options, targets: ['a', 'a'] })).toThrow(
      /option "targets" must not contain duplicates/,
    );
  });
});
