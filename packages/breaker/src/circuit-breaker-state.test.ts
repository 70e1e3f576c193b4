/**
 * The state machine's reading rule: reading `state`, `toJSON()` or the telemetry gauge never
 * changes the state or fires anything (issue 15). The open → half-open transition is lazy and
 * happens on the next admission (`execute`, `tryAcquire`) or change by hand (`isolate`, `close`).
 */
import { VirtualClock } from '@faultline/clock';
import { telemetry } from '@faultline/core';
import { manualClock } from '@faultline/test-support/browser';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { circuitBreaker } from './circuit-breaker.js';
import type { CircuitPermit } from './circuit-breaker-permit.js';
import { consecutiveFailures } from './consecutive-failures.js';

type Command =
  | { type: 'acquire' }
  | { type: 'settle'; pick: number; kind: 'ok' | 'fail' | 'ignore' }
  | { type: 'advance'; ms: number }
  | { type: 'isolate' }
  | { type: 'release'; pick: number }
  | { type: 'close' };

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ type: 'acquire' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({
      type: fc.constant('settle' as const),
      pick: fc.nat(),
      kind: fc.constantFrom('ok' as const, 'fail' as const, 'ignore' as const),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      type: fc.constant('advance' as const),
      ms: fc.integer({ max: 700, min: 1 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ type: 'isolate' as const }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ type: 'close' as const }) },
);

/** Runs `commands` on a fresh breaker; with `read`, reads everything readable after each one. */
function run(commands: Command[], read: boolean): string[] {
  const clock = manualClock();
  const log: string[] = [];
  const breaker = circuitBreaker({
    trip: consecutiveFailures(2),
    breakDuration: 500,
    halfOpen: { probes: 2 },
    clock,
    wallClock: () => 0,
    onSnapshot: (s) => log.push(`snapshot:${JSON.stringify(s)}`),
  });
  breaker.onStateChange((e) => log.push(`${e.from}>${e.to}:${e.reason}`));
  breaker.onOpen((e) => log.push(`open:${JSON.stringify(e)}`));
  breaker.onHalfOpen((e) => log.push(`half-open:${e.reason}`));
  breaker.onClose((e) => log.push(`close:${e.reason}`));
  breaker.onReject((e) => log.push(`reject:${e.state}:${e.retryAfter}`));
  const inflight: CircuitPermit[] = [];
  const handles: Array<() => void> = [];
  for (const command of commands) {
    switch (command.type) {
      case 'acquire': {
        const permit = breaker.tryAcquire();
        log.push(permit === undefined ? 'rejected' : 'admitted');
        if (permit !== undefined) inflight.push(permit);
        break;
      }
      case 'settle': {
        if (inflight.length === 0) break;
        const [permit] = inflight.splice(command.pick % inflight.length, 1);
        if (command.kind === 'ok') permit!.success();
        else if (command.kind === 'fail') permit!.failure();
        else permit!.ignore();
        break;
      }
      case 'advance':
        clock.t += command.ms;
        break;
      case 'isolate':
        handles.push(breaker.isolate());
        break;
      case 'release':
        if (handles.length > 0) handles.splice(command.pick % handles.length, 1)[0]!();
        break;
      case 'close':
        breaker.close();
        break;
    }
    if (read) {
      // Everything a caller or a metrics exporter can read; none of it may leave a trace.
      log.push(`state:${breaker.state}`);
      void breaker.toJSON();
      void telemetry.stateSources();
    }
  }
  return log;
}

describe('circuit breaker state machine: reading is pure', () => {
  it('the same commands give the same admissions, events and snapshots with or without reads', () => {
    fc.assert(
      fc.property(fc.array(commandArb, { minLength: 5, maxLength: 80 }), (commands) => {
        const withReads = run(commands, true);
        expect(withReads.filter((line) => !line.startsWith('state:'))).toEqual(
          run(commands, false),
        );
      }),
      { numRuns: 300 },
    );
  });

  it('an elapsed break reads as half-open; the next call makes the transition', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ trip: consecutiveFailures(1), breakDuration: 100, clock });
    const log: string[] = [];
    breaker.onStateChange((e) => log.push(`${e.from}>${e.to}`));
    breaker.onHalfOpen(() => log.push('half-open'));
    await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
    await clock.advance(100);
    expect(breaker.state).toBe('half-open');
    expect(breaker.toJSON()).toMatchObject({ state: 'half-open', remainingBreak: 0, attempt: 1 });
    expect(log).toEqual(['closed>open']);
    await breaker.execute(() => 'probe');
    expect(log).toEqual(['closed>open', 'open>half-open', 'half-open', 'half-open>closed']);
  });

  it('isolate() and close() after an elapsed break start from half-open, as state reported', async () => {
    const clock = new VirtualClock();
    const breaker = circuitBreaker({ trip: consecutiveFailures(1), breakDuration: 100, clock });
    const log: string[] = [];
    breaker.onStateChange((e) => log.push(`${e.from}>${e.to}:${e.reason}`));
    await breaker.execute(() => Promise.reject(new Error('down'))).catch(() => {});
    await clock.advance(100);
    expect(breaker.state).toBe('half-open');
    breaker.isolate();
    breaker.close();
    expect(log).toEqual([
      'closed>open:failure-threshold',
      'open>half-open:break-elapsed',
      'half-open>isolated:isolated',
      'isolated>closed:closed-manually',
    ]);
  });

  it('a release handle from before close() is void, also across a new isolation', () => {
    const breaker = circuitBreaker({ trip: consecutiveFailures(1) });
    const first = breaker.isolate();
    breaker.close();
    const second = breaker.isolate();
    first();
    expect(breaker.state).toBe('isolated');
    second();
    expect(breaker.state).toBe('closed');
  });
});
