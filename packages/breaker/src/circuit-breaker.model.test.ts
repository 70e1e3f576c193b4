/**
 * Model-based test: random sequences of admissions, successes, failures, slow calls, hanging
 * probes (permits never settled), aborts, isolation and clock moves, run against the breaker and
 * against a deliberately naive reference model written from the spec (it keeps every call record
 * and recomputes windows by filtering). States, admissions and retryAfter must agree.
 */
import { type Clock, systemClock } from '@faultline/clock';
import { fakeTimersClock, manualClock } from '@faultline/test-support/browser';
import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import { circuitBreaker } from './circuit-breaker.js';
import type { CircuitPermit } from './circuit-breaker-permit.js';
import { consecutiveFailures } from './consecutive-failures.js';
import { failureRate } from './failure-rate.js';
import type { CircuitState } from './snapshot.js';

type Trip =
  | { kind: 'consecutive'; n: number }
  | {
      kind: 'time';
      threshold: number;
      min: number;
      window: number;
      buckets: number;
      slow: { duration: number; threshold: number } | undefined;
    }
  | {
      kind: 'count';
      threshold: number;
      min: number;
      calls: number;
      slow: { duration: number; threshold: number } | undefined;
    };

interface Config {
  trip: Trip;
  probes: number;
  breakKind: 'fixed' | 'grow';
}

interface Rec {
  t: number;
  failed: boolean;
  slow: boolean;
}

/** The reference model: the spec, written as plainly as possible. */
class Model {
  state: CircuitState = 'closed';
  records: Rec[] = [];
  run = 0;
  attempt = 0;
  openedAt = 0;
  breakMs = 0;
  gen = 0;
  probesUsed = 0;
  probesOk = 0;
  roundStart: number | undefined;
  holders = 0;
  epoch = 0;
  newRounds = 0;

  constructor(readonly cfg: Config) {}

  breakFor(attempt: number): number {
    return this.cfg.breakKind === 'fixed' ? 500 : 300 * attempt;
  }

  slowLimit(): number | undefined {
    const trip = this.cfg.trip;
    return trip.kind === 'consecutive' ? undefined : trip.slow?.duration;
  }

  tick(now: number): void {
    if (this.state === 'open' && now - this.openedAt >= this.breakMs) {
      this.state = 'half-open';
      this.gen++;
      this.probesUsed = 0;
      this.probesOk = 0;
      this.roundStart = undefined;
    }
  }

  acquire(now: number): { gen: number } | { rejected: 'broken' | 'isolated'; retryAfter?: number } {
    if (this.state === 'isolated') return { rejected: 'isolated' };
    if (this.state === 'closed') return { gen: this.gen };
    this.tick(now);
    if (this.state === 'open') {
      return { rejected: 'broken', retryAfter: this.breakMs - (now - this.openedAt) };
    }
    if (this.probesUsed >= this.cfg.probes) {
      const start = this.roundStart!;
      if (now - start < this.breakMs) {
        return { rejected: 'broken', retryAfter: this.breakMs - (now - start) };
      }
      this.gen++;
      this.newRounds++;
      this.probesUsed = 0;
      this.probesOk = 0;
      this.roundStart = undefined;
    }
    if (this.roundStart === undefined) this.roundStart = now;
    this.probesUsed++;
    return { gen: this.gen };
  }

  trips(now: number): boolean {
    const trip = this.cfg.trip;
    const last = this.records[this.records.length - 1]!;
    if (trip.kind === 'consecutive') {
      this.run = last.failed ? this.run + 1 : 0;
      return this.run >= trip.n;
    }
    let inWindow: Rec[];
    if (trip.kind === 'time') {
      const width = trip.window / trip.buckets;
      const current = Math.floor(now / width);
      inWindow = this.records.filter((r) => Math.floor(r.t / width) > current - trip.buckets);
    } else {
      inWindow = this.records.slice(-trip.calls);
    }
    const calls = inWindow.length;
    if (calls < trip.min) return false;
    const failures = inWindow.filter((r) => r.failed).length;
    const slow = inWindow.filter((r) => r.slow).length;
    return (
      failures / calls >= trip.threshold ||
      (trip.slow !== undefined && slow / calls >= trip.slow.threshold)
    );
  }

  settle(gen: number, kind: 'ok' | 'fail' | 'ignore', duration: number, now: number): void {
    if (gen !== this.gen) return;
    if (kind === 'ignore') {
      if (this.state === 'half-open') this.probesUsed--;
      return;
    }
    const limit = this.slowLimit();
    const failed = kind === 'fail';
    const slow = limit !== undefined && duration > limit;
    if (this.state === 'closed') {
      this.records.push({ t: now, failed, slow });
      if (this.trips(now)) this.open(now);
    } else if (this.state === 'half-open') {
      if (failed || slow) this.open(now);
      else if (++this.probesOk >= this.cfg.probes) this.close();
    }
  }

