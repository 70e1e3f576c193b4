import { VirtualClock } from '@faultline/clock';
import { named, pipeline, telemetry } from '@faultline/core';
import { telemetryRecorder } from '@faultline/test-support/browser';
import { describe, expect, it } from 'vitest';
import { timeout } from './timeout.js';
import { TimeoutError } from './timeout-errors.js';

const record = telemetryRecorder(telemetry);

describe('timeout telemetry', () => {
  it('takes a name (default the kind) and checks it', () => {
    expect(timeout(10).name).toBe('timeout');
    expect(timeout(10, { name: 'github' }).name).toBe('github');
    expect(() => timeout(10, { name: '' })).toThrow(RangeError);
    expect(() => timeout(10, { name: 3 as never })).toThrow(TypeError);
  });

  it('publishes a timeout record with the pipeline, the operation and the error', async () => {
    const clock = new VirtualClock();
    const records = record();
    const policy = timeout(100, { clock, name: 'per-attempt' });
    const call = named('github', pipeline(policy)).execute(() => new Promise(() => {}), {
      operation: 'GET /repos',
    });
    const settled = call.catch((e: unknown) => e);
    await clock.advance(100);
    const error = await settled;
    expect(error).toBeInstanceOf(TimeoutError);
    expect(records.filter((r) => r.type === 'event')).toEqual([
      {
        type: 'event',
        event: 'timeout',
        severity: 'warning',
        policy: { kind: 'timeout', name: 'per-attempt' },
        pipeline: 'github',
        operation: 'GET /repos',
        time: 100,
        error,
        attributes: { source: 'timeout' },
      },
    ]);
  });

  it('cooperative and already-spent budgets publish too; a caller abort does not', async () => {
    const clock = new VirtualClock();
    const records = record();
    const cooperative = timeout(50, { clock, strategy: 'cooperative' });
    const call = cooperative.execute(
      ({ signal }) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    );
    const settled = call.catch((e: unknown) => e);
    await clock.advance(50);
    expect(await settled).toBeInstanceOf(TimeoutError);
    await expect(timeout(0, { clock }).execute(() => 1)).rejects.toBeInstanceOf(TimeoutError);
    const caller = new AbortController();
    const aborted = timeout(1000, { clock })
      .execute(() => new Promise(() => {}), caller.signal)
      .catch((e: unknown) => e);
    caller.abort(new Error('gone'));
    await aborted;
    const events = records.filter((r) => r.type === 'event');
    expect(events.map((r) => r.type === 'event' && [r.event, r.attributes])).toEqual([
      ['timeout', { source: 'timeout' }],
      ['timeout', { source: 'timeout' }],
    ]);
  });
});
