import { formatValue, optionalNumber } from '@faultline/core';
import { type FleetStore, isFleetStore } from './store.js';

/** Options every fleet policy shares. */
export interface FleetSyncOptions {
  /**
   * How often (ms) the instance reconciles with the shared state in the background, in
   * [10, 60 000]. Default 250.
   */
  readonly sync?: number;
  /**
   * How long (ms) a store step may take before it counts as a failure and the instance falls
   * back to its local state, in (0, 60 000]. Default 100.
   */
  readonly storeTimeout?: number;
}

/** The shared defaults. */
export const FLEET_SYNC_DEFAULTS = Object.freeze({ sync: 250, storeTimeout: 100 } as const);

export function checkStore(owner: string, value: unknown): FleetStore {
  if (!isFleetStore(value)) {
    throw new TypeError(
      `${owner}: option "store" must be a FleetStore (redisFleetStore({ client }) or memoryFleetStore()), received ${formatValue(value)}`,
    );
  }
  return value;
}

export function checkSharedName(owner: string, value: unknown): string {
  if (typeof value !== 'string') {
    throw new TypeError(
      `${owner}: option "name" must be a string (the shared state's name), received ${formatValue(value)}`,
    );
  }
  if (value === '' || value.length > 200) {
    throw new RangeError(
      `${owner}: option "name" must be a non-empty string of at most 200 characters, received ${formatValue(value)}`,
    );
  }
  return value;
}

export function resolveSync(
  owner: string,
  opts: FleetSyncOptions,
): { sync: number; storeTimeout: number } {
  return {
    sync: optionalNumber(owner, 'sync', opts.sync, FLEET_SYNC_DEFAULTS.sync, {
      min: 10,
      max: 60_000,
    }),
    storeTimeout: optionalNumber(
      owner,
      'storeTimeout',
      opts.storeTimeout,
      FLEET_SYNC_DEFAULTS.storeTimeout,
      { min: 0, minExclusive: true, max: 60_000 },
    ),
  };
}

/** A random instance id (no `node:crypto`: this entry is browser-safe). */
export function instanceId(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID();
  return `${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
}
