/**
 * `@faultline/telemetry/node`: faultline's telemetry records on a `diagnostics_channel`, for APM
 * agents and tools that subscribe to channels (undici's convention, `undici:request:create`).
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { type TelemetryRecord, telemetry } from '@faultline/core';
import type { Instrumentation } from './attributes.js';

export type { Instrumentation } from './attributes.js';

/** The channel every record is published on. */
export const RECORD_CHANNEL = 'faultline:record';

const channel = diagnosticsChannel.channel(RECORD_CHANNEL);
let enabled = 0;
let unsubscribe: (() => void) | undefined;

const forward = (record: TelemetryRecord): void => {
  // Nothing to do while nobody listens on the channel (the stream still builds the record).
  if (channel.hasSubscribers) channel.publish(record);
};

/**
 * Forwards every telemetry record (the plain objects of `@faultline/core`'s `telemetry` stream)
 * to the `diagnostics_channel` channel `faultline:record`. Idempotent: records are forwarded once
 * however many times it is called, until every returned handle is disabled.
 *
 * @example
 * ```ts
 * import diagnosticsChannel from 'node:diagnostics_channel';
 * import { publishDiagnostics } from '@faultline/telemetry/node';
 * publishDiagnostics();
 * diagnosticsChannel.subscribe('faultline:record', (record) => console.log(record));
 * ```
 */
export function publishDiagnostics(): Instrumentation {
  if (enabled++ === 0) unsubscribe = telemetry.subscribe(forward);
  let active = true;
  return {
    disable() {
      if (!active) return;
      active = false;
      if (--enabled === 0) {
        unsubscribe?.();
        unsubscribe = undefined;
      }
    },
  };
}
