import { VirtualClock } from '@faultline/clock';
import { type TelemetryEventRecord, type TelemetryRecord, telemetry } from '@faultline/core';
import { describe, expect, it } from 'vitest';
import { fenceGuard } from './fence.js';
import type { HeldLease } from './held-lease.js';
import { leaderElection } from './leader-election.js';
import { createLease } from './lease.js';
import { FencedOutError, LeaseExpiredError, LeaseReleasedError } from './lease-errors.js';
import { memoryLeaseStore } from './memory-store.js';
import { PausableClock } from './testing/clocks.js';

const TTL = 1000;
const RETRY = 200;

function candidate(
  name: string,
  clock: VirtualClock | PausableClock,
  store: ReturnType<typeof memoryLeaseStore>,
) {
  const log: string[] = [];
  let held: HeldLease | undefined;
  let electedAt: number | undefined;
  const lease = createLease({
    store,
    resource: 'leader',
    ttl: TTL,
    retryInterval: RETRY,
    clock,
    owner: name,
  });
  const election = leaderElection({
    lease,
    onElected: (h) => {
      held = h;
      electedAt = clock.now();
      log.push(`elected ${h.token}`);
    },
    onDemoted: (reason) => {
      log.push(`demoted ${(reason as Error).name}`);
    },
  });
  return {
    election,
    log,
    get held() {
      return held;
    },
    get electedAt() {
      return electedAt;
    },
  };
}

