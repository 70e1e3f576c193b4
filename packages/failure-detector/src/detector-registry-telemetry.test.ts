import { VirtualClock } from '@faultline/clock';
import { telemetry } from '@faultline/core';
import { telemetryRecorder } from '@faultline/test-support/browser';
import { describe, expect, it } from 'vitest';
import { DetectorRegistry } from './detector-registry.js';
import { StubDetector } from './stub-detector.cases.js';

const record = telemetryRecorder(telemetry);

describe('DetectorRegistry telemetry', () => {
  it('publishes peer-suspected and peer-recovered under its name, never with the key', () => {
    const records = record();
    const clock = new VirtualClock(42);
    const registry = new DetectorRegistry(() => new StubDetector(), { clock, name: 'cache-nodes' });
    expect(registry.name).toBe('cache-nodes');
    expect(new DetectorRegistry(() => new StubDetector()).name).toBe('failure-detector');
    expect(() => new DetectorRegistry(() => new StubDetector(), { name: '' })).toThrow(RangeError);
    registry.heartbeat('10.0.0.7:6379');
    const detector = registry.get('10.0.0.7:6379') as StubDetector;
    detector.level = 9;
    registry.evaluate();
    registry.evaluate(); // still a suspect: no second record
    detector.level = 1;
    registry.evaluate();
    // Both records are the registry's, at the clock's time, and carry phi alone.
    const published = (event: string, severity: string, phi: number) => ({
      type: 'event',
      event,
      severity,
      policy: { kind: 'failure-detector', name: 'cache-nodes' },
      pipeline: undefined,
      operation: undefined,
      time: 42,
      attributes: { phi },
    });
    expect(records).toEqual([
      published('peer-suspected', 'warning', 9),
      published('peer-recovered', 'information', 1),
    ]);
    expect(JSON.stringify(records)).not.toContain('10.0.0.7');
  });
});
