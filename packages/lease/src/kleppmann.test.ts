import { VirtualClock } from '@faultline/clock';
import { describe, expect, it } from 'vitest';
import { fenceGuard } from './fence.js';
import { createLease } from './lease.js';
import { FencedOutError, LeaseExpiredError } from './lease-errors.js';
import { isLeaseGrant } from './lease-store.js';
import { memoryLeaseStore } from './memory-store.js';
import { PausableClock } from './testing/clocks.js';

// Kleppmann, "How to do distributed locking" (2016), the figure "Using fencing tokens to make
// resource access safe": client 1 gets the lease with token 33, pauses (a stop-the-world GC)
// past the lease's expiry; client 2 gets it with token 34 and writes; client 1 wakes up and
// writes with token 33, which the storage rejects.
describe("Kleppmann's fencing figure, deterministic", () => {
  it('client 1 (token 33) pauses past its ttl; client 2 (token 34) writes; client 1 is aborted and fenced out', async () => {
    const clock = new VirtualClock();
    const store = memoryLeaseStore({ clock });
    // 32 earlier grants, so that the figure's tokens come out.
    for (let i = 0; i < 32; i++) {
      const grant = await store.acquire('file', 'earlier', 1000);
      if (!isLeaseGrant(grant)) throw new Error('unexpected');
      await store.release('file', 'earlier', grant.token);
    }
    const process1 = new PausableClock(clock);
    const client1 = createLease({ store, resource: 'file', ttl: 10_000, clock: process1 });
    const client2 = createLease({ store, resource: 'file', ttl: 10_000, clock });
    const storage = fenceGuard();
    const writes: string[] = [];

    const held1 = await client1.acquire();
    expect(held1.token).toBe(33n);
    expect(held1.remaining()).toBe(10_000 * 0.999 - 100);
    process1.pause(); // stop-the-world GC: client 1 runs nothing from here

    await clock.advance(10_000); // client 1's lease expires on the store
    const held2 = await client2.acquire();
    expect(held2.token).toBe(34n);
    await storage.write(held2.token, () => writes.push('client 2'));
    await clock.advance(5_000);

    process1.resume(); // GC over: client 1's overdue timers run first
    expect(held1.signal.aborted).toBe(true);
    expect(held1.signal.reason).toBeInstanceOf(LeaseExpiredError);
    expect((held1.signal.reason as Error).message).toMatch(/pause/);
    expect(held1.remaining()).toBe(0);
    // Client 1 writes anyway, as a client that checked its lease before the pause would.
    const late = storage.write(held1.token, () => writes.push('client 1'));
    await expect(late).rejects.toBeInstanceOf(FencedOutError);
    await expect(late).rejects.toMatchObject({ code: 'FENCED_OUT', token: 33n, highest: 34n });
    expect(writes).toEqual(['client 2']);
    expect(held2.signal.aborted).toBe(false);

    await held2.release();
    await held1.release();
    expect(clock.pendingTimers).toBe(0);
  });

  it('the check alone is the unsafe loop: without the fence, client 1 write would land', async () => {
    // The same schedule with a storage that does not check tokens: the stale write is accepted.
    const clock = new VirtualClock();
    const store = memoryLeaseStore({ clock });
    const process1 = new PausableClock(clock);
    const client1 = createLease({ store, resource: 'file', ttl: 1000, clock: process1 });
    const client2 = createLease({ store, resource: 'file', ttl: 1000, clock });
    const writes: bigint[] = [];
    const held1 = await client1.acquire();
    const valid = held1.remaining() > 0; // checked, then the pause hits before the write
    process1.pause();
    await clock.advance(1500);
    const held2 = await client2.acquire();
    writes.push(held2.token);
    process1.resume();
    if (valid) writes.push(held1.token); // the unfenced write happens
    expect(writes).toEqual([2n, 1n]);
    await held2.release();
  });
});