describe('leaderElection on VirtualClock', () => {
  it('one leader; a paused leader is replaced within ttl + one retry interval, then demoted and fenced', async () => {
    const clock = new VirtualClock();
    const store = memoryLeaseStore({ clock });
    const processA = new PausableClock(clock);
    const a = candidate('a', processA, store);
    const b = candidate('b', clock, store);
    a.election.start();
    await clock.advance(1);
    b.election.start();
    await clock.advance(5000);
    expect(a.log).toEqual(['elected 1']);
    expect(b.log).toEqual([]);
    expect(a.election.isLeader).toBe(true);
    expect(b.election.isLeader).toBe(false);

    const storage = fenceGuard();
    await storage.write(a.held!.token, () => {});
    const pausedAt = clock.now();
    processA.pause();
    await clock.advance(TTL + RETRY);
    // b leads no later than ttl + one retry interval after a stopped renewing.
    expect(b.log).toEqual(['elected 2']);
    expect(b.electedAt! - pausedAt).toBeLessThanOrEqual(TTL + RETRY);
    await storage.write(b.held!.token, () => {});

    processA.resume();
    expect(a.held!.signal.aborted).toBe(true);
    await clock.advance(1);
    expect(a.log).toEqual(['elected 1', 'demoted LeaseExpiredError']);
    expect(a.held!.signal.reason).toBeInstanceOf(LeaseExpiredError);
    expect(a.election.isLeader).toBe(false);
    // The old leader's late write is refused by the fence.
    await expect(storage.write(a.held!.token, () => {})).rejects.toBeInstanceOf(FencedOutError);

    // a campaigns again and stays a follower while b renews.
    await clock.advance(10_000);
    expect(a.log).toHaveLength(2);
    expect(b.election.isLeader).toBe(true);

    // b stops: it releases, and a takes over within a retry interval.
    await b.election.stop();
    expect(b.log).toEqual(['elected 2', 'demoted LeaseReleasedError']);
    const stoppedAt = clock.now();
    await clock.advance(RETRY);
    expect(a.log).toEqual(['elected 1', 'demoted LeaseExpiredError', 'elected 3']);
    expect(a.electedAt! - stoppedAt).toBeLessThanOrEqual(RETRY);

    await a.election.stop();
    expect(a.log.at(-1)).toBe('demoted LeaseReleasedError');
    expect(clock.pendingTimers).toBe(0);
  });

  it('stop() before election ends the campaign without a leader, timers cleared', async () => {
    const clock = new VirtualClock();
    const store = memoryLeaseStore({ clock });
    const holder = await createLease({ store, resource: 'leader', ttl: TTL, clock }).acquire();
    holder.keepAlive();
    const c = candidate('c', clock, store);
    c.election.start();
    c.election.start(); // idempotent
    await clock.advance(3000);
    await c.election.stop();
    expect(c.log).toEqual([]);
    await holder.release();
    expect(clock.pendingTimers).toBe(0);
  });

  it('keeps campaigning through store failures', async () => {
    const clock = new VirtualClock();
    const inner = memoryLeaseStore({ clock });
    let down = true;
    const store = {
      acquire: (r: string, o: string, t: number) =>
        down ? Promise.reject(new Error('down')) : inner.acquire(r, o, t),
      renew: inner.renew.bind(inner),
      release: inner.release.bind(inner),
    };
    const lease = createLease({ store, resource: 'leader', ttl: TTL, retryInterval: RETRY, clock });
    const elected: bigint[] = [];
    const election = leaderElection({
      lease,
      onElected: (held) => elected.push(held.token),
    }).start();
    await clock.advance(1000);
    expect(elected).toEqual([]);
    down = false;
    await clock.advance(RETRY);
    expect(elected).toEqual([1n]);
    await election.stop();
  });

  it('publishes leader-elected and leader-demoted with the reason', async () => {
    const records: TelemetryRecord[] = [];
    const unsubscribe = telemetry.subscribe((record) => records.push(record));
    try {
      const clock = new VirtualClock();
      const store = memoryLeaseStore({ clock });
      const lease = createLease({ store, resource: 'leader', ttl: TTL, clock });
      const election = leaderElection({ lease, name: 'scheduler' }).start();
      await clock.advance(10);
      await election.stop();
      const events = records
        .filter((r): r is TelemetryEventRecord => r.type === 'event')
        .filter((r) => r.policy.kind === 'leader-election')
        .map((r) => [r.event, r.policy.name, r.attributes?.reason]);
      expect(events).toEqual([
        ['leader-elected', 'scheduler', undefined],
        ['leader-demoted', 'scheduler', 'released'],
      ]);
    } finally {
      unsubscribe();
    }
  });

  it('validates its options', () => {
    const clock = new VirtualClock();
    const lease = createLease({
      store: memoryLeaseStore({ clock }),
      resource: 'r',
      ttl: 1000,
      clock,
    });
    expect(() => leaderElection({} as never)).toThrow(
      /leaderElection: option "lease" must be a Lease/,
    );
    expect(() => leaderElection({ lease, onElected: 1 as never })).toThrow(TypeError);
    expect(() => leaderElection({ lease, onDemoted: 'x' as never })).toThrow(TypeError);
    expect(() => leaderElection({ lease, name: '' })).toThrow(RangeError);
    expect(() => leaderElection({ lease, keepAlive: 5 as never })).toThrow(TypeError);
    expect(LeaseReleasedError).toBeDefined();
  });
});

describe('state gauges', () => {
  it('lease and election register their states with telemetry', async () => {
    const clock = new VirtualClock();
    const store = memoryLeaseStore({ clock });
    const lease = createLease({ store, resource: 'leader', ttl: TTL, clock, name: 'gauge-lease' });
    const election = leaderElection({ lease, name: 'gauge-election' });
    const read = (name: string) =>
      telemetry.stateSources().find((source) => source.policy.name === name);
    expect(read('gauge-lease')).toEqual({
      policy: { kind: 'lease', name: 'gauge-lease' },
      states: ['free', 'held'],
      state: 'free',
    });
    expect(read('gauge-election')?.state).toBe('stopped');
    election.start();
    await clock.advance(1);
    expect(lease.state).toBe('held');
    expect(election.state).toBe('leader');
    expect(read('gauge-election')).toEqual({
      policy: { kind: 'leader-election', name: 'gauge-election' },
      states: ['stopped', 'follower', 'leader'],
      state: 'leader',
    });
    await election.stop();
    expect(lease.state).toBe('free');
    expect(election.state).toBe('stopped');
  });
});
