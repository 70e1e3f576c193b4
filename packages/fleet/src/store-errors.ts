import { formatMs } from '@faultline/core/internal';

/**
 * A store step took longer than `storeTimeout`: reported through `onStoreFailure` (never thrown
 * at a caller; the call path does not wait for the store).
 */
export class FleetStoreTimeoutError extends Error {
  override name = 'FleetStoreTimeoutError';
  readonly code = 'FLEET_STORE_TIMEOUT';

  constructor(operation: string, timeout: number) {
    super(`fleet store ${operation} took longer than storeTimeout (${formatMs(timeout)})`);
  }
}
