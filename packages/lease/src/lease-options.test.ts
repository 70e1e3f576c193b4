import { VirtualClock } from '@faultline/clock';
import { describe, expect, it } from 'vitest';
import { fenceGuard } from './fence.js';
import { createLease } from './lease.js';
import { LEASE_DEFAULTS, resolveLeaseOptions } from './lease-options.js';
import { memoryLeaseStore } from './memory-store.js';

type Case = readonly [option: string, value: unknown, error: typeof TypeError | typeof RangeError];

const clock = new VirtualClock();
const base = { store: memoryLeaseStore({ clock }), resource: 'r', ttl: 10_000, clock };

const cases: readonly Case[] = [
  ['store', undefined, TypeError],
  ['store', { acquire() {} }, TypeError],
  ['resource', undefined, TypeError],
  ['resource', 5, TypeError],
  ['resource', '', RangeError],
  ['ttl', undefined, TypeError],
  ['ttl', '10000', TypeError],
  ['ttl', 0, RangeError],
  ['ttl', 10.5, RangeError],
  ['ttl', Number.POSITIVE_INFINITY, RangeError],
  ['maxDrift', '0.01', TypeError],
  ['maxDrift', -0.1, RangeError],
  ['maxDrift', 1, RangeError],
  ['safetyMargin', null, TypeError],
  ['safetyMargin', -1, RangeError],
  ['safetyMargin', Number.POSITIVE_INFINITY, RangeError],
  ['safetyMargin', 9990, RangeError], // = ttl·(1 − maxDrift): never valid
  ['owner', 42, TypeError],
  ['owner', '', RangeError],
  ['storeTimeout', '1s', TypeError],
  ['storeTimeout', 0, RangeError],
  ['retryInterval', false, TypeError],
  ['retryInterval', 0, RangeError],
  ['clock', { now: () => 0 }, TypeError],
  ['random', 0.5, TypeError],
  ['name', 1, TypeError],
  ['name', '', RangeError],
];

describe('createLease options', () => {
  it.each(cases)('%s = %o is a %O naming the option', (option, value, error) => {
    const options = { ...base, [option]: value };
    expect(() => createLease(options as never)).toThrow(error);
    expect(() => createLease(options as never)).toThrow(
      new RegExp(`createLease: option "${option}"`),
    );
  });

  it('safetyMargin ≥ ttl·(1 − maxDrift) says why', () => {
    expect(() => createLease({ ...base, ttl: 1000, maxDrift: 0.5, safetyMargin: 500 })).toThrow(
      /option "safetyMargin" must be less than ttl·\(1 − maxDrift\) = 500 \(the lease would never be valid\), received 500/,
    );
    expect(() =>
      createLease({ ...base, ttl: 1000, maxDrift: 0.5, safetyMargin: 499 }),
    ).not.toThrow();
  });

  it('rejects options that are not an object', () => {
    expect(() => createLease(42 as never)).toThrow(/createLease: options must be an object/);
    expect(() => createLease(undefined as never)).toThrow(/option "store"/);
  });

  it('resolves the documented defaults', () => {
    const resolved = resolveLeaseOptions(base);
    expect(resolved).toMatchObject({
      maxDrift: LEASE_DEFAULTS.maxDrift,
      safetyMargin: LEASE_DEFAULTS.safetyMargin,
      retryInterval: LEASE_DEFAULTS.retryInterval,
      random: LEASE_DEFAULTS.random,
      validity: 10_000 * 0.999 - 100,
      storeTimeout: 10_000 * 0.999 - 100,
    });
    expect(resolved.identity).toEqual({ kind: 'lease', name: 'lease' });
    expect(resolved.owner).toMatch(/^[\w-]{8,}$/);
    expect(resolveLeaseOptions(base).owner).not.toBe(resolved.owner);
    expect(resolveLeaseOptions({ ...base, clock: undefined }).clock).toBe(LEASE_DEFAULTS.clock);
    expect(Object.isFrozen(LEASE_DEFAULTS)).toBe(true);
    expect(createLease({ ...base, storeTimeout: Number.POSITIVE_INFINITY }).describe()).toEqual({
      name: 'lease',
      options: {
        name: 'lease',
        resource: 'r',
        ttl: 10_000,
        maxDrift: 0.001,
        safetyMargin: 100,
        storeTimeout: Number.POSITIVE_INFINITY,
        retryInterval: 500,
      },
    });
  });

  it('acquire and run validate their own options', async () => {
    const lease = createLease(base);
    await expect(lease.acquire(5 as never)).rejects.toThrow(
      /Lease.acquire: options must be an object/,
    );
    await expect(lease.acquire({ wait: '1' as never })).rejects.toThrow(TypeError);
    await expect(lease.acquire({ wait: -1 })).rejects.toThrow(
      /Lease.acquire: option "wait" must be a number in \[0, Infinity\], received -1/,
    );
    await expect(lease.acquire({ signal: {} as never })).rejects.toThrow(
      /Lease.acquire: option "signal" must be an AbortSignal/,
    );
    await expect(lease.run(5 as never)).rejects.toThrow(
      /Lease.run: argument "fn" must be a function/,
    );
  });
});

describe('fenceGuard options and arguments', () => {
  it('validates', async () => {
    expect(() => fenceGuard(1 as never)).toThrow(/fenceGuard: options must be an object/);
    expect(() => fenceGuard({ name: '' })).toThrow(RangeError);
    expect(() => fenceGuard({ clock: {} as never })).toThrow(/fenceGuard: option "clock"/);
    const guard = fenceGuard();
    await expect(guard.write(1 as never, () => {})).rejects.toThrow(
      /FenceGuard.write: argument "token" must be a bigint fencing token, received 1/,
    );
    await expect(guard.read(1n, 5 as never)).rejects.toThrow(/FenceGuard.read: argument "fn"/);
  });
});
