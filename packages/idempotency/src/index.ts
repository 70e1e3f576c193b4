export {
  IdempotencyError,
  RetryableResponseError,
  StoreFullError,
  StoreTimeoutError,
} from './errors.js';
export type {
  ClaimPrevious,
  ClaimRequest,
  ClaimResult,
  RecordStatus,
  Store,
  StoredHeader,
  StoredRecord,
  StoredResponse,
} from './store.js';
export { type MemoryStore, type MemoryStoreOptions, memoryStore } from './stores/memory.js';
