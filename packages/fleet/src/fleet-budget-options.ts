import type { Clock } from '@faultline/clock';
import { checkOptions, formatValue, optionalClock, optionalNumber } from '@faultline/core';
import {
  type RatioBudgetOptions,
  ratioBudget,
  type TokenBucketBudgetOptions,
  tokenBucketBudget,
} from '@faultline/retry';
import {
  checkSharedName,
  checkStore,
  FLEET_SYNC_DEFAULTS,
  type FleetSyncOptions,
  resolveSync,
} from './fleet-options.js';
import type { FleetStore } from './store.js';

/** Options of {@link fleetBudget}. */
export interface FleetBudgetOptions extends FleetSyncOptions {
  /** Where the shared budget lives (`redisFleetStore(...)`, `memoryFleetStore()`). Required. */
  readonly store: FleetStore;
  /**
   * The shared budget's name: instances with the same store and name share one budget (one per
   * downstream). Also its name in telemetry. Required.
   */
  readonly name: string;
  /**
   * The budget's shape, as for a local budget: Finagle's `{ ratio, minRetriesPerSecond, ttl }`
   * (ratioBudget's options and defaults) or gRPC's `{ maxTokens, tokenRatio }`
   * (tokenBucketBudget's). Default `{}`: ratio 0.2, 10 retries/s, ttl 10 s.
   */
  readonly budget?: RatioBudgetOptions | TokenBucketBudgetOptions;
  /**
   * Retries an instance leases from the shared budget at a time, integer in [1, 10 000]. Larger
   * batches mean fewer store steps during a failure burst and more retries parked in idle
   * instances. Default 10.
   */
  readonly batch?: number;
  /** Clock of the local budget and the sync timer. Default `systemClock`. */
  readonly clock?: Clock;
}

/** The defaults of {@link FleetBudgetOptions}: the single source of each. */
export const FLEET_BUDGET_DEFAULTS = Object.freeze({
  batch: 10,
  sync: FLEET_SYNC_DEFAULTS.sync,
  storeTimeout: FLEET_SYNC_DEFAULTS.storeTimeout,
} as const);

/** The budget's arithmetic in the store's integer units (see `store.ts`). */
export type FleetBudgetShape =
  | {
      readonly kind: 'ratio';
      readonly ratio: number;
      readonly minRetriesPerSecond: number;
      readonly ttl: number;
      readonly deposit: number;
      readonly withdrawal: number;
      readonly reserve: number;
    }
  | {
      readonly kind: 'token';
      readonly maxTokens: number;
      readonly tokenRatio: number;
      readonly max: number;
      readonly threshold: number;
      readonly deposit: number;
    };

/** {@link FleetBudgetOptions} validated, with every default applied. */
export interface ResolvedFleetBudgetOptions {
  readonly store: FleetStore;
  readonly name: string;
  readonly shape: FleetBudgetShape;
  /** The budget's own options, for the local budget. */
  readonly budget: RatioBudgetOptions | TokenBucketBudgetOptions;
  readonly batch: number;
  readonly sync: number;
  readonly storeTimeout: number;
  readonly clock: Clock;
}

const OWNER = 'fleetBudget';
const SCALE = 1000;

/**
 * Validates {@link FleetBudgetOptions} and applies {@link FLEET_BUDGET_DEFAULTS}. The budget's
 * own options are validated by the local budget they also configure (`ratioBudget` or
 * `tokenBucketBudget`), so the rules are the same as for a local budget.
 */
export function resolveFleetBudgetOptions(options: FleetBudgetOptions): ResolvedFleetBudgetOptions {
  const opts = checkOptions<FleetBudgetOptions>(OWNER, options);
  const store = checkStore(OWNER, opts.store);
  const name = checkSharedName(OWNER, opts.name);
  const budget: unknown = opts.budget ?? {};
  if (budget === null || typeof budget !== 'object' || Array.isArray(budget)) {
    throw new TypeError(
      `${OWNER}: option "budget" must be { ratio, minRetriesPerSecond, ttl } or { maxTokens, tokenRatio }, received ${formatValue(budget)}`,
    );
  }
  let shape: FleetBudgetShape;
  if ('maxTokens' in budget || 'tokenRatio' in budget) {
    const local = tokenBucketBudget(budget as TokenBucketBudgetOptions);
    // grpc-java's integer milli-tokens, as TokenBucketBudget computes them.
    const max = Math.floor(local.maxTokens * SCALE + 1e-6);
    shape = {
      kind: 'token',
      maxTokens: local.maxTokens,
      tokenRatio: local.tokenRatio,
      max,
      threshold: Math.floor(max / 2),
      deposit: Math.round(local.tokenRatio * SCALE),
    };
  } else {
    const local = ratioBudget(budget as RatioBudgetOptions);
    // Finagle's arithmetic, as RatioBudget computes it.
    const withdrawal = local.ratio === 0 ? 1 : Math.trunc(SCALE / local.ratio);
    shape = {
      kind: 'ratio',
      ratio: local.ratio,
      minRetriesPerSecond: local.minRetriesPerSecond,
      ttl: local.ttl,
      deposit: local.ratio === 0 ? 0 : SCALE,
      withdrawal,
      reserve: local.minRetriesPerSecond * Math.floor(local.ttl / 1000) * withdrawal,
    };
  }
  return {
    store,
    name,
    shape,
    budget: budget as RatioBudgetOptions | TokenBucketBudgetOptions,
    batch: optionalNumber(OWNER, 'batch', opts.batch, FLEET_BUDGET_DEFAULTS.batch, {
      min: 1,
      max: 10_000,
      integer: true,
    }),
    ...resolveSync(OWNER, opts),
    clock: optionalClock(OWNER, 'clock', opts.clock),
  };
}
