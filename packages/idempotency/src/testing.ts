/**
 * Test helpers for stores and servers built on `@faultline/idempotency`: the shared store
 * conformance suite, a fault-injecting store wrapper, and a hook to plant unreadable records in
 * a memory store. Node-only (uses `node:assert`); import it from tests.
 * @module
 */
export { corruptMemoryRecord } from './stores/memory.js';
export {
  type ConformanceOptions,
  describeStoreConformance,
  realTime,
  type TestApi,
} from './testing/conformance.js';
export {
  type FaultMode,
  type FaultyStore,
  faultyStore,
  type StoreOperation,
} from './testing/faulty-store.js';
