export { type FencedAccess, FenceGuard, type FenceGuardOptions, fenceGuard } from './fence.js';
export {
  HeldLease,
  type KeepAliveOptions,
} from './held-lease.js';
export {
  LeaderElection,
  type LeaderElectionOptions,
  type LeaderElectionState,
  leaderElection,
} from './leader-election.js';
export {
  type AcquireOptions,
  createLease,
  Lease,
  type LeaseState,
  type RunOptions,
} from './lease.js';
export {
  FencedOutError,
  LeaseExpiredError,
  LeaseLostError,
  LeaseReleasedError,
  LeaseStoreTimeoutError,
  LeaseUnavailableError,
} from './lease-errors.js';
export type {
  LeaseAcquiredEvent,
  LeaseLossReason,
  LeaseLostEvent,
  LeaseReleasedEvent,
  LeaseStoreFailureEvent,
  LeaseUnavailableEvent,
} from './lease-events.js';
export {
  LEASE_DEFAULTS,
  type LeaseOptions,
  type ResolvedLeaseOptions,
  resolveLeaseOptions,
} from './lease-options.js';
export {
  isLeaseGrant,
  isLeaseStore,
  type LeaseAcquireResult,
  type LeaseGrant,
  type LeaseHeld,
  type LeaseStore,
} from './lease-store.js';
export { type MemoryLeaseStoreOptions, memoryLeaseStore } from './memory-store.js';
