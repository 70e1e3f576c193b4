export { BodyCapture } from './capture.js';
export {
  type FetchLike,
  type IdempotentFetchOptions,
  idempotencyKey,
  idempotentFetch,
  isRetryableStatus,
} from './client.js';
export type { Duration } from './duration.js';
export {
  BodyTooDeepError,
  IdempotencyError,
  MAX_JSON_DEPTH,
  RetryableStatusError,
  StoreFullError,
  StoreTimeoutError,
} from './errors.js';
export {
  canonicalJson,
  canonicalJsonText,
  defaultFingerprint,
  type FingerprintBody,
  type FingerprintInput,
} from './fingerprint.js';
export { DEFAULT_REPLAY_HEADERS, type HeaderInput } from './headers.js';
export {
  type BeginResult,
  type CompletedResponse,
  type ConcurrentPolicy,
  createIdempotency,
  ExecutionToken,
  type FencedEvent,
  type FinishOutcome,
  type Idempotency,
  type IdempotencyLogger,
  type IdempotencyOptions,
  type IdempotencyRequest,
  type IdempotencyWarning,
  type ReplayEvent,
  type ResolvedOptions,
  type ResponseProgress,
  type StoreFailureEvent,
  type TakeoverEvent,
} from './idempotency.js';
export { type ParsedKey, parseKeyHeader } from './key.js';
export type { HttpResponse, Problem, ProblemCode } from './problem.js';
export {
  type ClaimPrevious,
  type ClaimRequest,
  type ClaimResult,
  isStoredHeaderList,
  type RecordStatus,
  type Store,
  type StoredHeader,
  type StoredRecord,
  type StoredResponse,
} from './store.js';
export { type MemoryStore, type MemoryStoreOptions, memoryStore } from './stores/memory.js';