  open(now: number): void {
    this.attempt++;
    this.breakMs = this.breakFor(this.attempt);
    this.openedAt = now;
    this.state = 'open';
    this.gen++;
  }

  close(): void {
    this.records = [];
    this.run = 0;
    this.attempt = 0;
    this.state = 'closed';
    this.gen++;
  }

  isolate(): number {
    this.holders++;
    if (this.state !== 'isolated') {
      this.state = 'isolated';
      this.gen++;
    }
    return this.epoch;
  }

  release(epoch: number): void {
    if (epoch !== this.epoch) return;
    if (--this.holders === 0) this.close();
  }

  forceClose(): void {
    this.epoch++;
    this.holders = 0;
    if (this.state !== 'closed') this.close();
    else {
      this.records = [];
      this.run = 0;
    }
  }
}

type Command =
  | { type: 'acquire' }
  | { type: 'settle'; pick: number; kind: 'ok' | 'fail' | 'ignore'; duration: number }
  | { type: 'advance'; ms: number }
  | { type: 'isolate' }
  | { type: 'release'; pick: number }
  | { type: 'close' }
  | { type: 'observe' };

const slowArb = fc.option(
  fc.record({ duration: fc.constant(100), threshold: fc.constantFrom(0.5, 1) }),
  { nil: undefined },
);

const tripArb: fc.Arbitrary<Trip> = fc.oneof(
  fc.record({ kind: fc.constant('consecutive' as const), n: fc.integer({ min: 1, max: 4 }) }),
  fc.record({
    kind: fc.constant('time' as const),
    threshold: fc.constantFrom(0.25, 0.5, 0.6, 1),
    min: fc.integer({ min: 1, max: 5 }),
    window: fc.constantFrom(1000, 3000),
    buckets: fc.integer({ min: 1, max: 6 }),
    slow: slowArb,
  }),
  fc
    .record({
      kind: fc.constant('count' as const),
      threshold: fc.constantFrom(0.25, 0.5, 0.6, 1),
      calls: fc.integer({ min: 1, max: 6 }),
      min: fc.integer({ min: 1, max: 6 }),
      slow: slowArb,
    })
    .map((t) => ({ ...t, min: Math.min(t.min, t.calls) })),
);

const configArb: fc.Arbitrary<Config> = fc.record({
  trip: tripArb,
  probes: fc.integer({ min: 1, max: 3 }),
  breakKind: fc.constantFrom('fixed' as const, 'grow' as const),
});

const commandArb: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ type: 'acquire' as const }) },
  {
    weight: 8,
    arbitrary: fc.record({
      type: fc.constant('settle' as const),
      pick: fc.nat(),
      kind: fc.constantFrom('ok' as const, 'fail' as const, 'fail' as const, 'ignore' as const),
      duration: fc.constantFrom(0, 10, 100, 101, 5000),
    }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      type: fc.constant('advance' as const),
      ms: fc.oneof(
        fc.integer({ min: 0, max: 1500 }),
        // Exact multiples of the break durations and bucket widths hit the boundaries.
        fc.constantFrom(100, 250, 300, 500, 600, 1000),
        fc.constant(3_600_000),
        // Fractional readings (performance.now()): the break must end on the spec's predicate
        // `now - openedAt ≥ breakDuration`, which rounding can tell apart from a precomputed end.
        fc.double({ min: 0, max: 1500, noNaN: true }),
      ),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ type: 'isolate' as const }) },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('release' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ type: 'close' as const }) },
  { weight: 4, arbitrary: fc.constant({ type: 'observe' as const }) },
);

function build(cfg: Config, clock: Clock) {
  const trip =
    cfg.trip.kind === 'consecutive'
      ? consecutiveFailures(cfg.trip.n)
      : failureRate({
          threshold: cfg.trip.threshold,
          minimumThroughput: cfg.trip.min,
          window: cfg.trip.kind === 'time' ? cfg.trip.window : { calls: cfg.trip.calls },
          ...(cfg.trip.kind === 'time' ? { buckets: cfg.trip.buckets } : {}),
          ...(cfg.trip.slow === undefined ? {} : { slowCall: cfg.trip.slow }),
        });
  return circuitBreaker({
    trip,
    breakDuration: cfg.breakKind === 'fixed' ? 500 : ({ attempt }) => 300 * attempt,
    halfOpen: { probes: cfg.probes },
    clock,
  });
}

