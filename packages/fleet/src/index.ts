/**
 * `@faultline/fleet`: retry budgets and circuit breakers shared by every instance of a service,
 * with no network round trip on the call path. Browser-safe; the Redis store is in
 * `@faultline/fleet/redis`.
 * @module
 */
export { FleetBreaker, fleetBreaker } from './fleet-breaker.js';
export {
  FLEET_BREAKER_DEFAULTS,
  type FleetBreakerOptions,
  type ResolvedFleetBreakerOptions,
  resolveFleetBreakerOptions,
} from './fleet-breaker-options.js';
export { FleetCircuitPermit } from './fleet-breaker-permit.js';
export { FleetBudget, fleetBudget } from './fleet-budget.js';
export {
  FLEET_BUDGET_DEFAULTS,
  type FleetBudgetOptions,
  type FleetBudgetShape,
  type ResolvedFleetBudgetOptions,
  resolveFleetBudgetOptions,
} from './fleet-budget-options.js';
export { FLEET_SYNC_DEFAULTS, type FleetSyncOptions } from './fleet-options.js';
export type { FleetWindow } from './fleet-window.js';
export {
  MemoryFleetStore,
  type MemoryFleetStoreOptions,
  memoryFleetStore,
} from './memory-store.js';
export type {
  BreakerReply,
  BreakerRequest,
  BreakerRule,
  BudgetReply,
  BudgetRequest,
  FleetOpenReason,
  FleetStore,
  RatioBudgetRequest,
  TokenBudgetRequest,
} from './store.js';
export { isFleetStore } from './store.js';
export { FleetStoreTimeoutError } from './store-errors.js';
export type { FleetOperation, FleetRejoinEvent, FleetStoreFailureEvent } from './store-events.js';
