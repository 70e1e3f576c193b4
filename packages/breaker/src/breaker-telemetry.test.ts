import { VirtualClock } from '@faultline/clock';
import { named, pipeline, type TelemetryRecord, telemetry } from '@faultline/core';
import { telemetryRecorder } from '@faultline/test-support/browser';
import { describe, expect, it } from 'vitest';
import { adaptiveThrottle } from './adaptive-throttle.js';
import { ThrottledError } from './adaptive-throttle-errors.js';
import { circuitBreaker } from './circuit-breaker.js';
import { BrokenCircuitError } from './circuit-breaker-errors.js';
import { consecutiveFailures } from './consecutive-failures.js';

const record = telemetryRecorder(telemetry);
const events = (records: TelemetryRecord[]) =>
  records.flatMap((r) => (r.type === 'event' ? [[r.event, r.severity, r.attributes]] : []));
const fail = () => Promise.reject(new TypeError('down'));
const gauge = (name: string) =>
  telemetry.stateSources().find((source) => source.policy.name === name)?.state;

describe('circuit breaker telemetry', () => {
  it('takes a name (default the kind) and checks it', () => {
    expect(circuitBreaker({ trip: consecutiveFailures(1) }).name).toBe('circuit-breaker');
    expect(circuitBreaker({ trip: consecutiveFailures(1), name: 'db' }).name).toBe('db');
    expect(() => circuitBreaker({ trip: consecutiveFailures(1), name: '' })).toThrow(RangeError);
  });

  it('publishes every transition and rejection; the gauge follows without moving the state', async () => {
    const clock = new VirtualClock();
    const records = record();
    const breaker = circuitBreaker({
      trip: consecutiveFailures(2),
      breakDuration: 1000,
      clock,
      name: 'payments',
    });
    const api = named('checkout', pipeline(breaker));
    expect(gauge('payments')).toBe('closed');
    await expect(api.execute(fail)).rejects.toThrow('down');
    await expect(api.execute(fail, { operation: 'charge' })).rejects.toThrow('down');
    expect(gauge('payments')).toBe('open');
    const rejected = await api.execute(() => 1).catch((e: unknown) => e);
    expect(rejected).toBeInstanceOf(BrokenCircuitError);
    await clock.advance(1000);
    // The gauge reads half-open once the break has elapsed, and reading it changes nothing.
    expect(gauge('payments')).toBe('half-open');
    expect(events(records).map(([name]) => name)).toEqual(['circuit-opened', 'circuit-rejected']);
    await expect(api.execute(() => 2)).resolves.toBe(2);
    expect(gauge('payments')).toBe('closed');
    const release = breaker.isolate();
    expect(gauge('payments')).toBe('isolated');
    await expect(breaker.execute(() => 3)).rejects.toThrow();
    release();
    expect(events(records)).toEqual([
      ['circuit-opened', 'error', { from: 'closed', reason: 'failure-threshold' }],
      ['circuit-rejected', 'warning', { state: 'open' }],
      ['circuit-half-opened', 'information', { from: 'open', reason: 'break-elapsed' }],
      ['circuit-closed', 'information', { from: 'half-open', reason: 'probes-succeeded' }],
      ['circuit-isolated', 'warning', { from: 'closed', reason: 'isolated' }],
      ['circuit-rejected', 'warning', { state: 'isolated' }],
      ['circuit-closed', 'information', { from: 'isolated', reason: 'released' }],
    ]);
    const opened = records.find((r) => r.type === 'event' && r.event === 'circuit-opened');
    expect(opened).toMatchObject({
      policy: { kind: 'circuit-breaker', name: 'payments' },
      pipeline: 'checkout',
      operation: 'charge',
    });
    const firstRejection = records.find(
      (r) => r.type === 'event' && r.event === 'circuit-rejected',
    );
    expect(firstRejection).toMatchObject({ error: rejected, pipeline: 'checkout' });
  });

  it('tryAcquire rejections are published too (without call labels)', async () => {
    const clock = new VirtualClock();
    const records = record();
    const breaker = circuitBreaker({ trip: consecutiveFailures(1), clock });
    breaker.tryAcquire()!.failure();
    expect(breaker.tryAcquire()).toBeUndefined();
    expect(events(records).map(([name]) => name)).toEqual(['circuit-opened', 'circuit-rejected']);
    expect(records[1]).toMatchObject({ pipeline: undefined, operation: undefined });
  });
});

describe('adaptive throttle telemetry', () => {
  it('publishes throttled with the probability; takes a name', async () => {
    const clock = new VirtualClock();
    const records = record();
    const throttle = adaptiveThrottle({ clock, random: () => 0, name: 'search' });
    expect(throttle.name).toBe('search');
    expect(adaptiveThrottle().name).toBe('adaptive-throttle');
    const overloaded = () => Promise.resolve(new Response(null, { status: 503 }));
    for (let i = 0; i < 3; i++) await throttle.execute(overloaded).catch(() => {});
    const throttled = records.filter((r) => r.type === 'event');
    expect(throttled.length).toBeGreaterThan(0);
    expect(throttled[0]).toMatchObject({
      event: 'throttled',
      severity: 'warning',
      policy: { kind: 'adaptive-throttle', name: 'search' },
      error: expect.any(ThrottledError),
      attributes: { probability: expect.any(Number) },
    });
  });
});