function runScenario(
  cfg: Config,
  commands: Command[],
  seen: Set<string>,
  clock: Clock & { t: number },
  breakerClock: Clock = clock,
): void {
  const breaker = build(cfg, breakerClock);
  const model = new Model(cfg);
  const inflight: Array<{ permit: CircuitPermit; gen: number }> = [];
  const handles: Array<{ release: () => void; epoch: number; done: boolean }> = [];
  let lastRetryAfter: number | undefined;
  breaker.onReject((e) => {
    lastRetryAfter = e.retryAfter;
    seen.add(e.state === 'isolated' ? 'reject:isolated' : 'reject:broken');
  });
  breaker.onStateChange((e) => seen.add(`${e.from}>${e.to}`));

  for (const [step, cmd] of commands.entries()) {
    const where = `step ${step} ${JSON.stringify(cmd)}`;
    switch (cmd.type) {
      case 'acquire': {
        lastRetryAfter = -1;
        const rounds = model.newRounds;
        const expected = model.acquire(clock.t);
        if (model.newRounds > rounds) seen.add('hung-probe-round');
        const permit = breaker.tryAcquire();
        if ('gen' in expected) {
          expect(permit, where).toBeDefined();
          inflight.push({ permit: permit!, gen: expected.gen });
        } else {
          expect(permit, where).toBeUndefined();
          expect(lastRetryAfter, where).toBe(expected.retryAfter);
        }
        break;
      }
      case 'settle': {
        if (inflight.length === 0) break;
        const [call] = inflight.splice(cmd.pick % inflight.length, 1);
        if (call!.gen !== model.gen) seen.add('stale-outcome');
        model.settle(call!.gen, cmd.kind, cmd.duration, clock.t);
        if (cmd.kind === 'ok') call!.permit.success(cmd.duration);
        else if (cmd.kind === 'fail') call!.permit.failure(cmd.duration);
        else call!.permit.ignore();
        break;
      }
      case 'advance':
        clock.t += cmd.ms;
        break;
      case 'isolate':
        handles.push({ release: breaker.isolate(), epoch: model.isolate(), done: false });
        break;
      case 'release': {
        const open = handles.filter((h) => !h.done);
        if (open.length === 0) break;
        const handle = open[cmd.pick % open.length]!;
        handle.done = true;
        model.release(handle.epoch);
        handle.release();
        break;
      }
      case 'close':
        model.forceClose();
        breaker.close();
        break;
      case 'observe':
        break;
    }
    if (cmd.type === 'observe') {
      // The state getter is exact at read time (it may move open → half-open by itself).
      model.tick(clock.t);
      expect(breaker.state, where).toBe(model.state);
    }
    // Never more probes in flight than configured (abandoned hung probes no longer count).
    if (model.state === 'half-open') {
      const probes = inflight.filter((c) => c.gen === model.gen).length;
      expect(probes, where).toBeLessThanOrEqual(cfg.probes);
    }
  }
  model.tick(clock.t);
  expect(breaker.state, 'final state').toBe(model.state);
}

describe('circuitBreaker against a reference model', () => {
  it('agrees on states, admissions and retryAfter for random call sequences', () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(
        configArb,
        fc.array(commandArb, { minLength: 10, maxLength: 150, size: 'max' }),
        (cfg, commands) => {
          runScenario(cfg, commands, seen, manualClock());
        },
      ),
      { numRuns: 400 },
    );
    // The generated scenarios exercise every transition, rejections and hung-probe rounds.
    for (const edge of [
      'closed>open',
      'open>half-open',
      'half-open>open',
      'half-open>closed',
      'closed>isolated',
      'open>isolated',
      'isolated>closed',
      'reject:broken',
      'reject:isolated',
      'hung-probe-round',
      'stale-outcome',
    ]) {
      expect([...seen].sort(), edge).toContain(edge);
    }
  });
});

describe('circuitBreaker on systemClock against the reference model', () => {
  // On systemClock a time window dates calls without reading the clock while its slice timer is
  // pending (RollingCounters.tick): with timers that fire on time, the model still agrees exactly.
  it('agrees with performance.now() and setTimeout faked', () => {
    fc.assert(
      fc.property(
        configArb,
        fc.array(commandArb, { minLength: 10, maxLength: 150, size: 'max' }),
        (cfg, commands) => {
          const clock = fakeTimersClock(systemClock);
          try {
            runScenario(cfg, commands, new Set(), clock, systemClock);
          } finally {
            vi.useRealTimers();
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
