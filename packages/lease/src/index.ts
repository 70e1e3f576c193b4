export {
  FencedOutError,
  LeaseExpiredError,
  LeaseLostError,
  LeaseReleasedError,
  LeaseStoreTimeoutError,
  LeaseUnavailableError,
} from './lease-errors.js';
export {
  isLeaseGrant,
  isLeaseStore,
  type LeaseAcquireResult,
  type LeaseGrant,
  type LeaseHeld,
  type LeaseStore,
} from './lease-store.js';
export { type MemoryLeaseStoreOptions, memoryLeaseStore } from './memory-store.js';
