import { type Clock, systemClock } from '@faultline/clock';
import {
  checkName,
  checkNumber,
  checkOptions,
  formatValue,
  identify,
  optionalClock,
  optionalFunction,
  optionalNumber,
  type PolicyIdentity,
  type Random,
} from '@faultline/core';
import { isLeaseStore, type LeaseStore } from './lease-store.js';

/** Options of {@link createLease}. */
export interface LeaseOptions {
  /** Where the lease is arbitrated: `memoryLeaseStore`, `redisLeaseStore`, `postgresLeaseStore`. Required. */
  readonly store: LeaseStore;
  /** The name of the thing the lease guards (a job, a partition, a leader role). Required, non-empty. */
  readonly resource: string;
  /**
   * How long a grant or renewal lasts on the store (ms, an integer ≥ 1). Required: it bounds both
   * how long a crashed holder blocks the others and how often a holder must renew.
   */
  readonly ttl: number;
  /**
   * The largest rate error between this process's clock and the store's (a fraction in [0, 1)).
   * Local validity counts only `ttl·(1 − maxDrift)`. Default 0.001 (quartz is ~0.0001; Chubby and
   * Redlock allow for about as much).
   */
  readonly maxDrift?: number;
  /**
   * Ms subtracted from the local validity for what it cannot see: the time the store took to
   * record the grant after the request left, and the time between a validity check and the action
   * it guards. Finite, ≥ 0, and less than `ttl·(1 − maxDrift)`. Default 100.
   */
  readonly safetyMargin?: number;
  /**
   * This holder's identity on the store (renew and release act only for it). Non-empty. Default a
   * random id per `createLease`: two leases never share an owner by accident.
   */
  readonly owner?: string;
  /**
   * The longest a store call (acquire, renew, release) may take (ms, > 0, `Infinity` for none).
   * Default: the local validity `ttl·(1 − maxDrift) − safetyMargin`, after which a grant or a
   * renewal is useless anyway.
   */
  readonly storeTimeout?: number;
  /**
   * While `acquire({ wait })` waits for a lease held elsewhere, the longest pause between two tries
   * (ms, > 0); each pause is jittered in [½, 1]× and never outlasts the holder's remaining lease
   * (the store's `retryAfter`). Default 500.
   */
  readonly retryInterval?: number;
  /** Default `systemClock` (monotonic). */
  readonly clock?: Clock;
  /** Jitter of the retry pauses. Default `Math.random`. */
  readonly random?: Random;
  /** Names the lease in telemetry (never the resource: that is unbounded). Default `'lease'`. */
  readonly name?: string;
}

/** Every default of {@link createLease}, the single source the README's table mirrors. */
export const LEASE_DEFAULTS = Object.freeze({
  maxDrift: 0.001,
  safetyMargin: 100,
  /** `undefined`: the local validity, `ttl·(1 − maxDrift) − safetyMargin`. */
  storeTimeout: undefined as number | undefined,
  retryInterval: 500,
  clock: systemClock as Clock,
  random: Math.random as Random,
  name: 'lease',
});

/** The options of {@link createLease}, validated and complete. */
export interface ResolvedLeaseOptions {
  readonly store: LeaseStore;
  readonly resource: string;
  readonly ttl: number;
  readonly maxDrift: number;
  readonly safetyMargin: number;
  readonly owner: string;
  readonly storeTimeout: number;
  readonly retryInterval: number;
  readonly clock: Clock;
  readonly random: Random;
  readonly identity: PolicyIdentity;
  /** `ttl·(1 − maxDrift) − safetyMargin`: how long a grant is locally valid after its request left. */
  readonly validity: number;
}

const OWNER = 'createLease';

/** A random owner id: `crypto.randomUUID` where the platform has it (Node ≥ 19, browsers, Deno). */
export function randomOwner(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}-${Math.random().toString(36).slice(2)}`;
}

/** The local validity of a grant of `ttl` ms (see {@link LeaseOptions.maxDrift}). */
export function localValidity(ttl: number, maxDrift: number, safetyMargin: number): number {
  // Chubby §2.8 / Redlock: the client's lease ends before the server's because the clock is read
  // before the request is sent, the rates may differ by maxDrift, and a margin covers the rest.
  return ttl * (1 - maxDrift) - safetyMargin;
}

/** Validates {@link LeaseOptions}; returns them complete. All of the lease's validation. */
export function resolveLeaseOptions(options?: unknown): ResolvedLeaseOptions {
  const opts = checkOptions<LeaseOptions>(OWNER, options);
  const d = LEASE_DEFAULTS;
  if (!isLeaseStore(opts.store)) {
    throw new TypeError(
      `${OWNER}: option "store" must be a LeaseStore (an object with acquire(), renew() and release()), received ${formatValue(opts.store)}`,
    );
  }
  const resource = checkName(OWNER, 'resource', opts.resource);
  const ttl = checkNumber(OWNER, 'ttl', opts.ttl, { min: 1, integer: true });
  const maxDrift = optionalNumber(OWNER, 'maxDrift', opts.maxDrift, d.maxDrift, {
    min: 0,
    max: 1,
    maxExclusive: true,
  });
  const safetyMargin = optionalNumber(OWNER, 'safetyMargin', opts.safetyMargin, d.safetyMargin, {
    min: 0,
  });
  const validity = localValidity(ttl, maxDrift, safetyMargin);
  if (!(validity > 0)) {
    throw new RangeError(
      `${OWNER}: option "safetyMargin" must be less than ttl·(1 − maxDrift) = ${ttl * (1 - maxDrift)} (the lease would never be valid), received ${formatValue(safetyMargin)}`,
    );
  }
  const owner = opts.owner === undefined ? randomOwner() : checkName(OWNER, 'owner', opts.owner);
  const storeTimeout = optionalNumber(OWNER, 'storeTimeout', opts.storeTimeout, validity, {
    min: 0,
    minExclusive: true,
    allowInfinity: true,
  });
  const retryInterval = optionalNumber(
    OWNER,
    'retryInterval',
    opts.retryInterval,
    d.retryInterval,
    { min: 0, minExclusive: true },
  );
  const clock = optionalClock(OWNER, 'clock', opts.clock);
  const random = optionalFunction<Random>(OWNER, 'random', opts.random, d.random);
  const identity = identify(OWNER, 'lease', opts.name);
  return {
    store: opts.store,
    resource,
    ttl,
    maxDrift,
    safetyMargin,
    owner,
    storeTimeout,
    retryInterval,
    clock,
    random,
    identity,
    validity,
  };
}
